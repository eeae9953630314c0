package org.uringsync.transfer;

import org.uringsync.nativeio.Batch;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.path.FilterRules;
import org.uringsync.scan.TreeScanner;

/**
 * The totals progress shows: a walk of the source of its own, on a daemon thread, ahead of the
 * transfer's (which looks at files only as it reaches them), counting the regular files and symlinks
 * the filter lets through and lstat'ing the files for their sizes. Runs only when progress is asked
 * for. Entries that cannot be read are left out (the transfer reports them).
 */
public final class SourceTotals implements AutoCloseable {
    private volatile long files;
    private volatile long bytes;
    private volatile boolean finished; // the walk went through the whole source
    private volatile boolean closed;
    private final Thread thread;

    private SourceTotals(long files, long bytes) {
        this.files = files;
        this.bytes = bytes;
        this.finished = true;
        this.thread = null;
    }

    private SourceTotals(byte[] root, FilterRules filter) {
        thread = new Thread(() -> {
            try {
                TreeScanner.walk(root, filter, new Counter(root));
                finished = true;
            } catch (Stop e) {
                // closed: the walk ends where it is, its totals not final
            }
        }, "uring-sync-totals");
        thread.setDaemon(true);
        thread.start();
    }

    /** Counts the source {@code root}: one file at once, a tree on a thread of its own. */
    public static SourceTotals of(TreeScanner.Root root, FilterRules filter) {
        if (!root.isRegularFile()) {
            return new SourceTotals(root.path(), filter);
        }
        try {
            long[] st = FileOps.lstatAt(Batch.AT_FDCWD, root.path());
            return new SourceTotals(1, st == null ? 0 : st[1]);
        } catch (NativeIoException e) {
            return new SourceTotals(1, 0); // the transfer says why it cannot read it
        }
    }

    public long files() {
        return files;
    }

    public long bytes() {
        return bytes;
    }

    /** Whether the walk went through the whole source (one cut short by {@link #close()} did not). */
    public boolean finished() {
        return finished;
    }

    /**
     * Stops the walk at its next entry, without waiting: it only counts, so nothing depends on its end,
     * and one listing of a huge directory (or an lstat on a hung mount) must not hold up the transfer's.
     */
    @Override
    public void close() {
        closed = true;
    }

    /** Thrown out of the walk once closed. */
    private static final class Stop extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Stop() {
            super(null, null, false, false);
        }
    }

    private final class Counter implements TreeScanner.Visitor {
        private final byte[] root;

        Counter(byte[] root) {
            this.root = root;
        }

        @Override
        public boolean directory(byte[] relative, FileOps.Listing listing) {
            if (closed) {
                throw new Stop();
            }
            return true;
        }

        @Override
        public void file(byte[] relative, FileOps.Stat stat) {
            if (closed) {
                throw new Stop();
            }
            try {
                long[] st = FileOps.lstatAt(Batch.AT_FDCWD, PathBytes.join(root, relative));
                if (st != null) {
                    bytes += st[1]; // one writer: this thread
                    files++;
                }
            } catch (NativeIoException e) {
                // left out: the transfer meets it and reports it
            }
        }

        @Override
        public void symlink(byte[] relative) {
            files++;
        }

        @Override
        public void special(byte[] relative, int type) {}

        @Override
        public void unreadable(byte[] relative, NativeIoException cause) {}
    }
}
