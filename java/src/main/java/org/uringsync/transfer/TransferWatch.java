package org.uringsync.transfer;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.uringsync.Progress;
import org.uringsync.ProgressListener;
import org.uringsync.nativeio.Meter;
import org.uringsync.nativeio.Threads;

/**
 * Watches one running copy or send from a daemon thread of its own: an interrupt of the thread that
 * started it cancels its {@link Meter} (the C core then stops between slices, even inside one large
 * file), and, when a {@link ProgressListener} was given, the listener hears the counts every interval
 * and once more at {@link #finish}: bytes moved from the meter, entries settled and bytes left in place
 * from the transfer, totals from a {@link SourceTotals}. Keeps what {@link Progress} promises: totals
 * never shrink, done never passes them.
 */
public final class TransferWatch implements AutoCloseable {
    /** How often the caller's interrupt flag is looked at: a cancel by interrupt is noticed within this. */
    private static final long POLL_NANOS = 50_000_000L;

    private final Thread caller = Thread.currentThread();
    private final ProgressListener listener; // null: interrupts only
    private final long intervalNanos;
    private final Meter meter;
    private final LongSupplier filesDone;
    private final LongSupplier keptBytes;
    private final SourceTotals totals;
    private final Runnable onInterrupt;
    private final long t0 = System.nanoTime();
    private final Thread thread;
    private volatile boolean closed;
    private long filesTotal; // the last totals given: never less again
    private long bytesTotal;
    private boolean finalTotals; // the scan ended and they were given as final: they stay
    private boolean ended; // the last call was made: no more
    private Throwable failure;

    /**
     * Starts watching the calling thread's transfer.
     *
     * @param metering the progress listener (or none) and its interval
     * @param filesDone entries settled (copied or sent, unchanged, failed)
     * @param keptBytes sizes of the files settled without moving their data
     * @param totals what the source holds, counted ahead (closed by this watch); null without a listener
     * @param onInterrupt run (once) besides cancelling the meter when the caller is interrupted
     */
    public TransferWatch(Metering metering, Meter meter, LongSupplier filesDone, LongSupplier keptBytes,
            SourceTotals totals, Runnable onInterrupt) {
        this.listener = metering.progress();
        this.intervalNanos = metering.interval().toNanos();
        this.meter = meter;
        this.filesDone = filesDone;
        this.keptBytes = keptBytes;
        this.totals = totals;
        this.onInterrupt = onInterrupt;
        this.thread = new Thread(this::run, "uring-sync-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        long next = System.nanoTime() + intervalNanos;
        while (!closed) {
            long now = System.nanoTime();
            LockSupport.parkNanos(listener == null ? POLL_NANOS : Math.min(POLL_NANOS, next - now));
            if (closed) {
                return;
            }
            if (caller.isInterrupted() && !meter.isCancelled()) {
                meter.cancel();
                onInterrupt.run();
            }
            if (listener != null && System.nanoTime() >= next) {
                tell(false, false);
                next += intervalNanos;
                if (next < System.nanoTime()) { // a slow listener: no catching up in a burst
                    next = System.nanoTime() + intervalNanos;
                }
            }
        }
    }

    /**
     * One call: totals never shrink, and once given as final they stay (the counts the transfer makes
     * can pass what the scan found: files that grew, entries it counts that the scan does not; done is
     * then shown as the total); done never passes them.
     *
     * @param last the end; {@code whole}: the transfer ended whole, so everything found is settled
     */
    private synchronized void tell(boolean last, boolean whole) {
        if (failure != null || ended) {
            return;
        }
        ended = last;
        long moved = meter.bytes();
        long files = filesDone.getAsLong();
        long bytes = moved + keptBytes.getAsLong();
        boolean scanned = totals.finished();
        if (!finalTotals) {
            filesTotal = Math.max(filesTotal, totals.files());
            bytesTotal = Math.max(bytesTotal, totals.bytes());
            if (!scanned) { // still counting: what is done is found
                filesTotal = Math.max(filesTotal, files);
                bytesTotal = Math.max(bytesTotal, bytes);
            }
            finalTotals = scanned;
        }
        if (last && whole) { // vanished files, holes, names made as hard links: all settled
            files = filesTotal = Math.max(filesTotal, files);
            bytes = bytesTotal = Math.max(bytesTotal, bytes);
        }
        try {
            listener.progress(new Progress(Math.min(files, filesTotal), filesTotal, Math.min(bytes, bytesTotal), bytesTotal,
                    moved, finalTotals || (last && whole), Duration.ofNanos(System.nanoTime() - t0)));
        } catch (RuntimeException | Error e) {
            failure = e;
        }
    }

    /**
     * Stops watching and gives the listener the final counts.
     *
     * @param whole whether the transfer ended whole (not cancelled or broken off)
     * @return the listener's failure as an IOException to report, or null
     */
    public IOException finish(boolean whole) {
        close();
        if (listener == null) {
            return null;
        }
        tell(true, whole);
        return failure == null ? null : new IOException("progress listener failed: " + failure, failure);
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        LockSupport.unpark(thread);
        if (totals != null) {
            totals.close();
        }
        Threads.joinUninterruptibly(thread); // ends at once, or once a listener call in progress returns
    }
}
