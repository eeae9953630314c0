package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.CopyResult;
import org.uringsync.Sender;

/**
 * Load against one receiver process: a thousand peers that never authenticate and slow-loris peers
 * beside good senders, and 64 senders at once. The good transfers complete byte for byte, and the
 * receiver's descriptors, threads and memory stay within the bounds its caps promise.
 */
class HostileLoadIT {
    static final String SECRET = "load-test-secret-0123456789";
    static final int HANDSHAKE_S = 3;
    @TempDir
    static Path tmp;
    static Process receiver;
    static Path out;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        out = tmp.resolve("recv.out");
        List<String> cmd = List.of(Launcher.SCRIPT.toString(), "recv", tmp.resolve("dest").toString(), "-l", "0", "--bind",
                "127.0.0.1", "--secret", SECRET, "--handshake-timeout", "" + HANDSHAKE_S, "--timeout", "20");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("HOME", tmp.toString());
        receiver = pb.start();
        port = NetworkLauncherIT.awaitPort(receiver, out);
        Path src = Files.createDirectory(tmp.resolve("src"));
        Launcher.sh(src, "for d in $(seq 1 6); do mkdir d$d; for f in $(seq 1 50); do head -c $(( (d * f * 131) % 9000 ))"
                + " /dev/urandom > d$d/f$f; done; done; head -c 3000000 /dev/urandom > d1/big");
    }

    @AfterAll
    static void stop() throws Exception {
        receiver.destroy();
        assertTrue(receiver.waitFor(20, TimeUnit.SECONDS));
    }

    record Usage(long fds, long rings, long threads, long rssKb) {}

    /**
     * The receiver's descriptors that a connection could leak: sockets, pipes, rings, files. The JVM's
     * own (its modules image, a jar it opens the first time a class is needed) are not counted.
     */
    static Usage usage() throws IOException {
        long pid = receiver.pid();
        long fds = 0, rings = 0;
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path p : s.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(p).toString();
                } catch (IOException gone) {
                    continue; // closed while we looked
                }
                if (target.endsWith(".jar") || target.endsWith("/lib/modules") || target.endsWith(".jsa")) {
                    continue;
                }
                fds++;
                if (target.contains("io_uring")) {
                    rings++;
                }
            }
        }
        long threads = 0, rss = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("Threads:")) {
                threads = Long.parseLong(line.substring(8).trim());
            } else if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
            }
        }
        return new Usage(fds, rings, threads, rss);
    }

    /** Samples the receiver's usage every 20 ms and keeps the largest of each. */
    static final class Peak implements AutoCloseable {
        final AtomicLong fds = new AtomicLong(), rings = new AtomicLong(), threads = new AtomicLong(), rss = new AtomicLong();
        final Thread t;
        volatile boolean done;

        Peak() {
            t = new Thread(() -> {
                while (!done) {
                    try {
                        Usage u = usage();
                        fds.accumulateAndGet(u.fds(), Math::max);
                        rings.accumulateAndGet(u.rings(), Math::max);
                        threads.accumulateAndGet(u.threads(), Math::max);
                        rss.accumulateAndGet(u.rssKb(), Math::max);
                        Thread.sleep(20);
                    } catch (IOException | InterruptedException e) {
                        return;
                    }
                }
            });
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() throws InterruptedException {
            done = true;
            t.join();
        }

        @Override
        public String toString() {
            return "peak: " + fds + " fds, " + rings + " rings, " + threads + " threads, " + rss.get() / 1024 + " MiB RSS";
        }
    }

    static void sendAndCheck(String label) throws Exception {
        CopyResult r = Sender.builder("127.0.0.1", port).secret(SECRET).build().send(tmp.resolve("src"));
        assertTrue(r.succeeded(), label + ": " + r.failures());
        Launcher.sh(tmp, "diff -r src dest");
    }

    /** Waits (at most 15 s) until the receiver holds no more descriptors than {@code limit}. */
    static Usage awaitFds(long limit) throws Exception {
        long end = System.nanoTime() + 15_000_000_000L;
        Usage u = usage();
        while (u.fds() > limit && System.nanoTime() < end) {
            Thread.sleep(50);
            u = usage();
        }
        return u;
    }

    @Test
    void goodSendersGetInBesideAThousandIdleAndTricklingPeers() throws Exception {
        sendAndCheck("warm-up");
        Usage base = awaitFds(usage().fds());
        List<Socket> idle = new ArrayList<>();
        List<Socket> tricklers = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        Thread trickle = null;
        try (Peak peak = new Peak()) {
            for (int i = 0; i < 1000; i++) { // 100 source addresses, 10 peers each: never a byte
                idle.add(connectFrom("127.0.1." + (1 + i / 10)));
            }
            for (int i = 0; i < 40; i++) { // slow loris: a TLS record header, then one byte every 300 ms
                Socket s = connectFrom("127.0.2." + (1 + i / 10));
                s.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00});
                tricklers.add(s);
            }
            trickle = new Thread(() -> {
                while (!stop.get()) {
                    for (Socket s : tricklers) {
                        try {
                            s.getOutputStream().write(1);
                        } catch (IOException dropped) {
                            // the receiver gave up on it: as it should
                        }
                    }
                    try {
                        Thread.sleep(300);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            trickle.setDaemon(true);
            trickle.start();
            for (int round = 0; round < 3; round++) {
                sendAndCheck("round " + round + " beside 1040 hostile peers");
            }
            peak.close();
            System.out.println("HostileLoadIT 1040 idle/trickling peers: base " + base + ", " + peak);
            // bounds: 256 peers waiting to authenticate (one socket, one thread each), plus the transfers
            assertTrue(peak.fds.get() - base.fds() <= 256 + 16, "descriptors bounded: base " + base + ", " + peak);
            assertTrue(peak.threads.get() - base.threads() <= 256 + 16, "threads bounded: base " + base + ", " + peak);
            assertTrue(peak.rss.get() - base.rssKb() <= 256 * 1024, "memory bounded: base " + base + ", " + peak);
            assertTrue(peak.rings.get() <= 2, "no ring before authentication: " + peak);
            // the handshake deadline is wall-clock: peers still connected (and still trickling) are dropped
            Usage after = awaitFds(base.fds() + 2);
            assertTrue(after.fds() <= base.fds() + 2, "every hostile peer dropped after " + HANDSHAKE_S + " s: " + after);
            assertEquals(base.rings(), after.rings(), "no ring left behind");
        } finally {
            stop.set(true);
            if (trickle != null) {
                trickle.join();
            }
            for (Socket s : idle) {
                s.close();
            }
            for (Socket s : tricklers) {
                s.close();
            }
        }
        String log = Files.readString(out, StandardCharsets.ISO_8859_1);
        assertTrue(log.contains("connections were waiting to authenticate; the oldest was dropped"), "evictions logged");
        assertTrue(log.contains("dropped: no authentication within " + HANDSHAKE_S * 1000 + " ms"), "deadline logged");
        sendAndCheck("after the flood");
    }

    @Test
    void sixtyFourSendersOfTheSameTreeAtOnce() throws Exception {
        sendAndCheck("warm-up");
        Usage base = awaitFds(usage().fds());
        int n = 64;
        CyclicBarrier together = new CyclicBarrier(n);
        List<String> failures = new CopyOnWriteArrayList<>();
        List<Thread> senders = new ArrayList<>();
        try (Peak peak = new Peak()) {
            for (int i = 0; i < n; i++) {
                Thread t = new Thread(() -> {
                    try {
                        together.await();
                        CopyResult r = Sender.builder("127.0.0.1", port).secret(SECRET).queueDepth(4).chunkSize(64 << 10)
                                .build().send(tmp.resolve("src"));
                        if (!r.succeeded()) {
                            failures.add(r.failures().toString());
                        }
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                });
                t.start();
                senders.add(t);
            }
            for (Thread t : senders) {
                t.join(120_000);
            }
            peak.close();
            System.out.println("HostileLoadIT 64 senders: base " + base + ", " + peak);
            assertEquals(List.of(), failures);
            assertTrue(peak.rings.get() - base.rings() <= 64, "one ring per transfer at most: " + peak);
        }
        Launcher.sh(tmp, "diff -r src dest");
        assertEquals("", Launcher.sh(tmp.resolve("dest"), "find . -name '.usync-*'"), "no temporary file left");
        Usage after = awaitFds(base.fds());
        assertTrue(after.fds() <= base.fds(), "every descriptor released: " + base + " then " + after + ": "
                + Launcher.sh(tmp, "ls -l /proc/" + receiver.pid() + "/fd"));
    }

    static Socket connectFrom(String local) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getByName(local), 0));
        s.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 5000);
        return s;
    }
}
