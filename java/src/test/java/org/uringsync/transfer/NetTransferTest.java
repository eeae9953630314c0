package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.uringsync.nativeio.NativeTestSupport.sh;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.CopyResult;
import org.uringsync.Receiver;
import org.uringsync.Sender;
import org.uringsync.nativeio.NativeTestSupport;

/** Sender and receiver through the library API, real TLS 1.3 on loopback. */
class NetTransferTest {
    @TempDir
    Path tmp;
    Receiver receiver;
    final List<String> log = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws IOException {
        NativeTestSupport.assumeRing();
        receiver = Receiver.builder(tmp.resolve("dst")).port(0).secret("test-secret-0123456789").stateDirectory(tmp.resolve("state"))
                .log(log::add).build().start();
    }

    @AfterEach
    void stop() {
        if (receiver != null) {
            receiver.close();
        }
    }

    Sender.Builder sender() {
        return Sender.builder("127.0.0.1", receiver.port()).secret("test-secret-0123456789");
    }

    @Test
    void sendsATreeByteForByte() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        sh(src, "mkdir -p a/b/c 'sp ace'; touch zero; head -c 1000000 /dev/urandom > a/b/c/mid; "
                + "for i in $(seq 1 50); do head -c $((i * 97)) /dev/urandom > a/f$i; done; printf x > 'sp ace/x y';"
                + " printf '#!/bin/sh' > run.sh; chmod 755 run.sh; chmod 600 zero;"
                // modes a 022 umask would cut (created 0600, then fchmod), and 4755 cut to 0755
                + " printf w > shared; chmod 666 shared; printf s > suid; chmod 4755 suid");
        CopyResult r = sender().build().send(src);
        assertTrue(r.succeeded(), r.failures().toString());
        assertEquals(56, r.files());
        assertEquals("666 755", sh(tmp.resolve("dst"), "stat -c %a shared suid").replace('\n', ' ').trim());
        sh(tmp, "diff -r src dst");
        String list = "find . -type f ! -name suid -printf '%P %m %s\\n' | sort";
        assertEquals(sh(src, list), sh(tmp.resolve("dst"), list));
        assertEquals(56, receiver.filesReceived());
    }

    /** Bytes of {@code file} in the page cache (fincore, which looks without reading). */
    static long cachedBytes(Path file) throws Exception {
        return Long.parseLong(sh(file.getParent(), "fincore -b -n -o RES '" + file.getFileName() + "'").trim());
    }

    @Test
    void largeColdFilesTravelPastThePageCacheOnBothSides() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("cold"));
        long size = 9 * 1048576 + 12345; // over the direct I/O threshold, with an unaligned tail
        sh(src, "head -c " + size + " /dev/urandom > big; sync big; dd if=big iflag=nocache count=0 status=none");
        long before = cachedBytes(src.resolve("big"));
        if (before > size / 2) {
            System.out.println("SKIPPED (this filesystem keeps the file cached: " + before + " bytes)");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(before <= size / 2, "the file stays cached here");
        Path dst = tmp.resolve("direct");
        try (Receiver direct = Receiver.builder(dst).port(0).secret("test-secret-0123456789").stateDirectory(tmp.resolve("state"))
                .directWrites(true).build().start()) {
            CopyResult r = Sender.builder("127.0.0.1", direct.port()).secret("test-secret-0123456789").build().send(src);
            assertTrue(r.succeeded(), r.failures().toString());
        }
        // read with direct I/O: sending did not pull the source into the cache
        assertTrue(cachedBytes(src.resolve("big")) <= size / 2, "source cached after sending");
        // written with direct I/O: the received file is on the device, not in the cache, and exactly size bytes
        assertTrue(cachedBytes(dst.resolve("big")) <= size / 2, "received file cached");
        assertEquals(size, Files.size(dst.resolve("big")));
        sh(tmp, "cmp cold/big direct/big");
    }

    @Test
    void directWritesFallBackToTheCacheWhenTheSourceIsCachedOrSmall() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("warm"));
        sh(src, "head -c 9000001 /dev/urandom > big; cat big > /dev/null; head -c 5000 /dev/urandom > small");
        CopyResult r = sender().build().send(src);
        assertTrue(r.succeeded(), r.failures().toString());
        sh(tmp, "cmp warm/big dst/big && cmp warm/small dst/small");
    }

    @Test
    void aWrongSecretIsRefusedWithAClearReason() {
        IOException e = assertThrows(org.uringsync.TransferException.AuthenticationFailed.class,
                () -> Sender.builder("127.0.0.1", receiver.port()).secret("wrong-secret-0123456789").build().send(tmp));
        assertEquals("authentication failed: wrong secret", e.getMessage());
    }

    /** Building a Receiver does no I/O; start() makes DEST and the key and certificate, and says so in its log. */
    @Test
    void buildingAReceiverDoesNoIoAndStartReportsTheCertificate() throws Exception {
        Path state = tmp.resolve("fresh-state");
        Path dest = tmp.resolve("fresh-dest");
        List<String> lines = new CopyOnWriteArrayList<>();
        Receiver r = Receiver.builder(dest).port(0).secret("test-secret-0123456789").stateDirectory(state).log(lines::add).build();
        try {
            assertFalse(Files.exists(state) || Files.exists(dest), "nothing made by build()");
            r.start();
            assertTrue(Files.isRegularFile(state.resolve("server.key")) && Files.isDirectory(dest));
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("made a key and self-signed certificate: " + state.resolve("server.crt"))),
                    lines.toString());
        } finally {
            r.close();
        }
    }

    /**
     * Receiver.Events, per connection: a wrong secret gets connected and finished (not authenticated);
     * a good send connected, authenticated (protocol 4, its TLS path), each file received with its
     * path and size, and finished, completed, with its files and bytes.
     */
    @Test
    void theReceiversEventsFollowEachConnection() throws Exception {
        receiver.close();
        List<String> seen = new CopyOnWriteArrayList<>();
        java.util.concurrent.BlockingQueue<org.uringsync.Receiver.Transfer> ended = new java.util.concurrent.LinkedBlockingQueue<>();
        receiver = Receiver.builder(tmp.resolve("dst")).port(0).secret("test-secret-0123456789").stateDirectory(tmp.resolve("state"))
                .events(new org.uringsync.Receiver.Events() {
                    @Override
                    public void connected(long id, java.net.InetAddress peer) {
                        seen.add(id + " connected " + peer.getHostAddress());
                    }

                    @Override
                    public void authenticated(long id, int protocol, String tlsPath) {
                        seen.add(id + " authenticated " + protocol + " " + tlsPath);
                    }

                    @Override
                    public void fileReceived(long id, String path, long size) {
                        seen.add(id + " file " + path + " " + size);
                    }

                    @Override
                    public void finished(long id, org.uringsync.Receiver.Transfer t) {
                        seen.add(id + " finished");
                        ended.add(t);
                    }
                }).build().start();
        Path src = Files.createDirectories(tmp.resolve("events-src"));
        Files.writeString(src.resolve("a"), "12345");
        Files.writeString(src.resolve("b"), "678");
        assertThrows(org.uringsync.TransferException.AuthenticationFailed.class,
                () -> Sender.builder("127.0.0.1", receiver.port()).secret("wrong-secret-0123456789").build().send(src));
        org.uringsync.Receiver.Transfer refused = ended.poll(10, java.util.concurrent.TimeUnit.SECONDS);
        assertFalse(refused.authenticated() || refused.completed());
        sender().build().send(src);
        org.uringsync.Receiver.Transfer good = ended.poll(10, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(good.authenticated() && good.completed(), good.toString());
        assertEquals(2, good.files());
        assertEquals(8, good.bytes());
        assertEquals(null, good.error());
        assertEquals("127.0.0.1", good.peer().getHostAddress());
        List<String> events = new java.util.ArrayList<>(seen.stream().map(e -> e.substring(e.indexOf(' ') + 1)).toList());
        java.util.Collections.sort(events.subList(4, 6)); // the two files in the order the walk met them
        assertEquals(List.of("connected 127.0.0.1", "finished", "connected 127.0.0.1", "authenticated 4 " + good.tlsPath(),
                "file a 5", "file b 3", "finished"), events);
    }

    /**
     * Each typed failure from its cause, no message read: a closed port (ConnectionFailed), a missing
     * SOURCE (SourceUnreadable, for send and local copy alike), a dry run to a receiver that speaks
     * only version 2 (ProtocolMismatch), and a receiver that refuses a path (Refused, with its reason).
     */
    @Test
    void eachFailureHasItsType() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("typed-src/sub"));
        Files.writeString(src.resolve("f"), "f");
        java.net.ServerSocket closed = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
        int port = closed.getLocalPort();
        closed.close();
        assertThrows(org.uringsync.TransferException.ConnectionFailed.class,
                () -> Sender.builder("127.0.0.1", port).secret("test-secret-0123456789").build().send(tmp.resolve("typed-src")));
        assertThrows(org.uringsync.TransferException.SourceUnreadable.class,
                () -> sender().build().send(tmp.resolve("missing")));
        assertThrows(org.uringsync.TransferException.SourceUnreadable.class,
                () -> org.uringsync.LocalCopy.builder().build().copy(tmp.resolve("missing"), tmp.resolve("copy")));
        ReceiverHandshake.newestVersion = org.uringsync.protocol.Message.VERSION_2;
        try {
            assertThrows(org.uringsync.TransferException.ProtocolMismatch.class,
                    () -> sender().dryRun(true).build().send(tmp.resolve("typed-src")));
        } finally {
            ReceiverHandshake.newestVersion = org.uringsync.protocol.Message.VERSION;
        }
        Path dest = tmp.resolve("dst");
        Files.writeString(dest.resolve("sub"), "a file where the source has a directory: kept, the send refused");
        org.uringsync.TransferException.Refused r = assertThrows(org.uringsync.TransferException.Refused.class,
                () -> sender().build().send(tmp.resolve("typed-src")));
        assertTrue(r.reason().contains("sub"), r.reason());
        assertEquals("receiver error: " + r.reason(), r.getMessage());
        Files.delete(dest.resolve("sub"));
    }

    /**
     * The kernel refusing a submission, at various points of a transfer (sender's reads and closes,
     * receiver's writes): the transfer fails with an error that says EBUSY, no partial file is left
     * under a final name, and the receiver serves the next transfer. (A NULL entry used to crash the JVM.)
     */
    @Test
    void aRefusedSubmissionFailsTheTransferCleanly() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        sh(src, "mkdir a; for i in $(seq 1 60); do head -c $((i * 3000)) /dev/urandom > a/f$i; done;"
                + " head -c 3000000 /dev/urandom > big");
        int failed = 0;
        for (int after : new int[] {0, 2, 7, 30, 90, 120, 200}) {
            sh(tmp, "rm -rf dst/*"); // every file is sent again (a full DEST would want none)
            org.uringsync.nativeio.Ring.injectSubmissionFailures(after, 1);
            CopyResult r;
            try {
                r = sender().build().send(src);
            } catch (IOException e) {
                assertTrue(e.getMessage().contains("EBUSY"), after + ": " + e.getMessage());
                System.out.println("refused submission after " + after + ": " + e.getMessage());
                r = null;
            } finally {
                org.uringsync.nativeio.Ring.injectSubmissionFailures(-1, 0);
            }
            if (r == null || !r.succeeded()) {
                failed++;
            }
            if (r != null && !r.succeeded()) { // the refusal hit a file the sender could skip (its open): reported per file
                assertTrue(r.failures().toString().contains("EBUSY"), r.failures().toString());
                System.out.println("refused submission after " + after + ": " + r.failures().get(0).getMessage());
            } else if (r != null) { // a refusal the transfer could absorb: nothing lost
                System.out.println("refused submission after " + after + ": absorbed");
                sh(tmp, "diff -r src dst");
            }
            // the receiver removes its temporary file right after answering ERROR
            long end = System.nanoTime() + 10_000_000_000L;
            String partial;
            while (!(partial = sh(tmp.resolve("dst"), "find . -name '.usync-*' -print")).isEmpty()
                    && System.nanoTime() < end) {
                Thread.sleep(10);
            }
            assertEquals("", partial, "no temporary file left after " + after);
            CopyResult good = sender().build().send(src);
            assertTrue(good.succeeded(), good.failures().toString());
            sh(tmp, "diff -r src dst");
        }
        assertTrue(failed >= 3, failed + " of 7 refusals failed the transfer");
    }

    /**
     * A source file written to while it is sent (appended to, or rewritten in place at the same size)
     * fails the transfer: never a short or mixed file under the final name.
     */
    @Test
    void aFileThatChangesWhileSentIsNeverPlaced() throws Exception {
        for (boolean append : new boolean[] {true, false}) {
            Path src = Files.createDirectories(tmp.resolve(append ? "grow" : "rewrite"));
            Path f = src.resolve("moving");
            NativeTestSupport.randomFile(f, 48 << 20, 5);
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            Thread writer = new Thread(() -> {
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f,
                        java.nio.file.StandardOpenOption.WRITE)) {
                    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(new byte[] {1});
                    while (!stop.get()) {
                        ch.write(b.rewind(), append ? ch.size() : 12345);
                        Thread.sleep(1);
                    }
                } catch (IOException | InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            writer.start();
            try {
                IOException e = assertThrows(IOException.class, () -> sender().build().send(src));
                assertTrue(e.getMessage().equals("read (file changed while sent) moving: Resource temporarily"
                        + " unavailable (EAGAIN)") || e.getMessage().contains("file shrank"), e.getMessage());
            } finally {
                stop.set(true);
                writer.join();
            }
            assertFalse(Files.exists(tmp.resolve("dst/moving")), "nothing placed under the final name");
        }
    }

    @Test
    void aCancelledSendReturnsWithWhatWasSent() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("many"));
        sh(src, "for d in $(seq 1 10); do mkdir d$d; for f in $(seq 1 200); do printf $d$f > d$d/f$f; done; done");
        org.uringsync.Cancellation cancel = new org.uringsync.Cancellation();
        CopyResult r = assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> sender().cancellation(cancel)
                .listener(new org.uringsync.CopyListener() {
                    @Override
                    public void copied(String path, long bytes) {
                        cancel.cancel();
                    }
                }).build().send(src));
        assertFalse(r.succeeded());
        assertTrue(r.files() > 0 && r.files() < 2000, r.files() + " files");
        assertEquals("send cancelled after " + r.files() + " files", r.failures().get(r.failures().size() - 1).getMessage());
        awaitNoConnections();
        assertEquals("", sh(tmp.resolve("dst"), "find . -name '.usync-*' -print"), "the receiver removed its temporary file");
    }

    /**
     * A cancel from another thread in the middle of a large file: send() returns within a second, the
     * result says it was cancelled, and the receiver keeps nothing of the file (no temporary, nothing
     * under the final name). The local copy likewise, mid 512 MiB file (its kernel copy of a file from a
     * warm page cache may finish first: then that file is whole and counted, never partial).
     */
    @Test
    void aCancelFromAnotherThreadReturnsWithinASecondAndLeavesNoPartialFile() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("large"));
        NativeTestSupport.randomFile(src.resolve("big"), 512L << 20, 9);
        for (boolean local : new boolean[] {false, true}) {
            org.uringsync.Cancellation cancel = new org.uringsync.Cancellation();
            Path out = local ? tmp.resolve("local-out") : tmp.resolve("dst");
            java.util.concurrent.CompletableFuture<CopyResult> run = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return local ? org.uringsync.LocalCopy.builder().cancellation(cancel).build().copy(src, out)
                            : sender().cancellation(cancel).build().send(src);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            long end = System.nanoTime() + 30_000_000_000L;
            String growing = "find '" + out + "' \\( -name '.usync-*' -o -name big \\) -size +1M -print 2>/dev/null || true";
            while (sh(tmp, growing).isBlank() && !run.isDone() && System.nanoTime() < end) { // mid-file
                Thread.sleep(1);
            }
            assertFalse(run.isDone(), "still copying when cancelled");
            long t0 = System.nanoTime();
            cancel.cancel();
            CopyResult r = run.get(5, java.util.concurrent.TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 1000, (local ? "copy" : "send") + " returned " + ms + " ms after the cancel");
            assertFalse(r.succeeded());
            assertTrue(r.failures().get(r.failures().size() - 1) instanceof java.io.InterruptedIOException, r.failures().toString());
            if (!local) {
                awaitNoConnections();
            }
            assertEquals("", sh(tmp, "find '" + out + "' -name '.usync-*' -print"), "no temporary file in " + out);
            if (Files.exists(out.resolve("big"))) { // finished before the cancel reached it: whole, and counted
                assertEquals(-1, Files.mismatch(src.resolve("big"), out.resolve("big")), "nothing partial in " + out);
                assertEquals(1, r.files(), r.summary());
            }
        }
    }

    /** A receiver that authenticates and then stops reading: the send fails after the idle timeout. */
    @Test
    void aReceiverThatStopsReadingFailsTheSendAfterTheIdleTimeout() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("stuck"));
        NativeTestSupport.randomFile(src.resolve("big"), 64 << 20, 3);
        Path[] pair = Certificates.ensure(tmp.resolve("state"));
        byte[] secret = "test-secret-0123456789".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (org.uringsync.nativeio.TlsContext ctx = org.uringsync.nativeio.TlsContext.server(pair[0], pair[1], null);
                org.uringsync.nativeio.Fd listen = org.uringsync.nativeio.Net.listen(
                        java.net.InetAddress.getLoopbackAddress(), 0)) {
            java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(1);
            Thread stuck = new Thread(() -> {
                try (org.uringsync.nativeio.Fd sock = org.uringsync.nativeio.Net.accept(listen);
                        org.uringsync.nativeio.TlsSession s = org.uringsync.nativeio.TlsSession.handshake(ctx, sock, true)) {
                    Wire w = new Wire(s);
                    w.read(); // HELLO
                    w.send(new org.uringsync.protocol.Message.HelloOk(Auth.serverProof(s, secret)));
                    done.await(); // and never read again
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            stuck.start();
            long t0 = System.nanoTime();
            org.uringsync.TransferException.Timeout e = assertThrows(org.uringsync.TransferException.Timeout.class,
                    () -> assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                    () -> Sender.builder("127.0.0.1", listen.localPort()).secret("test-secret-0123456789")
                            .idleTimeout(java.time.Duration.ofSeconds(1)).build().send(src)));
            assertTrue(e.getMessage().contains("ETIMEDOUT"), e.getMessage());
            assertFalse(e.connecting(), "during the transfer");
            assertTrue(System.nanoTime() - t0 >= 1_000_000_000L, "not before the idle timeout");
            done.countDown();
            stuck.join(10_000);
        }
    }

    static long openDescriptors() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    /** A send whose set-up fails after connecting (an unknown suite) closes its socket: it used to leak. */
    @Test
    void aSendThatFailsDuringSetUpLeaksNoDescriptor() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("one"));
        Files.writeString(src.resolve("f"), "x");
        sender().build().send(src); // warm-up: classes, the library, the JVM's own descriptors
        awaitNoConnections(); // the receiver's side of the warm-up closes on its own thread
        long before = openDescriptors();
        for (int i = 0; i < 20; i++) {
            assertThrows(IOException.class, () -> sender().ciphers("NO_SUCH_SUITE").build().send(src));
        }
        awaitNoConnections();
        long end = System.nanoTime() + 10_000_000_000L;
        while (openDescriptors() > before && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertTrue(openDescriptors() <= before, "descriptors after 20 failed set-ups: " + openDescriptors()
                + ", before: " + before);
    }

    /** Waits (at most 10 s) until the receiver has finished with every connection. */
    void awaitNoConnections() throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (receiver.connections() > 0 && System.nanoTime() < end) {
            Thread.sleep(5);
        }
    }
}
