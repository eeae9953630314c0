package org.uringsync.transfer;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.uringsync.Cancellation;
import org.uringsync.CopyListener.Change;
import org.uringsync.CopyListener;
import org.uringsync.CopyResult;
import org.uringsync.nativeio.Batch;
import org.uringsync.nativeio.Errno;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.Meter;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.nativeio.Ring;
import org.uringsync.path.FilterRules;
import org.uringsync.protocol.Message;
import org.uringsync.scan.TreeScanner;

/**
 * The local copy: the calling thread walks the source and creates directories; {@code jobs} workers,
 * each with its own {@link Ring}, copy files and symlinks in batches; directory modes and times are
 * applied last, once nothing more is written into them.
 *
 * <p>Everything in the destination happens beneath one root descriptor: directories are created and
 * opened through no symlink ({@code openat2} with {@code RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS}),
 * files, links and temporaries are made and renamed inside those directory descriptors, and modes,
 * owners and times go on opened descriptors. Someone who can write inside DEST while a copy runs as
 * root cannot turn a directory into a symlink and have writes or mode changes land outside it.
 *
 * <p>Whatever a unit throws (the listener's exceptions included) becomes a reported failure and stops
 * the copy; workers never die of it, so the walk never waits on a queue nobody takes from. A
 * {@link Cancellation} or an interrupt of the calling thread stops the walk, and the workers skip what
 * is queued: the copy returns after the batches already running.
 */
public final class LocalCopier {
    private static final int S_IFMT = 0170000, S_IFDIR = 0040000;
    static final Change NEW_FILE = new Change(Change.Kind.NEW_FILE, false, false);
    static final Change SYMLINK = new Change(Change.Kind.SYMLINK, false, false);
    private static final Change NEW_DIRECTORY = new Change(Change.Kind.NEW_DIRECTORY, false, false);
    private static final Change DELETED = new Change(Change.Kind.DELETED, false, false);
    private static final Change HARD_LINK = new Change(Change.Kind.HARD_LINK, false, false);
    private static final Change SPECIAL = new Change(Change.Kind.SPECIAL, false, false);

    private final int jobs;
    private final int chunkSize;
    private final int queueDepth;
    private final boolean preserve;
    private final boolean failFast;
    private final CopyListener listener;
    private final Cancellation cancellation;
    private final FilterRules filter;
    private final boolean delete;
    private final boolean dryRun; // look and report, change nothing
    private final boolean hardLinks; // -H
    private final boolean xattrs; // -X
    private final boolean deleteExcluded; // --delete-excluded: what the filter excludes goes too
    private final boolean checksum; // -c: same-size files compared by content, not by time
    private final AtomicLong deleted = new AtomicLong();
    private final Metering metering;
    private final Meter meter; // every ring's: bytes moved, the rate kept to, the cancel inside a file

    private final AtomicLong files = new AtomicLong();
    private final AtomicLong symlinks = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong unchanged = new AtomicLong();
    private final AtomicLong keptBytes = new AtomicLong(); // sizes of files left in place (unchanged, or attributes only)
    private final List<IOException> failures = Collections.synchronizedList(new ArrayList<>());
    private final AtomicBoolean stop = new AtomicBoolean();
    private int flags;
    private int rootFd = -1;     // the destination root (O_PATH); every destination operation is beneath it
    private byte[] rootPath;     // its path, for messages
    private TempNames.Namer temps; // names for targets that already exist (written beside, renamed over)

    /** What a local copy is asked to do: made by {@code LocalCopy.Builder}, checked there. */
    public record Config(int jobs, int chunkSize, int queueDepth, boolean preserve, boolean failFast,
            CopyListener listener, Cancellation cancellation, FilterRules filter, boolean delete, boolean deleteExcluded,
            boolean dryRun, boolean hardLinks, boolean xattrs, boolean checksum, Metering metering) {}

    public LocalCopier(Config c) {
        this.jobs = c.jobs();
        this.chunkSize = c.chunkSize();
        this.queueDepth = c.queueDepth();
        this.preserve = c.preserve();
        this.failFast = c.failFast();
        this.listener = c.listener();
        this.cancellation = c.cancellation();
        this.filter = c.filter();
        this.delete = c.delete() || c.deleteExcluded();
        this.deleteExcluded = c.deleteExcluded();
        this.dryRun = c.dryRun();
        this.hardLinks = c.hardLinks();
        this.xattrs = c.xattrs();
        this.checksum = c.checksum();
        this.metering = c.metering();
        this.meter = new Meter(c.metering().bytesPerSecond());
    }

    /**
     * Work for one batch call: entries relative to the source root and to the destination root
     * (the same names for a tree), each a file or a symlink.
     */
    record Unit(byte[] srcRoot, byte[][] rel, byte[][] dstRel, boolean[] link, boolean[] check, int count) {}

    private static final Unit END = new Unit(null, null, null, null, null, 0);

    public CopyResult copy(Path source, Path dest) throws IOException {
        long t0 = System.nanoTime();
        Ring.ensureAvailable();
        boolean asRoot = FileOps.geteuid() == 0;
        flags = (preserve ? Batch.FLAG_TIMES | (asRoot ? Batch.FLAG_OWNER : 0) : 0)
                | (xattrs ? (asRoot ? Batch.FLAG_XATTRS_ALL : Batch.FLAG_XATTRS) : 0);
        TreeScanner.Root root = TreeScanner.resolveRoot(source);
        byte[] src = root.path();
        byte[] dst = PathBytes.of(dest.toAbsolutePath());

        long dirs = 0;
        temps = new TempNames.Namer(TempNames.newOwner());
        TransferWatch watch = null;
        try (AutoCloseable cut = cancellation.onCancel(meter::cancel)) {
            watch = new TransferWatch(metering, meter, this::settled, keptBytes::get, 
                    metering.progress() == null ? null : SourceTotals.of(root, filter), () -> {});
            if (root.isRegularFile()) {
                int dstMode = FileOps.lstatMode(dst);
                if (dstMode >= 0 && (dstMode & S_IFMT) == S_IFDIR) {
                    dst = PathBytes.join(dst, PathBytes.of(source.getFileName()));
                }
                int slash = PathBytes.lastSlash(dst);
                openRoot(slash == 0 ? new byte[] {'/'} : Arrays.copyOf(dst, slash));
                byte[] name = Arrays.copyOfRange(dst, slash + 1, dst.length);
                try {
                    runUnits(List.of(new Unit(src, new byte[][] {new byte[0]}, new byte[][] {name}, new boolean[] {false},
                            new boolean[] {true}, 1)));
                } catch (RuntimeException e) { // the listener's
                    failures.add(new IOException("copy stopped: " + e, e));
                }
            } else if (root.isDirectory()) {
                checkNotInside(source, dest);
                dirs = copyTree(src, dst);
            } else {
                throw new IOException("cannot copy " + source + ": not a regular file or directory");
            }
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) { // closing the cancellation hook: cannot happen
            throw new IllegalStateException(e);
        } finally {
            if (rootFd >= 0) {
                FileOps.close(rootFd);
                rootFd = -1;
            }
            temps.close();
            if (watch != null) {
                IOException p = watch.finish(!halted() && !meter.isCancelled());
                if (p != null) {
                    failures.add(p);
                }
            }
        }
        if (cancellation.isCancelled() || Thread.currentThread().isInterrupted() || meter.isCancelled()) {
            failures.add(new InterruptedIOException("copy " + (cancellation.isCancelled() ? "cancelled" : "interrupted")
                    + " after " + files.get() + " files"));
        }
        return new CopyResult(files.get(), dirs, symlinks.get(), bytes.get(), skipped.get(),
                Duration.ofNanos(System.nanoTime() - t0), failures, unchanged.get(), deleted.get(),
                bytes.get() + keptBytes.get(), null, null, 0);
    }

    private void openRoot(byte[] path) throws NativeIoException {
        rootPath = path;
        rootFd = FileOps.openRoot(path, false);
    }


    /** Entries settled so far (copied, unchanged, failed), for progress. */
    private long settled() {
        return files.get() + symlinks.get() + unchanged.get() + failures.size();
    }

    /** True once the copy should stop taking new work: a failure under fail-fast, a cancel, an interrupt of the walker. */
    private boolean halted() {
        if (cancellation.isCancelled() || Thread.currentThread().isInterrupted() || meter.isCancelled()) {
            stop.set(true);
            meter.cancel(); // the files in hand stop too, between slices
        }
        return stop.get();
    }

    private static void checkNotInside(Path source, Path dest) throws IOException {
        Path real = source.toRealPath();
        Path d = dest.toAbsolutePath().normalize();
        Path existing = d;
        while (existing != null && !existing.toFile().exists()) {
            existing = existing.getParent();
        }
        if (existing != null) {
            Path tail = existing.relativize(d);
            d = existing.toRealPath().resolve(tail);
        }
        if (d.startsWith(real)) {
            throw new IOException("cannot copy " + source + " into " + dest + ": the destination is inside the source");
        }
    }

    private long copyTree(byte[] srcRoot, byte[] dstRoot) throws IOException {
        WorkQueue<Unit> queue = new WorkQueue<>(jobs * 2, END, jobs, "uring-sync-copy", this::work);
        Collector collector = new Collector(srcRoot, dstRoot, queue, Math.max(64, queueDepth * 4));
        try {
            TreeScanner.walk(srcRoot, filter, collector);
            collector.flush();
        } finally {
            queue.finish(meter::cancel);
        }
        if (collector.rootFailure != null) {
            throw collector.rootFailure;
        }
        if (hardLinks && !halted()) {
            makeHardLinks(); // every file arrived: each link's first is in place
        }
        if (delete && failures.isEmpty() && !halted()) { // only after everything else arrived
            deleteExtraneous(collector.dirs);
        }
        applyDirectoryMeta(srcRoot, collector.dirs);
        return collector.dirs.size();
    }

    /** Creates directories as the walk meets them and packs files and symlinks into units. */
    private final class Collector implements TreeScanner.Visitor {
        final byte[] srcRoot;
        final byte[] dstRoot;
        final WorkQueue<Unit> queue;
        final int unitSize;
        final List<DirMeta> dirs = new ArrayList<>();
        IOException rootFailure;
        byte[][] rel;
        boolean[] link;
        boolean[] check;
        boolean inExisting; // the directory being listed existed in the destination before this copy
        int n;

        Collector(byte[] srcRoot, byte[] dstRoot, WorkQueue<Unit> queue, int unitSize) {
            this.srcRoot = srcRoot;
            this.dstRoot = dstRoot;
            this.queue = queue;
            this.unitSize = unitSize;
            this.rel = new byte[unitSize][];
            this.link = new boolean[unitSize];
            this.check = new boolean[unitSize];
        }

        @Override
        public boolean directory(byte[] relative, FileOps.Listing listing) {
            if (halted()) {
                return false;
            }
            byte[] d = join(dstRoot, relative);
            // the root is the path the user gave; everything under it is made beneath its descriptor
            int rc = dryRun ? existing(relative, d)
                    : relative.length == 0 ? FileOps.mkdir(d, 0700) : FileOps.mkdirNoFollow(rootFd, relative, 0700);
            inExisting = rc == 1;
            if (rc == 0) {
                tell(() -> listener.changed(PathBytes.show(relative), NEW_DIRECTORY));
            }
            if (rc >= 0 && relative.length == 0 && !dryRun) {
                try {
                    openRoot(d);
                } catch (NativeIoException e) {
                    unreadable(relative, e);
                    return false;
                }
            }
            if (rc < 0) {
                unreadable(relative, new NativeIoException("mkdir", PathBytes.show(d), -rc));
                return false;
            }
            dirs.add(new DirMeta(relative, listing));
            return true;
        }

        /** Dry run: 1 when the destination directory exists, 0 when the copy would make it, or -errno. */
        private int existing(byte[] relative, byte[] d) {
            if (relative.length == 0) { // as the real run's mkdir: a directory itself, not a symlink to one
                int mode = FileOps.lstatMode(d);
                if (mode == -Errno.ENOENT) {
                    return 0;
                }
                if (mode < 0 || (mode & S_IFMT) != S_IFDIR) {
                    return mode < 0 ? mode : -Errno.ENOTDIR;
                }
                try {
                    openRoot(d);
                    return 1;
                } catch (NativeIoException e) {
                    return -e.errno();
                }
            }
            if (rootFd < 0) {
                return 0;
            }
            int fd = FileOps.openDirNoFollow(rootFd, relative);
            if (fd >= 0) {
                FileOps.close(fd);
                return 1;
            }
            return fd == -Errno.ENOENT ? 0 : fd;
        }

        @Override
        public void file(byte[] relative, FileOps.Stat stat) {
            add(relative, false);
        }

        @Override
        public void symlink(byte[] relative) {
            add(relative, true);
        }

        @Override
        public void special(byte[] relative, int type) {
            if (FileOps.geteuid() != 0 || halted()) {
                skipped.incrementAndGet();
                listener.skipped(PathBytes.show(relative), "a device, FIFO or socket (made only as root)");
                return;
            }
            makeSpecial(srcRoot, relative);
        }

        @Override
        public void unreadable(byte[] relative, NativeIoException cause) {
            if (relative.length == 0) {
                rootFailure = cause;
            } else {
                fail(relative, cause);
            }
        }

        private void add(byte[] relative, boolean isLink) {
            if (halted()) {
                return;
            }
            rel[n] = relative;
            check[n] = inExisting && !isLink; // nothing to compare with in a directory this copy made
            link[n++] = isLink;
            if (n == unitSize) {
                flush();
            }
        }

        void flush() {
            if (n > 0 && !halted()) {
                queue.put(new Unit(srcRoot, rel, rel, link, check, n), LocalCopier.this::halted);
                rel = new byte[unitSize][];
                link = new boolean[unitSize];
                check = new boolean[unitSize];
                n = 0;
            }
        }
    }

    /**
     * A device, FIFO or socket, as root: made in its destination directory (beneath the root, through
     * no symlink) with the source's mode, device number, time and (with -p) owner; left alone when the
     * destination already has that node.
     */
    private void makeSpecial(byte[] srcRoot, byte[] rel) {
        String shown = PathBytes.show(rel);
        try {
            long[] st = FileOps.lstatAt(Batch.AT_FDCWD, join(srcRoot, rel));
            if (st == null || !Message.Special.isSpecial((int) st[0])) {
                return; // gone, or no longer special, since the listing
            }
            int slash = PathBytes.lastSlash(rel);
            int dir = rootFd < 0 ? -Errno.ENOENT : FileOps.openDirNoFollow(rootFd, slash < 0 ? new byte[0] : Arrays.copyOf(rel, slash));
            int[] owner = (flags & Batch.FLAG_OWNER) != 0 ? new int[] {(int) st[6], (int) st[7]} : null;
            byte[] name = Arrays.copyOfRange(rel, slash + 1, rel.length);
            if (dryRun) {
                boolean same = false;
                if (dir >= 0) {
                    try {
                        same = Specials.same(FileOps.lstatAt(dir, name), (int) st[0], st[8], st[2], owner);
                    } finally {
                        FileOps.close(dir);
                    }
                }
                if (!same) {
                    report(shown, SPECIAL);
                }
                return;
            }
            if (dir < 0) {
                throw new NativeIoException("openat2", PathBytes.show(join(rootPath, rel)), -dir);
            }
            try {
                if (Specials.make(dir, name, PathBytes.show(join(rootPath, rel)), (int) st[0], st[8], st[2], owner, temps)) {
                    report(shown, SPECIAL);
                    files.incrementAndGet();
                    listener.copied(shown, 0);
                } else {
                    unchanged.incrementAndGet();
                }
            } finally {
                FileOps.close(dir);
            }
        } catch (NativeIoException e) {
            fail(rel, e);
        }
    }

    /** A directory made by the copy: its path relative to the destination root, and the source's metadata. */
    private record DirMeta(byte[] rel, FileOps.Listing meta) {}

    /** A worker: one ring, one reusable batch, units until END. */
    private void work(WorkQueue<Unit> queue) {
        Ring ring = null;
        Batch batch = null;
        try {
            for (;;) {
                Unit u = queue.take();
                if (queue.isEnd(u)) {
                    return;
                }
                if (stop.get() || cancellation.isCancelled() || meter.isCancelled()) { // skip what is queued; END still comes
                    continue;
                }
                try {
                    if (ring == null) {
                        // a small tree's only unit needs no more depth (or registered buffers) than it has files
                        ring = Ring.open(Math.min(queueDepth, u.count()), chunkSize).attach(meter);
                        batch = new Batch(Math.max(64, queueDepth * 4));
                    }
                    runUnit(ring, batch, u);
                } catch (IOException e) {
                    stop.set(true);
                    failures.add(e);
                    tell(() -> listener.failed("", e));
                } catch (Throwable t) { // the listener's, or a bug: reported, never a dead worker
                    stop.set(true);
                    failures.add(new IOException("copy stopped: " + t, t));
                }
            }
        } finally {
            if (ring != null) {
                ring.close();
            }
        }
    }

    private void runUnits(List<Unit> units) throws IOException {
        int files = 0;
        for (Unit u : units) {
            files += u.count();
        }
        try (Ring ring = Ring.open(Math.min(queueDepth, files), chunkSize).attach(meter)) {
            Batch batch = new Batch(Math.max(64, queueDepth * 4));
            for (Unit u : units) {
                runUnit(ring, batch, u);
            }
        }
    }

    private void runUnit(Ring ring, Batch batch, Unit u) throws NativeIoException {
        int[] item = new int[batch.capacity()]; // batch request -> unit entry
        for (int start = 0; start < u.count(); start += batch.capacity()) {
            int end = Math.min(u.count(), start + batch.capacity());
            Change[] change = new Change[end - start]; // null: settled (unchanged or failed)
            long[][] attrs = new long[end - start][]; // ATTRIBUTES changes: the source's mode, uid, gid, mtime
            try (RootDirs dirs = new RootDirs(rootFd, rootPath)) {
                new LocalQuickCheck(flags, preserve, xattrs, checksum, hardLinks, inodes, keptBytes, unchanged, rootPath,
                        this::fail).check(ring, batch, u, start, end, dirs, change, attrs);
                batch.clear();
                for (int i = start; i < end; i++) {
                    if (change[i - start] == null) {
                        continue;
                    }
                    byte[] d = u.dstRel()[i];
                    if (dryRun) {
                        report(PathBytes.show(d), change[i - start]);
                        if (hardLinks && change[i - start].kind() != Change.Kind.ATTRIBUTES) {
                            rewritten.add(Pruner.key(d)); // copied again: its links would be made again too
                        }
                        continue;
                    }
                    int slash = PathBytes.lastSlash(d);
                    int dir = dirs.parent(d, slash, this::fail);
                    if (dir < 0) {
                        continue;
                    }
                    if (change[i - start].kind() == Change.Kind.ATTRIBUTES) { // left in place: xattrs, mode, owner, time
                        Change c = change[i - start];
                        long[] a = attrs[i - start];
                        byte[] name = Arrays.copyOfRange(d, slash + 1, d.length);
                        // -X first, while the file still has its mode (a read-only one gets write permission
                        // lent for it); an owner change never comes with -X (the file is copied again then)
                        int rx = !c.xattrs() ? 0
                                : FileOps.syncXattrs(join(u.srcRoot(), u.rel()[i]), dir, name, (flags & Batch.FLAG_XATTRS_ALL) != 0, true);
                        int rc = rx < 0 || !(c.perms() || c.owner()) ? 0 : FileOps.fileMetaAt(dir, name, (int) a[0], (int) a[1],
                                (int) a[2], c.owner());
                        int rt = rc < 0 || rx < 0 || a[3] == Long.MIN_VALUE ? 0 : FileOps.linkTimeAt(dir, name, a[3]);
                        if (rc < 0 || rx < 0 || rt < 0) {
                            fail(d, new NativeIoException(rt < 0 ? "utimensat" : rx < 0 ? "extended attributes (getxattr, setxattr"
                                    + " or removexattr)" : c.owner() ? "fchownat or chmod" : "chmod", PathBytes.show(join(rootPath, d)),
                                    rt < 0 ? -rt : rx < 0 ? -rx : -rc));
                        } else {
                            report(PathBytes.show(d), change[i - start]);
                        }
                        continue;
                    }
                    byte[] s = join(u.srcRoot(), u.rel()[i]);
                    byte[] name = Arrays.copyOfRange(d, slash + 1, d.length);
                    byte[] shown = join(rootPath, d);
                    item[batch.size()] = i;
                    if (u.link()[i]) {
                        batch.addSymlinkAt(s, dir, name, temps.next(), shown, flags);
                    } else {
                        batch.addCopyAt(s, dir, name, temps.next(), shown, flags);
                    }
                }
                if (batch.size() > 0) {
                    ring.run(batch);
                }
            }
            for (int b = 0; b < batch.size(); b++) {
                byte[] rel = u.dstRel()[item[b]]; // the name in the destination (a single file: its name)
                NativeIoException e = batch.failure(b);
                if (e != null && e.errno() == Errno.ECANCELED && meter.isCancelled()) {
                    continue; // stopped by a cancel, removed: not a failure of its own (the result says cancelled)
                }
                if (e != null) {
                    fail(rel, e);
                    continue;
                }
                String shown = PathBytes.show(rel);
                report(shown, change[item[b] - start]);
                if (batch.op(b) == Batch.OP_SYMLINK) {
                    symlinks.incrementAndGet();
                    listener.copied(shown, 0);
                } else {
                    long n = batch.bytes(b);
                    files.incrementAndGet();
                    bytes.addAndGet(n);
                    listener.copied(shown, n);
                }
            }
        }
    }

    /** Tells the listener of a change made (or, in a dry run, one that would be: counted here then). */
    private void report(String path, Change c) {
        if (dryRun && c.kind() != Change.Kind.ATTRIBUTES) { // counted as the real run counts: what it makes
            (c.kind() == Change.Kind.SYMLINK ? symlinks : files).incrementAndGet();
        }
        listener.changed(path, c);
    }


    private final InodeLinks inodes = new InodeLinks(); // -H
    private final java.util.Set<String> rewritten = ConcurrentHashMap.newKeySet(); // dry run: entries it would copy

    /**
     * -H, once every file arrived: each queued name becomes a link to its first's copy, made under a
     * temporary name and renamed over what was there; a name that already is that link is left alone.
     */
    private void makeHardLinks() {
        try (RootDirs dirs = new RootDirs(rootFd, rootPath)) {
            for (InodeLinks.Link l : inodes.links()) {
                if (halted()) {
                    return;
                }
                if (dirs.size() > 256) {
                    dirs.close(); // a bounded number of directories open at a time
                }
                String shown = PathBytes.show(l.rel());
                if (inodes.firstFailed(l)) {
                    fail(l.rel(), new IOException("hard link " + PathBytes.show(join(rootPath, l.rel())) + " not made: "
                            + PathBytes.show(join(rootPath, l.first())) + " could not be copied"));
                    continue;
                }
                if (!rewritten.contains(Pruner.key(l.first())) && sameInode(dirs, l)) {
                    unchanged.incrementAndGet();
                    continue;
                }
                if (dryRun) {
                    report(shown, HARD_LINK);
                    continue;
                }
                int fs = PathBytes.lastSlash(l.first()), ls = PathBytes.lastSlash(l.rel());
                int fromDir = dirs.parent(l.first(), fs, this::fail);
                int toDir = fromDir < 0 ? -1 : dirs.parent(l.rel(), ls, this::fail);
                if (toDir < 0) {
                    continue;
                }
                byte[] tmp = temps.next();
                int rc = FileOps.linkAt(fromDir, Arrays.copyOfRange(l.first(), fs + 1, l.first().length), toDir, tmp);
                if (rc < 0) {
                    fail(l.rel(), new NativeIoException("linkat", PathBytes.show(join(rootPath, l.rel())), -rc));
                    continue;
                }
                rc = FileOps.renameAt(toDir, tmp, Arrays.copyOfRange(l.rel(), ls + 1, l.rel().length));
                if (rc < 0) {
                    FileOps.unlinkAt(toDir, tmp);
                    fail(l.rel(), new NativeIoException("renameat", PathBytes.show(join(rootPath, l.rel())), -rc));
                    continue;
                }
                report(shown, HARD_LINK);
                files.incrementAndGet();
                listener.copied(shown, 0);
            }
        }
    }

    /** Whether DEST already holds {@code l} as a link to its first's copy (false when either is missing or unreadable). */
    private boolean sameInode(RootDirs dirs, InodeLinks.Link l) {
        int fs = PathBytes.lastSlash(l.first()), ls = PathBytes.lastSlash(l.rel());
        int fromDir = dirs.parent(l.first(), fs);
        int toDir = fromDir < 0 ? -1 : dirs.parent(l.rel(), ls);
        if (toDir < 0) {
            return false;
        }
        try {
            long[] target = FileOps.lstatAt(fromDir, Arrays.copyOfRange(l.first(), fs + 1, l.first().length));
            long[] existing = FileOps.lstatAt(toDir, Arrays.copyOfRange(l.rel(), ls + 1, l.rel().length));
            return target != null && existing != null && existing[3] == target[3] && existing[4] == target[4];
        } catch (NativeIoException e) {
            return false;
        }
    }

    /**
     * --delete: in each destination directory the copy wrote, removes what the source directory does
     * not have (see {@link Pruner}), beneath the root descriptor.
     */
    private void deleteExtraneous(List<DirMeta> dirs) {
        Pruner pruner = new Pruner(deleteExcluded ? FilterRules.NONE : filter, dryRun, rootPath, new Pruner.Report() {
            @Override
            public void removed(byte[] rel) {
                deleted.incrementAndGet();
                String shown = PathBytes.show(rel);
                tell(() -> listener.changed(shown, DELETED));
                if (!dryRun) {
                    tell(() -> listener.deleted(shown));
                }
            }

            @Override
            public void failed(byte[] rel, NativeIoException e) {
                fail(rel, e);
            }
        });
        for (DirMeta d : dirs) {
            if (halted()) {
                return;
            }
            int fd = rootFd < 0 ? -Errno.ENOENT : d.rel().length == 0 ? rootFd : FileOps.openDirNoFollow(rootFd, d.rel());
            if (fd < 0 && dryRun && fd == -Errno.ENOENT) {
                continue; // a directory the copy would make holds nothing to delete
            }
            if (fd < 0) {
                fail(d.rel(), new NativeIoException("openat2", PathBytes.show(join(rootPath, d.rel())), -fd));
                continue;
            }
            try {
                java.util.Set<String> inSource = new java.util.HashSet<>();
                for (FileOps.Entry e : d.meta().entries()) {
                    // --delete-excluded: what the filter leaves out of the source counts as not there
                    if (!deleteExcluded || filter.isEmpty() || !filter.excludes(join(d.rel(), e.name()), e.type() == FileOps.TYPE_DIR)) {
                        inSource.add(Pruner.key(e.name()));
                    }
                }
                pruner.prune(fd, d.rel(), inSource);
            } catch (NativeIoException e) {
                fail(d.rel(), e);
            } finally {
                if (fd != rootFd) {
                    FileOps.close(fd);
                }
            }
        }
    }

    /** Directory modes and times go on last: writing into a directory changes its mtime. */
    private void applyDirectoryMeta(byte[] srcRoot, List<DirMeta> dirs) throws IOException {
        if (dirs.isEmpty() || (stop.get() && failFast) || dryRun) {
            return;
        }
        // modes and times are set synchronously in the C core, on opened descriptors: the smallest ring does
        try (Ring ring = Ring.open(1, 4096, 0)) {
            Batch batch = new Batch(Math.min(dirs.size(), 256));
            for (int start = 0; start < dirs.size(); start += batch.capacity()) {
                batch.clear();
                try (RootDirs parents = new RootDirs(rootFd, rootPath)) {
                    for (int i = start; i < Math.min(dirs.size(), start + batch.capacity()); i++) {
                        FileOps.Listing m = dirs.get(i).meta();
                        byte[] rel = dirs.get(i).rel();
                        int slash = PathBytes.lastSlash(rel);
                        byte[] parent = slash < 0 ? new byte[0] : Arrays.copyOf(rel, slash);
                        int dir = rel.length == 0 ? rootFd : parents.of(parent);
                        byte[] name = rel.length == 0 ? new byte[] {'.'} : Arrays.copyOfRange(rel, slash + 1, rel.length);
                        if (dir < 0) {
                            NativeIoException e = new NativeIoException("openat2", PathBytes.show(join(rootPath, parent)), -dir);
                            failures.add(e);
                            tell(() -> listener.failed(e.path(), e));
                            continue;
                        }
                        batch.addSetMetaAt(join(srcRoot, rel), dir, name, join(rootPath, rel), m.mode(), m.mtimeSec(),
                                m.mtimeNsec(), m.uid(), m.gid(), flags);
                    }
                    if (batch.size() > 0) {
                        ring.run(batch);
                    }
                }
                for (int i = 0; i < batch.size(); i++) {
                    NativeIoException e = batch.failure(i);
                    if (e != null) {
                        failures.add(e);
                        tell(() -> listener.failed(e.path(), e));
                    }
                }
            }
        }
    }

    private void fail(byte[] relative, IOException e) {
        if (failFast) {
            stop.set(true);
        }
        if (hardLinks) {
            inodes.failed(relative); // a first that failed gets no links
        }
        failures.add(e);
        listener.failed(PathBytes.show(relative), e);
    }

    /** Runs a listener call whose own failure would only hide the one being reported. */
    private static void tell(Runnable call) {
        try {
            call.run();
        } catch (RuntimeException ignored) {
            // the failure is in the result either way
        }
    }

    private static byte[] join(byte[] root, byte[] rel) {
        return rel.length == 0 ? root : PathBytes.join(root, rel);
    }
}
