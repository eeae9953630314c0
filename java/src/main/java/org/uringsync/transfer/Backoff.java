package org.uringsync.transfer;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Slows down secret guessing per source address: every wrong secret from an address waits until
 * that address's next slot, and each failure pushes the slot further (300 ms, doubling up to 10 s).
 * Guesses made in parallel from one address therefore queue up one after another instead of each
 * waiting the same short delay. A good secret never waits. Bounded: the oldest addresses are
 * forgotten beyond {@link #MAX_ADDRESSES}, and an address quiet for {@link #FORGET_NANOS} starts over.
 */
final class Backoff {
    static final long BASE_MS = 300;
    static final long MAX_MS = 10_000;
    static final int MAX_ADDRESSES = 4096;
    static final long FORGET_NANOS = 10 * 60 * 1_000_000_000L;

    private static final class State {
        int failures;
        long next;     // System.nanoTime() of the address's next free slot
        long last;     // of its last failure
    }

    private final Map<InetAddress, State> states = new LinkedHashMap<>(64, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, State> eldest) {
            return size() > MAX_ADDRESSES;
        }
    };

    /** A wrong secret from {@code address} at {@code now}: how long that connection must wait (ns), and how many failures so far. */
    record Delay(long nanos, int failures) {}

    synchronized Delay failure(InetAddress address, long now) {
        State s = states.get(address);
        if (s == null || now - s.last > FORGET_NANOS) {
            s = new State();
            s.next = now;
            states.put(address, s);
        }
        s.failures++;
        s.last = now;
        long step = Math.min(MAX_MS, BASE_MS << Math.min(s.failures - 1, 20)) * 1_000_000L;
        s.next = Math.max(s.next, now) + step;
        return new Delay(s.next - now, s.failures);
    }
}
