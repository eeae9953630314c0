package org.uringsync.scan;

import java.util.ArrayDeque;
import java.util.Deque;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.PathBytes;

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

        void file(byte[] relative);

        void symlink(byte[] relative);

        /** A device, FIFO or socket. */
        void special(byte[] relative, int type);

        /** A directory that could not be listed; the walk goes on. */
        void unreadable(byte[] relative, NativeIoException cause);
    }

    private static final byte[] EMPTY = new byte[0];

    private TreeScanner() {}

    /**
     * @param root absolute path of the tree's top directory (followed if it is a symlink)
     */
    public static void walk(byte[] root, Visitor visitor) {
        Deque<byte[]> pending = new ArrayDeque<>();
        pending.push(EMPTY);
        while (!pending.isEmpty()) {
            byte[] rel = pending.pop();
            FileOps.Listing listing;
            try {
                listing = FileOps.listDirectory(rel.length == 0 ? root : PathBytes.join(root, rel), rel.length == 0);
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
                switch (e.type()) {
                    case FileOps.TYPE_DIR -> subdirs.push(child);
                    case FileOps.TYPE_REG -> visitor.file(child);
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
