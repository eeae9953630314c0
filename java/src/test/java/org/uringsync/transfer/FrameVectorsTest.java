package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.nativeio.Fd;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeTestSupport;
import org.uringsync.nativeio.Net;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.nativeio.Ring;
import org.uringsync.nativeio.TlsContext;
import org.uringsync.nativeio.TlsSession;
import org.uringsync.protocol.FrameCodec;
import org.uringsync.protocol.Message;
import org.uringsync.protocol.ProtocolException;

/**
 * The file-data frames have two readers: the C core parses FILE_DATA and FILE_END while it writes a
 * file (TlsSession.receiveFileData), Java's FrameCodec everything else. Both are held to the byte
 * examples of docs/PROTOCOL.md, read from the document itself, and to the same malformed variants of
 * them: what one accepts the other accepts, what one refuses the other refuses.
 */
class FrameVectorsTest {
    @TempDir
    static Path tmp;

    static byte[] fileData;   // FILE_DATA with "abc", as PROTOCOL.md writes it
    static byte[] fileEnd;    // FILE_END

    @BeforeAll
    static void readVectors() throws IOException {
        String doc = Files.readString(Path.of("..", "docs", "PROTOCOL.md"));
        fileData = vector(doc, "FILE_DATA with 3 bytes \"abc\": `([0-9a-f ]+)`");
        fileEnd = vector(doc, "FILE_END: `([0-9a-f ]+)`");
    }

    private static byte[] vector(String doc, String regex) {
        Matcher m = Pattern.compile(regex).matcher(doc);
        assertTrue(m.find(), "docs/PROTOCOL.md has the example " + regex);
        return HexFormat.of().parseHex(m.group(1).replace(" ", ""));
    }

    private static byte[] concat(byte[]... parts) {
        ByteBuffer b = ByteBuffer.allocate(java.util.Arrays.stream(parts).mapToInt(p -> p.length).sum());
        for (byte[] p : parts) {
            b.put(p);
        }
        return b.array();
    }

    @Test
    void javaEncodesAndDecodesTheDocumentedFrames() throws ProtocolException {
        assertArrayEquals(fileData, concat(FrameCodec.header(Message.FILE_DATA, 3), "abc".getBytes(StandardCharsets.US_ASCII)));
        assertArrayEquals(fileEnd, FrameCodec.encode(new Message.FileEnd()));
        assertInstanceOf(Message.FileEnd.class, FrameCodec.decode(fileEnd[0], ByteBuffer.wrap(fileEnd, 5, 0)));
    }

    @Test
    void theCoreWritesTheDocumentedFramesAsTheFile() throws Exception {
        assertArrayEquals("abc".getBytes(StandardCharsets.US_ASCII), receive(concat(fileData, fileEnd), 3));
    }

    /** FILE_END with a payload byte: refused by both. */
    @Test
    void anEndFrameWithAPayloadIsRefusedByBoth() throws Exception {
        byte[] end = concat(FrameCodec.header(fileEnd[0], 1), new byte[1]);
        assertThrows(ProtocolException.class, () -> FrameCodec.decode(end[0], ByteBuffer.wrap(end, 5, 1)));
        assertEquals(0, FrameCodec.maxPayload(fileEnd[0], NetReceiver.MAX_FRAME));
        TlsSession.ProtocolViolation e = assertThrows(TlsSession.ProtocolViolation.class,
                () -> receive(concat(fileData, end), 3));
        assertTrue(e.getMessage().contains("end-of-file frame with a 1-byte payload"), e.getMessage());
    }

    /** The documented FILE_DATA frame for a file announced as 2 bytes overruns it: refused before any byte is read. */
    @Test
    void aDataFrameBeyondTheAnnouncedSizeIsRefused() {
        TlsSession.ProtocolViolation e = assertThrows(TlsSession.ProtocolViolation.class,
                () -> receive(concat(fileData, fileEnd), 2));
        assertTrue(e.getMessage().contains("exceeds the announced size (2)"), e.getMessage());
    }

    /** A FILE_DATA header one byte over the frame limit: Java's limit and the core's are the same number. */
    @Test
    void aDataFrameOverTheLimitIsRefusedByBoth() {
        long limit = FrameCodec.maxPayload(fileData[0], NetReceiver.MAX_FRAME);
        assertEquals(NetReceiver.MAX_FRAME, limit);
        byte[] over = FrameCodec.header(fileData[0], limit + 1);
        TlsSession.ProtocolViolation e = assertThrows(TlsSession.ProtocolViolation.class,
                () -> receive(over, 1L << 30));
        assertTrue(e.getMessage().contains("exceeds the frame limit (" + limit + ")"), e.getMessage());
    }

    /** Any other type where file data belongs (here FILE_HDR's): refused with its type named. */
    @Test
    void anotherTypeWhereDataBelongsIsRefused() {
        byte[] wrong = fileData.clone();
        wrong[0] = (byte) Message.FILE_HDR;
        TlsSession.ProtocolViolation e = assertThrows(TlsSession.ProtocolViolation.class,
                () -> receive(concat(wrong, fileEnd), 3));
        assertTrue(e.getMessage().contains("unexpected frame type 0x10"), e.getMessage());
    }

    /** Sends {@code wire} over a real TLS session on loopback; the other end receives a file of {@code size} bytes. */
    private static byte[] receive(byte[] wire, long size) throws Exception {
        NativeTestSupport.assumeRing();
        Path[] pair = Certificates.ensure(tmp.resolve("state"));
        Path out = tmp.resolve("file-" + System.nanoTime());
        try (TlsContext sctx = TlsContext.server(pair[0], pair[1], null);
                TlsContext cctx = TlsContext.client(null);
                Fd listen = Net.listen(InetAddress.getLoopbackAddress(), 0)) {
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                try (TlsSession c = TlsSession.handshake(cctx,
                        Net.connect(InetAddress.getLoopbackAddress(), listen.localPort(), 5000), false, 0, true)) {
                    ByteBuffer b = ByteBuffer.allocateDirect(wire.length).put(wire);
                    c.write(b, 0, wire.length);
                    c.read(ByteBuffer.allocateDirect(1), 0, 1); // until the receiver closes
                } catch (IOException e) {
                    // the receiver may close first
                }
            });
            try (TlsSession s = TlsSession.handshake(sctx, Net.accept(listen), true, 0, true);
                    Ring ring = Ring.open(2, 64 * 1024)) {
                int dir = FileOps.openRoot(PathBytes.of(tmp), false);
                int fd = FileOps.createBeneath(dir, PathBytes.of(out.getFileName()), 0600);
                FileOps.close(dir);
                assertTrue(fd >= 0, "created " + out);
                try {
                    s.receiveFileData(ring, fd, size, Message.FILE_DATA, Message.FILE_END, NetReceiver.MAX_FRAME, false,
                            false);
                } finally {
                    FileOps.close(fd);
                }
            } finally {
                sender.get(10, TimeUnit.SECONDS);
            }
        }
        return Files.readAllBytes(out);
    }
}
