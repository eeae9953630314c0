package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.uringsync.path.PathRules;
import org.uringsync.protocol.FrameCodec;
import org.uringsync.protocol.Message;
import org.uringsync.protocol.ProtocolException;

/**
 * Arbitrary bytes as a stream of frames, read the way {@link Wire} and the receiver read them: the
 * 5-byte header, the declared length checked against {@link FrameCodec#maxPayload} (FILE_DATA with the
 * receiver's {@link NetReceiver#MAX_FRAME}) before a payload byte is touched, then
 * {@link FrameCodec#decode}. The first refusal ends the stream, as it ends a connection.
 *
 * <p>Findings: anything but {@link ProtocolException} out of the codec (or {@link PathRules} on a
 * decoded FILE_HDR path); a limit above the receiver's frame limit or Wire's buffer; a decoded field
 * longer than its payload or its format allows; a decode that allocates far more than its payload; a
 * decoded message that does not re-encode to the bytes it came from (the codec is canonical except
 * for HELLO's padding, which decode ignores, and ERROR text that is not valid UTF-8, which decode
 * replaces).
 */
class FrameDecoderFuzzTest {
    /** Wire's receive buffer: a header plus the largest control payload (ERROR, 3 + 65535 bytes). */
    static final int WIRE_BUFFER = FrameCodec.HEADER + 3 + 65535;
    /** Frames looked at per input at most, so one execution stays short. */
    static final int MAX_FRAMES = 64;
    /**
     * Heap one decode may allocate beyond 16 bytes per payload byte: generous (exception stack traces,
     * strings), yet far below anything sized by an unchecked u32 length or by the 64 MiB frame limit.
     */
    static final long ALLOCATION_SLACK = 8L << 20;

    /** Counts this thread's heap allocation; null until warmed up, or where the JVM cannot tell. */
    private static com.sun.management.ThreadMXBean threads;

    static {
        // Load and link everything decode touches (also its refusals), so that class loading is not
        // counted against the first decode of a run.
        HexFormat hex = HexFormat.of();
        for (String frame : new String[] {"10130000000010000000000000a40100000500612e747874",
            "0142000000" + "0220" + "ab".repeat(32) + "00".repeat(32), "0220000000" + "cd".repeat(32), "030100000001",
            "1103000000616263", "1200000000", "2000000000", "ff060000000203006ec3b6", "ff05000000010200fffe",
            "0100000000", "4200000000", "1000000000", "100f000000ffffffffffffffff000000000100" + "61",
            "1010000000" + "00".repeat(12) + "0900" + "6161", "ff0300000001ffff"}) {
            decodeFramesIn(hex.parseHex(frame));
        }
        java.lang.management.ThreadMXBean t = ManagementFactory.getThreadMXBean();
        if (t instanceof com.sun.management.ThreadMXBean s && s.isThreadAllocatedMemorySupported()
                && s.isThreadAllocatedMemoryEnabled()) {
            threads = s;
        }
    }

    @FuzzTest(maxDuration = "5m")
    void decodeFrames(byte[] data) {
        decodeFramesIn(data);
    }

    static void decodeFramesIn(byte[] data) {
        ByteBuffer in = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < MAX_FRAMES && in.remaining() >= FrameCodec.HEADER; i++) {
            if (!frame(data, in)) {
                return;
            }
        }
    }

    /** Reads one frame at {@code in}'s position. @return false when the stream ends with it */
    static boolean frame(byte[] data, ByteBuffer in) {
        int start = in.position();
        int type = in.get() & 0xff;
        long length = Integer.toUnsignedLong(in.getInt());

        long max = FrameCodec.maxPayload(type, NetReceiver.MAX_FRAME);
        if (max < 0) {
            // Wire refuses an unknown type from the header; the codec must agree that it is unknown.
            assertEquals(String.format("0x%02x", type), FrameCodec.name(type));
            refused(type, ByteBuffer.allocate(0));
            return false;
        }
        assertTrue(max <= NetReceiver.MAX_FRAME, () -> FrameCodec.name(type) + " admits " + max
                + " bytes, over the receiver's frame limit " + NetReceiver.MAX_FRAME);
        if (type != Message.FILE_DATA) {
            assertEquals(max, FrameCodec.maxPayload(type, 0), () -> FrameCodec.name(type) + "'s limit depends on maxData");
            assertTrue(max <= WIRE_BUFFER, () -> FrameCodec.name(type) + " admits " + max
                    + " bytes, more than Wire's buffer of " + WIRE_BUFFER);
        }

        if (length > max) {
            // Refused from the header alone: nothing is read or allocated for it. Should a caller hand
            // such a payload to decode anyway, decode must refuse it too.
            if (length <= in.remaining()) {
                refused(type, in.slice().limit((int) length).asReadOnlyBuffer());
            }
            return false;
        }
        if (length > in.remaining()) {
            return false; // the peer closed inside the payload: EOFException in readFully
        }
        int n = (int) length;
        ByteBuffer payload = in.slice().limit(n).asReadOnlyBuffer();
        in.position(in.position() + n);

        if (type == Message.FILE_DATA) {
            // streamed between socket and file by the native side, never decoded into a Message
            refused(type, payload);
            return true;
        }

        Message m;
        long before = allocated();
        try {
            m = FrameCodec.decode(type, payload);
        } catch (ProtocolException e) {
            checkAllocation(before, n, type);
            assertOneLine(e);
            return false;
        }
        checkAllocation(before, n, type);
        checkDecoded(type, payload, m);
        checkRoundTrip(Arrays.copyOfRange(data, start, start + FrameCodec.HEADER + n), m);
        return true;
    }

    /** Every field of {@code m} is what the payload says, within the format's bounds. */
    static void checkDecoded(int type, ByteBuffer payload, Message m) {
        int n = payload.remaining();
        ByteBuffer p = payload.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        assertNotNull(m);
        assertEquals(type, m.type(), "decoded message type");
        if (m instanceof Message.Hello h) {
            assertEquals(FrameCodec.HELLO_SIZE, n);
            assertEquals(p.get(0) & 0xff, h.version());
            byte[] secret = h.secret();
            assertTrue(secret.length <= 64, "secret of " + secret.length + " bytes");
            assertEquals(p.get(1) & 0xff, secret.length);
            assertArrayEquals(bytes(p, 2, secret.length), secret);
        } else if (m instanceof Message.HelloOk ok) {
            assertEquals(32, n);
            assertArrayEquals(bytes(p, 0, 32), ok.proof());
        } else if (m instanceof Message.HelloFail f) {
            assertEquals(1, n);
            assertEquals(p.get(0) & 0xff, f.reason());
        } else if (m instanceof Message.FileHeader f) {
            int at = f.timed() ? 22 : 14; // FILE_HDR_T: mtime_ns after the mode
            assertTrue(n >= at, FrameCodec.name(type) + " of " + n + " bytes");
            assertEquals(p.getLong(0), f.size());
            assertTrue(f.size() >= 0, "negative size " + f.size());
            assertEquals(p.getInt(8), f.mode());
            if (f.timed()) {
                assertEquals(p.getLong(12), f.mtimeNanos());
            }
            byte[] path = f.path();
            assertEquals(p.getShort(at - 2) & 0xffff, path.length);
            assertEquals(n - at, path.length);
            assertTrue(path.length <= Message.FileHeader.MAX_PATH, "path of " + path.length + " bytes");
            assertArrayEquals(bytes(p, at, path.length), path);
            // what the receiver does next with it; PathRulesFuzzTest looks at the verdicts
            try {
                PathRules.check(path);
            } catch (ProtocolException e) {
                assertOneLine(e);
            }
        } else if (m instanceof Message.FileList l) {
            assertEquals(p.getShort(0) & 0xffff, l.entries().size());
            assertTrue(n <= Message.FileList.MAX_BYTES, "FILE_LIST of " + n + " bytes");
            int at = 2;
            for (Message.FileList.Entry e : l.entries()) {
                assertEquals(p.getLong(at), e.size());
                assertTrue(e.size() >= 0, "negative size " + e.size());
                assertEquals(p.getLong(at + 8), e.mtimeNanos());
                assertEquals(p.getInt(at + 16), e.mode());
                assertEquals(0, e.mode() & ~07777, "mode " + Integer.toOctalString(e.mode()) + " beyond permissions");
                int h = e.hash() == null ? 0 : Message.FileList.HASH_BYTES;
                assertEquals(l.type() == Message.FILE_LIST_C, h > 0, "hashes exactly in FILE_LIST_C");
                if (h > 0) {
                    assertArrayEquals(bytes(p, at + 20, h), e.hash());
                }
                byte[] path = e.path();
                assertEquals(p.getShort(at + 20 + h) & 0xffff, path.length);
                assertArrayEquals(bytes(p, at + 22 + h, path.length), path);
                at += 22 + h + path.length;
            }
            assertEquals(n, at, "FILE_LIST bytes after its entries");
        } else if (m instanceof Message.Want w) {
            boolean[] bits = w.wanted();
            assertEquals(p.getShort(0) & 0xffff, bits.length);
            assertEquals(2 + (bits.length + 7) / 8, n);
            for (int i = 0; i < bits.length; i++) {
                assertEquals((p.get(2 + i / 8) >> (i % 8) & 1) != 0, bits[i], "WANT bit " + i);
            }
        } else if (m instanceof Message.Delete d) {
            assertEquals(p.getShort(0) & 0xffff, d.rules().size());
            int at = 2;
            for (Message.Delete.Rule r : d.rules()) {
                assertEquals(r.include() ? 1 : 0, p.get(at));
                assertEquals(p.getShort(at + 1) & 0xffff, r.pattern().length);
                assertArrayEquals(bytes(p, at + 3, r.pattern().length), r.pattern());
                at += 3 + r.pattern().length;
            }
            assertEquals(n, at);
        } else if (m instanceof Message.Directory d) {
            assertEquals(p.getInt(0), d.mode());
            assertEquals(p.getLong(4), d.mtimeNanos());
            assertEquals(p.getShort(12) & 0xffff, d.path().length);
            assertEquals(n - 14, d.path().length);
            assertArrayEquals(bytes(p, 14, d.path().length), d.path());
        } else if (m instanceof Message.Link l) {
            int len = p.getShort(0) & 0xffff;
            int time = l.type() == Message.SYMLINK ? 8 : 0; // SYMLINK: mtime_ns after the target
            assertEquals(len, l.path().length);
            assertArrayEquals(bytes(p, 2, len), l.path());
            assertEquals(p.getShort(2 + len) & 0xffff, l.target().length);
            assertEquals(n - 4 - len - time, l.target().length);
            if (time > 0) {
                assertEquals(p.getLong(n - 8), l.mtimeNanos());
            }
            assertTrue(l.target().length > 0 && l.target().length <= Message.Link.maxTarget(l.type()));
            assertArrayEquals(bytes(p, 4 + len, l.target().length), l.target());
        } else if (m instanceof Message.Special sp) {
            assertEquals(p.getInt(0), sp.mode());
            assertEquals(p.getLong(4), sp.rdev());
            assertEquals(p.getLong(12), sp.mtimeNanos());
            assertEquals(p.getShort(20) & 0xffff, sp.path().length);
            assertEquals(n - 22, sp.path().length);
            assertArrayEquals(bytes(p, 22, sp.path().length), sp.path());
        } else if (m instanceof Message.Xattrs x) {
            int at = 0;
            for (byte[][] a : x.attributes()) {
                assertEquals(p.get(at) & 0xff, a[0].length);
                assertTrue(a[0].length > 0);
                assertArrayEquals(bytes(p, at + 1, a[0].length), a[0]);
                assertEquals(p.getInt(at + 1 + a[0].length), a[1].length);
                assertArrayEquals(bytes(p, at + 5 + a[0].length, a[1].length), a[1]);
                at += 5 + a[0].length + a[1].length;
            }
            assertEquals(n, at);
        } else if (m instanceof Message.Owner o) {
            assertEquals(p.get(0) & 0xff, o.numeric() ? 1 : 0);
            assertEquals(p.getInt(1), o.uid());
            assertEquals(p.getInt(5), o.gid());
            assertEquals(p.get(9) & 0xff, o.user().length);
            assertArrayEquals(bytes(p, 10, o.user().length), o.user());
            assertEquals(n - 11 - o.user().length, o.group().length);
            assertArrayEquals(bytes(p, 11 + o.user().length, o.group().length), o.group());
        } else if (m instanceof Message.Range r) {
            assertEquals(16, n);
            assertEquals(p.getLong(0), r.offset());
            assertEquals(p.getLong(8), r.length());
            assertTrue(r.offset() >= 0 && r.length() > 0 && r.offset() <= Long.MAX_VALUE - r.length(), r.toString());
        } else if (m instanceof Message.FileEnd || m instanceof Message.AllDone) {
            assertEquals(0, n);
        } else if (m instanceof Message.ReportChanges c) {
            assertEquals(1, n);
            assertEquals(p.get(0), c.dryRun() ? 1 : 0);
        } else if (m instanceof Message.ChangeReport c) {
            assertEquals(p.getShort(11) & 0xffff, n - 13);
            assertArrayEquals(bytes(p, 0, 11), c.itemize().getBytes(StandardCharsets.US_ASCII));
            assertTrue(c.itemize().chars().allMatch(ch -> ch >= 0x20 && ch <= 0x7e), c.itemize());
            assertArrayEquals(bytes(p, 13, n - 13), c.path());
        } else if (m instanceof Message.Error e) {
            assertTrue(n >= 3, "ERROR of " + n + " bytes");
            assertEquals(p.get(0) & 0xff, e.code());
            assertEquals(p.getShort(1) & 0xffff, n - 3);
            byte[] text = e.text().getBytes(StandardCharsets.UTF_8);
            assertTrue(text.length <= 65535, "error text of " + text.length + " bytes");
            if (validUtf8(p, 3, n - 3)) {
                assertArrayEquals(bytes(p, 3, n - 3), text);
            }
        } else {
            fail("decode returned " + m.getClass().getName() + " for " + FrameCodec.name(type));
        }
    }

    /**
     * {@code m} re-encodes into a frame that decodes to an equal message, and (where the codec is
     * canonical) into exactly the bytes it was decoded from.
     */
    static void checkRoundTrip(byte[] original, Message m) {
        byte[] frame = FrameCodec.encode(m);
        assertTrue(frame.length >= FrameCodec.HEADER);
        int len = ByteBuffer.wrap(frame, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        assertEquals(frame.length - FrameCodec.HEADER, len, "re-encoded length field");
        try {
            assertEquals(m, FrameCodec.decode(frame[0] & 0xff, ByteBuffer.wrap(frame, FrameCodec.HEADER, len)));
        } catch (ProtocolException e) {
            fail("the re-encoded " + m + " is refused: " + e.getMessage(), e);
        }
        byte[] canonical = original.clone();
        if (m instanceof Message.Hello h) {
            // secret[secret_len..64] is padding: decode does not look at it, encode writes zeros
            Arrays.fill(canonical, FrameCodec.HEADER + 2 + h.secret().length, canonical.length, (byte) 0);
        } else if (m instanceof Message.Error
                && !validUtf8(ByteBuffer.wrap(original), FrameCodec.HEADER + 3, original.length - FrameCodec.HEADER - 3)) {
            return; // malformed UTF-8 was replaced with U+FFFD: not the same bytes again
        }
        assertArrayEquals(canonical, frame, () -> "re-encoding " + m + " gives " + HexFormat.of().formatHex(frame)
                + ", decoded from " + HexFormat.of().formatHex(original));
    }

    /** decode refuses {@code payload} of {@code type}, with the protocol's exception and nothing else. */
    static void refused(int type, ByteBuffer payload) {
        assertOneLine(assertThrows(ProtocolException.class, () -> FrameCodec.decode(type, payload),
                () -> FrameCodec.name(type) + " payload of " + payload.remaining() + " bytes should be refused"));
    }

    static void assertOneLine(ProtocolException e) {
        String message = e.getMessage();
        assertNotNull(message, "ProtocolException without a reason");
        assertFalse(message.isEmpty(), "ProtocolException with an empty reason");
        assertFalse(message.indexOf('\n') >= 0 || message.indexOf('\r') >= 0, () -> "reason spans lines: " + message);
    }

    static long allocated() {
        com.sun.management.ThreadMXBean t = threads;
        return t == null ? -1 : t.getCurrentThreadAllocatedBytes();
    }

    static void checkAllocation(long before, int n, int type) {
        if (before < 0) {
            return;
        }
        long used = allocated() - before;
        long allowed = 16L * n + ALLOCATION_SLACK;
        assertTrue(used <= allowed, () -> "decoding a " + n + "-byte " + FrameCodec.name(type) + " payload allocated "
                + used + " bytes (allowed " + allowed + ")");
    }

    static byte[] bytes(ByteBuffer p, int offset, int length) {
        byte[] b = new byte[length];
        p.get(offset, b);
        return b;
    }

    static boolean validUtf8(ByteBuffer p, int offset, int length) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(p.duplicate().position(offset).limit(offset + length));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }
}
