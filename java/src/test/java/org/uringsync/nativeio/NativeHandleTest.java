package org.uringsync.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.transfer.Certificates;

/** The one guard of every native resource: freed once, never under a running call, never reached after. */
class NativeHandleTest {
    @TempDir
    Path tmp;

    /** A handle that counts how it is freed and woken. */
    static final class Counting extends NativeHandle {
        final AtomicInteger frees = new AtomicInteger();
        final AtomicInteger wakes = new AtomicInteger();

        Counting() {
            super(42);
        }

        @Override
        protected String what() {
            return "counting handle";
        }

        @Override
        protected void free(long value) {
            assertEquals(42, value);
            frees.incrementAndGet();
        }

        @Override
        protected void wake(long value) {
            wakes.incrementAndGet();
        }
    }

    @Test
    void closeDuringACallWakesItAndFreesWhenItLeaves() {
        Counting h = new Counting();
        assertEquals(42, h.enter());
        h.close();
        assertEquals(0, h.frees.get(), "not freed under a running call");
        assertEquals(1, h.wakes.get());
        assertTrue(h.isClosed());
        IllegalStateException e = assertThrows(IllegalStateException.class, h::enter);
        assertEquals("counting handle is closed", e.getMessage());
        h.close();
        h.leave();
        assertEquals(1, h.frees.get(), "freed by the last call to leave");
        h.close();
        assertEquals(1, h.frees.get(), "and only once");
        assertFalse(h.ifLive(v -> {
            throw new AssertionError("reached a freed handle");
        }));
    }

    @Test
    void aHandleForOneCallAtATimeRefusesASecond() {
        Counting h = new Counting();
        h.enterAlone();
        IllegalStateException e = assertThrows(IllegalStateException.class, h::enterAlone);
        assertEquals("counting handle is already in use by another call", e.getMessage());
        h.leave();
        h.enterAlone();
        h.leave();
        h.close();
        assertEquals(1, h.frees.get());
    }

    /** The number a closed descriptor had, taken by the next file this process opens. */
    private static RandomAccessFile reuse(int number, Path file, List<RandomAccessFile> spare) throws IOException {
        for (int i = 0; i < 64; i++) {
            RandomAccessFile f = new RandomAccessFile(file.toFile(), "r");
            if (Files.readSymbolicLink(Path.of("/proc/self/fd/" + number)).equals(file)) {
                return f;
            }
            spare.add(f);
        }
        throw new AssertionError("descriptor " + number + " was not reused");
    }

    private static boolean open(int number) {
        return Files.exists(Path.of("/proc/self/fd/" + number), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    /**
     * A handshake that fails leaves the socket to its one owner; closing it twice (as a connection's
     * clean-up and an error path might) closes it once, and never the file that took its number.
     */
    @Test
    void aFailedHandshakeLeavesTheSocketToItsOwnerAndASecondCloseHitsNothing() throws Exception {
        NativeTestSupport.assumeRing();
        Path[] pair = Certificates.ensure(tmp.resolve("state"));
        Path file = Files.writeString(tmp.resolve("victim"), "x");
        List<RandomAccessFile> spare = new ArrayList<>();
        try (TlsContext ctx = TlsContext.server(pair[0], pair[1], null);
                Fd listen = Net.listen(InetAddress.getLoopbackAddress(), 0);
                Socket plain = new Socket(InetAddress.getLoopbackAddress(), listen.localPort())) {
            plain.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            Fd sock = Net.accept(listen);
            assertThrows(IOException.class, () -> TlsSession.handshake(ctx, sock, true, 0));
            assertTrue(open(sock.number()), "the failed handshake left the socket open for its owner");
            int number = sock.number();
            sock.close();
            assertFalse(open(number));
            try (RandomAccessFile victim = reuse(number, file, spare)) {
                sock.close();
                sock.shutdown();
                assertTrue(open(number), "a second close reached the file that reused the number");
                assertEquals('x', victim.read());
            }
        } finally {
            for (RandomAccessFile f : spare) {
                f.close();
            }
        }
    }

    /** Closing a session while another thread is blocked reading it wakes the reader; the session is freed after. */
    @Test
    void closingASessionUnderABlockedReadWakesItAndFreesAfterwards() throws Exception {
        NativeTestSupport.assumeRing();
        Path[] pair = Certificates.ensure(tmp.resolve("state"));
        try (TlsContext sctx = TlsContext.server(pair[0], pair[1], null);
                TlsContext cctx = TlsContext.client(null);
                Fd listen = Net.listen(InetAddress.getLoopbackAddress(), 0)) {
            AtomicReference<TlsSession> server = new AtomicReference<>();
            Thread t = new Thread(() -> {
                try {
                    server.set(TlsSession.handshake(sctx, Net.accept(listen), true, 0, true));
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            t.start();
            Fd clientSock = Net.connect(InetAddress.getLoopbackAddress(), listen.localPort(), 5000);
            try (TlsSession client = TlsSession.handshake(cctx, clientSock, false, 0, true)) {
                t.join(10_000);
                TlsSession s = server.get();
                CountDownLatch reading = new CountDownLatch(1);
                AtomicReference<Object> outcome = new AtomicReference<>();
                Thread reader = new Thread(() -> {
                    ByteBuffer b = ByteBuffer.allocateDirect(64);
                    reading.countDown();
                    try {
                        outcome.set(s.read(b, 0, 64));
                    } catch (IOException | RuntimeException e) {
                        outcome.set(e);
                    }
                });
                reader.start();
                assertTrue(reading.await(5, TimeUnit.SECONDS));
                waitUntilBlocked(reader);
                s.close(); // from this thread, while the reader is inside SSL_read
                reader.join(5_000);
                assertFalse(reader.isAlive(), "the blocked read was woken");
                assertTrue(outcome.get() instanceof Integer || outcome.get() instanceof IOException, "" + outcome.get());
                IllegalStateException e = assertThrows(IllegalStateException.class,
                        () -> s.read(ByteBuffer.allocateDirect(8), 0, 8));
                assertEquals("TLS session is closed", e.getMessage());
            }
            assertTrue(clientSock.isClosed(), "the session that took its socket closed it");
        }
    }

    private static void waitUntilBlocked(Thread t) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        // a thread inside a native read shows as RUNNABLE: wait until its stack is in the native method
        while (System.nanoTime() < end) {
            for (StackTraceElement e : t.getStackTrace()) {
                if (e.isNativeMethod() && e.getMethodName().equals("readNative")) {
                    Thread.sleep(50); // inside the call; give it time to reach read(2)
                    return;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("the reader never entered readNative");
    }

    /** shutdown() of a closed socket reaches nothing, not the socket that took its number. */
    @Test
    void shutdownAfterCloseDoesNotReachTheNextSocket() throws Exception {
        NativeTestSupport.assumeRing();
        Fd first = Net.listen(InetAddress.getLoopbackAddress(), 0);
        int number = first.number();
        first.close();
        try (Fd second = Net.listen(InetAddress.getLoopbackAddress(), 0)) {
            assertEquals(number, second.number(), "the next socket took the number");
            first.shutdown();
            try (Socket c = new Socket(InetAddress.getLoopbackAddress(), second.localPort())) {
                Fd accepted = Net.accept(second); // a shut-down listener would fail here with EINVAL
                accepted.close();
                InputStream in = c.getInputStream();
                assertEquals(-1, in.read());
            }
        }
    }
}
