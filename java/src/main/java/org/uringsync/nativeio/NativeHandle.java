package org.uringsync.nativeio;

/**
 * The one guard every native resource goes through: a value (a C pointer or a descriptor) that is
 * freed exactly once, and never while a call is using it.
 *
 * <p>A call brackets its use with {@link #enter()} and {@link #leave()}. {@link #close()} frees the
 * value at once when nobody is inside; otherwise it marks the handle closing (new calls are refused),
 * asks the calls inside to end ({@link #wake}), and the last {@link #leave()} frees it. Anything done
 * to the value from another thread ({@link #ifLive}) runs under the same lock, so it can never reach
 * a descriptor number or pointer that has been freed and reused.
 */
public abstract class NativeHandle implements AutoCloseable {
    private final long value;
    private int users;
    private boolean closing;
    private boolean freed;

    protected NativeHandle(long value) {
        this.value = value;
    }

    /** What the handle is, for messages ("TLS session", "ring", "socket"). */
    protected abstract String what();

    /** Frees the value; called exactly once, with no call inside. */
    protected abstract void free(long value);

    /** Asks calls running inside to return soon (close was asked meanwhile); under the lock. */
    protected void wake(long value) {}

    /** @return the value, counted as in use until {@link #leave()}; refused once close began */
    protected final synchronized long enter() {
        if (closing) {
            throw new IllegalStateException(what() + " is closed");
        }
        users++;
        return value;
    }

    /** @return the value when nobody is inside, counted as in use until {@link #leave()}; refused otherwise */
    protected final synchronized long enterAlone() {
        if (!closing && users > 0) {
            throw new IllegalStateException(what() + " is already in use by another call");
        }
        return enter();
    }

    protected final void leave() {
        boolean free;
        synchronized (this) {
            if (users <= 0) {
                throw new IllegalStateException("leave() without enter() on " + what());
            }
            free = --users == 0 && closing && !freed;
            freed |= free;
        }
        if (free) {
            free(value);
        }
    }

    /** Runs {@code action} on the value while it is not freed, under the lock; @return false when it was freed. */
    protected final synchronized boolean ifLive(java.util.function.LongConsumer action) {
        if (freed) {
            return false;
        }
        action.accept(value);
        return true;
    }

    /** @return true once close() was called (the value may still be in use by a call inside) */
    public final synchronized boolean isClosed() {
        return closing;
    }

    /**
     * Frees the value now, or, with a call inside, once that call has left (it is woken first).
     * Idempotent; never throws.
     */
    @Override
    public final void close() {
        boolean free;
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
            free = users == 0;
            freed = free;
            if (!free) {
                wake(value);
            }
        }
        if (free) {
            free(value);
        }
    }
}
