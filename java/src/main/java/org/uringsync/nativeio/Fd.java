package org.uringsync.nativeio;

/**
 * A file descriptor with exactly one owner. Closing it twice closes it once; closing it while a
 * native call uses it (a TLS session holds its socket for its whole life) waits for that call, so the
 * number can never be closed after the kernel has handed it to someone else. {@link #shutdown()} from
 * any thread reaches this socket or nothing.
 */
public final class Fd extends NativeHandle {
    private final int fd;

    private Fd(int fd) {
        super(fd);
        this.fd = fd;
    }

    /** Takes ownership of {@code fd} (>= 0). */
    public static Fd adopt(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a descriptor: " + fd);
        }
        return new Fd(fd);
    }

    @Override
    protected String what() {
        return "descriptor " + fd;
    }

    @Override
    protected void free(long value) {
        Net.close((int) value);
    }

    /** @return the number, counted as in use until {@link #release()} */
    int acquire() {
        return (int) enter();
    }

    void release() {
        leave();
    }

    /** Shuts the socket down both ways, waking any thread blocked on it; nothing when already closed. */
    public void shutdown() {
        ifLive(v -> Net.shutdown((int) v, false));
    }

    /**
     * As {@link #shutdown}, and its close resets the connection: for a connection given up on, whose
     * peer may be in the middle of sending (it learns at once, instead of waiting on a window).
     */
    public void abort() {
        ifLive(v -> Net.shutdown((int) v, true));
    }

    /** Sets the socket's receive and send timeouts (0: wait forever). */
    public void setTimeout(int ms) throws NativeIoException {
        int n = acquire();
        try {
            Net.setTimeout(n, ms);
        } finally {
            release();
        }
    }

    /** @return the local port of this socket */
    public int localPort() throws NativeIoException {
        int n = acquire();
        try {
            return Net.localPort(n);
        } finally {
            release();
        }
    }

    /** @return the address of the peer of this socket, or null when it cannot be had */
    public java.net.InetAddress peerAddress() {
        int n = acquire();
        try {
            return Net.peerAddress(n);
        } finally {
            release();
        }
    }

    /** @return the descriptor number, for messages and tests (it may be closed by the time it is read) */
    public int number() {
        return fd;
    }

    @Override
    public String toString() {
        return "Fd(" + fd + (isClosed() ? ", closed)" : ")");
    }
}
