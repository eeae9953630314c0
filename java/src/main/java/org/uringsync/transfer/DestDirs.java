package org.uringsync.transfer;

import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.uringsync.nativeio.Errno;
import org.uringsync.nativeio.FileOps;
import org.uringsync.path.PathRules;

/**
 * The directories one receiving connection keeps open beneath DEST: each opened (created if missing)
 * through no symlink that leaves DEST, at most {@link #MAX_OPEN} at a time, the least recently used
 * closed first, except the one pinned (it holds the file being written).
 */
final class DestDirs implements AutoCloseable {
    static final int MAX_OPEN = 32;

    /** Told of each directory the first time it is opened here (key: its path). */
    interface Opened {
        void opened(int fd, byte[] rel, String key);
    }

    private final int rootFd;
    private final Opened opened;
    private final Map<String, Integer> open = new LinkedHashMap<>(16, 0.75f, true);
    private int pinned = -1;

    DestDirs(int rootFd, Opened opened) {
        this.rootFd = rootFd;
        this.opened = opened;
    }

    /** The directory {@code rel} (for the entry {@code path}, named in a refusal), opened or created. */
    int of(byte[] rel, byte[] path) throws DestWriter.PathRefused {
        String k = Pruner.key(rel);
        Integer fd = open.get(k);
        if (fd != null) {
            return fd;
        }
        int d = FileOps.openDirBeneath(rootFd, rel);
        if (d < 0) {
            throw refused(path, d);
        }
        opened.opened(d, rel, k);
        if (open.size() >= MAX_OPEN) { // the eldest goes, unless it is pinned: then the next
            Iterator<Map.Entry<String, Integer>> it = open.entrySet().iterator();
            Map.Entry<String, Integer> eldest = it.next();
            if (eldest.getValue() == pinned && it.hasNext()) {
                eldest = it.next();
            }
            if (eldest.getValue() != pinned) {
                FileOps.close(eldest.getValue());
                open.remove(eldest.getKey());
            }
        }
        open.put(k, d);
        return d;
    }

    /** The directory holding {@code path} (its last slash at {@code slash}; see {@link #of}). */
    int parent(byte[] path, int slash) throws DestWriter.PathRefused {
        return of(slash < 0 ? new byte[0] : Arrays.copyOf(path, slash), path);
    }

    /** The directory of key {@code k} when it is open here, else null (nothing is opened). */
    Integer cached(String k) {
        return open.get(k);
    }

    /** Keeps {@code fd} (one of these, or -1 for none) open until another is pinned. */
    void pin(int fd) {
        pinned = fd;
    }

    /** Closes what is open of {@code path} and beneath it (a link there was replaced), except the pinned one. */
    void forget(byte[] path) {
        String k = Pruner.key(path);
        open.entrySet().removeIf(e -> {
            boolean under = e.getKey().equals(k) || e.getKey().startsWith(k + "/");
            if (under && e.getValue() != pinned) {
                FileOps.close(e.getValue());
                return true;
            }
            return false;
        });
    }

    /** The refusal of {@code path} whose directory could not be opened (-errno). */
    static DestWriter.PathRefused refused(byte[] path, int errno) {
        String why = errno == -Errno.EXDEV ? "it would leave the destination (a symlink points outside)"
                : Errno.describe(-errno);
        return new DestWriter.PathRefused("refused " + PathRules.show(path) + ": " + why);
    }

    @Override
    public void close() {
        for (int d : open.values()) {
            FileOps.close(d);
        }
        open.clear();
    }
}
