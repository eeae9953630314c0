package org.uringsync.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.uringsync.nativeio.NativeTestSupport.randomFile;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The batch engine of the C core, through the JNI boundary, on the real kernel. */
class RingTest {
    @TempDir
    Path dir;

    @BeforeEach
    void needRing() {
        NativeTestSupport.assumeRing();
    }

    /** A copy request from s to d; a target that exists is replaced through a temporary name beside it. */
    private static void copy(Batch batch, Path s, Path d, int flags) {
        batch.addCopy(p(s), p(d), p(d.resolveSibling(".t-" + d.getFileName())), flags);
    }

    /** As {@link #copy}, for a symlink. */
    private static void link(Batch batch, Path s, Path d, int flags) {
        batch.addSymlink(p(s), p(d), p(d.resolveSibling(".t-" + d.getFileName())), flags);
    }

    private static byte[] p(Path path) {
        return PathBytes.of(path);
    }

    /**
     * -c's content hash: XXH128 as xxHash's own tool computes it (known answers for "" and "abc"; the
     * xxhsum command, from Debian's xxhash, for files across chunk boundaries), more files than the
     * ring has slots, and a missing file, a directory and a symlink reported with the step that failed.
     */
    @Test
    void hashesFilesAsXxhsumDoes() throws Exception {
        long[] sizes = {0, 1, 4095, 64 * 1024, 64 * 1024 + 1, 3 * 1024 * 1024 + 7};
        int n = sizes.length + 5;
        int[] dirs = new int[n];
        byte[][] names = new byte[n][];
        String[] shown = new String[n];
        java.util.Arrays.fill(dirs, Batch.AT_FDCWD);
        for (int i = 0; i < sizes.length; i++) {
            randomFile(dir.resolve("h" + i), sizes[i], 40 + i);
            names[i] = p(dir.resolve("h" + i));
        }
        Files.writeString(dir.resolve("abc"), "abc");
        names[sizes.length] = p(dir.resolve("abc"));
        Files.createDirectory(dir.resolve("adir"));
        names[sizes.length + 1] = p(dir.resolve("adir"));
        names[sizes.length + 2] = p(dir.resolve("missing"));
        Files.createSymbolicLink(dir.resolve("alink"), dir.resolve("abc"));
        names[sizes.length + 3] = p(dir.resolve("alink"));
        int dfd = FileOps.openRoot(p(dir), false); // by name inside an opened directory, as the receiver asks
        try {
            dirs[sizes.length + 4] = dfd;
            names[sizes.length + 4] = "h0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            for (int i = 0; i < n; i++) {
                shown[i] = "file" + i;
            }
            Ring.Hashes h;
            try (Ring ring = Ring.open(4, 64 * 1024)) {
                h = ring.hash(dirs, names, shown);
            }
            String hex = java.util.HexFormat.of().formatHex(h.of(0));
            assertEquals("99aa06d3014798d86001c324468d497f", hex, "XXH128 of nothing");
            assertEquals("06b05ab6733a618578af5f94892f3950", java.util.HexFormat.of().formatHex(h.of(sizes.length)), "of abc");
            for (int i = 0; i < sizes.length; i++) {
                assertEquals(xxhsum("h" + i), java.util.HexFormat.of().formatHex(h.of(i)), "h" + i + " (" + sizes[i] + " bytes)");
                assertNull(h.failures()[i]);
            }
            assertEquals(java.util.HexFormat.of().formatHex(h.of(0)), java.util.HexFormat.of().formatHex(h.of(sizes.length + 4)),
                    "by name in a directory");
            assertTrue(h.same(sizes.length + 4, h.digests(), 0));
            assertEquals("openat file" + (sizes.length + 1) + ": Is a directory (EISDIR)", h.failures()[sizes.length + 1].getMessage());
            assertEquals("openat file" + (sizes.length + 2) + ": No such file or directory (ENOENT)",
                    h.failures()[sizes.length + 2].getMessage());
            assertEquals("openat file" + (sizes.length + 3) + ": Too many levels of symbolic links (ELOOP)",
                    h.failures()[sizes.length + 3].getMessage());
            assertFalse(h.same(sizes.length + 2, h.digests(), 16 * (sizes.length + 2)), "a failed file matches nothing");
        } finally {
            FileOps.close(dfd);
        }
    }

    /**
     * Large files (as the caller's sizes say) are hashed by sequential reads on two threads beside the
     * ring's: every file of the test above, routed each way and mixed, gives the ring's digest or the
     * same failure with the same step; a file of 17 MiB and 3 bytes (many reads) as xxhsum.
     */
    @Test
    void hashesLargeFilesTwoAtOnceAsTheRingDoes() throws Exception {
        long[] sizes = {0, 1, 4095, 64 * 1024 + 1, 3 * 1024 * 1024 + 7};
        int n = sizes.length + 4;
        byte[][] names = new byte[n][];
        String[] shown = new String[n];
        for (int i = 0; i < sizes.length; i++) {
            randomFile(dir.resolve("h" + i), sizes[i], 70 + i);
            names[i] = p(dir.resolve("h" + i));
        }
        Files.createDirectory(dir.resolve("adir"));
        names[sizes.length] = p(dir.resolve("adir"));
        names[sizes.length + 1] = p(dir.resolve("missing"));
        Files.createSymbolicLink(dir.resolve("alink"), dir.resolve("h1"));
        names[sizes.length + 2] = p(dir.resolve("alink"));
        names[sizes.length + 3] = "h2".getBytes(java.nio.charset.StandardCharsets.US_ASCII); // by name in an opened directory
        for (int i = 0; i < n; i++) {
            shown[i] = "file" + i;
        }
        int dfd = FileOps.openRoot(p(dir), false);
        try (Ring ring = Ring.open(4, 64 * 1024)) {
            int[] dirs = new int[n];
            java.util.Arrays.fill(dirs, Batch.AT_FDCWD);
            dirs[sizes.length + 3] = dfd;
            Ring.Hashes byRing = ring.hash(dirs, names, shown);
            long large = Ring.HASH_ALONE_MIN;
            long[][] routes = {new long[n], new long[n], new long[n]}; // all alone; every other one; the ring's (all small)
            java.util.Arrays.fill(routes[0], large);
            for (int i = 0; i < n; i += 2) {
                routes[1][i] = large;
            }
            for (long[] route : routes) {
                Ring.Hashes h = ring.hash(dirs, names, shown, route);
                for (int i = 0; i < n; i++) {
                    String what = "file" + i + " routed " + (route[i] >= large ? "alone" : "through the ring");
                    if (byRing.failures()[i] == null) {
                        assertNull(h.failures()[i], what);
                        assertArrayEquals(byRing.of(i), h.of(i), what);
                    } else {
                        assertEquals(byRing.failures()[i].getMessage(), h.failures()[i].getMessage(), what);
                    }
                }
            }
            assertEquals("openat file" + sizes.length + ": Is a directory (EISDIR)", byRing.failures()[sizes.length].getMessage());
            randomFile(dir.resolve("big"), (17L << 20) + 3, 99);
            Ring.Hashes big = ring.hash(new int[] {Batch.AT_FDCWD}, new byte[][] {p(dir.resolve("big"))}, new String[] {"big"},
                    new long[] {(17L << 20) + 3});
            assertEquals(xxhsum("big"), java.util.HexFormat.of().formatHex(big.of(0)));
        } finally {
            FileOps.close(dfd);
        }
    }

    /** The XXH128 of file {@code name} in the test's directory as Debian's xxhsum prints it (hex). */
    private String xxhsum(String name) throws IOException, InterruptedException {
        Process x = new ProcessBuilder("xxhsum", "-H2", name).directory(dir.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start(); // (its progress line goes to stderr)
        String line = new String(x.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII);
        assertEquals(0, x.waitFor(), line);
        return line.split("\\s+")[0];
    }

    @Test
    void copiesFilesOfEverySizeInOneBatch() throws IOException {
        long[] sizes = {0, 1, 4095, 4096, 4097, 128 * 1024, 128 * 1024 + 1, 5 * 1024 * 1024 + 17};
        try (Ring ring = Ring.open(4, 128 * 1024)) {
            Batch batch = new Batch(sizes.length);
            for (int i = 0; i < sizes.length; i++) {
                randomFile(dir.resolve("s" + i), sizes[i], i);
                copy(batch, dir.resolve("s" + i), dir.resolve("d" + i), 0);
            }
            ring.run(batch);
            for (int i = 0; i < sizes.length; i++) {
                assertNull(batch.failure(i));
                assertEquals(sizes[i], batch.bytes(i));
                assertArrayEquals(Files.readAllBytes(dir.resolve("s" + i)), Files.readAllBytes(dir.resolve("d" + i)));
            }
        }
    }

    @Test
    void largeFilesCopyThroughBuffersWhenKernelCopyIsOff() throws IOException {
        long size = 3 * 1024 * 1024 + 5;
        randomFile(dir.resolve("big"), size, 7);
        try (Ring ring = Ring.open(4, 64 * 1024, 0)) {
            Batch batch = new Batch(1);
            copy(batch, dir.resolve("big"), dir.resolve("copy"), 0);
            ring.run(batch);
            assertNull(batch.failure(0));
            assertEquals(size, batch.bytes(0));
        }
        assertArrayEquals(Files.readAllBytes(dir.resolve("big")), Files.readAllBytes(dir.resolve("copy")));
    }

    /** copy_file_range refuses a copy between file systems of different types (EXDEV): the splice path takes over. */
    @Test
    void largeFilesAcrossFileSystemsAreSplicedThroughPipes() throws IOException {
        Path shm = Path.of("/dev/shm");
        boolean otherFs = Files.isDirectory(shm) && !Files.getFileStore(shm).type().equals(Files.getFileStore(dir).type());
        if (!otherFs) {
            System.out.println("SKIPPED (no /dev/shm on a file system other than " + Files.getFileStore(dir).type() + ")");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(otherFs, "needs /dev/shm on another file system type");
        Path target = Files.createTempDirectory(shm, "ringtest");
        try {
            long[] sizes = {(1 << 20), 9 * 1024 * 1024 + 3, 2 * 1024 * 1024};
            try (Ring ring = Ring.open(4, 128 * 1024)) {
                Batch batch = new Batch(sizes.length);
                for (int i = 0; i < sizes.length; i++) {
                    randomFile(dir.resolve("s" + i), sizes[i], 40 + i);
                    copy(batch, dir.resolve("s" + i), target.resolve("d" + i), 0);
                }
                ring.run(batch);
                for (int i = 0; i < sizes.length; i++) {
                    assertNull(batch.failure(i));
                    assertEquals(sizes[i], batch.bytes(i));
                    assertArrayEquals(Files.readAllBytes(dir.resolve("s" + i)), Files.readAllBytes(target.resolve("d" + i)));
                }
            }
        } finally {
            try (Stream<Path> files = Files.list(target)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(target);
        }
    }

    @Test
    void keepsModeAlwaysAndTimesWhenAsked() throws IOException {
        Path s = dir.resolve("script.sh");
        Files.writeString(s, "#!/bin/sh\n");
        Files.setPosixFilePermissions(s, PosixFilePermissions.fromString("rwxr-x---"));
        Files.setLastModifiedTime(s, FileTime.fromMillis(1_000_000_000_123L));
        try (Ring ring = Ring.open(8, 64 * 1024)) {
            Batch batch = new Batch(2);
            copy(batch, s, dir.resolve("plain"), 0);
            copy(batch, s, dir.resolve("timed"), Batch.FLAG_TIMES);
            ring.run(batch);
        }
        for (String n : new String[] {"plain", "timed"}) {
            assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(n))));
        }
        assertEquals(FileTime.fromMillis(1_000_000_000_123L), Files.getLastModifiedTime(dir.resolve("timed")));
        assertFalse(Files.getLastModifiedTime(dir.resolve("plain")).equals(FileTime.fromMillis(1_000_000_000_123L)));
    }

    @Test
    void replacesAnExistingTargetAndLeavesNoTemporaryFile() throws IOException {
        Path s = dir.resolve("new");
        Path d = dir.resolve("old");
        Files.writeString(s, "new contents");
        Files.writeString(d, "old contents that are longer");
        try (Ring ring = Ring.open(2, 4096)) {
            Batch batch = new Batch(1);
            copy(batch, s, d, 0);
            ring.run(batch);
            assertNull(batch.failure(0));
        }
        assertEquals("new contents", Files.readString(d));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(2, files.count());
        }
    }

    @Test
    void reportsEachFailureWithOperationAndPathAndGoesOn() throws IOException {
        Path good = dir.resolve("good");
        Files.writeString(good, "x");
        Path missing = dir.resolve("missing");
        Path noDir = dir.resolve("no-such-dir/target");
        try (Ring ring = Ring.open(4, 4096)) {
            Batch batch = new Batch(3);
            copy(batch, missing, dir.resolve("t1"), 0);
            copy(batch, good, noDir, 0);
            copy(batch, good, dir.resolve("t3"), 0);
            ring.run(batch);
            NativeIoException e0 = batch.failure(0);
            assertEquals("openat " + missing + ": No such file or directory (ENOENT)", e0.getMessage());
            assertEquals(Errno.ENOENT, e0.errno());
            assertEquals(missing.toString(), e0.path());
            NativeIoException e1 = batch.failure(1);
            assertEquals("openat " + noDir + ": No such file or directory (ENOENT)", e1.getMessage());
            assertNull(batch.failure(2));
        }
        assertFalse(Files.exists(dir.resolve("t1")));
        assertEquals("x", Files.readString(dir.resolve("t3")));
    }

    @Test
    void refusesToCopyWhatIsNotARegularFile() throws Exception {
        NativeTestSupport.sh(dir, "mkfifo fifo; mkdir sub");
        try (Ring ring = Ring.open(2, 4096)) {
            Batch batch = new Batch(2);
            copy(batch, dir.resolve("sub"), dir.resolve("t1"), 0);
            copy(batch, dir.resolve("fifo"), dir.resolve("t2"), 0); // must not hang waiting for a writer
            ring.run(batch);
            assertEquals("not a regular file " + dir.resolve("sub") + ": Invalid argument (EINVAL)",
                    batch.failure(0).getMessage());
            assertEquals("not a regular file " + dir.resolve("fifo") + ": Invalid argument (EINVAL)",
                    batch.failure(1).getMessage());
        }
        assertFalse(Files.exists(dir.resolve("t1")));
        assertFalse(Files.exists(dir.resolve("t2")));
    }

    @Test
    void copiesSymlinksAsLinksWithoutFollowingThem() throws IOException {
        Path link = dir.resolve("link");
        Files.createSymbolicLink(link, Path.of("/etc/passwd"));
        Path dangling = dir.resolve("dangling");
        Files.createSymbolicLink(dangling, Path.of("nowhere/at all"));
        Path existing = dir.resolve("existing-copy");
        Files.writeString(existing, "replaced by a link");
        try (Ring ring = Ring.open(2, 4096)) {
            Batch batch = new Batch(3);
            link(batch, link, dir.resolve("link-copy"), Batch.FLAG_TIMES);
            link(batch, dangling, dir.resolve("dangling-copy"), 0);
            link(batch, link, existing, 0);
            ring.run(batch);
            for (int i = 0; i < 3; i++) {
                assertNull(batch.failure(i));
            }
        }
        assertEquals(Path.of("/etc/passwd"), Files.readSymbolicLink(dir.resolve("link-copy")));
        assertEquals(Path.of("nowhere/at all"), Files.readSymbolicLink(dir.resolve("dangling-copy")));
        assertEquals(Path.of("/etc/passwd"), Files.readSymbolicLink(existing));
    }

    @Test
    void setsDirectoryMetadata() throws IOException {
        Path d = Files.createDirectory(dir.resolve("d"));
        try (Ring ring = Ring.open(2, 4096)) {
            Batch batch = new Batch(1);
            batch.addSetMeta(p(d), 0750, 1_234_567_890L, 5000, 0, 0, Batch.FLAG_TIMES);
            ring.run(batch);
            assertNull(batch.failure(0));
        }
        assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(d)));
        assertEquals(1_234_567_890_000L, Files.getLastModifiedTime(d).toMillis());
    }

    @Test
    void closeIsIdempotentAndAClosedRingRefusesWork() throws IOException {
        Ring ring = Ring.open(2, 4096);
        ring.close();
        ring.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ring.run(new Batch(1)));
        assertEquals("ring is closed", e.getMessage());
    }

    @Test
    void rejectsOutOfRangeParameters() {
        assertThrows(IllegalArgumentException.class, () -> Ring.open(0, 4096));
        assertThrows(IllegalArgumentException.class, () -> Ring.open(8, 100));
    }

    /**
     * Each cause the probe can meet is named in one line, with the fix where there is one. (This
     * machine's own probe succeeds, so the wording of the failures is checked on the causes.)
     */
    @Test
    void everyUnavailabilityCauseIsOneLineThatNamesIt() {
        assertNull(Ring.describeProbe(0, null));
        assertEquals("this kernel's io_uring lacks IORING_OP_SPLICE: uring-sync needs Linux 5.7 or later",
                Ring.describeProbe(1 + Ring.OP_SPLICE, null));
        assertEquals("io_uring is disabled on this machine (sysctl kernel.io_uring_disabled=2): Operation not permitted (EPERM)",
                Ring.describeProbe(-Errno.EPERM, "2"));
        assertEquals("io_uring is restricted to the io_uring_group (sysctl kernel.io_uring_disabled=1): Operation not"
                + " permitted (EPERM)", Ring.describeProbe(-Errno.EPERM, "1"));
        assertEquals("io_uring_setup is not available (kernel without io_uring, or blocked by seccomp): Function not"
                + " implemented (ENOSYS)", Ring.describeProbe(-Errno.ENOSYS, "0"));
        assertEquals("io_uring_setup is not permitted (seccomp or container policy): Operation not permitted (EPERM)",
                Ring.describeProbe(-Errno.EPERM, null));
        assertEquals("io_uring_setup failed for lack of locked memory (raise ulimit -l): Cannot allocate memory (ENOMEM)",
                Ring.describeProbe(-Errno.ENOMEM, "0"));
        for (int rc : new int[] {-Errno.EPERM, -Errno.ENOSYS, -Errno.ENOMEM, -Errno.EINVAL}) {
            for (String sysctl : new String[] {null, "0", "1", "2"}) {
                String line = Ring.describeProbe(rc, sysctl);
                assertFalse(line.contains("\n"), line);
                assertTrue(line.startsWith("io_uring"), line);
            }
        }
        assertEquals(Ring.describeProbe(0, null), Ring.unavailabilityCause());
    }

    /**
     * The kernel can refuse a submission (the queue stays full): every file that meets it fails with
     * EBUSY, the batch ends, nothing partial is left under a final name, and the ring works after.
     * (A NULL entry used to be dereferenced: the JVM died.)
     */
    @Test
    void filesThatFindNoSubmissionEntryFailWithEbusyAndTheBatchEnds() throws Exception {
        int n = 120;
        for (int i = 0; i < n; i++) {
            randomFile(dir.resolve("s" + i), i % 3 == 0 ? 300_000 : 1000 + i, i);
        }
        randomFile(dir.resolve("big"), 3 * 1024 * 1024 + 1, 99);
        int[][] plans = {{0, 1}, {5, 3}, {40, 10}, {200, 1}, {0, 1_000_000}};
        try (Ring ring = Ring.open(8, 64 * 1024, 0)) {
            for (int[] plan : plans) {
                Path out = Files.createDirectory(dir.resolve("out-" + plan[0] + "-" + plan[1]));
                Batch batch = new Batch(n + 1);
                for (int i = 0; i < n; i++) {
                    copy(batch, dir.resolve("s" + i), out.resolve("d" + i), 0);
                }
                copy(batch, dir.resolve("big"), out.resolve("big"), 0);
                Ring.injectSubmissionFailures(plan[0], plan[1]);
                try {
                    assertTimeoutPreemptively(java.time.Duration.ofSeconds(30), () -> ring.run(batch));
                } finally {
                    Ring.injectSubmissionFailures(-1, 0);
                }
                int failed = 0;
                for (int i = 0; i <= n; i++) {
                    Path d = out.resolve(i < n ? "d" + i : "big");
                    NativeIoException e = batch.failure(i);
                    if (e != null) {
                        failed++;
                        assertEquals(Errno.EBUSY, e.errno(), e.getMessage());
                        assertFalse(Files.exists(d), "no partial file under the final name: " + d);
                    } else {
                        assertArrayEquals(Files.readAllBytes(dir.resolve(i < n ? "s" + i : "big")), Files.readAllBytes(d));
                    }
                }
                assertTrue(failed >= 1 && failed <= Math.min(plan[1], n + 1), failed + " failed for " + plan[0] + "/" + plan[1]);
            }
            // and the ring is fine afterwards
            Batch again = new Batch(1);
            copy(again, dir.resolve("s1"), dir.resolve("again"), 0);
            ring.run(again);
            assertNull(again.failure(0));
        }
    }
}
