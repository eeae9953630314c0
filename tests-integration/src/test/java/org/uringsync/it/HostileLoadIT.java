package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
    static ReceiverProcess receiver;
    static int port;

    @BeforeAll
    static void start() throws Exception {
        receiver = ReceiverProcess.start(tmp.resolve("dest"), tmp.resolve("home"), SECRET, "--handshake-timeout",
                "" + HANDSHAKE_S, "--timeout", "20");
        port = receiver.port;
        Path src = Files.createDirectory(tmp.resolve("src"));
        Launcher.sh(src, "for d in $(seq 1 6); do mkdir d$d; for f in $(seq 1 50); do head -c $(( (d * f * 131) % 9000 ))"
                + " /dev/urandom > d$d/f$f; done; done; head -c 3000000 /dev/urandom > d1/big");
    }

    @AfterAll
    static void stop() throws Exception {
        receiver.close();
    }

    static ReceiverProcess.Usage usage() throws IOException {
        return receiver.usage();
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
                        ReceiverProcess.Usage u = usage();
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

    @Test
    void goodSendersGetInBesideAThousandIdleAndTricklingPeers() throws Exception {
        sendAndCheck("warm-up");
        ReceiverProcess.Usage base = receiver.awaitBack(usage());
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
            // bounds: 256 peers waiting to authenticate (one socket, one thread each), plus the good
            // transfer, plus dropped peers whose threads are still closing (measured: +260..272)
            assertTrue(peak.fds.get() - base.fds() <= 256 + 64, "descriptors bounded: base " + base + ", " + peak);
            assertTrue(peak.threads.get() - base.threads() <= 256 + 64, "threads bounded: base " + base + ", " + peak);
            assertTrue(peak.rss.get() - base.rssKb() <= 256 * 1024, "memory bounded: base " + base + ", " + peak);
            assertTrue(peak.rings.get() <= 2, "no ring before authentication: " + peak);
            // the handshake deadline is wall-clock: peers still connected (and still trickling) are dropped
            ReceiverProcess.Usage after = receiver.awaitBack(base);
            assertTrue(after.fds() <= base.fds() && after.connectionThreads() == 0,
                    "every hostile peer dropped after " + HANDSHAKE_S + " s: " + after + "\n" + receiver.fdList());
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
        String log = receiver.log();
        assertTrue(log.contains("connections were waiting to authenticate; the oldest from the busiest source was dropped"),
                "evictions logged");
        assertTrue(log.contains("dropped: no authentication within " + HANDSHAKE_S * 1000 + " ms"), "deadline logged");
        sendAndCheck("after the flood");
    }

    @Test
    void sixtyFourSendersOfTheSameTreeAtOnce() throws Exception {
        sendAndCheck("warm-up");
        ReceiverProcess.Usage base = receiver.awaitBack(usage());
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
        ReceiverProcess.Usage after = receiver.awaitBack(base);
        assertTrue(after.fds() <= base.fds() && after.connectionThreads() == 0, "every descriptor and thread released: "
                + base + " then " + after + "\n" + receiver.fdList());
    }

    static Socket connectFrom(String local) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getByName(local), 0));
        s.connect(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 5000);
        return s;
    }
}
