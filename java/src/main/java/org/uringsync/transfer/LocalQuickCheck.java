package org.uringsync.transfer;

import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import org.uringsync.CopyListener.Change;
import org.uringsync.nativeio.Batch;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.nativeio.Ring;

/**
 * The local copy's quick check, for one batch's entries: what each needs (a copy, its attributes
 * made the source's, or nothing), from one STAT batch of both sides (with -c, both sides hashed
 * through the ring). Files it leaves in place are counted here (unchanged, and their bytes as kept);
 * with -H, names that will be hard links are noted in {@link InodeLinks}.
 */
final class LocalQuickCheck {
    private static final int S_IFMT = 0170000, S_IFREG = 0100000;
    private static final java.util.function.BooleanSupplier SAME = () -> false; // without -X: attributes not compared

    /** Where an entry's failure goes. */
    interface Failures {
        void fail(byte[] relative, IOException e);
    }

    private final int flags;
    private final boolean preserve;
    private final boolean xattrs;
    private final boolean checksum;
    private final boolean hardLinks;
    private final InodeLinks inodes;
    private final AtomicLong keptBytes;
    private final AtomicLong unchanged;
    private final byte[] rootPath;
    private final Failures failures;

    /**
     * @param flags the batch flags of the copy ({@link Batch#FLAG_OWNER} set: owners compared too)
     * @param rootPath the destination root's path, for messages
     */
    LocalQuickCheck(int flags, boolean preserve, boolean xattrs, boolean checksum, boolean hardLinks, InodeLinks inodes,
            AtomicLong keptBytes, AtomicLong unchanged, byte[] rootPath, Failures failures) {
        this.flags = flags;
        this.preserve = preserve;
        this.xattrs = xattrs;
        this.checksum = checksum;
        this.hardLinks = hardLinks;
        this.inodes = inodes;
        this.keptBytes = keptBytes;
        this.unchanged = unchanged;
        this.rootPath = rootPath;
        this.failures = failures;
    }

    /**
     * rsync's quick check for the entries of {@code [start, end)}: what each needs ({@code change},
     * null when nothing). Entries that may have a copy already are looked at in one batch (lstat of
     * both sides, no symlink followed, nothing opened): a regular file whose target is a regular file
     * of the same size and modification time is unchanged and not copied. Entries in directories this
     * copy makes are new without looking; symlinks are always made again.
     */
    void check(Ring ring, Batch batch, LocalCopier.Unit u, int start, int end, RootDirs dirs, Change[] change,
            long[][] attrs) throws NativeIoException {
        batch.clear();
        int[] item = new int[end - start];
        int[] same = new int[end - start]; // -c: batch entries whose target has their size
        int nsame = 0;
        for (int i = start; i < end; i++) {
            change[i - start] = u.link()[i] ? LocalCopier.SYMLINK : LocalCopier.NEW_FILE;
            if (!u.check()[i]) {
                if (hardLinks && !u.link()[i]) { // -H: every file's inode is looked at, its source alone here
                    item[batch.size()] = i;
                    batch.addStat(join(u.srcRoot(), u.rel()[i]));
                }
                continue;
            }
            byte[] d = u.dstRel()[i];
            int slash = PathBytes.lastSlash(d);
            int dir = dirs.parent(d, slash, failures);
            if (dir < 0) {
                change[i - start] = null; // failed: nothing more to do with it
                continue;
            }
            item[batch.size()] = i;
            batch.addStatAt(join(u.srcRoot(), u.rel()[i]), dir, Arrays.copyOfRange(d, slash + 1, d.length),
                    join(rootPath, d));
        }
        if (batch.size() == 0) {
            return;
        }
        ring.run(batch);
        for (int b = 0; b < batch.size(); b++) {
            int i = item[b];
            NativeIoException e = batch.failure(b);
            if (e != null) {
                failures.fail(u.dstRel()[i], e);
                change[i - start] = null;
            } else if (hardLinks && (batch.mode(b) & S_IFMT) == S_IFREG && batch.links(b) > 1
                    && inodes.later(batch.device(b), batch.inode(b), u.dstRel()[i])) {
                change[i - start] = null; // a link to the first of its inode, made at the end
            } else if ((batch.targetMode(b) & S_IFMT) == S_IFREG && (batch.mode(b) & S_IFMT) == S_IFREG) {
                if (checksum && batch.bytes(b) == batch.targetSize(b)) {
                    same[nsame++] = b; // compared by content, below
                } else {
                    change[i - start] = compare(batch, b, -1, attrs, i - start, xattrs ? xattrsDiffer(u, i, dirs) : SAME);
                }
            }
        }
        if (nsame > 0) {
            compareContents(ring, batch, u, item, same, nsame, dirs, start, change, attrs);
        }
    }

    /**
     * -c: the regular files of {@code same} (batch entries whose target has their size) are read and
     * hashed on both sides, many at once through the ring (a large file and its copy on two threads at
     * once), and compared by content. A source that
     * cannot be read fails; a target that cannot be read is replaced.
     */
    private void compareContents(Ring ring, Batch batch, LocalCopier.Unit u, int[] item, int[] same, int n, RootDirs dirs, int start,
            Change[] change, long[][] attrs) throws NativeIoException {
        // one call for both sides: a source file and its copy are read at the same time
        int[] dirFds = new int[2 * n];
        byte[][] names = new byte[2 * n][];
        String[] shown = new String[2 * n];
        long[] sizes = new long[2 * n]; // a source and its copy have the same size here
        for (int k = 0; k < n; k++) {
            int i = item[same[k]];
            sizes[2 * k] = sizes[2 * k + 1] = batch.bytes(same[k]);
            byte[] d = u.dstRel()[i];
            int slash = PathBytes.lastSlash(d);
            dirFds[2 * k] = Batch.AT_FDCWD;
            names[2 * k] = join(u.srcRoot(), u.rel()[i]);
            shown[2 * k] = PathBytes.show(names[2 * k]);
            dirFds[2 * k + 1] = dirs.parent(d, slash); // opened by the quick check
            names[2 * k + 1] = Arrays.copyOfRange(d, slash + 1, d.length);
            shown[2 * k + 1] = PathBytes.show(join(rootPath, d));
        }
        Ring.Hashes h = ring.hash(dirFds, names, shown, sizes);
        for (int k = 0; k < n; k++) {
            int i = item[same[k]];
            if (h.failures()[2 * k] != null) {
                failures.fail(u.dstRel()[i], h.failures()[2 * k]);
                change[i - start] = null;
            } else {
                boolean differs = !h.same(2 * k + 1, h.digests(), Ring.HASH_BYTES * 2 * k); // a copy that cannot be read: replaced
                change[i - start] = compare(batch, same[k], differs ? 1 : 0, attrs, i - start, xattrs ? xattrsDiffer(u, i, dirs) : SAME);
            }
        }
    }

    /**
     * What a regular file whose target is a regular file needs (null: nothing, counted unchanged): by
     * size and time (rsync's quick check), or with -c by content ({@code content} 1 differs, 0 same;
     * -1 not compared). Same content with another time, or another mode or owner, is an ATTRIBUTES
     * change: the file stays and gets the source's ({@code attrs[k]}: mode, uid, gid, the mtime to set
     * or {@link Long#MIN_VALUE}).
     */
    private Change compare(Batch batch, int b, int content, long[][] attrs, int k, java.util.function.BooleanSupplier xattrsDiffer) {
        boolean size = batch.bytes(b) != batch.targetSize(b);
        boolean time = batch.mtimeNanos(b) != batch.targetMtimeNanos(b);
        boolean perms = (batch.mode(b) & 07777) != (batch.targetMode(b) & 07777);
        boolean owner = (flags & Batch.FLAG_OWNER) != 0
                && (batch.uid(b) != batch.targetUid(b) || batch.gid(b) != batch.targetGid(b));
        if (content < 0 ? size || time : content > 0 || size) {
            return new Change(Change.Kind.CHANGED_FILE, content > 0, size, time, perms, owner);
        }
        boolean retime = content == 0 && time && preserve; // -c: same content, the source's time
        if (owner && xattrs) { // a change of owner would drop security.capability: copied again
            return new Change(Change.Kind.CHANGED_FILE, false, false, retime, perms, true);
        }
        keptBytes.addAndGet(batch.bytes(b));
        boolean xattrsChange = xattrs && xattrsDiffer.getAsBoolean();
        if (perms || owner || retime || xattrsChange) { // as rsync: the file stays, its attributes become the source's
            attrs[k] = new long[] {batch.mode(b), batch.uid(b), batch.gid(b), retime ? batch.mtimeNanos(b) : Long.MIN_VALUE};
            return new Change(Change.Kind.ATTRIBUTES, false, false, retime, perms, owner, xattrsChange);
        }
        unchanged.incrementAndGet();
        return null;
    }

    /**
     * -X, for a file the quick check may keep: whether its extended attributes differ from the source's
     * (looked at only when asked). One that cannot be looked at is reported and kept as it is.
     */
    private java.util.function.BooleanSupplier xattrsDiffer(LocalCopier.Unit u, int i, RootDirs dirs) {
        return () -> {
            byte[] d = u.dstRel()[i];
            int slash = PathBytes.lastSlash(d);
            int dir = dirs.parent(d, slash); // opened by the quick check
            int rc = dir < 0 ? dir : FileOps.syncXattrs(join(u.srcRoot(), u.rel()[i]), dir, Arrays.copyOfRange(d, slash + 1, d.length),
                    (flags & Batch.FLAG_XATTRS_ALL) != 0, false);
            if (rc < 0) {
                failures.fail(d, new NativeIoException("extended attributes (getxattr)", PathBytes.show(join(rootPath, d)), -rc));
            }
            return rc > 0;
        };
    }

    private static byte[] join(byte[] root, byte[] rel) {
        return rel.length == 0 ? root : PathBytes.join(root, rel);
    }
}
