package org.uringsync;

/**
 * Hears how far a copy or send is, at a bounded rate ({@link LocalCopy.Builder#progress}, {@link
 * Sender.Builder#progress}): from a thread of the library's own, and once more, with the final counts,
 * from the thread that called {@code copy} or {@code send} as it ends; never two calls at once, none
 * after that last one. A listener that throws is not called again; its exception is reported among the
 * result's failures.
 */
@FunctionalInterface
public interface ProgressListener {
    void progress(Progress p);
}
