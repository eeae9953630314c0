package org.uringsync.transfer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.uringsync.nativeio.FileOps;

/**
 * The destination directories one batch of the local copy works in, opened beneath the root's
 * descriptor through no symlink, each once; closed when the batch is done.
 */
final class RootDirs implements AutoCloseable {
    private final int rootFd;
    private final Map<String, Integer> open = new HashMap<>();

    /** @param rootFd the destination root (borrowed: never closed here) */
    RootDirs(int rootFd) {
        this.rootFd = rootFd;
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
