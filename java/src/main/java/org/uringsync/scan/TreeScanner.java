package org.uringsync.scan;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import org.uringsync.nativeio.Errno;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.path.FilterRules;

/**
 * Walks a source tree depth-first with one directory listing (getdents64) per directory. Paths are
 * byte strings relative to the root ({@code ""} is the root), so names that are not UTF-8 survive.
 * Symlinks are reported, never followed; a directory is reported before anything inside it.
 */
public final class TreeScanner {
    /** Receives the tree's entries in walk order. */
    public interface Visitor {
        /** A directory (the root first); return false to skip its contents. */
        boolean directory(byte[] relative, FileOps.Listing listing);

        /** A regular file; {@code stat} its lstat from the listing when the walk was asked for them, else null. */
        void file(byte[] relative, FileOps.Stat stat);

        void symlink(byte[] relative);

        /** A device, FIFO or socket. */
        void special(byte[] relative, int type);

        /** A directory that could not be listed; the walk goes on. */
        void unreadable(byte[] relative, NativeIoException cause);
    }

    private static final byte[] EMPTY = new byte[0];
    private static final int S_IFMT = 0170000, S_IFDIR = 0040000, S_IFREG = 0100000, S_IFLNK = 0120000;

    /** The top-level source of a copy or transfer: its path bytes and lstat mode, symlinks resolved. */
    public record Root(byte[] path, int mode) {
        public boolean isDirectory() {
            return (mode & S_IFMT) == S_IFDIR;
        }

        public boolean isRegularFile() {
            return (mode & S_IFMT) == S_IFREG;
        }
    }

    /**
     * Resolves the top-level source. A symlink is followed, as rsync does with {@code SOURCE/}, and
     * the root's path becomes the link's target, since entries are then opened without following.
     *
     * @throws IOException {@code stat SOURCE: No such file or directory (ENOENT)} and the like
     */
    public static Root resolveRoot(Path source) throws IOException {
        byte[] path = org.uringsync.nativeio.PathBytes.of(source.toAbsolutePath());
        int mode = FileOps.lstatMode(path);
        if (mode >= 0 && (mode & S_IFMT) == S_IFLNK) {
            try {
                path = org.uringsync.nativeio.PathBytes.of(source.toRealPath());
                mode = FileOps.lstatMode(path);
            } catch (IOException e) {
                mode = -Errno.ENOENT;
            }
        }
        if (mode < 0) {
            NativeIoException e = new NativeIoException("stat", source.toString(), -mode);
            throw new org.uringsync.TransferException.SourceUnreadable(e.getMessage(), e);
        }
        return new Root(path, mode);
    }

    private TreeScanner() {}

    /**
     * @param root absolute path of the tree's top directory (followed if it is a symlink)
     */
    public static void walk(byte[] root, Visitor visitor) {
        walk(root, FilterRules.NONE, visitor);
    }

    /**
     * As {@link #walk(byte[], Visitor)}, leaving out what {@code filter} excludes: an excluded entry
     * never reaches the visitor, and an excluded directory is not listed.
     */
    public static void walk(byte[] root, FilterRules filter, Visitor visitor) {
        walk(root, filter, false, visitor);
    }

    /**
     * As {@link #walk(byte[], FilterRules, Visitor)}; with {@code stat} each file reaches the visitor
     * with its lstat, and an entry's type is the one its lstat found.
     */
    public static void walk(byte[] root, FilterRules filter, boolean stat, Visitor visitor) {
        Deque<byte[]> pending = new ArrayDeque<>();
        pending.push(EMPTY);
        while (!pending.isEmpty()) {
            byte[] rel = pending.pop();
            FileOps.Listing listing;
            try {
                listing = FileOps.listDirectory(rel.length == 0 ? root : PathBytes.join(root, rel), rel.length == 0, stat);
            } catch (NativeIoException e) {
                visitor.unreadable(rel, e);
                continue;
            }
            if (!visitor.directory(rel, listing)) {
                continue;
            }
            // Push subdirectories in reverse so they are visited in listing order.
            Deque<byte[]> subdirs = new ArrayDeque<>();
            for (FileOps.Entry e : listing.entries()) {
                byte[] child = rel.length == 0 ? e.name() : PathBytes.join(rel, e.name());
                if (!filter.isEmpty() && filter.excludes(child, e.type() == FileOps.TYPE_DIR)) {
                    continue;
                }
                switch (e.type()) {
                    case FileOps.TYPE_DIR -> subdirs.push(child);
                    case FileOps.TYPE_REG -> visitor.file(child, e.stat());
                    case FileOps.TYPE_LNK -> visitor.symlink(child);
                    default -> visitor.special(child, e.type());
                }
            }
            while (!subdirs.isEmpty()) {
                pending.push(subdirs.pop());
            }
        }
    }
}
