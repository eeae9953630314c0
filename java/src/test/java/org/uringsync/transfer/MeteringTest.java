package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.uringsync.nativeio.NativeTestSupport.sh;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.Cancellation;
import org.uringsync.CopyResult;
import org.uringsync.LocalCopy;
import org.uringsync.Progress;
import org.uringsync.ProgressListener;
import org.uringsync.Receiver;
import org.uringsync.Sender;
import org.uringsync.nativeio.NativeTestSupport;

/**
 * Byte progress, the rate limit and cancelling inside one large file: the C core's meter, through the
 * API, on real copies and real TLS on loopback.
 */
class MeteringTest {
    static final long MIB = 1 << 20;

    @TempDir
    Path tmp;
    Receiver receiver;

    @BeforeEach
    void start() throws IOException {
        NativeTestSupport.assumeRing();
        receiver = Receiver.builder(tmp.resolve("dst")).port(0).secret("test-secret-0123456789")
                .stateDirectory(tmp.resolve("state")).build().start();
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

    /** 40 small files and one 24 MiB file (kernel-copied locally, spliced or framed over the network). */
    Path tree() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        sh(src, "mkdir -p a/b; for i in $(seq 1 40); do head -c $((i * 1000)) /dev/urandom > a/f$i; done; ln -s f1 a/link");
        NativeTestSupport.randomFile(src.resolve("a/b/big"), 24 * MIB, 5);
        return src;
    }

    /** Records every call: its values and its thread. */
    static final class Recorder implements ProgressListener {
        final List<Progress> calls = new CopyOnWriteArrayList<>();
        final List<Thread> threads = new CopyOnWriteArrayList<>();

        @Override
        public void progress(Progress p) {
            calls.add(p);
            threads.add(Thread.currentThread());
        }

        /** What Progress promises, call after call, and a last call that matches the result. */
        void check(CopyResult r, long files, Duration interval) {
            assertTrue(calls.size() >= 3, calls.size() + " calls");
            for (int i = 0; i < calls.size(); i++) {
                Progress p = calls.get(i);
                assertTrue(p.filesDone() <= p.filesTotal() && p.bytesDone() <= p.bytesTotal(), "done within totals: " + p);
                if (i > 0) {
                    Progress q = calls.get(i - 1);
                    assertTrue(p.filesTotal() >= q.filesTotal() && p.bytesTotal() >= q.bytesTotal(), "totals never shrink: " + q + " then " + p);
                    assertTrue(p.filesDone() >= q.filesDone() && p.bytesTransferred() >= q.bytesTransferred(), q + " then " + p);
                    assertTrue(!q.totalsFinal() || p.totalsFinal(), "final totals stay final");
                }
            }
            assertEquals(1, threads.subList(0, threads.size() - 1).stream().distinct().count(),
                    "one thread of the library's calls, the last aside");
            Progress last = calls.get(calls.size() - 1);
            assertEquals(r.bytes(), last.bytesTransferred(), "the bytes counted as they moved add up to the result's");
            assertEquals(files, last.filesDone());
            assertEquals(files, last.filesTotal());
            assertEquals(last.bytesTotal(), last.bytesDone());
            assertTrue(last.totalsFinal());
            // a bounded rate: no more calls than intervals in the run, plus the last
            long bound = r.duration().toNanos() / interval.toNanos() + 2;
            assertTrue(calls.size() <= bound, calls.size() + " calls in " + r.duration());
            // byte-level: the large file seen part-way (whole files alone would give under 1 MiB, or over 24)
            assertTrue(calls.stream().anyMatch(p -> p.bytesTransferred() > MIB && p.bytesTransferred() < 24 * MIB),
                    "progress inside the large file: " + calls);
        }
    }

    @Test
    void localProgressCountsBytesAsTheyAreCopiedAndEndsAtTheResult() throws Exception {
        Path src = tree();
        Recorder rec = new Recorder();
        Duration every = Duration.ofMillis(20);
        // limited to 32 MiB/s so the run lasts long enough to be watched (about 0.8 s)
        CopyResult r = LocalCopy.builder().progress(rec, every).bandwidthLimit(32 * MIB).build().copy(src, tmp.resolve("out"));
        assertTrue(r.succeeded(), r.failures().toString());
        assertEquals(41, r.files());
        rec.check(r, 42, every); // 41 files and a symlink
        sh(tmp, "diff -r src out");
    }

    @Test
    void sendProgressCountsBytesAsTheyAreSentAndEndsAtTheResult() throws Exception {
        Path src = tree();
        Recorder rec = new Recorder();
        Duration every = Duration.ofMillis(20);
        CopyResult r = sender().progress(rec, every).bandwidthLimit(32 * MIB).build().send(src);
        assertTrue(r.succeeded(), r.failures().toString());
        rec.check(r, 42, every);
        sh(tmp, "diff -r src dst");
        // a second send moves nothing: every byte counts as done, none as transferred
        Recorder again = new Recorder();
        CopyResult r2 = sender().progress(again, every).build().send(src);
        assertEquals(0, r2.bytes());
        Progress last = again.calls.get(again.calls.size() - 1);
        assertEquals(0, last.bytesTransferred());
        assertEquals(Files.size(src.resolve("a/b/big")) + 820_000, last.bytesDone(), last.toString());
    }

    /** A listener that throws is called no more, and its failure is among the result's. */
    @Test
    void aThrowingProgressListenerIsReported() throws Exception {
        Path src = tree();
        CopyResult r = LocalCopy.builder().progress(p -> {
            throw new IllegalStateException("boom");
        }, Duration.ofMillis(10)).build().copy(src, tmp.resolve("out"));
        assertFalse(r.succeeded());
        assertTrue(r.failures().stream().anyMatch(e -> e.getMessage().contains("progress listener failed")
                && e.getMessage().contains("boom")), r.failures().toString());
        sh(tmp, "diff -r src out");
    }

    /** The average rate over the copy keeps to the limit: at most 5% above it, and not far below. */
    static void assertRate(long bytes, long nanos, long limit) {
        double rate = bytes / (nanos / 1e9);
        assertTrue(rate <= limit * 1.05, "average " + (long) rate + " B/s over a limit of " + limit);
        assertTrue(rate >= limit * 0.80, "average " + (long) rate + " B/s under a limit of " + limit);
    }

    @Test
    void localCopyKeepsToTheBandwidthLimit() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        NativeTestSupport.randomFile(src.resolve("big"), 24 * MIB, 1); // kernel-copied in slices
        sh(src, "mkdir small; for i in $(seq 1 64); do head -c 131072 /dev/urandom > small/f$i; done"); // 8 MiB in buffers
        long t0 = System.nanoTime();
        CopyResult r = LocalCopy.builder().bandwidthLimit(8 * MIB).build().copy(src, tmp.resolve("out"));
        long took = System.nanoTime() - t0;
        assertTrue(r.succeeded(), r.failures().toString());
        assertEquals(32 * MIB, r.bytes());
        assertTrue(took >= 3_900_000_000L, "32 MiB at 8 MiB/s took " + took / 1_000_000 + " ms");
        assertRate(r.bytes(), took, 8 * MIB);
        sh(tmp, "diff -r src out");
    }

    @Test
    void sendKeepsToTheBandwidthLimit() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        NativeTestSupport.randomFile(src.resolve("big"), 24 * MIB, 2);
        long t0 = System.nanoTime();
        CopyResult r = sender().bandwidthLimit(8 * MIB).build().send(src);
        long took = System.nanoTime() - t0;
        assertTrue(r.succeeded(), r.failures().toString());
        assertTrue(took >= 2_900_000_000L, "24 MiB at 8 MiB/s took " + took / 1_000_000 + " ms");
        assertRate(r.bytes(), took, 8 * MIB);
        sh(tmp, "cmp src/big dst/big");
    }

    /**
     * A cancel, or an interrupt of the copying thread, in the middle of one large file (the kernel
     * copying it in slices): copy() returns within a second, saying so, and nothing of the file is left
     * under its name or a temporary one.
     */
    @Test
    void aCancelOrInterruptInsideOneLargeFileReturnsWithinASecond() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        NativeTestSupport.randomFile(src.resolve("big"), 128 * MIB, 3);
        for (boolean interrupt : new boolean[] {false, true}) {
            Path out = tmp.resolve("out-" + interrupt);
            Cancellation cancel = new Cancellation();
            Thread[] runner = new Thread[1];
            CompletableFuture<CopyResult> run = CompletableFuture.supplyAsync(() -> {
                runner[0] = Thread.currentThread();
                try {
                    // 32 MiB/s: four seconds for the file, cut after about half a second
                    return LocalCopy.builder().bandwidthLimit(32 * MIB).cancellation(cancel).build().copy(src, out);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                } finally {
                    Thread.interrupted(); // the pool's thread goes back clean
                }
            });
            Thread.sleep(500);
            assertFalse(run.isDone(), "still copying");
            long t0 = System.nanoTime();
            if (interrupt) {
                runner[0].interrupt();
            } else {
                cancel.cancel();
            }
            CopyResult r = run.get(5, TimeUnit.SECONDS);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms < 1000, "returned " + ms + " ms after the " + (interrupt ? "interrupt" : "cancel"));
            assertFalse(r.succeeded());
            assertEquals(0, r.files());
            assertTrue(r.failures().get(r.failures().size() - 1) instanceof InterruptedIOException, r.failures().toString());
            assertEquals("", sh(tmp, "find '" + out + "' -type f -print"), "nothing partial in " + out);
        }
    }

    /** An interrupt of the sending thread mid-file cuts the connection: send() returns within a second. */
    @Test
    void anInterruptOfTheSendingThreadMidFileReturnsWithinASecond() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        NativeTestSupport.randomFile(src.resolve("big"), 128 * MIB, 4);
        Thread[] runner = new Thread[1];
        Recorder rec = new Recorder();
        CompletableFuture<CopyResult> run = CompletableFuture.supplyAsync(() -> {
            runner[0] = Thread.currentThread();
            try {
                return sender().progress(rec, Duration.ofMillis(20)).bandwidthLimit(32 * MIB).build().send(src); // four seconds
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            } finally {
                Thread.interrupted();
            }
        });
        Thread.sleep(700);
        assertFalse(run.isDone(), "still sending");
        long t0 = System.nanoTime();
        runner[0].interrupt();
        CopyResult r = run.get(5, TimeUnit.SECONDS);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertTrue(ms < 1000, "returned " + ms + " ms after the interrupt");
        assertEquals(0, r.files());
        assertTrue(r.failures().get(r.failures().size() - 1) instanceof InterruptedIOException, r.failures().toString());
        Progress last = rec.calls.get(rec.calls.size() - 1);
        assertEquals(0, last.filesDone(), "the send's own end is no file done: " + last);
        assertFalse(last.bytesDone() == last.bytesTotal() && last.totalsFinal(), "a stopped send is not shown complete: " + last);
        long end = System.nanoTime() + 5_000_000_000L;
        while (receiver.connections() > 0 && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertEquals("", sh(tmp, "find dst -type f -print 2>/dev/null || true"), "nothing partial on the receiver");
    }

    /**
     * A sparse file: the last call's moved bytes equal the result's (a local copy counts the holes it
     * skips, a send only the data it sends), and done reaches the totals (the file's size) either way.
     */
    @Test
    void aSparseFilesProgressEndsAtTheResultAndTheTotals() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(src.resolve("holes").toFile(), "rw")) {
            byte[] b = new byte[1 << 20];
            new java.util.SplittableRandom(1).nextBytes(b);
            f.setLength(64 * MIB);
            f.seek(8 * MIB);
            f.write(b);
            f.seek(40 * MIB);
            f.write(b);
        }
        long allocated = SparseFiles.allocated(src.resolve("holes"));
        org.junit.jupiter.api.Assumptions.assumeTrue(allocated < 8 * MIB, "this file system keeps no holes: " + allocated);
        for (boolean local : new boolean[] {true, false}) {
            Recorder rec = new Recorder();
            CopyResult r = local ? LocalCopy.builder().progress(rec, Duration.ofMillis(10)).build().copy(src, tmp.resolve("out"))
                    : sender().progress(rec, Duration.ofMillis(10)).build().send(src);
            assertTrue(r.succeeded(), r.failures().toString());
            assertEquals(local ? 64 * MIB : 2 * MIB, r.bytes(), r.summary());
            Progress last = rec.calls.get(rec.calls.size() - 1);
            assertEquals(r.bytes(), last.bytesTransferred(), last.toString());
            assertEquals(64 * MIB, last.bytesTotal(), last.toString());
            assertEquals(64 * MIB, last.bytesDone(), last.toString());
            assertEquals(1, last.filesDone());
            for (int i = 1; i < rec.calls.size(); i++) {
                assertTrue(rec.calls.get(i).bytesTotal() >= rec.calls.get(i - 1).bytesTotal(), rec.calls.toString());
            }
        }
    }

    /**
     * A low rate (512 KiB/s: 51 KiB per pacing window) cuts each 128 KiB frame into several writes, and
     * each copy_file_range into several slices: the data arrives whole, every byte counted once.
     */
    @Test
    void aLowRateCutsWritesIntoPiecesAndCountsEachByteOnce() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("src"));
        NativeTestSupport.randomFile(src.resolve("one"), MIB + 12345, 6); // kernel-copied locally, framed on the wire
        for (boolean local : new boolean[] {true, false}) {
            Recorder rec = new Recorder();
            long t0 = System.nanoTime();
            CopyResult r = local ? LocalCopy.builder().progress(rec, Duration.ofMillis(20)).bandwidthLimit(512 * 1024).build()
                    .copy(src, tmp.resolve("out")) : sender().progress(rec, Duration.ofMillis(20)).bandwidthLimit(512 * 1024).build().send(src);
            long took = System.nanoTime() - t0;
            assertTrue(r.succeeded(), r.failures().toString());
            assertEquals(MIB + 12345, r.bytes());
            assertEquals(r.bytes(), rec.calls.get(rec.calls.size() - 1).bytesTransferred());
            assertTrue(rec.calls.stream().filter(p -> p.bytesTransferred() > 0 && p.bytesTransferred() < r.bytes()).count() >= 5,
                    "seen in pieces: " + rec.calls);
            assertTrue(took >= 1_800_000_000L, (local ? "copy" : "send") + " of 1 MiB at 512 KiB/s took " + took / 1_000_000 + " ms");
            assertEquals(-1, Files.mismatch(src.resolve("one"), tmp.resolve(local ? "out/one" : "dst/one")));
        }
    }
}
