package org.uringsync.nativeio;

import java.lang.annotation.Native;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A batch of file operations for one {@link Ring#run(Batch)} call: requests are encoded into a direct
 * buffer whose layout mirrors {@code native/src/batch.h}; the C core writes one result per request.
 *
 * <p>Paths are absolute byte strings (names need not be UTF-8). Not thread-safe.
 */
public final class Batch {
    /** Copy a regular file: data, mode, and times/owner as the flags ask. An existing target is replaced atomically. */
    @Native public static final int OP_COPY_FILE = 1;
    /** Recreate a symlink (its target text is copied, never followed). */
    @Native public static final int OP_SYMLINK = 2;
    /** Apply mode, and times/owner as the flags ask, to an existing path (used for directories). */
    @Native public static final int OP_SET_META = 3;
    /**
     * Open a regular file for reading: the result holds the descriptor
     * ({@link #fd}), size ({@link #bytes}) and mode ({@link #mode}); the caller owns the descriptor.
     */
    @Native public static final int OP_OPEN_READ = 4;
    /**
     * Compare a source with its target, opening neither: the result holds the source's size
     * ({@link #bytes}), mode and mtime, and the target's ({@link #targetMode} 0 when there is none).
     */
    @Native public static final int OP_STAT = 5;

    /** Set the modification time from the source (or from the request for {@link #OP_SET_META}). */
    @Native public static final int FLAG_TIMES = 1;
    /** Set owner and group (needs root). */
    @Native public static final int FLAG_OWNER = 2;
    /** Copy extended attributes of the "user." namespace (-X). */
    @Native public static final int FLAG_XATTRS = 4;
    /** Copy extended attributes of every namespace but "system." (-X as root). */
    @Native public static final int FLAG_XATTRS_ALL = 8;

    // The request and result layouts, the one definition: javac -h writes them into
    // org_uringsync_nativeio_Batch.h, and native/src/batch.h checks its structs against them at build time.
    /** Request: u8 op, u8 flags, u16 pad, u32 mode, i64 mtime_sec, i32 mtime_nsec, u32 uid, u32 gid, then: */
    @Native static final int REQ_OP = 0;
    @Native static final int REQ_FLAGS = 1;
    @Native static final int REQ_MODE = 4;
    @Native static final int REQ_MTIME_SEC = 8;
    @Native static final int REQ_MTIME_NSEC = 16;
    @Native static final int REQ_UID = 20;
    @Native static final int REQ_GID = 24;
    @Native static final int REQ_SRC_LEN = 28;
    @Native static final int REQ_DST_LEN = 32;
    @Native static final int REQ_DST_DIR = 36;
    @Native static final int REQ_TMP_LEN = 40;
    /** Request header bytes; then src NUL dst NUL tmp NUL, padded to 8. */
    @Native static final int HEADER = 48;
    @Native static final int RES_RES = 0;
    @Native static final int RES_STAGE = 4;
    @Native static final int RES_BYTES = 8;
    @Native static final int RES_MODE = 16;
    @Native static final int RES_DST_MODE = 20;
    @Native static final int RES_MTIME_NS = 24;
    @Native static final int RES_DST_SIZE = 32;
    @Native static final int RES_DST_MTIME_NS = 40;
    @Native static final int RES_INO = 48;
    @Native static final int RES_DEV = 56;
    @Native static final int RES_NLINK = 64;
    @Native static final int RES_UID = 72;
    @Native static final int RES_GID = 76;
    @Native static final int RES_DST_UID = 80;
    @Native static final int RES_DST_GID = 84;
    /** Result bytes. */
    @Native static final int RESULT = 88;

    // Where a request failed (the result's stage): values shared with the C core as above.
    @Native static final int ST_NONE = 0;
    @Native static final int ST_OPEN_SRC = 1;
    @Native static final int ST_FSTAT_SRC = 2;
    @Native static final int ST_OPEN_DST = 3;
    @Native static final int ST_READ = 4;
    @Native static final int ST_WRITE = 5;
    @Native static final int ST_FCHOWN = 6;
    @Native static final int ST_FCHMOD = 7;
    @Native static final int ST_FUTIMENS = 8;
    @Native static final int ST_CLOSE = 9;
    @Native static final int ST_RENAME = 10;
    @Native static final int ST_READLINK = 11;
    @Native static final int ST_SYMLINK = 12;
    @Native static final int ST_LCHOWN = 13;
    @Native static final int ST_UTIMENSAT = 14;
    @Native static final int ST_LSTAT_SRC = 15;
    @Native static final int ST_NOT_REGULAR = 16;
    @Native static final int ST_COPY_RANGE = 17;
    @Native static final int ST_LSTAT_DST = 18;
    @Native static final int ST_XATTR = 19;

    /** Each stage's operation as messages name it (index = stage), and whether it acted on the source. */
    private static final String[] STAGES = new String[ST_XATTR + 1];
    private static final boolean[] ON_SOURCE = new boolean[STAGES.length];

    static {
        stage(ST_NONE, "operation", false);
        stage(ST_OPEN_SRC, "openat", true);
        stage(ST_FSTAT_SRC, "fstat", true);
        stage(ST_OPEN_DST, "openat", false);
        stage(ST_READ, "read", true);
        stage(ST_WRITE, "write", false);
        stage(ST_FCHOWN, "fchown", false);
        stage(ST_FCHMOD, "fchmod", false);
        stage(ST_FUTIMENS, "futimens", false);
        stage(ST_CLOSE, "close", false);
        stage(ST_RENAME, "renameat", false);
        stage(ST_READLINK, "readlink", true);
        stage(ST_SYMLINK, "symlinkat", false);
        stage(ST_LCHOWN, "lchown", false);
        stage(ST_UTIMENSAT, "utimensat", false);
        stage(ST_LSTAT_SRC, "lstat", true);
        stage(ST_NOT_REGULAR, "not a regular file", true);
        stage(ST_COPY_RANGE, "copy_file_range", false);
        stage(ST_LSTAT_DST, "lstat", false);
        stage(ST_XATTR, "setxattr", false);
    }

    private static void stage(int stage, String operation, boolean onSource) {
        STAGES[stage] = operation;
        ON_SOURCE[stage] = onSource;
    }

    private ByteBuffer requests;
    private ByteBuffer results;
    private int count;
    private final int[] offsets;
    private final byte[][] shown; // the target as messages name it (the whole path, not the name in its directory)

    private static final byte[] NONE = {};

    /** {@code AT_FDCWD}: a target given as a path, not relative to a directory descriptor. */
    @Native public static final int AT_FDCWD = -100;

    /** @param capacity the most requests this batch will hold */
    public Batch(int capacity) {
        this.offsets = new int[capacity];
        this.shown = new byte[capacity][];
        this.requests = ByteBuffer.allocateDirect(capacity * (HEADER + 64)).order(ByteOrder.nativeOrder());
        this.results = ByteBuffer.allocateDirect(capacity * RESULT).order(ByteOrder.nativeOrder());
    }

    public int size() {
        return count;
    }

    public int capacity() {
        return offsets.length;
    }

    public boolean isFull() {
        return count == offsets.length;
    }

    /** Empties the batch for reuse. */
    public void clear() {
        count = 0;
        requests.clear();
    }

    /**
     * Adds a file copy from {@code src} to {@code dst}; when {@code dst} exists, the copy is written as
     * {@code tmp} (a path beside it) and renamed over it. @return the request index
     */
    public int addCopy(byte[] src, byte[] dst, byte[] tmp, int flags) {
        return add(OP_COPY_FILE, flags, 0, 0, 0, 0, 0, src, AT_FDCWD, dst, tmp, dst);
    }

    /**
     * Adds a file copy to {@code name} inside the directory {@code dir} (a descriptor that stays open
     * while the batch runs): the file is created, replaced and renamed there without following any
     * symlink, so nothing swapped into the destination meanwhile can redirect it. When {@code name}
     * exists, the copy is written as {@code tmp} (a name in the same directory) and renamed over it.
     * {@code shown} is the path messages use.
     */
    public int addCopyAt(byte[] src, int dir, byte[] name, byte[] tmp, byte[] shown, int flags) {
        return add(OP_COPY_FILE, flags, 0, 0, 0, 0, 0, src, dir, name, tmp, shown);
    }

    /** Adds a symlink copy: {@code dst} becomes a link with the target text of {@code src} (see {@link #addCopy}). */
    public int addSymlink(byte[] src, byte[] dst, byte[] tmp, int flags) {
        return add(OP_SYMLINK, flags, 0, 0, 0, 0, 0, src, AT_FDCWD, dst, tmp, dst);
    }

    /** As {@link #addSymlink}, made as {@code name} inside the directory {@code dir} (see {@link #addCopyAt}). */
    public int addSymlinkAt(byte[] src, int dir, byte[] name, byte[] tmp, byte[] shown, int flags) {
        return add(OP_SYMLINK, flags, 0, 0, 0, 0, 0, src, dir, name, tmp, shown);
    }

    /** Adds an open-for-reading of {@code src} (see {@link #OP_OPEN_READ}). */
    public int addOpenRead(byte[] src) {
        return add(OP_OPEN_READ, 0, 0, 0, 0, 0, 0, src, AT_FDCWD, NONE, NONE, NONE);
    }

    /** Adds an lstat of {@code src} alone (see {@link #OP_STAT}; the target mode reads 0). */
    public int addStat(byte[] src) {
        return add(OP_STAT, 0, 0, 0, 0, 0, 0, src, AT_FDCWD, NONE, NONE, src);
    }

    /** Adds a comparison of {@code src} with {@code name} inside {@code dir} (see {@link #OP_STAT}). */
    public int addStatAt(byte[] src, int dir, byte[] name, byte[] shown) {
        return add(OP_STAT, 0, 0, 0, 0, 0, 0, src, dir, name, NONE, shown);
    }

    /** Adds a metadata update of the directory {@code dst} (a path; see {@link #addSetMetaAt}). */
    public int addSetMeta(byte[] dst, int mode, long mtimeSec, int mtimeNsec, int uid, int gid, int flags) {
        return addSetMetaAt(AT_FDCWD, dst, dst, mode, mtimeSec, mtimeNsec, uid, gid, flags);
    }

    /**
     * Adds a metadata update of the directory {@code name} inside {@code dir} (opened without following
     * a symlink; {@code "."} for {@code dir} itself): mode always, times and owner as {@code flags} ask.
     */
    public int addSetMetaAt(int dir, byte[] name, byte[] shown, int mode, long mtimeSec, int mtimeNsec, int uid, int gid,
            int flags) {
        return addSetMetaAt(NONE, dir, name, shown, mode, mtimeSec, mtimeNsec, uid, gid, flags);
    }

    /** As above; with {@link #FLAG_XATTRS} or {@link #FLAG_XATTRS_ALL}, the extended attributes of the directory {@code src} too. */
    public int addSetMetaAt(byte[] src, int dir, byte[] name, byte[] shown, int mode, long mtimeSec, int mtimeNsec, int uid,
            int gid, int flags) {
        return add(OP_SET_META, flags, mode, mtimeSec, mtimeNsec, uid, gid, src, dir, name, NONE, shown);
    }

    private int add(int op, int flags, int mode, long sec, int nsec, int uid, int gid, byte[] src, int dir, byte[] dst,
            byte[] tmp, byte[] shownAs) {
        if (isFull()) {
            throw new IllegalStateException("batch is full (" + offsets.length + " requests)");
        }
        int need = HEADER + align8(src.length + 1 + dst.length + 1 + tmp.length + 1);
        if (requests.remaining() < need) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(requests.capacity() * 2, requests.position() + need))
                    .order(ByteOrder.nativeOrder());
            requests.flip();
            bigger.put(requests);
            requests = bigger;
        }
        int at = requests.position();
        offsets[count] = at;
        requests.put(at + REQ_OP, (byte) op).put(at + REQ_FLAGS, (byte) flags).putShort(at + REQ_FLAGS + 1, (short) 0)
                .putInt(at + REQ_MODE, mode)
                .putLong(at + REQ_MTIME_SEC, sec).putInt(at + REQ_MTIME_NSEC, nsec).putInt(at + REQ_UID, uid)
                .putInt(at + REQ_GID, gid).putInt(at + REQ_SRC_LEN, src.length).putInt(at + REQ_DST_LEN, dst.length)
                .putInt(at + REQ_DST_DIR, dir).putInt(at + REQ_TMP_LEN, tmp.length).putInt(at + REQ_TMP_LEN + 4, 0);
        requests.position(at + HEADER);
        requests.put(src).put((byte) 0).put(dst).put((byte) 0).put(tmp).put((byte) 0);
        requests.position(at + need);
        shown[count] = shownAs;
        return count++;
    }

    private static int align8(int n) {
        return (n + 7) & ~7;
    }

    ByteBuffer requestBuffer() {
        return requests;
    }

    ByteBuffer resultBuffer() {
        return results;
    }

    /** @return 0 when request {@code i} succeeded, else the positive errno. */
    public int errno(int i) {
        int res = results.getInt(check(i) * RESULT + RES_RES);
        return res < 0 ? -res : 0;
    }

    /** @return the descriptor an {@link #OP_OPEN_READ} request opened. */
    public int fd(int i) {
        return results.getInt(check(i) * RESULT + RES_RES);
    }

    /** @return the st_mode an {@link #OP_OPEN_READ} or {@link #OP_STAT} request found. */
    public int mode(int i) {
        return results.getInt(check(i) * RESULT + RES_MODE);
    }

    /** @return the target's st_mode an {@link #OP_STAT} request found, 0 when there is none */
    public int targetMode(int i) {
        return results.getInt(check(i) * RESULT + RES_DST_MODE);
    }

    /** @return the target's size an {@link #OP_STAT} request found */
    public long targetSize(int i) {
        return results.getLong(check(i) * RESULT + RES_DST_SIZE);
    }

    /** @return the target's modification time (ns since the epoch) an {@link #OP_STAT} request found */
    public long targetMtimeNanos(int i) {
        return results.getLong(check(i) * RESULT + RES_DST_MTIME_NS);
    }

    /** @return the modification time (ns since the epoch) an {@link #OP_OPEN_READ} or {@link #OP_STAT} request found. */
    public long mtimeNanos(int i) {
        return results.getLong(check(i) * RESULT + RES_MTIME_NS);
    }

    /** @return the inode of the source an {@link #OP_STAT} request looked at */
    public long inode(int i) {
        return results.getLong(check(i) * RESULT + RES_INO);
    }

    /** @return the device of the source an {@link #OP_STAT} request looked at */
    public long device(int i) {
        return results.getLong(check(i) * RESULT + RES_DEV);
    }

    /** @return the link count of the source an {@link #OP_STAT} request looked at (more than 1: hard links) */
    public long links(int i) {
        return results.getLong(check(i) * RESULT + RES_NLINK);
    }

    /** @return the owner of the source an {@link #OP_OPEN_READ} or {@link #OP_STAT} request looked at */
    public int uid(int i) {
        return results.getInt(check(i) * RESULT + RES_UID);
    }

    /** @return the group of the source an {@link #OP_OPEN_READ} or {@link #OP_STAT} request looked at */
    public int gid(int i) {
        return results.getInt(check(i) * RESULT + RES_GID);
    }

    /** @return the target's owner an {@link #OP_STAT} request found */
    public int targetUid(int i) {
        return results.getInt(check(i) * RESULT + RES_DST_UID);
    }

    /** @return the target's group an {@link #OP_STAT} request found */
    public int targetGid(int i) {
        return results.getInt(check(i) * RESULT + RES_DST_GID);
    }

    /** @return the bytes the file an {@link #OP_OPEN_READ} request opened occupies on disk (fewer than its size: holes) */
    public long allocated(int i) {
        return results.getLong(check(i) * RESULT + RES_DST_SIZE);
    }

    /** @return the number of file bytes request {@code i} copied (or, for {@link #OP_OPEN_READ}, the size). */
    public long bytes(int i) {
        return results.getLong(check(i) * RESULT + RES_BYTES);
    }

    /** @return the failure of request {@code i} as an exception naming operation and path, or null. */
    public NativeIoException failure(int i) {
        int errno = errno(i);
        if (errno == 0) {
            return null;
        }
        int stage = results.getInt(i * RESULT + RES_STAGE);
        if (stage <= 0 || stage >= STAGES.length) {
            stage = ST_NONE;
        }
        byte[] path = ON_SOURCE[stage] ? source(i) : shown[i];
        return new NativeIoException(STAGES[stage], PathBytes.show(path), errno);
    }

    /** @return the source path bytes of request {@code i}. */
    public byte[] source(int i) {
        int at = offsets[check(i)];
        byte[] b = new byte[requests.getInt(at + REQ_SRC_LEN)];
        requests.get(at + HEADER, b);
        return b;
    }

    /** @return the target path bytes of request {@code i}. */
    public byte[] target(int i) {
        int at = offsets[check(i)];
        int srcLen = requests.getInt(at + REQ_SRC_LEN);
        byte[] b = new byte[requests.getInt(at + REQ_DST_LEN)];
        requests.get(at + HEADER + srcLen + 1, b);
        return b;
    }

    /** @return the operation code of request {@code i}. */
    public int op(int i) {
        return requests.get(offsets[check(i)] + REQ_OP);
    }

    private int check(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException(i);
        }
        return i;
    }
}
