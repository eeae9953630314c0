package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.uringsync.nativeio.NativeTestSupport.sh;

import java.io.IOException;
import java.io.InputStream;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.CopyResult;
import org.uringsync.Receiver;
import org.uringsync.Sender;
import org.uringsync.nativeio.NativeTestSupport;

/**
 * Hostile peers beside good transfers, against one in-process receiver: the good transfers must
 * complete and stay byte-identical whatever the others do.
 */
class ReceiverUnderAttackTest {
    static final String SECRET = "attack-test-secret-0123456789";
    @TempDir
    Path tmp;
    Receiver receiver;
    final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        NativeTestSupport.assumeRing();
        receiver = Receiver.builder(tmp.resolve("dst")).port(0).secret(SECRET).stateDirectory(tmp.resolve("state"))
                .log(log::add).build().start();
    }

    @AfterEach
    void stop() {
        if (receiver != null) {
            receiver.close();
        }
    }

    /**
     * Plaintext requests fail the TLS handshake by the thousand while a sender sends a tree again and
     * again. A socket closed twice after a failed handshake used to close a descriptor another
     * connection had just opened (a temporary file, a directory): good transfers failed with EBADF.
     */
    @Test
    void goodTransfersStayExactBesideAFloodOfFailedHandshakes() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        sh(src, "for d in $(seq 1 20); do mkdir d$d; for f in $(seq 1 100); do head -c $(( (d * f * 37) % 3000 ))"
                + " /dev/urandom > d$d/f_$f; done; done");
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong refused = new AtomicLong();
        List<Thread> flood = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Thread t = new Thread(() -> {
                byte[] req = "GET / HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                while (!stop.get()) {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), receiver.port()), 2000);
                        s.setSoTimeout(5000);
                        OutputStream out = s.getOutputStream();
                        out.write(req);
                        InputStream in = s.getInputStream();
                        while (in.read() >= 0) {
                            // until the receiver hangs up
                        }
                        refused.incrementAndGet();
                    } catch (IOException e) {
                        refused.incrementAndGet();
                    }
                }
            }, "flood-" + i);
            t.setDaemon(true);
            t.start();
            flood.add(t);
        }
        List<String> failures = new ArrayList<>();
        try {
            long end = System.nanoTime() + 12_000_000_000L;
            for (int round = 0; round < 2 || System.nanoTime() < end; round++) {
                try {
                    CopyResult r = Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).build().send(src);
                    if (!r.succeeded()) {
                        failures.add("round " + round + ": " + r.failures());
                    }
                    sh(tmp, "diff -r src dst && echo same");
                } catch (IOException e) {
                    failures.add("round " + round + ": " + e.getMessage());
                }
                if (round >= 20) {
                    break;
                }
            }
        } finally {
            stop.set(true);
            for (Thread t : flood) {
                t.join(10_000);
            }
        }
        assertEquals(List.of(), failures, "good transfers beside " + refused.get() + " failed handshakes");
        assertTrue(refused.get() > 100, "the flood ran: " + refused.get() + " refused connections");
    }
}
