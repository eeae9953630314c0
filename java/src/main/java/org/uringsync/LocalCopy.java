package org.uringsync;

import org.uringsync.nativeio.Ring;
import java.io.IOException;
import java.nio.file.Path;
import org.uringsync.transfer.LocalCopier;
import org.uringsync.transfer.Metering;

/**
 * Copies a file tree on this machine through io_uring: DEST receives the contents of SOURCE, as with
 * {@code rsync -a SOURCE/ DEST/}. Modes are always kept; {@link Builder#preserve(boolean) preserve}
 * adds modification times and, when running as root, owners. Symlinks are copied as links. A file
 * that already exists in DEST is replaced atomically (written beside it, then renamed).
 *
 * <pre>{@code
 * CopyResult r = LocalCopy.builder().jobs(2).preserve(true).build()
 *         .copy(Path.of("/data"), Path.of("/backup"));
 * if (!r.succeeded()) r.failures().forEach(System.err::println);
 * }</pre>
 *
 * Instances are immutable and may be shared.
 */
public final class LocalCopy {
    private final int jobs;
    private final int chunkSize;
    private final int queueDepth;
    private final boolean preserve;
    private final boolean failFast;
    private final CopyListener listener;
    private final Cancellation cancellation;
    private final Filter filter;
    private final boolean delete;
    private final boolean dryRun;
    private final boolean hardLinks;
    private final boolean xattrs;
    private final boolean deleteExcluded;
    private final boolean checksum;
    private final Metering metering;

    private LocalCopy(Builder b) {
        this.jobs = b.jobs;
        this.chunkSize = b.chunkSize;
        this.queueDepth = b.queueDepth;
        this.preserve = b.preserve;
        this.failFast = b.failFast;
        this.listener = b.listener;
        this.cancellation = b.cancellation;
        this.filter = b.filter;
        this.delete = b.delete;
        this.dryRun = b.dryRun;
        this.hardLinks = b.hardLinks;
        this.xattrs = b.xattrs;
        this.deleteExcluded = b.deleteExcluded;
        this.checksum = b.checksum;
        this.metering = new Metering(b.progress, b.progressInterval, b.bandwidthLimit);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Copies {@code source} (a directory or a single file) into {@code dest}.
     *
     * @return counts and per-entry failures; entries that failed do not stop the rest unless fail-fast.
     *         A cancelled or interrupted copy returns soon with what was done and an
     *         {@link java.io.InterruptedIOException} among the failures (the interrupt stays set); an
     *         exception thrown by the listener ends the copy and is reported among the failures too
     * @throws IOException when the copy cannot start (source missing, destination not creatable,
     *         destination inside source, io_uring unavailable)
     */
    public CopyResult copy(Path source, Path dest) throws IOException {
        return new LocalCopier(new LocalCopier.Config(jobs, chunkSize, queueDepth, preserve, failFast, listener, cancellation,
                filter.rules(), delete, deleteExcluded, dryRun, hardLinks, xattrs, checksum, metering)).copy(source, dest);
    }

    public int jobs() {
        return jobs;
    }

    public int chunkSize() {
        return chunkSize;
    }

    public int queueDepth() {
        return queueDepth;
    }

    public boolean preserve() {
        return preserve;
    }

    public boolean failFast() {
        return failFast;
    }

    /** Builds a {@link LocalCopy}; every setter checks its argument. */
    public static final class Builder {
        private int jobs = Runtime.getRuntime().availableProcessors();
        private int chunkSize = 128 * 1024;
        private int queueDepth = 64;
        private boolean preserve;
        private boolean failFast;
        private CopyListener listener = CopyListener.NONE;
        private Cancellation cancellation = Cancellation.NONE;
        private Filter filter = Filter.none();
        private boolean delete;
        private boolean dryRun;
        private boolean hardLinks;
        private boolean xattrs;
        private boolean deleteExcluded;
        private boolean checksum;
        private ProgressListener progress;
        private java.time.Duration progressInterval = Metering.NONE.interval();
        private long bandwidthLimit;

        private Builder() {}

        /**
         * Reports progress to {@code listener} about every 250 ms and once at the end (see {@link
         * ProgressListener}); the totals come from a walk of the source of its own, run only for this.
         */
        public Builder progress(ProgressListener listener) {
            return progress(listener, Metering.NONE.interval());
        }

        /** As {@link #progress(ProgressListener)}, every {@code interval} (at least 10 ms). */
        public Builder progress(ProgressListener listener, java.time.Duration interval) {
            this.progress = java.util.Objects.requireNonNull(listener, "listener");
            this.progressInterval = Sizes.checkInterval(interval);
            return this;
        }

        /**
         * Copies at most {@code bytesPerSecond} of file data per second, all workers together (rsync's
         * --bwlimit): paced over windows of a tenth of a second by sleeping; 0 (the default): no limit.
         */
        public Builder bandwidthLimit(long bytesPerSecond) {
            this.bandwidthLimit = Sizes.checkRate(bytesPerSecond);
            return this;
        }

        /** Worker threads, each with its own ring (default: CPU count). */
        public Builder jobs(int jobs) {
            if (jobs < 1 || jobs > 256) {
                throw new IllegalArgumentException("jobs must be 1..256: " + jobs);
            }
            this.jobs = jobs;
            return this;
        }

        /** Bytes per read/write (default 128 KiB; 4 KiB..64 MiB). */
        public Builder chunkSize(long chunkSize) {
            this.chunkSize = Ring.checkChunkSize(chunkSize);
            return this;
        }

        /** Operations in flight per ring (default 64; 1..4096). */
        public Builder queueDepth(int queueDepth) {
            this.queueDepth = Ring.checkQueueDepth(queueDepth);
            return this;
        }

        /** Keep modification times and, as root, owners (modes are always kept). */
        public Builder preserve(boolean preserve) {
            this.preserve = preserve;
            return this;
        }

        /** Stop at the first failed entry instead of copying the rest. */
        public Builder failFast(boolean failFast) {
            this.failFast = failFast;
            return this;
        }

        public Builder listener(CopyListener listener) {
            this.listener = java.util.Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Lets another thread stop the copy (see {@link Cancellation}). */
        public Builder cancellation(Cancellation cancellation) {
            this.cancellation = java.util.Objects.requireNonNull(cancellation, "cancellation");
            return this;
        }

        /** Leaves out of a directory copy what {@code filter} excludes (see {@link Filter}; default: nothing). */
        public Builder filter(Filter filter) {
            this.filter = java.util.Objects.requireNonNull(filter, "filter");
            return this;
        }

        /**
         * Remove entries under DEST that SOURCE does not have (as rsync's --delete), once everything
         * else was copied without a failure; never outside DEST, never through a symlink; entries the
         * filter excludes are kept.
         */
        public Builder delete(boolean delete) {
            this.delete = delete;
            return this;
        }

        /**
         * Change nothing: the copy looks at both trees and reports what it would make, replace and
         * delete through {@link CopyListener#changed} (the result counts those files and deletions;
         * its byte count stays 0).
         */
        public Builder dryRun(boolean dryRun) {
            this.dryRun = dryRun;
            return this;
        }

        /**
         * Keep hard links (rsync's -H): source files that share an inode share one in DEST. The first of
         * them met is copied; the others become links to its copy, made after every file arrived. Costs an
         * lstat of every source file.
         */
        public Builder hardLinks(boolean hardLinks) {
            this.hardLinks = hardLinks;
            return this;
        }

        /**
         * Copy extended attributes (rsync's -X) of files and directories: the "user." namespace, or as root
         * every namespace but "system." (ACLs). A file the quick check leaves alone gets the source's in
         * place (changed values set, names the source lacks removed; reported as {@code .f........x}).
         */
        public Builder xattrs(boolean xattrs) {
            this.xattrs = xattrs;
            return this;
        }

        /** As {@link #delete}, and what the filter excludes goes too (rsync's --delete-excluded). */
        public Builder deleteExcluded(boolean deleteExcluded) {
            this.deleteExcluded = deleteExcluded;
            return this;
        }

        /**
         * Compare files of the same size by content (rsync's -c): both sides are read and hashed
         * (XXH128, in the C core, many files at once) instead of trusting size and modification time. A
         * file whose content matches but whose time differs only gets the source's time (with {@link
         * #preserve}).
         */
        public Builder checksum(boolean checksum) {
            this.checksum = checksum;
            return this;
        }

        public LocalCopy build() {
            return new LocalCopy(this);
        }
    }
}
