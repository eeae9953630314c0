package org.uringsync.nativeio;

import java.lang.annotation.Native;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One transfer's meter, shared by every {@link Ring} of the transfer ({@link Ring#attach}): the C core
 * adds the file data bytes it moves as it moves them (a chunk, a splice, a copy_file_range slice at a
 * time), stops between slices once {@link #cancel() cancelled}, and, given a rate, paces itself to it
 * by sleeping (a GCRA over all rings together: their sum keeps to the rate, running at most
 * {@link #BURST_NANOS} ahead of it). A few words of memory, no native resource: the rings that use it
 * keep it reachable.
 */
public final class Meter {
    // The layout of struct usync_meter (meter.h), checked there.
    @Native static final int BYTES = 0;
    @Native static final int CANCELLED = 8;
    @Native static final int RATE = 16;
    @Native static final int TAT_NS = 24;
    @Native static final int BURST = 32;
    @Native static final int SIZE = 40;

    /** How far the bytes may run ahead of the rate before the mover sleeps: the pacing window. */
    public static final long BURST_NANOS = 100_000_000L;

    // Plain buffer access with fences, not a byte-buffer VarHandle: its first use spins method-handle
    // classes, milliseconds of a send's start-up on Java 17.
    private final ByteBuffer words = ByteBuffer.allocateDirect(SIZE).order(ByteOrder.nativeOrder());
    private final long rate;
    private volatile boolean cancelled; // Java's side of the flag: read per file, without touching the buffer

    /** @param bytesPerSecond the rate to keep to; 0: as fast as it goes */
    public Meter(long bytesPerSecond) {
        if (bytesPerSecond < 0) {
            throw new IllegalArgumentException("rate must be >= 0: " + bytesPerSecond);
        }
        this.rate = bytesPerSecond;
        words.putLong(RATE, bytesPerSecond);
        words.putLong(BURST, BURST_NANOS);
    }

    /** A meter that counts and never paces. */
    public Meter() {
        this(0);
    }

    /** File data bytes moved so far by the rings using this meter. */
    public long bytes() {
        VarHandle.acquireFence(); // the C core adds with relaxed atomics: a count no older than this call
        return words.getLong(BYTES);
    }

    /** The rate it keeps to, bytes per second (0: none). */
    public long rate() {
        return rate;
    }

    /** Stops the rings using it between slices: files they were copying fail with ECANCELED (and are removed). */
    public void cancel() {
        cancelled = true;
        words.putInt(CANCELLED, 1);
        VarHandle.fullFence(); // seen by the C core's next check
    }

    public boolean isCancelled() {
        return cancelled;
    }

    ByteBuffer words() {
        return words;
    }
}
