package org.uringsync.transfer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.PathBytes;

/**
 * The destination directories one batch of the local copy works in, opened beneath the root's
 * descriptor through no symlink, each once; closed when the batch is done.
 */
final class RootDirs implements AutoCloseable {
    private final int rootFd;
    private final byte[] rootPath;
    private final Map<String, Integer> open = new HashMap<>();

    /**
     * @param rootFd the destination root (borrowed: never closed here)
     * @param rootPath its path, for messages
     */
    RootDirs(int rootFd, byte[] rootPath) {
        this.rootFd = rootFd;
        this.rootPath = rootPath;
    }

    /** The directory holding {@code rel} (its last slash at {@code slash}), or -errno. */
    int parent(byte[] rel, int slash) {
        return of(slash < 0 ? new byte[0] : Arrays.copyOf(rel, slash));
    }

    /**
     * As {@link #parent}, a failure reported to {@code failures} for {@code rel}: the directory could not
     * be opened beneath the root (a symlink, ELOOP, or worse where the copy made a directory).
     */
    int parent(byte[] rel, int slash, LocalQuickCheck.Failures failures) {
        int dir = parent(rel, slash);
        if (dir < 0) {
            byte[] parent = slash < 0 ? new byte[0] : Arrays.copyOf(rel, slash);
            failures.fail(rel, new NativeIoException("openat2", PathBytes.show(parent.length == 0 ? rootPath
                    : PathBytes.join(rootPath, parent)), -dir));
        }
        return dir;
    }

    /** @return the descriptor of the directory {@code rel} (relative to the root; empty: the root), or -errno */
    int of(byte[] rel) {
        if (rel.length == 0) {
            return rootFd;
        }
        String k = new String(rel, StandardCharsets.ISO_8859_1);
        Integer fd = open.get(k);
        if (fd == null) {
            fd = FileOps.openDirNoFollow(rootFd, rel);
            if (fd >= 0) {
                open.put(k, fd);
            }
        }
        return fd;
    }

    int size() {
        return open.size();
    }

    @Override
    public void close() {
        for (int fd : open.values()) {
            FileOps.close(fd);
        }
        open.clear();
    }
}
