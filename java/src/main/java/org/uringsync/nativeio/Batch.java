package org.uringsync.nativeio;

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
    public static final int OP_COPY_FILE = 1;
    /** Recreate a symlink (its target text is copied, never followed). */
    public static final int OP_SYMLINK = 2;
    /** Apply mode, and times/owner as the flags ask, to an existing path (used for directories). */
    public static final int OP_SET_META = 3;
    /**
     * Open a regular file for reading: the result holds the descriptor
     * ({@link #fd}), size ({@link #bytes}) and mode ({@link #mode}); the caller owns the descriptor.
     */
    public static final int OP_OPEN_READ = 4;

    /** Set the modification time from the source (or from the request for {@link #OP_SET_META}). */
    public static final int FLAG_TIMES = 1;
    /** Set owner and group (needs root). */
    public static final int FLAG_OWNER = 2;

    static final int HEADER = 40;
    static final int RESULT = 32;

    /** Failure stages reported by the C core; {@link #stageName} and {@link #stageOnSource} describe them. */
    private static final String[] STAGES = {"", "openat", "fstat", "openat", "read", "write", "fchown", "fchmod",
        "futimens", "close", "renameat", "readlink", "symlinkat", "lchown", "utimensat", "chmod", "lstat",
        "not a regular file", "unlinkat", "copy_file_range"};
    private static final boolean[] ON_SOURCE = {false, true, true, false, true, false, false, false,
        false, false, false, true, false, false, false, false, true, true, false, false};

    private ByteBuffer requests;
    private ByteBuffer results;
    private int count;
    private final int[] offsets;
    private final byte[][] shown; // the target as messages name it (the whole path, not the name in its directory)

    /** {@code AT_FDCWD}: a target given as a path, not relative to a directory descriptor. */
    public static final int AT_FDCWD = -100;

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

    /** Adds a file copy from {@code src} to {@code dst}. @return the request index */
    public int addCopy(byte[] src, byte[] dst, int flags) {
        return add(OP_COPY_FILE, flags, 0, 0, 0, 0, 0, src, AT_FDCWD, dst, dst);
    }

    /**
     * Adds a file copy to {@code name} inside the directory {@code dir} (a descriptor that stays open
     * while the batch runs): the file is created, replaced and renamed there without following any
     * symlink, so nothing swapped into the destination meanwhile can redirect it. {@code shown} is
     * the path messages use.
     */
    public int addCopyAt(byte[] src, int dir, byte[] name, byte[] shown, int flags) {
        return add(OP_COPY_FILE, flags, 0, 0, 0, 0, 0, src, dir, name, shown);
    }

    /** Adds a symlink copy: {@code dst} becomes a link with the target text of {@code src}. */
    public int addSymlink(byte[] src, byte[] dst, int flags) {
        return add(OP_SYMLINK, flags, 0, 0, 0, 0, 0, src, AT_FDCWD, dst, dst);
    }

    /** As {@link #addSymlink}, made as {@code name} inside the directory {@code dir} (see {@link #addCopyAt}). */
    public int addSymlinkAt(byte[] src, int dir, byte[] name, byte[] shown, int flags) {
        return add(OP_SYMLINK, flags, 0, 0, 0, 0, 0, src, dir, name, shown);
    }

    /** Adds an open-for-reading of {@code src} (see {@link #OP_OPEN_READ}). */
    public int addOpenRead(byte[] src) {
        return add(OP_OPEN_READ, 0, 0, 0, 0, 0, 0, src, AT_FDCWD, new byte[0], new byte[0]);
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
        return add(OP_SET_META, flags, mode, mtimeSec, mtimeNsec, uid, gid, new byte[0], dir, name, shown);
    }

    private int add(int op, int flags, int mode, long sec, int nsec, int uid, int gid, byte[] src, int dir, byte[] dst,
            byte[] shownAs) {
        if (isFull()) {
            throw new IllegalStateException("batch is full (" + offsets.length + " requests)");
        }
        int need = HEADER + align8(src.length + 1 + dst.length + 1);
        if (requests.remaining() < need) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(requests.capacity() * 2, requests.position() + need))
                    .order(ByteOrder.nativeOrder());
            requests.flip();
            bigger.put(requests);
            requests = bigger;
        }
        int at = requests.position();
        offsets[count] = at;
        requests.put((byte) op).put((byte) flags).putShort((short) 0).putInt(mode).putLong(sec).putInt(nsec)
                .putInt(uid).putInt(gid).putInt(src.length).putInt(dst.length).putInt(dir);
        requests.put(src).put((byte) 0).put(dst).put((byte) 0);
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
        int res = results.getInt(check(i) * RESULT);
        return res < 0 ? -res : 0;
    }

    /** @return the descriptor an {@link #OP_OPEN_READ} request opened. */
    public int fd(int i) {
        return results.getInt(check(i) * RESULT);
    }

    /** @return the st_mode an {@link #OP_OPEN_READ} request found. */
    public int mode(int i) {
        return results.getInt(check(i) * RESULT + 16);
    }

    /** @return the modification time (ns since the epoch) an {@link #OP_OPEN_READ} request found. */
    public long mtimeNanos(int i) {
        return results.getLong(check(i) * RESULT + 24);
    }

    /** @return the number of file bytes request {@code i} copied (or, for {@link #OP_OPEN_READ}, the size). */
    public long bytes(int i) {
        return results.getLong(check(i) * RESULT + 8);
    }

    /** @return the failure of request {@code i} as an exception naming operation and path, or null. */
    public NativeIoException failure(int i) {
        int errno = errno(i);
        if (errno == 0) {
            return null;
        }
        int stage = results.getInt(i * RESULT + 4);
        if (stage <= 0 || stage >= STAGES.length) {
            stage = 0;
        }
        byte[] path = ON_SOURCE[stage] ? source(i) : shown[i];
        return new NativeIoException(STAGES[stage].isEmpty() ? "operation" : STAGES[stage], PathBytes.show(path), errno);
    }

    /** @return the source path bytes of request {@code i}. */
    public byte[] source(int i) {
        int at = offsets[check(i)];
        byte[] b = new byte[requests.getInt(at + 28)];
        requests.get(at + HEADER, b);
        return b;
    }

    /** @return the target path bytes of request {@code i}. */
    public byte[] target(int i) {
        int at = offsets[check(i)];
        int srcLen = requests.getInt(at + 28);
        byte[] b = new byte[requests.getInt(at + 32)];
        requests.get(at + HEADER + srcLen + 1, b);
        return b;
    }

    /** @return the operation code of request {@code i}. */
    public int op(int i) {
        return requests.get(offsets[check(i)]);
    }

    private int check(int i) {
        if (i < 0 || i >= count) {
            throw new IndexOutOfBoundsException(i);
        }
        return i;
    }
}
