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

    /** Does nothing. */
    CopyListener NONE = new CopyListener() {};
}
