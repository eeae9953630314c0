package org.uringsync.transfer;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.path.FilterRules;

/**
 * --delete's removal, for the local copy and the receiver alike: in a destination directory, every
 * entry the source does not have goes, a directory with all it holds, except what the filter
 * excludes (rsync keeps excluded entries, and the directories holding them). Directories are opened
 * through no symlink beneath the one given, a symlink is removed as itself: nothing outside is
 * reached. In a dry run nothing is removed and everything that would be is reported.
 */
final class Pruner {
    /** Hears what was (or would be) removed, and what failed; paths relative to the destination root. */
    interface Report {
        void removed(byte[] rel);

        void failed(byte[] rel, NativeIoException e);
    }

    private final FilterRules keep;
    private final boolean dryRun;
    private final byte[] rootPath; // for messages
    private final Report report;

    Pruner(FilterRules keep, boolean dryRun, byte[] rootPath, Report report) {
        this.keep = keep;
        this.dryRun = dryRun;
        this.rootPath = rootPath;
        this.report = report;
    }

    /** Removes from directory {@code dirFd} (at {@code rel}) each entry whose name ({@link #key}) is not in {@code present}. */
    void prune(int dirFd, byte[] rel, Set<String> present) throws NativeIoException {
        for (FileOps.Entry e : FileOps.listDirectoryAt(dirFd, shown(rel)).entries()) {
            if (!present.contains(key(e.name()))) {
                remove(dirFd, e, rel.length == 0 ? e.name() : PathBytes.join(rel, e.name()));
            }
        }
    }

    /** @return the set key of a name (its bytes, whatever they decode to) */
    static String key(byte[] name) {
        return new String(name, StandardCharsets.ISO_8859_1);
    }

    private String shown(byte[] rel) {
        return PathBytes.show(rel.length == 0 ? rootPath : PathBytes.join(rootPath, rel));
    }

    /** Removes entry {@code e} of {@code dirFd} unless excluded. @return true when it is gone (or would be) */
    private boolean remove(int dirFd, FileOps.Entry e, byte[] rel) throws NativeIoException {
        boolean isDir = e.type() == FileOps.TYPE_DIR;
        if (keep.excludes(rel, isDir) || TempNames.isTemp(e.name())) {
            return false; // a temporary file may be another transfer's, in flight (stale ones are swept)
        }
        boolean empty = true;
        if (isDir) {
            int fd = FileOps.openDirNoFollow(dirFd, e.name());
            if (fd < 0) {
                report.failed(rel, new NativeIoException("openat2", shown(rel), -fd));
                return false;
            }
            try {
                for (FileOps.Entry c : FileOps.listDirectoryAt(fd, shown(rel)).entries()) {
                    empty &= remove(fd, c, PathBytes.join(rel, c.name()));
                }
            } finally {
                FileOps.close(fd);
            }
        }
        if (!empty) {
            return false; // it keeps what the filter protects
        }
        int rc = dryRun ? 0 : isDir ? FileOps.rmdirAt(dirFd, e.name()) : FileOps.unlinkAt(dirFd, e.name());
        if (rc < 0) {
            report.failed(rel, new NativeIoException(isDir ? "rmdir" : "unlinkat", shown(rel), -rc));
            return false;
        }
        report.removed(rel);
        return true;
    }
}
