package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.CopyResult;
import org.uringsync.Receiver;
import org.uringsync.Sender;
import org.uringsync.nativeio.Net;
import org.uringsync.nativeio.TlsContext;
import org.uringsync.nativeio.TlsSession;

/**
 * A hand-made client that speaks the wire protocol byte by byte (its own HMAC, its own frames)
 * and breaks it in every way the receiver must survive. After each attack: nothing outside DEST,
 * no partial file under a final name, and the same receiver still completes a good transfer.
 */
class CraftedClientIT {
    static final String SECRET = "crafted-secret-0123456789";
    @TempDir
    static Path tmp;
    static Path dest;
    static Path outside;
    static Receiver receiver;
    static final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void start() throws IOException {
        dest = Files.createDirectory(tmp.resolve("dest"));
        outside = Files.createDirectory(tmp.resolve("outside"));
        Files.createSymbolicLink(dest.resolve("escape-link"), outside);
        Files.createSymbolicLink(dest.resolve("inner-link"), Path.of("sub"));
        receiver = Receiver.builder(dest).port(0).secret(SECRET).stateDirectory(tmp.resolve("state"))
                .idleTimeout(Duration.ofSeconds(2)).log(log::add).build().start();
    }

    @AfterAll
    static void stop() {
        receiver.close();
    }

    @AfterEach
    void receiverIsUnharmed() throws Exception {
        awaitQuiet();
        try (Stream<Path> s = Files.list(outside)) {
            assertEquals(List.of(), s.toList(), "nothing may appear outside DEST");
        }
        try (Stream<Path> s = Files.list(tmp)) {
            List<String> top = s.map(p -> p.getFileName().toString()).sorted().toList();
            assertTrue(List.of("dest", "direct-dest", "good-src", "guess-dest", "outside", "state").containsAll(top), top.toString());
        }
        assertEquals("", Launcher.sh(dest, "find . \\( -name '*.tmp' -o -name 'victim*' \\) -print"),
                "no temporary file, and no partial file under a final name");
        Path src = tmp.resolve("good-src");
        Files.createDirectories(src.resolve("d"));
        Files.writeString(src.resolve("d/good.txt"), "good " + System.nanoTime());
        CopyResult r = Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).build().send(src);
        assertTrue(r.succeeded());
        assertEquals(Files.readString(src.resolve("d/good.txt")), Files.readString(dest.resolve("d/good.txt")));
    }

    /** Waits until the receiver has finished with every connection (temporary files removed), for at most 10 s. */
    static void awaitQuiet() throws InterruptedException {
        awaitQuiet(receiver);
    }

    static void awaitQuiet(Receiver r) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (r.connections() > 0) {
            assertTrue(System.nanoTime() < end, r.connections() + " connection(s) still open after 10 s");
            Thread.sleep(5);
        }
    }

    // ---- a minimal protocol client ---------------------------------------------------------------

    static final class Client implements AutoCloseable {
        final TlsContext ctx = TlsContext.client(null);
        final TlsSession s;
        final ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20).order(ByteOrder.LITTLE_ENDIAN);

        Client() throws IOException {
            this(receiver);
        }

        Client(Receiver r) throws IOException {
            org.uringsync.nativeio.Fd sock = Net.connect(InetAddress.getLoopbackAddress(), r.port(), 5000);
            sock.setTimeout(15_000); // no test waits forever on a receiver that does not answer
            s = TlsSession.handshake(ctx, sock, false, 0, true);
        }

        void raw(byte[] bytes) throws IOException {
            buf.put(0, bytes);
            s.write(buf, 0, bytes.length);
        }

        void frame(int type, byte[] payload) throws IOException {
            ByteBuffer f = ByteBuffer.allocate(5 + payload.length).order(ByteOrder.LITTLE_ENDIAN);
            f.put((byte) type).putInt(payload.length).put(payload);
            raw(f.array());
        }

        byte[] proof(String secret, String role) throws Exception {
            byte[] x = s.exportKeyingMaterial("EXPORTER-uring-sync-hello", 32);
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            mac.update(("uring-sync " + role).getBytes(StandardCharsets.US_ASCII));
            return mac.doFinal(x);
        }

        void hello(int version, byte[] secret) throws IOException {
            byte[] p = new byte[66];
            p[0] = (byte) version;
            p[1] = (byte) secret.length;
            System.arraycopy(secret, 0, p, 2, secret.length);
            frame(0x01, p);
        }

        /** Authenticates properly (protocol version 2) and checks the receiver's proof. */
        void login() throws Exception {
            login(2);
        }

        void login(int version) throws Exception {
            hello(version, proof(SECRET, "client"));
            byte[] ok = readFrame();
            assertEquals(0x02, ok[0]);
            byte[] proof = java.util.Arrays.copyOfRange(ok, 5, ok.length);
            assertEquals(java.util.HexFormat.of().formatHex(proof(SECRET, "server")), java.util.HexFormat.of().formatHex(proof));
        }

        void fileHeader(long size, int mode, String path) throws IOException {
            byte[] p = path.getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(14 + p.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(size).putInt(mode).putShort((short) p.length).put(p);
            frame(0x10, b.array());
        }

        /** Version 4: FILE_HDR_S for a sparse file of {@code size} bytes, mode 0644. */
        void sparseHeader(long size, String path) throws IOException {
            byte[] p = path.getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(22 + p.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(size).putInt(0644).putLong(1_700_000_000_000_000_000L).putShort((short) p.length).put(p);
            frame(0x19, b.array());
        }

        /** Version 4: HARDLINK making {@code path} a link to {@code target}. */
        void hardLink(String path, String target) throws IOException {
            byte[] p = path.getBytes(StandardCharsets.UTF_8);
            byte[] t = target.getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(4 + p.length + t.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) p.length).put(p).putShort((short) t.length).put(t);
            frame(0x1B, b.array());
        }

        /** Version 5: XATTRS {@code name} = {@code value}, then KEPT {@code path} (a sender reading "user." ones alone). */
        void keptWithXattr(String path, String name, String value) throws IOException {
            byte[] n = name.getBytes(StandardCharsets.UTF_8);
            byte[] v = value.getBytes(StandardCharsets.UTF_8);
            frame(0x1D, ByteBuffer.allocate(5 + n.length + v.length).order(ByteOrder.LITTLE_ENDIAN).put((byte) n.length).put(n)
                    .putInt(v.length).put(v).array());
            byte[] p = path.getBytes(StandardCharsets.UTF_8);
            frame(0x23, ByteBuffer.allocate(3 + p.length).order(ByteOrder.LITTLE_ENDIAN).put((byte) 0).putShort((short) p.length)
                    .put(p).array());
        }

        /** Version 4: FILE_LIST offering {@code paths}, each of {@code size} bytes. */
        void fileList(long size, String... paths) throws IOException {
            java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
            o.write(paths.length & 0xff);
            o.write(paths.length >> 8);
            for (String path : paths) {
                byte[] p = path.getBytes(StandardCharsets.UTF_8);
                o.writeBytes(ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN).putLong(size)
                        .putLong(1_700_000_000_000_000_000L).putInt(0644).putShort((short) p.length).array());
                o.writeBytes(p);
            }
            frame(0x13, o.toByteArray());
        }

        /** Version 4: FILE_HDR_T. */
        void fileHeaderT(long size, int mode, String path) throws IOException {
            byte[] p = path.getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(22 + p.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putLong(size).putInt(mode).putLong(1_700_000_000_000_000_000L).putShort((short) p.length).put(p);
            frame(0x15, b.array());
        }

        /** Version 4: SYMLINK {@code path} -> {@code target}. */
        void symlink(String path, String target) throws IOException {
            byte[] p = path.getBytes(StandardCharsets.UTF_8);
            byte[] t = target.getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(12 + p.length + t.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) p.length).put(p).putShort((short) t.length).put(t).putLong(1_700_000_000_000_000_000L);
            frame(0x17, b.array());
        }

        void range(long offset, long length) throws IOException {
            frame(0x1A, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(offset).putLong(length).array());
        }

        /** @return the next frame (header and payload), or an empty array at end of stream */
        byte[] readFrame() throws IOException {
            int got = 0;
            while (got < 5) {
                int n = s.read(buf, got, 5 - got);
                if (n < 0) {
                    return new byte[0];
                }
                got += n;
            }
            int len = buf.getInt(1);
            s.readFully(buf, 5, len);
            byte[] f = new byte[5 + len];
            buf.get(0, f);
            return f;
        }

        /** @return the text of the ERROR frame that must come next */
        String error() throws IOException {
            byte[] f = readFrame();
            assertTrue(f.length > 0 && (f[0] & 0xff) == 0xff, "expected ERROR, got " + (f.length == 0 ? "EOF" : f[0]));
            return new String(f, 8, f.length - 8, StandardCharsets.UTF_8);
        }

        boolean closedByPeer() throws IOException {
            try {
                return readFrame().length == 0;
            } catch (IOException e) {
                return true;
            }
        }

        @Override
        public void close() {
            s.close();
            ctx.close();
        }
    }

    // ---- the attacks -----------------------------------------------------------------------------

    @Test
    void wrongSecret() throws Exception {
        try (Client c = new Client()) {
            long t0 = System.nanoTime();
            c.hello(2, c.proof("not-the-secret", "client"));
            byte[] f = c.readFrame();
            assertEquals("03 01 00 00 00 01", hex(f));
            assertTrue(System.nanoTime() - t0 > 200_000_000L, "a short delay before HELLO_FAIL");
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void wrongVersionWithThePlainSecretOfTheDesign() throws Exception {
        try (Client c = new Client()) {
            c.hello(1, SECRET.getBytes(StandardCharsets.UTF_8));
            assertEquals("03 01 00 00 00 02", hex(c.readFrame()));
            assertTrue(c.closedByPeer());
        }
    }

    /** Version 3, the development version of 4 (other layouts), is refused as any unknown one: its sender falls back to 2. */
    @Test
    void theDevelopmentVersionThreeIsRefused() throws Exception {
        try (Client c = new Client()) {
            c.hello(3, c.proof(SECRET, "client"));
            assertEquals("03 01 00 00 00 02", hex(c.readFrame()));
            assertTrue(c.closedByPeer());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("refused protocol version 3 (this receiver speaks 2, 4 and 5)")),
                log.toString());
    }

    @Test
    void garbageBeforeHello() throws Exception {
        try (Client c = new Client()) {
            c.raw(new byte[] {0x10, 3, 0, 0, 0, 'a', 'b', 'c', 0x55, 0x66});
            assertEquals("protocol error: expected HELLO, got FILE_HDR", c.error());
            assertTrue(c.closedByPeer());
        }
    }

    @Test
    void plaintextGarbageInsteadOfTls() throws Exception {
        try (java.net.Socket raw = new java.net.Socket(InetAddress.getLoopbackAddress(), receiver.port())) {
            raw.setSoTimeout(5000);
            raw.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            try {
                byte[] reply = raw.getInputStream().readAllBytes(); // the receiver gives up on the handshake
                assertTrue(reply.length < 64, "at most a TLS alert comes back");
            } catch (java.net.SocketException reset) {
                // closed with our bytes unread: a reset is the same ending
            }
        }
        awaitQuiet();
        assertTrue(log.stream().anyMatch(l -> l.contains("TLS handshake")), log.toString());
    }

    @Test
    void oversizedHelloLengthIsRefusedBeforeReading() throws Exception {
        try (Client c = new Client()) {
            c.raw(new byte[] {0x01, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f});
            assertEquals("protocol error: HELLO length 2147483647 exceeds 66", c.error());
        }
    }

    @Test
    void oversizedFileHeaderLength() throws Exception {
        try (Client c = new Client()) {
            c.login();
            c.raw(new byte[] {0x10, 0, 0, 0, 0x40});
            assertEquals("protocol error: FILE_HDR length 1073741824 exceeds 4110", c.error());
        }
    }

    /**
     * Version 4's sparse files, broken: a range beyond the size, ranges out of order, data without a
     * range, a range's data cut short by FILE_END. Each is refused with its reason and leaves nothing,
     * while good sparse transfers run beside the attacks and arrive byte-identical.
     */
    @Test
    void brokenSparseRangesAreRefusedBesideGoodSparseTransfers() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("good-src/sparse"));
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(src.resolve("holes").toFile(), "rw")) {
            byte[] b = new byte[100 * 1024];
            new java.util.Random(7).nextBytes(b);
            f.setLength(16 << 20);
            f.seek(1 << 20);
            f.write(b);
            f.seek(9 << 20);
            f.write(b, 0, 5000);
        }
        java.util.concurrent.CompletableFuture<Integer> good = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            int n = 0;
            try {
                for (; n < 5; n++) {
                    CopyResult r = Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).build().send(tmp.resolve("good-src"));
                    assertTrue(r.succeeded(), r.failures().toString());
                    assertEquals(-1, Files.mismatch(src.resolve("holes"), dest.resolve("sparse/holes")));
                    Files.delete(dest.resolve("sparse/holes")); // the next send sends it again
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return n;
        });
        try (Client c = new Client()) {
            c.login(4);
            c.sparseHeader(1000, "victim-beyond");
            c.range(500, 600);
            assertEquals("protocol error: RANGE 500+600 of victim-beyond is out of order or beyond its size 1000", c.error());
        }
        try (Client c = new Client()) {
            c.login(4);
            c.sparseHeader(1000, "victim-order");
            c.range(100, 10);
            c.frame(0x11, new byte[10]);
            c.range(105, 10);
            assertEquals("protocol error: RANGE 105+10 of victim-order is out of order or beyond its size 1000", c.error());
        }
        try (Client c = new Client()) {
            c.login(4);
            c.sparseHeader(1000, "victim-no-range");
            c.frame(0x11, new byte[10]);
            assertEquals("protocol error: unexpected FILE_DATA in sparse file victim-no-range (expected RANGE or FILE_END)", c.error());
        }
        try (Client c = new Client()) {
            c.login(4);
            c.sparseHeader(1000, "victim-short");
            c.range(0, 10);
            c.frame(0x11, new byte[4]);
            c.frame(0x12, new byte[0]);
            assertEquals("protocol error: unexpected frame type 0x12 after 4 of 10 file bytes", c.error());
        }
        assertEquals(5, good.get(60, java.util.concurrent.TimeUnit.SECONDS));
        for (String v : List.of("victim-beyond", "victim-order", "victim-no-range", "victim-short")) {
            assertFalse(Files.exists(dest.resolve(v)), v);
        }
    }

    /**
     * HARDLINK may only join two names beneath DEST, to a regular file: a target through a symlink
     * that leaves DEST, a traversal, a directory, a missing target, and a directory in the way are
     * each refused with the reason, while good -H transfers run beside the attacks.
     */
    @Test
    void hardLinksOutOfDestOrToNonFilesAreRefusedBesideGoodOnes() throws Exception {
        Files.writeString(outside.resolve("secret"), "outside");
        Path src = Files.createDirectories(tmp.resolve("good-src/links"));
        Files.writeString(src.resolve("a"), "linked " + System.nanoTime());
        Files.createLink(src.resolve("b"), src.resolve("a"));
        Files.createDirectories(dest.resolve("sub"));
        Files.createDirectories(dest.resolve("links"));
        Files.writeString(dest.resolve("links/a"), "there before the attacks"); // the good sends replace it atomically
        java.util.concurrent.CompletableFuture<Integer> good = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            int n = 0;
            try {
                for (; n < 5; n++) {
                    CopyResult r = Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).hardLinks(true).build()
                            .send(tmp.resolve("good-src"));
                    assertTrue(r.succeeded(), r.failures().toString());
                    assertEquals(Files.getAttribute(dest.resolve("links/a"), "unix:ino"), Files.getAttribute(dest.resolve("links/b"), "unix:ino"));
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return n;
        });
        String[][] attacks = {
            {"victim-out", "escape-link/secret", "refused escape-link/secret: it would leave the destination (a symlink points outside)"},
            {"victim-up", "../outside/secret", "protocol error: '..' component refused (path traversal): ../outside/secret"},
            {"victim-dir", "sub", "refused victim-dir: hard link target sub is not a regular file"},
            {"victim-none", "no-such-file", "refused victim-none: hard link target no-such-file does not exist"},
            {"sub", "links/a", "refused sub: a directory is in the way of the hard link"},
        };
        try {
            for (String[] a : attacks) {
                try (Client c = new Client()) {
                    c.login(4);
                    c.hardLink(a[0], a[1]);
                    String e = c.error();
                    assertTrue(e.startsWith(a[2]), a[0] + ": " + e);
                }
            }
            assertEquals(5, good.get(60, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals(1, Files.getAttribute(outside.resolve("secret"), "unix:nlink"), "no link to a file outside DEST");
        } finally {
            Files.delete(outside.resolve("secret"));
        }
        assertTrue(Files.isDirectory(dest.resolve("sub")));
        for (String v : List.of("victim-out", "victim-up", "victim-dir", "victim-none")) {
            assertFalse(Files.exists(dest.resolve(v), java.nio.file.LinkOption.NOFOLLOW_LINKS), v);
        }
    }

    /**
     * KEPT (version 5) changes only a regular file beneath DEST that the connection offered and did not
     * want: one through a symlink out of DEST, a symlink to a file outside, a directory, a missing file and
     * a file never offered are left alone (nothing followed); a path with '..' and a KEPT of version 4
     * are refused. Beside good send -X runs whose kept files get their attributes.
     */
    @Test
    void keptEntriesOutOfDestOrOnOtherThanFilesChangeNothingBesideGoodSends() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("good-src/kept"));
        Files.writeString(src.resolve("f"), "kept " + System.nanoTime());
        Files.writeString(outside.resolve("target"), "outside");
        Files.createDirectories(dest.resolve("kept-dir"));
        Files.createSymbolicLink(dest.resolve("kept-link"), outside.resolve("target"));
        Files.writeString(dest.resolve("kept-never-offered"), "a file of DEST's");
        java.util.concurrent.CompletableFuture<Integer> good = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            int n = 0;
            try {
                for (; n < 5; n++) {
                    Launcher.sh(tmp, "setfattr -n user.round -v " + n + " good-src/kept/f");
                    CopyResult r = Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).xattrs(true).build().send(tmp.resolve("good-src"));
                    assertTrue(r.succeeded(), r.failures().toString());
                    assertEquals(String.valueOf(n), Launcher.sh(dest, "getfattr -n user.round --only-values kept/f"), "round " + n);
                }
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
            return n;
        });
        try {
            try (Client c = new Client()) {
                c.login(5);
                for (String path : List.of("escape-link/target", "kept-link", "kept-dir", "no-such-file", "kept-never-offered")) {
                    c.keptWithXattr(path, "user.pwned", "1");
                }
                c.frame(0x20, new byte[0]);
                assertEquals(0x20, c.readFrame()[0], "ALL_DONE: nothing refused, nothing done");
            }
            try (Client c = new Client()) {
                c.login(5);
                c.keptWithXattr("../outside/target", "user.pwned", "1");
                assertEquals("protocol error: '..' component refused (path traversal): ../outside/target", c.error());
            }
            try (Client c = new Client()) {
                c.login(4);
                c.frame(0x23, new byte[] {0, 1, 0, 'f'});
                assertTrue(c.error().startsWith("protocol error: unexpected KEPT (expected CHANGES first"), "version 4 has no KEPT");
            }
            assertEquals(5, good.get(60, java.util.concurrent.TimeUnit.SECONDS));
            assertEquals("", Launcher.sh(tmp, "getfattr -h -d outside/target dest/kept-link dest/kept-dir dest/kept-never-offered 2>&1"
                    + " | grep pwned || true"), "nothing outside DEST, no link, no directory and no file never offered got an attribute");
        } finally {
            Files.delete(outside.resolve("target"));
            Files.delete(dest.resolve("kept-link"));
            Files.delete(dest.resolve("kept-never-offered"));
        }
    }

    /** An OWNER must come just before the entry it is for: followed by anything else it is refused, while a good -a send runs. */
    @Test
    void anOwnerNotFollowedByItsEntryIsRefusedBesideAGoodOne() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("good-src/owned"));
        Files.writeString(src.resolve("f"), "owned " + System.nanoTime());
        Files.setAttribute(src.resolve("f"), "unix:uid", 65534);
        java.util.concurrent.CompletableFuture<CopyResult> good = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).owners(true).build().send(tmp.resolve("good-src"));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        try (Client c = new Client()) {
            c.login(4);
            byte[] owner = new byte[11];
            owner[1] = 1; // uid 1, no names
            c.frame(0x1C, owner);
            c.frame(0x20, new byte[0]);
            assertEquals("protocol error: OWNER followed by ALL_DONE (expected FILE_HDR_T, FILE_HDR_S, DIR, SYMLINK or SPECIAL)", c.error());
        }
        try (Client c = new Client()) { // XATTRS before a symlink, which gets none
            c.login(4);
            c.frame(0x1D, new byte[] {1, 'u', 0, 0, 0, 0});
            c.frame(0x17, new byte[] {1, 0, 'l', 1, 0, 'x', 0, 0, 0, 0, 0, 0, 0, 1});
            assertEquals("protocol error: XATTRS followed by SYMLINK (expected FILE_HDR_T, FILE_HDR_S or DIR)", c.error());
        }
        CopyResult r = good.get(60, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(r.succeeded(), r.failures().toString());
        if (org.uringsync.nativeio.FileOps.geteuid() == 0) {
            assertEquals(65534, Files.getAttribute(dest.resolve("owned/f"), "unix:uid"));
        }
    }

    /**
     * FILE_LIST_C (-c): a list cut short inside a hash, and one naming a path out of DEST, are refused
     * with their reasons while good -c sends (which hash both sides) run beside them and change only
     * what differs in content.
     */
    @Test
    void brokenChecksumListsAreRefusedBesideGoodChecksumSends() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("good-src/hashed"));
        for (int i = 0; i < 40; i++) {
            Files.writeString(src.resolve("f" + i), "content " + i);
        }
        java.util.concurrent.CompletableFuture<Integer> good = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            int n = 0;
            try {
                for (; n < 5; n++) {
                    Path f = dest.resolve("hashed/f" + n);
                    if (Files.exists(f)) { // the same size and time, other bytes: only -c sees it
                        java.nio.file.attribute.FileTime t = Files.getLastModifiedTime(f);
                        Files.writeString(f, "CONTENT " + n);
                        Files.setLastModifiedTime(f, t);
                    }
                    CopyResult r = Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).checksum(true).build()
                            .send(tmp.resolve("good-src"));
                    assertTrue(r.succeeded(), r.failures().toString());
                    assertEquals("", Launcher.sh(tmp, "diff -r good-src/hashed dest/hashed"));
                }
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
            return n;
        });
        try (Client c = new Client()) {
            c.login(4);
            ByteBuffer b = ByteBuffer.allocate(2 + 8 + 8 + 10).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) 1).putLong(5).putLong(1).put(new byte[10]); // 10 of the hash's 16 bytes
            c.frame(0x1F, b.array());
            assertEquals("protocol error: FILE_LIST_C entry 0 is cut short", c.error());
        }
        try (Client c = new Client()) {
            c.login(4);
            byte[] p = "../victim-outside".getBytes(StandardCharsets.UTF_8);
            ByteBuffer b = ByteBuffer.allocate(2 + 8 + 8 + 4 + 16 + 2 + p.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putShort((short) 1).putLong(5).putLong(1).putInt(0644).put(new byte[16]).putShort((short) p.length).put(p);
            c.frame(0x1F, b.array());
            String e = c.error();
            assertTrue(e.contains("../victim-outside"), e);
        }
        assertEquals(5, good.get(60, java.util.concurrent.TimeUnit.SECONDS));
    }

    /**
     * CHANGES (-n, -i) must come first, and a dry run takes no file data: each breach is refused with
     * its reason and writes nothing, while good dry runs and real sends run beside them.
     */
    @Test
    void dryRunsTakeNoFileDataAndChangesComeFirstBesideGoodOnes() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("good-src/dry"));
        Files.writeString(src.resolve("f"), "dry");
        java.util.concurrent.CompletableFuture<Integer> good = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            int n = 0;
            try {
                for (; n < 5; n++) {
                    List<String> seen = new CopyOnWriteArrayList<>();
                    CopyResult dry = Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).dryRun(true)
                            .listener(new org.uringsync.CopyListener() {
                                @Override
                                public void changed(String path, Change change) {
                                    seen.add(change.itemize() + " " + path);
                                }
                            }).build().send(tmp.resolve("good-src"));
                    assertTrue(dry.succeeded(), dry.failures().toString());
                    assertTrue(seen.contains(">f+++++++++ dry/f"), seen.toString());
                    assertFalse(Files.exists(dest.resolve("dry/f")), "a dry run wrote nothing");
                }
                CopyResult real = Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).build().send(tmp.resolve("good-src"));
                assertTrue(real.succeeded(), real.failures().toString());
                assertEquals("dry", Files.readString(dest.resolve("dry/f")));
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
            return n;
        });
        try (Client c = new Client()) {
            c.login(4);
            c.frame(0x21, new byte[] {1}); // a dry run
            c.fileHeaderT(3, 0644, "victim-dry");
            assertEquals("protocol error: FILE_HDR_T in a dry run", c.error());
        }
        try (Client c = new Client()) {
            c.login(4);
            c.frame(0x16, new byte[] {(byte) 0xed, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}); // DIR, the root
            c.frame(0x21, new byte[] {0}); // CHANGES after it
            assertTrue(c.error().startsWith("protocol error: unexpected CHANGES"));
        }
        assertEquals(5, good.get(60, java.util.concurrent.TimeUnit.SECONDS));
        Files.delete(dest.resolve("dry/f"));
        Files.delete(dest.resolve("dry"));
    }

    @Test
    void dataFrameLongerThanTheFile() throws Exception {
        try (Client c = new Client()) {
            c.login();
            c.fileHeader(10, 0644, "victim-overrun");
            c.raw(new byte[] {0x11, 0, 0, 0, 0x10}); // 268435456 bytes announced
            assertEquals("protocol error: data frame of 268435456 bytes exceeds the frame limit (67108864)", c.error());
        }
        assertFalse(Files.exists(dest.resolve("victim-overrun")));
    }

    @Test
    void traversal() throws Exception {
        for (String bad : new String[] {"../victim-escape", "a/../../victim-escape", "./victim"}) {
            try (Client c = new Client()) {
                c.login();
                c.fileHeader(1, 0644, bad);
                String e = c.error();
                assertTrue(e.startsWith("protocol error: '"), e);
            }
            awaitQuiet();
        }
        assertFalse(Files.exists(tmp.resolve("victim-escape")));
    }

    @Test
    void absolutePath() throws Exception {
        Path target = outside.resolve("victim-absolute");
        try (Client c = new Client()) {
            c.login();
            c.fileHeader(1, 0644, target.toString());
            assertEquals("protocol error: absolute path refused: " + target, c.error());
        }
        assertFalse(Files.exists(target));
    }

    @Test
    void symlinkInsideDestCannotRedirectAWrite() throws Exception {
        try (Client c = new Client()) {
            c.login();
            c.fileHeader(5, 0644, "escape-link/victim-pwned");
            assertEquals("refused escape-link/victim-pwned: it would leave the destination (a symlink points outside)",
                    c.error());
        }
        try (Client c = new Client()) {
            c.login();
            c.fileHeader(5, 0644, "escape-link/deeper/victim-pwned");
            assertTrue(c.error().startsWith("refused escape-link/deeper/victim-pwned: it would leave the destination"));
        }
    }

    /**
     * Version 4 writes a new small file under its own name, no temporary: cut short it is removed,
     * and when something appears at the name after the WANT (here a SYMLINK from the same sender) the
     * file goes the temporary way and replaces it. Beside good sends of small new files.
     */
    @Test
    void newSmallFilesWrittenInPlaceLeaveNothingWhenCutAndGiveWayToWhatAppears() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("good-src/small"));
        for (int i = 0; i < 50; i++) {
            Files.writeString(src.resolve("f" + i), "small " + i);
        }
        java.util.concurrent.CompletableFuture<Integer> good = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            int n = 0;
            try {
                for (; n < 5; n++) {
                    CopyResult r = Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).build().send(tmp.resolve("good-src"));
                    assertTrue(r.succeeded(), r.failures().toString());
                    assertEquals("", Launcher.sh(tmp, "diff -r good-src/small dest/small"));
                    Launcher.sh(dest, "rm -r small"); // the next send writes them new again
                }
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
            return n;
        });
        byte[] data = new byte[1000];
        new java.util.Random(3).nextBytes(data);
        try (Client c = new Client()) {
            c.login(4);
            c.fileList(1000, "victim-cut", "raced");
            byte[] want = c.readFrame();
            assertEquals(0x14, want[0] & 0xff);
            assertEquals(0b11, want[7], "both wanted: nothing is at either name");
            c.symlink("raced", "elsewhere"); // something at the name now
            c.fileHeaderT(1000, 0644, "raced");
            c.frame(0x11, data);
            c.frame(0x12, new byte[0]);
            c.fileHeaderT(1000, 0644, "victim-cut");
            c.frame(0x11, new byte[500]);
        } // closed mid-file
        awaitQuiet();
        assertEquals(5, good.get(60, java.util.concurrent.TimeUnit.SECONDS));
        assertFalse(Files.exists(dest.resolve("victim-cut"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.isRegularFile(dest.resolve("raced"), java.nio.file.LinkOption.NOFOLLOW_LINKS), "the file replaced the link");
        assertEquals(-1, java.util.Arrays.mismatch(data, Files.readAllBytes(dest.resolve("raced"))));
        Files.delete(dest.resolve("raced"));
    }

    @Test
    void truncatedStreamLeavesNothingUnderTheFinalName() throws Exception {
        try (Client c = new Client()) {
            c.login();
            c.fileHeader(1000, 0644, "victim-truncated");
            c.frame(0x11, new byte[500]);
        } // closed mid-file
        awaitQuiet();
        assertFalse(Files.exists(dest.resolve("victim-truncated")));
        assertTrue(log.stream().anyMatch(l -> l.contains("connection closed mid-file (500 of 1000 bytes)")), log.toString());
    }

    @Test
    void peerThatStopsMidFileIsDroppedAfterTheIdleTimeout() throws Exception {
        try (Client c = new Client()) {
            c.login();
            c.fileHeader(1 << 20, 0644, "sub/victim-stalled");
            c.frame(0x11, new byte[4096]);
            long t0 = System.nanoTime();
            String e = c.error(); // what the receiver says when it gives up on us (idle timeout 2 s)
            assertTrue(e.contains("timed out"), e);
            assertTrue(System.nanoTime() - t0 > 1_500_000_000L, "dropped by the idle timeout, not before");
            awaitQuiet();
            assertEquals("", Launcher.sh(dest, "find . -name '*.tmp'"), "temporary file removed once the peer is dropped");
        }
        assertFalse(Files.exists(dest.resolve("sub/victim-stalled")));
    }

    @Test
    void unexpectedFrameInsideAFile() throws Exception {
        try (Client c = new Client()) {
            c.login();
            c.fileHeader(10, 0644, "victim-interleaved");
            c.frame(0x11, new byte[4]);
            c.fileHeader(1, 0644, "other");
            assertEquals("protocol error: unexpected frame type 0x10 after 4 of 10 file bytes", c.error());
        }
    }

    @Test
    void modesFromTheNetworkLoseSetuidSetgidAndSticky() throws Exception {
        try (Client c = new Client()) {
            c.login();
            c.fileHeader(2, 07777, "inner-link/setuid");
            c.frame(0x11, new byte[] {'o', 'k'});
            c.frame(0x12, new byte[0]);
            c.frame(0x20, new byte[0]);
            assertEquals("20 00 00 00 00", hex(c.readFrame()));
        }
        Path placed = dest.resolve("sub/setuid");
        assertEquals("ok", Files.readString(placed));
        assertEquals("777", Launcher.sh(dest, "stat -c %a sub/setuid").strip());
    }

    @Test
    void namesOfTheReceiversTemporaryFilesAreRefused() throws Exception {
        try (Client c = new Client()) {
            c.login();
            c.fileHeader(1, 0644, "sub/.usync-1-2-3.tmp");
            assertEquals("refused sub/.usync-1-2-3.tmp: names beginning .usync- and ending .tmp are the receiver's"
                    + " temporary files", c.error());
        }
    }

    /**
     * Temporaries of a receiver that died (its pid is gone) are removed the first time this receiver
     * writes into their directory (one it has not written into before).
     */
    @Test
    void temporariesOfADeadReceiverAreRemoved() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Path stale = Files.createDirectories(dest.resolve("dead")).resolve(".usync-" + gone.pid() + "-7-0.tmp");
        Files.write(stale, new byte[100_000]);
        Path alive = dest.resolve("dead/.usync-" + ProcessHandle.current().pid() + "-999999999-0.tmp"); // no such connection
        Files.write(alive, new byte[10]);
        Path other = dest.resolve("dead/.usync-1-1-0.tmp"); // pid 1 lives: another receiver's, left alone
        Files.write(other, new byte[10]);
        try (Client c = new Client()) {
            c.login();
            c.fileHeader(2, 0644, "dead/fresh");
            c.frame(0x11, new byte[] {'o', 'k'});
            c.frame(0x12, new byte[0]);
            c.frame(0x20, new byte[0]);
            assertEquals("20 00 00 00 00", hex(c.readFrame()));
        }
        assertFalse(Files.exists(stale));
        assertFalse(Files.exists(alive));
        assertTrue(Files.exists(other));
        Files.delete(other);
        assertTrue(log.stream().anyMatch(l -> l.equals("removed dead/" + stale.getFileName() + ": a temporary file left by a"
                + " receiver (or copy) that ended before the file was complete")), log.toString());
    }

    /**
     * Wrong secrets guessed in parallel from one address queue up behind each other: three at once
     * take 300 + 600 + 1200 ms in turn, where each used to wait its own 300 ms.
     */
    @Test
    void parallelGuessesFromOneAddressAreSlowedTogether() throws Exception {
        List<String> own = new CopyOnWriteArrayList<>();
        try (Receiver r = Receiver.builder(tmp.resolve("guess-dest")).port(0).secret(SECRET).stateDirectory(tmp.resolve("state"))
                .log(own::add).build().start()) {
            List<Thread> guessers = new java.util.ArrayList<>();
            List<Long> answeredAfter = new CopyOnWriteArrayList<>();
            long t0 = System.nanoTime();
            for (int i = 0; i < 3; i++) {
                Thread t = new Thread(() -> {
                    try (Client c = new Client(r)) {
                        c.hello(2, c.proof("guess-" + Thread.currentThread().getName(), "client"));
                        assertEquals("03 01 00 00 00 01", hex(c.readFrame()));
                        answeredAfter.add((System.nanoTime() - t0) / 1_000_000);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                t.start();
                guessers.add(t);
            }
            for (Thread t : guessers) {
                t.join(20_000);
            }
            assertEquals(3, answeredAfter.size(), own.toString());
            assertTrue(answeredAfter.stream().mapToLong(Long::longValue).max().orElse(0) >= 2000,
                    "the third guess waited behind the others: " + answeredAfter);
            for (int n = 1; n <= 3; n++) {
                String failure = "refused: wrong secret (failure " + n + " from that address";
                assertTrue(own.stream().anyMatch(l -> l.contains(failure) && l.contains("from 127.0.0.1")), own.toString());
            }
            awaitQuiet(r);
        }
    }

    /** With direct writes, an announced size reserves no disk by itself: 64 MiB ahead of the data at most. */
    @Test
    void anAnnouncedSizeAloneReservesNoDisk() throws Exception {
        Path d = tmp.resolve("direct-dest");
        try (Receiver r = Receiver.builder(d).port(0).secret(SECRET).stateDirectory(tmp.resolve("state")).directWrites(true)
                .build().start();
                Client c = new Client(r)) {
            c.login();
            c.fileHeader(4L << 30, 0644, "huge"); // 4 GiB announced (a disk-filling size would just be refused)
            for (int i = 0; i < 4; i++) {
                c.frame(0x11, new byte[512 << 10]);
            }
            long end = System.nanoTime() + 10_000_000_000L;
            String blocks = "";
            while (System.nanoTime() < end) { // until the first chunks are written (and reserved ahead)
                blocks = Launcher.sh(d, "find . -name '.usync-*' -printf '%b\n'").strip();
                if (!blocks.isEmpty() && Long.parseLong(blocks) > 0) {
                    break;
                }
                Thread.sleep(10);
            }
            long bytes = Long.parseLong(blocks) * 512;
            assertTrue(bytes > 0 && bytes <= (66L << 20), "reserved " + bytes + " bytes for 2 MiB received of 4 GiB announced");
        }
    }

    static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(s.length() == 0 ? "" : " ").append(String.format("%02x", x));
        }
        return s.toString();
    }
}
