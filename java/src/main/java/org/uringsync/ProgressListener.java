package org.uringsync;

/**
 * Hears how far a copy or send is, at a bounded rate ({@link LocalCopy.Builder#progress}, {@link
 * Sender.Builder#progress}): from one thread of the library's own, never two calls at once, and once
 * more when the copy or send ends (with the final counts). A listener that throws is not called again;
 * its exception is reported among the result's failures.
 */
@FunctionalInterface
public interface ProgressListener {
    void progress(Progress p);
}
