package org.uringsync;

import java.io.IOException;

/**
 * Hears about each entry of a copy or transfer as it completes. Called from worker threads, possibly
 * concurrently; implementations must be thread-safe and quick.
 */
public interface CopyListener {
    /**
     * A regular file or symlink was written; {@code path} is relative to the tree's root (for a
     * single file, its name in the destination).
     */
    default void copied(String path, long bytes) {}

    /** An entry failed; the copy goes on unless fail-fast was asked for. */
    default void failed(String path, IOException cause) {}

    /** An entry was left out on purpose (devices, FIFOs, sockets). */
    default void skipped(String path, String reason) {}

    /** An entry removed from the destination because the source has none (delete). */
    default void deleted(String path) {}

    /**
     * What the copy changed in the destination (or, in a dry run, would change), one call per entry it
     * makes, replaces or removes, before or beside the other calls: what rsync's --itemize-changes
     * reports. Entries left alone (unchanged) get none.
     */
    default void changed(String path, Change change) {}

    /**
     * One change to the destination; {@code checksum} (with -c: the content differs), {@code size},
     * {@code time}, {@code perms}, {@code owner} and {@code xattrs} (with -X: the extended attributes)
     * say what differed for a file replaced or whose attributes were set.
     */
    record Change(Kind kind, boolean checksum, boolean size, boolean time, boolean perms, boolean owner, boolean xattrs) {
        public Change(Kind kind, boolean checksum, boolean size, boolean time, boolean perms, boolean owner) {
            this(kind, checksum, size, time, perms, owner, false);
        }

        public Change(Kind kind, boolean size, boolean time, boolean perms, boolean owner) {
            this(kind, false, size, time, perms, owner);
        }

        public Change(Kind kind, boolean size, boolean time) {
            this(kind, false, size, time, false, false);
        }

        /** What happens to the entry. */
        public enum Kind {
            /** A regular file the destination does not have. */
            NEW_FILE,
            /** A regular file replaced; {@code size} and {@code time} say what differed. */
            CHANGED_FILE,
            /** A symlink made (or made again). */
            SYMLINK,
            /** A directory made. */
            NEW_DIRECTORY,
            /** An entry removed (delete). */
            DELETED,
            /** A hard link made to another file of the copy (-H). */
            HARD_LINK,
            /**
             * A regular file left in place (same size and time, or with -c same content), its mode, owner,
             * time or (-X) extended attributes made the source's.
             */
            ATTRIBUTES,
            /** A device, FIFO or socket made (as root). */
            SPECIAL
        }

        /**
         * The change an rsync itemize code names, as {@link #itemize} writes them (a receiver reports its
         * changes to the sender this way).
         *
         * @throws IllegalArgumentException for a code {@link #itemize} does not write
         */
        public static Change ofItemize(String code) {
            if (code.length() != 11) {
                throw new IllegalArgumentException("an itemize code has 11 characters: '" + code + "'");
            }
            Kind kind = switch (code.substring(0, 2)) {
                case ">f" -> code.equals(">f+++++++++") ? Kind.NEW_FILE : Kind.CHANGED_FILE;
                case ".f" -> Kind.ATTRIBUTES;
                case "cL" -> Kind.SYMLINK;
                case "cd" -> Kind.NEW_DIRECTORY;
                case "hf" -> Kind.HARD_LINK;
                case "cD" -> Kind.SPECIAL;
                case "*d" -> Kind.DELETED;
                default -> throw new IllegalArgumentException("unknown itemize code '" + code + "'");
            };
            boolean details = kind == Kind.CHANGED_FILE || kind == Kind.ATTRIBUTES;
            Change c = new Change(kind, details && code.charAt(2) == 'c', details && code.charAt(3) == 's',
                    details && code.charAt(4) == 't', details && code.charAt(5) == 'p', details && code.charAt(6) == 'o',
                    details && code.charAt(10) == 'x');
            if (!c.itemize().equals(code)) {
                throw new IllegalArgumentException("unknown itemize code '" + code + "'");
            }
            return c;
        }

        /**
         * @return rsync's 11-character itemize code, e.g. {@code >f+++++++++}, {@code >f.st......},
         *     {@code >fc.t......} (-c), {@code .f...p.....}, {@code .f..t......}, {@code .f........x} (-X),
         *     {@code *deleting  }
         */
        public String itemize() {
            String attrs = (perms ? "p" : ".") + (owner ? "og" : "..") + ".." + (xattrs ? "x" : ".");
            return switch (kind) {
                case NEW_FILE -> ">f+++++++++";
                case CHANGED_FILE -> ">f" + (checksum ? 'c' : '.') + (size ? 's' : '.') + (time ? 't' : '.') + attrs;
                case ATTRIBUTES -> ".f.." + (time ? 't' : '.') + attrs;
                case SYMLINK -> "cL+++++++++";
                case NEW_DIRECTORY -> "cd+++++++++";
                case DELETED -> "*deleting  ";
                case HARD_LINK -> "hf+++++++++";
                case SPECIAL -> "cD+++++++++";
            };
        }
    }

    /** Does nothing. */
    CopyListener NONE = new CopyListener() {};
}
