package org.uringsync;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Asks a running copy or transfer to stop. Give the same instance to a builder
 * ({@link LocalCopy.Builder#cancellation}, {@link Sender.Builder#cancellation}) and call
 * {@link #cancel()} from any thread: the call returns soon after with what was done so far and a
 * failure saying it was cancelled. Interrupting the calling thread has the same effect.
 */
public final class Cancellation {
    private volatile boolean cancelled;
    private final List<Runnable> hooks = new CopyOnWriteArrayList<>();

    /** Cancels; idempotent. */
    public void cancel() {
        if (cancelled) {
            return;
        }
        cancelled = true;
        for (Runnable r : hooks) {
            r.run();
        }
    }

    public boolean isCancelled() {
        return cancelled;
    }

    /**
     * Runs {@code hook} on cancellation (at once when already cancelled), from the cancelling thread.
     *
     * @return closes the registration
     */
    public AutoCloseable onCancel(Runnable hook) {
        hooks.add(hook);
        if (cancelled) {
            hook.run();
        }
        return () -> hooks.remove(hook);
    }

    /** Never cancelled. */
    static final Cancellation NONE = new Cancellation();
}
