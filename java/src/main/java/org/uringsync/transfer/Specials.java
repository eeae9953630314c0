package org.uringsync.transfer;

import org.uringsync.nativeio.Errno;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;

/**
 * Devices, FIFOs and sockets (rsync's -D), made beneath a directory descriptor by the local copy and
 * the receiver, when running as root: under a temporary name, with owner and time, renamed over what
 * was there (never a directory); a node already the same is left alone.
 */
final class Specials {
    static final int S_IFMT = 0170000, S_IFDIR = 0040000;

    private Specials() {}

    /** @return whether {@code st} (lstatAt's, or null) already is the node {@link #make} would make */
    static boolean same(long[] st, int mode, long rdev, long mtimeNanos, int[] owner) {
        return st != null && st[0] == (mode & 0xffffffffL) && st[8] == rdev && st[2] == mtimeNanos
                && (owner == null || ReceivedAttributes.ownedBy(st, owner));
    }

    /**
     * Makes {@code name} inside {@code dir} a node of {@code mode} and {@code rdev}, modified at
     * {@code mtimeNanos}, owned by {@code owner} ({uid, gid}; null: as made).
     *
     * @return false when it already was that node (nothing done)
     */
    static boolean make(int dir, byte[] name, String shown, int mode, long rdev, long mtimeNanos, int[] owner,
            TempNames.Namer temps) throws NativeIoException {
        long[] st = FileOps.lstatAt(dir, name);
        if (same(st, mode, rdev, mtimeNanos, owner)) {
            return false;
        }
        if (st != null && (st[0] & S_IFMT) == S_IFDIR) {
            throw new NativeIoException("mknodat (a directory is in the way)", shown, Errno.EISDIR);
        }
        byte[] tmp = temps.next();
        int rc = FileOps.mknodAt(dir, tmp, mode, rdev);
        if (rc < 0) {
            throw new NativeIoException("mknodat", shown, -rc);
        }
        rc = owner == null ? 0 : FileOps.chownAt(dir, tmp, owner[0], owner[1]);
        String op = "fchownat";
        if (rc == 0) {
            rc = FileOps.linkTimeAt(dir, tmp, mtimeNanos);
            op = "utimensat";
        }
        if (rc == 0) {
            rc = FileOps.renameAt(dir, tmp, name);
            op = "renameat";
        }
        if (rc < 0) {
            FileOps.unlinkAt(dir, tmp);
            throw new NativeIoException(op, shown, -rc);
        }
        return true;
    }
}
