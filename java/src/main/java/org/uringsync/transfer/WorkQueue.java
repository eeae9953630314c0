package org.uringsync.transfer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The local copy's hand-off from the walking thread to its workers: a bounded queue, worker threads
 * that take from it until they meet the end marker, puts that give up when no worker is left or the
 * caller says so, and takes and joins that outlast interrupts (a worker ends only on the marker, so
 * the walk never blocks on a full queue nobody takes from).
 */
final class WorkQueue<T> {
    private final BlockingQueue<T> queue;
    private final T end;
    private final List<Thread> workers = new ArrayList<>();

    /** Starts {@code n} daemon threads named {@code name}-i, each running {@code body} (which takes until {@code end}). */
    WorkQueue(int capacity, T end, int n, String name, java.util.function.Consumer<WorkQueue<T>> body) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.end = end;
        for (int i = 0; i < n; i++) {
            Thread t = new Thread(() -> body.accept(this), name + "-" + i);
            t.setDaemon(true);
            t.start();
            workers.add(t);
        }
    }

    /**
     * Queues {@code u}; gives up when no worker is left to take it, or when {@code giveUp} says so (a
     * cancel or interrupt while the queue is full). Keeps an interrupt for the caller.
     */
    void put(T u, BooleanSupplier giveUp) {
        boolean interrupted = false;
        try {
            for (;;) {
                try {
                    if (queue.offer(u, 100, TimeUnit.MILLISECONDS)) {
                        return;
                    }
                } catch (InterruptedException e) {
                    interrupted = true;
                    Thread.currentThread().interrupt(); // seen by giveUp; cleared again below until we return
                }
                boolean stop = giveUp.getAsBoolean();
                if (interrupted) {
                    Thread.interrupted(); // offer() would throw at once otherwise
                }
                if (stop || workers.stream().noneMatch(Thread::isAlive)) {
                    return;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** For a worker: the next unit, or the end marker. */
    T take() {
        for (;;) {
            try {
                return queue.take();
            } catch (InterruptedException e) {
                // workers end only on the marker
            }
        }
    }

    /** Whether {@code u} is the end marker. */
    boolean isEnd(T u) {
        return u == end;
    }

    /**
     * Ends every worker (the marker once each, after what is queued) and waits for them; keeps an
     * interrupt, and tells {@code onInterrupt} of it at once (the work in hand is to stop).
     */
    void finish(Runnable onInterrupt) {
        for (int i = 0; i < workers.size(); i++) {
            put(end, () -> false);
        }
        boolean interrupted = false;
        for (Thread t : workers) {
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                    onInterrupt.run();
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
