package org.uringsync.it.lab;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.uringsync.CopyResult;
import org.uringsync.Receiver;
import org.uringsync.Sender;
import org.uringsync.TlsPath;
import org.uringsync.nativeio.Net;
import org.uringsync.nativeio.TlsContext;
import org.uringsync.nativeio.TlsException;
import org.uringsync.nativeio.Fd;
import org.uringsync.nativeio.TlsSession;
import org.uringsync.transfer.Certificates;

/**
 * Runs inside the kernel TLS lab (User-Mode Linux with tls.ko), in one JVM, through the library API:
 * every TLS path with every cipher, files from 0 bytes to BIG MiB, many small files, kernel TLS on one
 * side only, alerts, and proof that the kernel carried the data. Prints {@code RESULT name PASS|FAIL
 * detail} and {@code FIGURE ...} lines for {@code KtlsLabIT}; exits 1 if any case failed.
 */
public final class KtlsLabMain {
    static final String[] SUITES = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"};
    static final String SECRET = "lab-secret-0123456789";
    static int failures;
    static Path work;
    static Path state;

    /**
     * Writes the data sets on the host, where file creation is fast (inside the lab every system call
     * goes through ptrace: creating 2,000 files from Java took 140 s there).
     */
    public static void prepare(Path data, int bigMiB) throws IOException {
        deleteTree(data);
        tree(data.resolve("small"), new long[] {0, 1, 100 * 1024, (1 << 20) + 3, (4 << 20) + 1}, 1);
        Path many = data.resolve("many");
        for (int d = 0; d < 20; d++) {
            Files.createDirectories(many.resolve("d" + d));
            for (int f = 0; f < 100; f++) {
                Files.writeString(many.resolve("d" + d + "/f" + f), "file " + d + "/" + f + "\n".repeat(f));
            }
        }
        tree(data.resolve("big"), new long[] {(long) bigMiB << 20}, 7);
        tree(data.resolve("alert-good"), new long[] {12345}, 3);
    }

    /** args: the data directory made by {@link #prepare} (read-only is fine). */
    public static void main(String[] args) throws Exception {
        Path data = Path.of(args[0]);
        work = Files.createTempDirectory("ktls-lab");
        state = work.resolve("state");
        Certificates.ensure(state);
        Path small = data.resolve("small");
        int bigMiB = (int) (Files.size(data.resolve("big/sub0/f0")) >> 20);

        // every path with every cipher; kernel TLS counters must rise by two sockets per connection
        for (TlsPath path : new TlsPath[] {TlsPath.USERSPACE, TlsPath.KTLS, TlsPath.KTLS_ZEROCOPY}) {
            for (String suite : SUITES) {
                long tx0 = tlsStat("TlsTxSw"), rx0 = tlsStat("TlsRxSw");
                List<String> sender = new CopyOnWriteArrayList<>(), receiver = new CopyOnWriteArrayList<>();
                String name = path + "/" + suite;
                try {
                    transfer(small, path, path, suite, sender, receiver);
                    String want = path == TlsPath.USERSPACE ? "tls: userspace (OpenSSL record layer, kernel TLS not asked for), " + suite
                            : "tls: kernel tx+rx, " + suite + ", " + (path == TlsPath.KTLS ? "buffered" : "splice");
                    check(name + " path", sender.contains(want) && receiver.stream().anyMatch(l -> l.endsWith(want)),
                            "sender " + sender + " receiver " + receiver);
                    long dtx = tlsStat("TlsTxSw") - tx0, drx = tlsStat("TlsRxSw") - rx0;
                    long expect = path == TlsPath.USERSPACE ? 0 : 2;
                    check(name + " tls_stat", dtx == expect && drx == expect, "TlsTxSw +" + dtx + ", TlsRxSw +" + drx);
                } catch (Exception e) {
                    check(name, false, e.toString());
                }
            }
        }

        // one side in the kernel, the other in user space, both ways
        for (TlsPath[] pair : new TlsPath[][] {{TlsPath.USERSPACE, TlsPath.KTLS_ZEROCOPY}, {TlsPath.KTLS_ZEROCOPY, TlsPath.USERSPACE},
                {TlsPath.KTLS, TlsPath.KTLS_ZEROCOPY}}) {
            String name = "interop sender=" + pair[0] + " receiver=" + pair[1];
            try {
                transfer(small, pair[0], pair[1], SUITES[0], new ArrayList<>(), new ArrayList<>());
                check(name, true, "byte-identical");
            } catch (Exception e) {
                check(name, false, e.toString());
            }
        }

        // many small files
        Path many = data.resolve("many");
        for (TlsPath path : new TlsPath[] {TlsPath.KTLS, TlsPath.KTLS_ZEROCOPY}) {
            try {
                CopyResult r = transfer(many, path, path, SUITES[1], new ArrayList<>(), new ArrayList<>());
                check("2000 small files " + path, r.files() == 2000, r.summary());
            } catch (Exception e) {
                check("2000 small files " + path, false, e.toString());
            }
        }

        // a sparse file on every path: only its data ranges cross (RANGE), landing at their offsets,
        // spliced on ktls-zerocopy when a range is 64 KiB or more; made here, on the lab's tmpfs, which
        // reports holes (hostfs does not)
        Path sparse = Files.createDirectories(work.resolve("sparse-src"));
        try (RandomAccessFile f = new RandomAccessFile(sparse.resolve("holes").toFile(), "rw")) {
            byte[] b = new byte[300 * 1024];
            new SplittableRandom(5).nextBytes(b);
            f.setLength(48L << 20);
            f.seek(4L << 20);
            f.write(b);
            f.seek((20L << 20) + 4096);
            f.write(b, 0, 20000);
        }
        for (TlsPath path : new TlsPath[] {TlsPath.USERSPACE, TlsPath.KTLS, TlsPath.KTLS_ZEROCOPY}) {
            try {
                CopyResult r = transfer(sparse, path, path, SUITES[0], new ArrayList<>(), new ArrayList<>());
                check("sparse file " + path, r.bytes() == 300 * 1024 + 20480, r.summary() + ", byte-identical");
            } catch (Exception e) {
                check("sparse file " + path, false, e.toString());
            }
        }

        // the C core's meter on the kernel paths (IORING_OP_SEND from the ring's buffers; splice):
        // byte progress that ends at the result, and the rate limit kept
        for (TlsPath path : new TlsPath[] {TlsPath.KTLS, TlsPath.KTLS_ZEROCOPY}) {
            String name = "progress and bwlimit " + path;
            try {
                List<org.uringsync.Progress> calls = new CopyOnWriteArrayList<>();
                long limit = 1L << 20; // a pacing window (105 KiB) under a frame: frames and splices cut in pieces
                CopyResult r = transfer(small, path, path, SUITES[0], new ArrayList<>(), new ArrayList<>(),
                        b -> b.progress(calls::add, java.time.Duration.ofMillis(20)).bandwidthLimit(limit));
                double secs = r.duration().toNanos() / 1e9; // the send alone
                org.uringsync.Progress last = calls.get(calls.size() - 1);
                boolean midway = calls.stream().anyMatch(p -> p.bytesTransferred() > 0 && p.bytesTransferred() < r.bytes());
                double rate = r.bytes() / secs;
                check(name, last.bytesTransferred() == r.bytes() && midway && calls.size() >= 3 && rate <= limit * 1.08 && rate >= limit * 0.8,
                        calls.size() + " calls, last " + last + "; " + r.bytes() + " B in " + String.format("%.2f", secs)
                                + " s: " + (long) rate + " B/s against " + limit);
            } catch (Exception e) {
                check(name, false, e.toString());
            }
        }

        recordLayerCarriesNothing();
        alerts(data.resolve("alert-good"));
        stalls(data.resolve("big"));

        // the big file on each path: throughput and CPU per GiB (sender thread, and the whole process)
        Path big = data.resolve("big");
        for (TlsPath path : new TlsPath[] {TlsPath.USERSPACE, TlsPath.KTLS, TlsPath.KTLS_ZEROCOPY, TlsPath.KTLS_SENDFILE}) {
            try {
                ThreadMXBean tm = ManagementFactory.getThreadMXBean();
                long u0 = tm.getCurrentThreadUserTime(), s0 = tm.getCurrentThreadCpuTime() - u0;
                long[] p0 = procTimes();
                long t0 = System.nanoTime();
                CopyResult r = transfer(big, path, path, SUITES[0], new ArrayList<>(), new ArrayList<>());
                double secs = (System.nanoTime() - t0) / 1e9;
                long u1 = tm.getCurrentThreadUserTime(), s1 = tm.getCurrentThreadCpuTime() - u1;
                long[] p1 = procTimes();
                double gib = r.bytes() / (double) (1L << 30);
                System.out.printf("FIGURE path=%s MiB=%d seconds=%.2f MBps=%.1f sender_user_s_per_GiB=%.3f sender_sys_s_per_GiB=%.3f"
                        + " process_user_s_per_GiB=%.3f process_sys_s_per_GiB=%.3f%n", path, bigMiB, secs, r.bytes() / secs / 1e6,
                        (u1 - u0) / 1e9 / gib, (s1 - s0) / 1e9 / gib, (p1[0] - p0[0]) / 100.0 / gib, (p1[1] - p0[1]) / 100.0 / gib);
                check("big file " + path, true, bigMiB + " MiB byte-identical");
            } catch (Exception e) {
                check("big file " + path, false, e.toString());
            }
        }
        System.out.println("SUMMARY failures=" + failures);
        System.exit(failures == 0 ? 0 : 1);
    }

    static final long T0 = System.nanoTime();

    static void check(String name, boolean ok, String detail) {
        System.out.printf("RESULT %s %s [%.1f s] %s%n", name.replace(' ', '_'), ok ? "PASS" : "FAIL",
                (System.nanoTime() - T0) / 1e9, detail);
        System.out.flush();
        if (!ok) {
            failures++;
        }
    }

    static Path tree(Path root, long[] sizes, long seed) throws IOException {
        Files.createDirectories(root);
        SplittableRandom rnd = new SplittableRandom(seed);
        byte[] buf = new byte[1 << 20];
        for (int i = 0; i < sizes.length; i++) {
            Path f = root.resolve("sub" + (i % 2) + "/f" + i);
            Files.createDirectories(f.getParent());
            try (var out = Files.newOutputStream(f)) {
                for (long left = sizes[i]; left > 0; ) {
                    int n = (int) Math.min(buf.length, left);
                    for (int k = 0; k < n; k += 8) {
                        long v = rnd.nextLong();
                        for (int j = 0; j < 8 && k + j < n; j++) {
                            buf[k + j] = (byte) (v >>> (8 * j));
                        }
                    }
                    out.write(buf, 0, n);
                    left -= n;
                }
            }
        }
        return root;
    }

    /** One receiver, one sender, then a byte-for-byte comparison; the destination is removed afterwards. */
    static CopyResult transfer(Path src, TlsPath senderPath, TlsPath receiverPath, String suite, List<String> senderLog,
            List<String> receiverLog) throws Exception {
        return transfer(src, senderPath, receiverPath, suite, senderLog, receiverLog, b -> b);
    }

    /** As above, the sender built with {@code more} (progress, a rate limit). */
    static CopyResult transfer(Path src, TlsPath senderPath, TlsPath receiverPath, String suite, List<String> senderLog,
            List<String> receiverLog, java.util.function.UnaryOperator<Sender.Builder> more) throws Exception {
        Path dest = work.resolve("dest");
        try (Receiver r = Receiver.builder(dest).port(0).bind(InetAddress.getLoopbackAddress()).secret(SECRET)
                .stateDirectory(state).ciphers(suite).tlsPath(receiverPath).verbose(receiverLog::add)
                .log(l -> System.out.println("receiver: " + l)).build().start()) {
            CopyResult res = more.apply(Sender.builder("127.0.0.1", r.port()).secret(SECRET).ciphers(suite).tlsPath(senderPath)
                    .verbose(senderLog::add)).build().send(src);
            String diff = run("diff", "-r", src.toString(), dest.toString());
            if (!diff.isEmpty()) {
                throw new IOException("trees differ: " + diff);
            }
            return res;
        } finally {
            run("rm", "-rf", dest.toString());
        }
    }

    /**
     * Runs a command and returns its output. Trees are compared and removed by diff and rm: inside the
     * lab, Java's own per-file calls are far slower than native tools' (minutes for 2,000 files).
     */
    static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        return out;
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** A raw session pair on loopback: [server, client]. */
    static TlsSession[] pair(int serverMode, int clientMode, TlsContext sctx, TlsContext cctx) throws Exception {
        Fd lfd = Net.listen(InetAddress.getLoopbackAddress(), 0);
        int port = lfd.localPort();
        AtomicReference<Object> server = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                server.set(TlsSession.handshake(sctx, Net.accept(lfd), true, serverMode, true));
            } catch (Exception e) {
                server.set(e);
            }
        });
        t.start();
        TlsSession client = TlsSession.handshake(cctx, Net.connect(InetAddress.getLoopbackAddress(), port, 5000), false,
                clientMode, true);
        t.join();
        lfd.close();
        if (server.get() instanceof Exception e) {
            throw e;
        }
        return new TlsSession[] {(TlsSession) server.get(), client};
    }

    /** With kernel TLS both ways, OpenSSL's record layer moves no byte after the handshake. */
    static void recordLayerCarriesNothing() throws Exception {
        Path[] pair = Certificates.ensure(state);
        for (int mode : new int[] {0, 2}) {
            try (TlsContext s = TlsContext.server(pair[0], pair[1], null); TlsContext c = TlsContext.client(null)) {
                TlsSession[] p = pair(mode, mode, s, c);
                try {
                    ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
                    for (int i = 0; i < 8; i++) {
                        p[1].write(b, 0, b.capacity());
                        p[0].readFully(b, 0, b.capacity());
                        p[0].write(b, 0, 1000);
                        p[1].readFully(b, 0, 1000);
                    }
                    long s0 = p[0].recordLayerBytes(), c0 = p[1].recordLayerBytes();
                    if (mode == 0) {
                        check("record layer userspace (contrast)", s0 > 8 << 20 && c0 > 8 << 20, "server " + s0 + " B, client " + c0 + " B");
                    } else {
                        check("record layer kernel tx+rx", s0 == 0 && c0 == 0 && p[0].kernelTx() && p[0].kernelRx()
                                && p[1].kernelTx() && p[1].kernelRx(), "server " + s0 + " B, client " + c0 + " B through OpenSSL; " + p[1].path());
                    }
                } finally {
                    p[0].close();
                    p[1].close();
                }
            }
        }
    }

    /** Alerts on a kernel TLS socket: close_notify is end of stream, a fatal alert a clean error naming it. */
    /** HMAC-SHA256(secret, "uring-sync " + role || exporter): the HELLO proofs, computed here by hand. */
    static byte[] proof(TlsSession s, String role) throws Exception {
        byte[] x = s.exportKeyingMaterial("EXPORTER-uring-sync-hello", 32);
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update(("uring-sync " + role).getBytes(StandardCharsets.US_ASCII));
        return mac.doFinal(x);
    }

    /**
     * A peer that stops in the middle, on every TLS path: a sender that stops writing mid-file is
     * dropped by the receiver's idle timeout, and a receiver that stops reading fails the send after
     * the sender's idle timeout. (io_uring's RECV, SEND and SPLICE do not honour the socket timeouts;
     * the C core links a timeout to each.) Each case must end within 40 s (the socket buffers fill
     * first, and everything is slow under User-Mode Linux).
     */
    static void stalls(Path big) throws Exception {
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        for (TlsPath path : new TlsPath[] {TlsPath.USERSPACE, TlsPath.KTLS, TlsPath.KTLS_ZEROCOPY}) {
            String name = "stalled sender, receiver " + path;
            Path dest = work.resolve("stall-dest");
            List<String> log = new CopyOnWriteArrayList<>();
            try (Receiver r = Receiver.builder(dest).port(0).bind(InetAddress.getLoopbackAddress()).secret(SECRET)
                    .stateDirectory(state).tlsPath(path).idleTimeout(java.time.Duration.ofSeconds(2)).log(log::add).build().start();
                    TlsContext c = TlsContext.client(null)) {
                TlsSession cl = TlsSession.handshake(c, Net.connect(InetAddress.getLoopbackAddress(), r.port(), 5000), false,
                        path.nativeMode(), true);
                try {
                    ByteBuffer b = ByteBuffer.allocateDirect(1 << 20);
                    b.put(0, new byte[] {1, 66, 0, 0, 0, 2, 32}).put(7, proof(cl, "client"));
                    cl.write(b, 0, 71);
                    cl.readFully(b, 0, 37); // HELLO_OK
                    byte[] hdr = {0x10, 20, 0, 0, 0, 0, 0, 0x40, 0, 0, 0, 0, 0, (byte) 0xa4, 1, 0, 0, 6, 0, 's', 't', 'a', 'l', 'l', 's'};
                    b.put(0, hdr).put(hdr.length, new byte[] {0x11, 0, 0, 0x10, 0}); // 4 MiB file, a 1 MiB frame
                    cl.write(b, 0, hdr.length + 5 + 300_000); // ... of which 300,000 bytes come, then nothing
                    long t0 = System.nanoTime();
                    while (r.connections() > 0 && System.nanoTime() - t0 < 20_000_000_000L) {
                        Thread.sleep(20);
                    }
                    double secs = (System.nanoTime() - t0) / 1e9;
                    boolean temp = !run("find", dest.toString(), "-name", ".usync-*").isEmpty();
                    check(name, r.connections() == 0 && !temp && log.stream().anyMatch(l -> l.contains("timed out")),
                            String.format("dropped after %.1f s (idle timeout 2 s), temporary removed: %s; %s", secs, !temp, log));
                } finally {
                    cl.close();
                }
            } catch (Exception e) {
                check(name, false, e.toString());
            } finally {
                run("rm", "-rf", dest.toString());
            }
        }
        Path[] pair = Certificates.ensure(state);
        for (TlsPath path : new TlsPath[] {TlsPath.USERSPACE, TlsPath.KTLS, TlsPath.KTLS_ZEROCOPY, TlsPath.KTLS_SENDFILE}) {
            String name = "stalled receiver, sender " + path;
            try (TlsContext sctx = TlsContext.server(pair[0], pair[1], null);
                    Fd listen = Net.listen(InetAddress.getLoopbackAddress(), 0)) {
                java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
                java.util.concurrent.Future<?> stuck = pool.submit(() -> {
                    try (Fd sock = Net.accept(listen);
                            TlsSession srv = TlsSession.handshake(sctx, sock, true, path == TlsPath.KTLS_SENDFILE ? 2
                                    : path.nativeMode())) {
                        ByteBuffer b = ByteBuffer.allocateDirect(128);
                        srv.readFully(b, 0, 71); // HELLO
                        b.put(0, new byte[] {2, 32, 0, 0, 0}).put(5, proof(srv, "server"));
                        srv.write(b, 0, 37); // HELLO_OK, then it never reads again
                        release.await();
                    }
                    return null;
                });
                long t0 = System.nanoTime();
                java.util.concurrent.Future<String> send = pool.submit(() -> {
                    try {
                        Sender.builder("127.0.0.1", listen.localPort()).secret(SECRET).tlsPath(path)
                                .idleTimeout(java.time.Duration.ofSeconds(2)).build().send(big);
                        return "the send completed";
                    } catch (IOException e) {
                        return e.getMessage();
                    }
                });
                String outcome;
                try {
                    outcome = send.get(40, java.util.concurrent.TimeUnit.SECONDS);
                } catch (java.util.concurrent.TimeoutException e) {
                    outcome = "still blocked after 40 s";
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                check(name, outcome.contains("ETIMEDOUT"), String.format("%.1f s (idle timeout 2 s): %s", secs, outcome));
                release.countDown();
                stuck.get(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception e) {
                check(name, false, e.toString());
            }
        }
        pool.shutdownNow();
    }

    static void alerts(Path good) throws Exception {
        Path[] pair = Certificates.ensure(state);
        try (TlsContext s = TlsContext.server(pair[0], pair[1], null); TlsContext c = TlsContext.client(null)) {
            TlsSession[] p = pair(2, 2, s, c);
            ByteBuffer b = ByteBuffer.allocateDirect(64);
            try {
                p[1].sendAlert(80); // internal_error
                try {
                    p[0].read(b, 0, 64);
                    check("fatal alert", false, "read returned instead of failing");
                } catch (TlsException e) {
                    check("fatal alert", e.getMessage().contains("TLS alert from the peer: internal error (fatal)"), e.getMessage());
                }
            } finally {
                p[0].close();
                p[1].close();
            }
            p = pair(2, 2, s, c);
            try {
                p[1].close(); // close_notify from the kernel
                check("close_notify", p[0].read(b, 0, 64) == -1, "end of stream");
            } finally {
                p[0].close();
            }
        }
        // an alert in the middle of a file: the receiver reports it, removes the partial file and serves on
        Path dest = work.resolve("alert-dest");
        List<String> log = new CopyOnWriteArrayList<>();
        try (Receiver r = Receiver.builder(dest).port(0).bind(InetAddress.getLoopbackAddress()).secret(SECRET)
                .stateDirectory(state).tlsPath(TlsPath.KTLS_ZEROCOPY).log(log::add).build().start();
                TlsContext c = TlsContext.client(null)) {
            TlsSession cl = TlsSession.handshake(c, Net.connect(InetAddress.getLoopbackAddress(), r.port(), 5000), false, 2,
                    true);
            try {
                ByteBuffer b = ByteBuffer.allocateDirect(4096);
                byte[] x = cl.exportKeyingMaterial("EXPORTER-uring-sync-hello", 32);
                javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
                mac.init(new javax.crypto.spec.SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
                mac.update("uring-sync client".getBytes(StandardCharsets.US_ASCII));
                byte[] proof = mac.doFinal(x);
                b.put(0, new byte[] {1, 66, 0, 0, 0, 2, 32}).put(7, proof);
                cl.write(b, 0, 71);
                cl.readFully(b, 0, 37); // HELLO_OK
                byte[] hdr = {0x10, 20, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, (byte) 0xa4, 1, 0, 0, 6, 0, 'v', 'i', 'c', 't', 'i', 'm'};
                b.put(0, hdr).put(hdr.length, new byte[] {0x11, 0, 16, 0, 0});
                cl.write(b, 0, hdr.length + 5 + 100);
                cl.sendAlert(40); // handshake_failure, mid-file
                Thread.sleep(500);
            } finally {
                cl.close();
            }
            boolean logged = log.stream().anyMatch(l -> l.contains("TLS alert from the peer: handshake failure"));
            boolean clean;
            try (Stream<Path> st = Files.walk(dest)) {
                clean = st.noneMatch(Files::isRegularFile);
            }
            CopyResult res = Sender.builder("127.0.0.1", r.port()).secret(SECRET).tlsPath(TlsPath.KTLS_ZEROCOPY).build().send(good);
            check("alert mid-file", logged && clean && res.succeeded(), "log " + log + ", no partial file " + clean);
        } finally {
            run("rm", "-rf", dest.toString());
        }
    }

    /** utime and stime of this process in clock ticks, from /proc/self/stat. */
    static long[] procTimes() throws IOException {
        String s = Files.readString(Path.of("/proc/self/stat"));
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12])};
    }

    static long tlsStat(String name) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/net/tls_stat"))) {
            String[] p = line.trim().split("\\s+");
            if (p[0].equals(name)) {
                return Long.parseLong(p[1]);
            }
        }
        return -1;
    }

}
