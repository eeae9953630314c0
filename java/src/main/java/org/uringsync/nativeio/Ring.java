package org.uringsync.nativeio;

import java.io.IOException;
import java.lang.annotation.Native;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One io_uring instance with a registered buffer pool, owned by one thread at a time.
 *
 * <p>The ring runs whole {@link Batch batches}: one JNI call per batch, whatever its size. Up to
 * {@code queueDepth} requests are in flight at once. A file smaller than the large-file threshold moves
 * through pooled chunk buffers (several chunks in flight for one file); a larger one is copied by the
 * kernel (copy_file_range, or a splice file -> pipe -> file where that is refused), so its bytes
 * never enter user space.
 * A guarded {@link NativeHandle}: one call at a time; {@link #close()} during a call frees the ring
 * once that call has returned.
 */
public final class Ring extends NativeHandle {
    private static final String UNAVAILABLE = probe();

    /** Files at least this large are copied inside the kernel rather than through buffers. */
    public static final long LARGE_FILE_THRESHOLD = 1 << 20;
    /**
     * Files at least this large are read and written with direct I/O where the filesystem allows
     * (network transfers): the data goes between the ring's buffers and the device without filling
     * the page cache, which spares a page allocation and a memcpy per 4 KiB on each side.
     */
    public static final long DIRECT_IO_THRESHOLD = 8L << 20;
    /** Pipes per ring for spliced files. */
    static final int PIPES = 4;
    /** The bytes each of a ring's pipes is asked to hold (one splice moves at most this much). */
    public static final int PIPE_SIZE = 1 << 20;

    private final int queueDepth;
    private final int chunkSize;
    private Meter meter; // reachable while the C ring may use its memory

    private Ring(long handle, int queueDepth, int chunkSize) {
        super(handle);
        this.queueDepth = queueDepth;
        this.chunkSize = chunkSize;
    }

    /** @return true when io_uring can be used by this process. */
    public static boolean isAvailable() {
        return UNAVAILABLE == null;
    }

    /** @return a one-line reason why io_uring cannot be used, or null. */
    public static String unavailabilityCause() {
        return UNAVAILABLE;
    }

    /** Throws an {@link IllegalStateException} with a one-line reason when io_uring cannot be used. */
    public static void ensureAvailable() {
        if (UNAVAILABLE != null) {
            throw new IllegalStateException(UNAVAILABLE);
        }
    }

    /**
     * Creates a ring.
     *
     * @param queueDepth requests in flight (1..4096)
     * @param chunkSize bytes per read/write and per pooled buffer (4 KiB..64 MiB)
     */
    public static Ring open(int queueDepth, int chunkSize) throws NativeIoException {
        return open(queueDepth, chunkSize, LARGE_FILE_THRESHOLD);
    }

    /**
     * Creates a ring with a chosen large-file threshold.
     *
     * @param largeFileThreshold files at least this large are copied inside the kernel; 0: never
     */
    public static Ring open(int queueDepth, int chunkSize, long largeFileThreshold) throws NativeIoException {
        checkQueueDepth(queueDepth);
        checkChunkSize(chunkSize);
        ensureAvailable();
        if (largeFileThreshold < 0) {
            throw new IllegalArgumentException("large-file threshold must be >= 0: " + largeFileThreshold);
        }
        long h = createNative(queueDepth, chunkSize, largeFileThreshold, PIPES, PIPE_SIZE);
        if (h < 0) {
            throw new NativeIoException("io_uring_queue_init", null, (int) -h);
        }
        return new Ring(h, queueDepth, chunkSize);
    }

    /** @return {@code queueDepth} when it is 1..4096; else an IllegalArgumentException saying so */
    public static int checkQueueDepth(int queueDepth) {
        if (queueDepth < 1 || queueDepth > 4096) {
            throw new IllegalArgumentException("queue depth must be 1..4096: " + queueDepth);
        }
        return queueDepth;
    }

    /** @return {@code chunkSize} when it is 4 KiB..64 MiB; else an IllegalArgumentException saying so */
    public static int checkChunkSize(long chunkSize) {
        if (chunkSize < 4096 || chunkSize > (64 << 20)) {
            throw new IllegalArgumentException("chunk size must be 4K..64M: " + chunkSize);
        }
        return (int) chunkSize;
    }

    public int queueDepth() {
        return queueDepth;
    }

    /**
     * Counts (and paces, and cancels) this ring's file data through {@code meter} from now on; null
     * detaches. Several rings may share one meter.
     */
    public Ring attach(Meter meter) {
        long h = enterAlone();
        try {
            attachNative(h, meter == null ? null : meter.words());
            this.meter = meter;
        } finally {
            leave();
        }
        return this;
    }

    /** The meter attached, or null. */
    public Meter meter() {
        return meter;
    }

    public int chunkSize() {
        return chunkSize;
    }

    /**
     * Runs every request of the batch; per-request failures are reported in the batch, not thrown.
     *
     * @throws NativeIoException when the ring itself fails (io_uring_enter)
     */
    public void run(Batch batch) throws NativeIoException {
        long h = enterAlone();
        try {
            int rc = runBatchNative(h, batch.requestBuffer(), batch.size(), batch.resultBuffer());
            if (rc < 0) {
                throw new NativeIoException("io_uring_enter", null, -rc);
            }
        } finally {
            leave();
        }
    }

    /** Where {@link #hash} failed for a file: values shared with the C core. */
    @Native static final int HASH_OPEN = 1;
    @Native static final int HASH_READ = 2;
    /** Bytes of one content hash (XXH128). */
    public static final int HASH_BYTES = 16;

    /**
     * Content hashes for -c: the XXH128 of each whole regular file {@code names[i]} in the directory
     * {@code dirs[i]} ({@link Batch#AT_FDCWD}: {@code names[i]} is a path), opened through no final
     * symlink; up to the queue depth of files read at once through this ring, each hashed as its data
     * arrives. Per-file failures are in the result, not thrown.
     *
     * @param shown each file as messages name it
     * @throws NativeIoException when the ring itself fails (io_uring_enter)
     */
    public Hashes hash(int[] dirs, byte[][] names, String[] shown) throws NativeIoException {
        byte[] out = new byte[HASH_BYTES * names.length];
        int[] errs = new int[2 * names.length];
        long h = enterAlone();
        try {
            int rc = hashFilesNative(h, dirs, names, out, errs);
            if (rc < 0) {
                throw new NativeIoException("io_uring_enter", null, -rc);
            }
        } finally {
            leave();
        }
        NativeIoException[] failures = new NativeIoException[names.length];
        for (int i = 0; i < names.length; i++) {
            if (errs[2 * i] != 0) {
                failures[i] = new NativeIoException(errs[2 * i + 1] == HASH_OPEN ? "openat" : "read", shown[i], errs[2 * i]);
            }
        }
        return new Hashes(out, failures);
    }

    /**
     * Files at least this large are hashed by {@link #hash(int[], byte[][], String[], long[])} with plain
     * sequential reads, two at once on two threads: through the page cache one large file's read is
     * bound by one core's page-cache fills (about 5 µs a page here), so a source and its copy read on
     * one thread take as long as reading them one after the other.
     */
    public static final long HASH_ALONE_MIN = 16L << 20;

    /**
     * {@link #hash(int[], byte[][], String[])}, with each file's size as the caller found it: files of
     * at least {@link #HASH_ALONE_MIN} bytes are read and hashed two at once, by this thread and a
     * helper, each a plain sequential read (the kernel's readahead keeps it fed), beside the ring's
     * files; the rest through the ring. The same results as the ring gives.
     */
    public Hashes hash(int[] dirs, byte[][] names, String[] shown, long[] sizes) throws NativeIoException {
        if (sizes.length != names.length) {
            throw new IllegalArgumentException(sizes.length + " sizes for " + names.length + " files");
        }
        int large = 0;
        for (long size : sizes) {
            large += size >= HASH_ALONE_MIN ? 1 : 0;
        }
        if (large == 0) {
            return hash(dirs, names, shown);
        }
        int[] alone = new int[large], rest = new int[names.length - large];
        for (int i = 0, a = 0, r = 0; i < names.length; i++) {
            if (sizes[i] >= HASH_ALONE_MIN) {
                alone[a++] = i;
            } else {
                rest[r++] = i;
            }
        }
        byte[] out = new byte[HASH_BYTES * names.length];
        NativeIoException[] failures = new NativeIoException[names.length];
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
        Runnable hashAlone = () -> { // each file by one thread: the native call writes only its own part of out
            int[] err = new int[2];
            for (int k; (k = next.getAndIncrement()) < alone.length; ) {
                int i = alone[k];
                if (hashFileNative(dirs[i], names[i], out, HASH_BYTES * i, err) < 0) {
                    failures[i] = new NativeIoException(err[1] == HASH_OPEN ? "openat" : "read", shown[i], err[0]);
                }
            }
        };
        Throwable[] helperFailed = new Throwable[1];
        Thread helper = new Thread(() -> {
            try {
                hashAlone.run();
            } catch (Throwable t) { // an OutOfMemoryError: rethrown by the caller, after the join
                helperFailed[0] = t;
            }
        }, "uring-sync-hash");
        helper.setDaemon(true);
        helper.start();
        try {
            if (rest.length > 0) { // the ring's files meanwhile, on this thread
                int[] d = new int[rest.length];
                byte[][] n = new byte[rest.length][];
                String[] sh = new String[rest.length];
                for (int r = 0; r < rest.length; r++) {
                    d[r] = dirs[rest[r]];
                    n[r] = names[rest[r]];
                    sh[r] = shown[rest[r]];
                }
                Hashes h = hash(d, n, sh);
                for (int r = 0; r < rest.length; r++) {
                    System.arraycopy(h.digests(), HASH_BYTES * r, out, HASH_BYTES * rest[r], HASH_BYTES);
                    failures[rest[r]] = h.failures()[r];
                }
            }
            hashAlone.run(); // then the large files left, beside the helper
        } catch (RuntimeException | Error | NativeIoException e) {
            next.set(alone.length); // the helper stops after the file in hand
            throw e;
        } finally {
            Threads.joinUninterruptibly(helper); // it reads through the caller's directory descriptors: never left running
        }
        if (helperFailed[0] instanceof RuntimeException e) {
            throw e;
        }
        if (helperFailed[0] instanceof Error e) {
            throw e;
        }
        return new Hashes(out, failures);
    }

    /** What {@link #hash} found: {@link #HASH_BYTES} per file, and per file null or why it has none. */
    public record Hashes(byte[] digests, NativeIoException[] failures) {
        /** Whether file {@code i} was hashed and its hash equals the {@link #HASH_BYTES} at {@code other[at..]}. */
        public boolean same(int i, byte[] other, int at) {
            return failures[i] == null && java.util.Arrays.equals(digests, HASH_BYTES * i, HASH_BYTES * (i + 1), other, at,
                    at + HASH_BYTES);
        }

        /** The hash of file {@code i} (meaningful when it has no failure). */
        public byte[] of(int i) {
            return java.util.Arrays.copyOfRange(digests, HASH_BYTES * i, HASH_BYTES * (i + 1));
        }
    }

    /** A native call that needs the ring's handle. */
    @FunctionalInterface
    interface RingCall {
        long apply(long ringHandle) throws java.io.IOException;
    }

    /** Runs a native call with this ring, under the same one-call-at-a-time guard as {@link #run}. */
    long call(RingCall c) throws java.io.IOException {
        long h = enterAlone();
        try {
            return c.apply(h);
        } finally {
            leave();
        }
    }

    @Override
    protected String what() {
        return "ring";
    }

    @Override
    protected void free(long handle) {
        destroyNative(handle);
    }

    private static String probe() {
        if (!NativeLoader.isLoaded()) {
            return "uring-sync native library not loaded: " + NativeLoader.failure().getMessage();
        }
        String sysctl = null;
        try {
            Path p = Path.of("/proc/sys/kernel/io_uring_disabled");
            if (Files.isReadable(p)) {
                sysctl = Files.readString(p).trim();
            }
        } catch (IOException ignored) {
            // the probe below decides
        }
        return describeProbe(probeNative(), sysctl);
    }

    /**
     * @param rc what creating a ring gave: 0, -errno, or 1 + the number of an operation the kernel lacks
     * @param sysctl the value of {@code kernel.io_uring_disabled}, or null when it cannot be read
     * @return null when io_uring can be used, else a one-line reason with the fix where there is one
     */
    static String describeProbe(int rc, String sysctl) {
        if (rc == 0) {
            return null;
        }
        if (rc > 0) {
            return "this kernel's io_uring lacks IORING_OP_" + opName(rc - 1) + ": uring-sync needs Linux 5.7 or later";
        }
        String text = Errno.describe(-rc);
        if ("2".equals(sysctl)) {
            return "io_uring is disabled on this machine (sysctl kernel.io_uring_disabled=2): " + text;
        }
        if ("1".equals(sysctl) && rc == -Errno.EPERM) {
            return "io_uring is restricted to the io_uring_group (sysctl kernel.io_uring_disabled=1): " + text;
        }
        if (rc == -Errno.ENOSYS) {
            return "io_uring_setup is not available (kernel without io_uring, or blocked by seccomp): " + text;
        }
        if (rc == -Errno.EPERM) {
            return "io_uring_setup is not permitted (seccomp or container policy): " + text;
        }
        if (rc == -Errno.ENOMEM) {
            return "io_uring_setup failed for lack of locked memory (raise ulimit -l): " + text;
        }
        return "io_uring_setup failed: " + text;
    }

    /**
     * Tests only: after {@code after} more submission entries (in any ring of this process), the next
     * {@code count} cannot be had, as when the kernel refuses a submission. Every operation that meets
     * one fails with EBUSY. {@code after < 0} turns it off.
     */
    public static void injectSubmissionFailures(int after, int count) {
        NativeLoader.ensureLoaded();
        injectSubmissionFailuresNative(after, count);
    }

    private static native void injectSubmissionFailuresNative(int after, int count);

    // The io_uring operations the C core queues (kernel ABI numbers, checked against liburing's in
    // ring.c); the probe names the first one a kernel lacks. IORING_OP_SPLICE (5.7) is the newest.
    @Native static final int OP_NOP = 0;
    @Native static final int OP_READ_FIXED = 4;
    @Native static final int OP_WRITE_FIXED = 5;
    @Native static final int OP_LINK_TIMEOUT = 15;
    @Native static final int OP_OPENAT = 18;
    @Native static final int OP_CLOSE = 19;
    @Native static final int OP_READ = 22;
    @Native static final int OP_WRITE = 23;
    @Native static final int OP_SEND = 26;
    @Native static final int OP_RECV = 27;
    @Native static final int OP_SPLICE = 30;

    static String opName(int op) {
        return switch (op) {
            case OP_NOP -> "NOP";
            case OP_READ_FIXED -> "READ_FIXED";
            case OP_WRITE_FIXED -> "WRITE_FIXED";
            case OP_LINK_TIMEOUT -> "LINK_TIMEOUT";
            case OP_OPENAT -> "OPENAT";
            case OP_CLOSE -> "CLOSE";
            case OP_READ -> "READ";
            case OP_WRITE -> "WRITE";
            case OP_SEND -> "SEND";
            case OP_RECV -> "RECV";
            case OP_SPLICE -> "SPLICE";
            default -> String.valueOf(op);
        };
    }

    private static native int probeNative();

    private static native long createNative(int queueDepth, int chunkSize, long largeFileThreshold, int pipes,
            int pipeSize);

    private static native void destroyNative(long handle);

    private static native void attachNative(long handle, java.nio.ByteBuffer meter);

    private static native int runBatchNative(long handle, java.nio.ByteBuffer requests, int count,
            java.nio.ByteBuffer results);

    private static native int hashFileNative(int dir, byte[] name, byte[] out, int at, int[] err);

    private static native int hashFilesNative(long handle, int[] dirs, byte[][] names, byte[] out, int[] errs);
}
