package org.uringsync.nativeio;

/** Thread helpers shared by the library's own helper threads. */
public final class Threads {
    private Threads() {}

    /**
     * Waits for {@code t} to end even when the caller is interrupted (for a thread that ends soon and
     * must not outlive its caller: it uses the caller's descriptors); keeps the interrupt.
     */
    public static void joinUninterruptibly(Thread t) {
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
