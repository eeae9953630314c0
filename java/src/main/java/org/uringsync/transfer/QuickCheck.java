package org.uringsync.transfer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.uringsync.CopyListener.Change;
import org.uringsync.nativeio.Errno;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.nativeio.Ring;
import org.uringsync.path.PathRules;
import org.uringsync.protocol.Message;

/**
 * One receiving connection's answers to FILE_LIST and FILE_LIST_C (protocol version 4): rsync's quick
 * check against DEST (or, with -c, the content compare), the WANT it sends back, the files it keeps
 * given the offered mode and time in place, and the names it found nothing at, which
 * {@link DestWriter} may then write under their own name (see {@link #takeAbsent}). Nothing is
 * created here; directories are only looked up beneath DEST.
 */
final class QuickCheck {
    private static final int S_IFMT = 0170000, S_IFREG = 0100000;
    /** A new file of at most this size, absent at the quick check, is written under its own name. */
    static final long IN_PLACE_MAX = 1 << 20;
    /** About the most bytes of names {@link #absent} keeps. */
    private static final long MAX_ABSENT_BYTES = 16L << 20;
    private static final int MAX_ABSENT = 1 << 16; // more than the sender has in flight; beyond, the temporary way

    private final long id;
    private final Consumer<String> log;
    private final OfferedNames offered;
    private final Set<String> made;
    private int rootFd = -1;
    private DestDirs dirs;
    private ChangeReports reports; // null: not asked
    private boolean dryRun;
    /**
     * Files WANTed because nothing was at their name (keys). One of at most {@link #IN_PLACE_MAX}
     * bytes is written under that name at once (O_EXCL: what appears there meanwhile sends it the
     * temporary way): no rename, the cost that counts for small files. There is nothing of the
     * user's to protect from half-written data, a failure removes the file, and one that a killed
     * receiver leaves half-written has not the source's time, so the next run's quick check sends
     * it again. Larger files, where a kill mid-file is likely, keep the temporary name.
     */
    private final Set<String> absent = new java.util.HashSet<>();
    private long absentBytes;
    /**
     * Version 5: the files offered and not wanted whose KEPT has not come yet (keys), the only ones a
     * KEPT may change; at most {@link #MAX_ABSENT} (a KEPT follows its WANT by a few lists at most).
     */
    private Set<String> kept; // null: not version 5

    /**
     * @param offered where every offered name is noted (for DELETE)
     * @param made the directories this connection made (keys): nothing of the transfer's is in them yet
     */
    QuickCheck(long id, Consumer<String> log, OfferedNames offered, Set<String> made) {
        this.id = id;
        this.log = log;
        this.offered = offered;
        this.made = made;
    }

    /** The connection's DEST (a descriptor) and its open directories, from the start of the transfer. */
    void open(int rootFd, DestDirs dirs) {
        this.rootFd = rootFd;
        this.dirs = dirs;
    }

    /** Version 5: the files not wanted are noted for their KEPT (see {@link #takeKept}). */
    void trackKept() {
        kept = new java.util.HashSet<>();
    }

    /** Version 5: notes {@code path}, offered and not wanted, for its KEPT (at most {@link #MAX_ABSENT} at once). */
    private void noteKept(byte[] path) {
        if (kept != null && kept.size() < MAX_ABSENT) {
            kept.add(Pruner.key(path));
        }
    }

    /** Whether {@code path} was offered and not wanted, and has had no KEPT yet (forgotten now). */
    boolean takeKept(byte[] path) {
        return kept != null && kept.remove(Pruner.key(path));
    }

    /** CHANGES: report each change to {@code reports}; with {@code dryRun} make none. */
    void reporting(ChangeReports reports, boolean dryRun) {
        this.reports = reports;
        this.dryRun = dryRun;
    }

    /**
     * Whether nothing was at {@code path} when it was offered (forgotten now), and it is small enough to
     * be written under its own name.
     */
    boolean takeAbsent(byte[] path, long size) {
        boolean was = absent.remove(Pruner.key(path));
        if (was) {
            absentBytes -= path.length;
        }
        return was && size <= IN_PLACE_MAX;
    }

    /**
     * Version 4's quick check, as rsync's: the sender offers files, the receiver asks for those
     * whose copy beneath DEST is not a regular file of the same size and modification time.
     * Paths are checked as FILE_HDR's are.
     */
    Message.Want answer(Message.FileList list, Ring ring) throws IOException {
        boolean[] wanted = new boolean[list.entries().size()];
        Map<String, Integer> looked = new java.util.HashMap<>(); // parents opened for this list, nothing created
        int[] same = new int[wanted.length]; // -c: entries whose file here has their size, compared by content
        int[] sameDir = new int[wanted.length];
        long[] sameMode = new long[wanted.length];
        int nsame = 0;
        try {
            for (int i = 0; i < wanted.length; i++) {
                Message.FileList.Entry e = list.entries().get(i);
                byte[] path = e.path();
                int slash = DestWriter.checkedSlash(path);
                offered.entry(path, slash);
                byte[] rel = slash < 0 ? new byte[0] : Arrays.copyOf(path, slash);
                String k = new String(rel, StandardCharsets.ISO_8859_1);
                Integer dir = dirs.cached(k);
                if (dir == null) {
                    dir = looked.get(k);
                }
                if (dir == null) {
                    dir = FileOps.findDirBeneath(rootFd, rel);
                    if (dir < 0 && dir != -Errno.ENOENT) {
                        throw DestDirs.refused(path, dir);
                    }
                    looked.put(k, dir);
                }
                boolean fresh = dir < 0 || made.contains(k); // a directory this transfer made holds none of its files yet
                long[] st = fresh ? null : FileOps.lstatAt(dir, Arrays.copyOfRange(path, slash + 1, path.length));
                boolean file = st != null && (st[0] & S_IFMT) == S_IFREG && st[1] == e.size();
                if (file && e.hash() != null) {
                    same[nsame] = i;
                    sameDir[nsame] = dir;
                    sameMode[nsame++] = st[0];
                    wanted[i] = st[2] != e.mtimeNanos(); // for now: whether its time differs
                    continue;
                }
                wanted[i] = !file || st[2] != e.mtimeNanos();
                if (!wanted[i]) {
                    settle(dir, e, st[0], false);
                    noteKept(path);
                }
                if (st == null && absent.size() < MAX_ABSENT && absentBytes + path.length <= MAX_ABSENT_BYTES
                        && absent.add(Pruner.key(path))) {
                    absentBytes += path.length;
                }
                if (wanted[i] && reports != null) {
                    boolean regular = st != null && (st[0] & S_IFMT) == S_IFREG;
                    reports.wanted(path, !regular ? ChangeReports.NEW_FILE
                            : new Change(Change.Kind.CHANGED_FILE, st[1] != e.size(), st[2] != e.mtimeNanos()));
                }
            }
            if (nsame > 0) {
                compareContents(list, ring, same, sameDir, sameMode, nsame, wanted);
            }
        } finally {
            for (int fd : looked.values()) {
                if (fd >= 0) {
                    FileOps.close(fd);
                }
            }
        }
        return new Message.Want(wanted);
    }

    /**
     * -c (FILE_LIST_C): the files here of entries {@code same} (in directories {@code sameDir}), which
     * have the offered size, are hashed (many at once through the ring) and wanted when their content
     * differs or cannot be read; one whose content matches but whose time differs ({@code wanted}
     * says so on entry) gets the offered time instead of being sent.
     */
    private void compareContents(Message.FileList list, Ring ring, int[] same, int[] sameDir, long[] sameMode, int n,
            boolean[] wanted) throws IOException {
        byte[][] names = new byte[n][];
        String[] shown = new String[n];
        long[] sizes = new long[n]; // ours too: only files of the offered size are compared
        for (int j = 0; j < n; j++) {
            Message.FileList.Entry e = list.entries().get(same[j]);
            byte[] path = e.path();
            names[j] = Arrays.copyOfRange(path, PathBytes.lastSlash(path) + 1, path.length);
            shown[j] = PathRules.show(path);
            sizes[j] = e.size();
        }
        Ring.Hashes ours = ring.hash(Arrays.copyOf(sameDir, n), names, shown, sizes);
        for (int j = 0; j < n; j++) {
            Message.FileList.Entry e = list.entries().get(same[j]);
            boolean retime = wanted[same[j]];
            wanted[same[j]] = !ours.same(j, e.hash(), 0) || !settle(sameDir[j], e, sameMode[j], retime);
            if (!wanted[same[j]]) {
                noteKept(e.path());
            }
            if (wanted[same[j]] && reports != null) {
                reports.wanted(e.path(), new Change(Change.Kind.CHANGED_FILE, true, false, retime, false, false));
            }
        }
    }

    /**
     * A file the receiver keeps (the quick check, or -c, found it the same) gets the offered
     * permissions ({@code mode & 0777}, as written files) when its own differ, and with {@code retime}
     * (-c: the same content at another time) the offered mtime; in place, never followed; nothing in
     * a dry run. Reported as {@code .f..tp.....}; a chmod refused (a file not ours, a file system
     * without modes) is logged and the file kept as it is. @return false when the time could not be
     * set (the file is then sent whole)
     */
    private boolean settle(int dir, Message.FileList.Entry e, long stMode, boolean retime) throws NativeIoException {
        int mode = e.mode() & 0777;
        boolean perms = (stMode & 07777) != mode;
        if (!perms && !retime) {
            return true;
        }
        byte[] path = e.path();
        byte[] name = Arrays.copyOfRange(path, PathBytes.lastSlash(path) + 1, path.length);
        if (!dryRun && retime && FileOps.linkTimeAt(dir, name, e.mtimeNanos()) < 0) {
            return false;
        }
        int rc = dryRun || !perms ? 0 : FileOps.fileMetaAt(dir, name, mode, -1, -1, false);
        if (rc < 0) { // best effort, as rsync's: the file itself is right (not ours to chmod, or a file system without modes)
            log.accept("connection " + id + ": chmod " + PathRules.show(path) + ": " + Errno.describe(-rc));
            perms = false;
        }
        if (perms || retime) {
            if (reports != null) {
                reports.report(new Change(Change.Kind.ATTRIBUTES, false, false, retime, perms, false), path);
            }
        }
        return true;
    }
}
