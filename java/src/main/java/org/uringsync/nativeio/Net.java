package org.uringsync.nativeio;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * TCP sockets as {@link Fd}s, each with one owner, so the C core's TLS layer (kTLS, splice) can use
 * the descriptor while Java decides when it is closed. Every call here is once per connection.
 */
public final class Net {
    private Net() {}

    /**
     * Listens on {@code address:port} ({@code address} null: every address, IPv6 and IPv4).
     *
     * @return the listening socket
     */
    public static Fd listen(InetAddress address, int port) throws NativeIoException {
        NativeLoader.ensureLoaded();
        int fd = listenNative(address == null ? null : address.getAddress(), port, 128);
        if (fd < 0) {
            throw new NativeIoException("bind/listen", (address == null ? "*" : address.getHostAddress()) + ":" + port, -fd);
        }
        return Fd.adopt(fd);
    }

    /**
     * Waits for a connection; {@link Fd#shutdown} of the listening socket from another thread ends the
     * wait with EINVAL.
     */
    public static Fd accept(Fd listening) throws NativeIoException {
        int l = listening.acquire();
        int fd;
        try {
            fd = acceptNative(l);
        } finally {
            listening.release();
        }
        if (fd < 0) {
            throw new NativeIoException("accept", null, -fd);
        }
        return Fd.adopt(fd);
    }

    /** Connects with a timeout; returns a blocking socket with TCP_NODELAY. */
    public static Fd connect(InetAddress address, int port, int timeoutMs) throws NativeIoException {
        NativeLoader.ensureLoaded();
        int fd = connectNative(address.getAddress(), port, timeoutMs);
        if (fd < 0) {
            String host = address instanceof Inet4Address ? address.getHostAddress() : "[" + address.getHostAddress() + "]";
            throw new NativeIoException("connect", host + ":" + port, -fd);
        }
        return Fd.adopt(fd);
    }

    /** @return the peer's address (IPv4-mapped addresses as IPv4), or null when it cannot be had */
    static InetAddress peerAddress(int fd) {
        byte[] a = peerAddressNative(fd);
        try {
            return a == null ? null : InetAddress.getByAddress(a);
        } catch (java.net.UnknownHostException e) {
            return null; // not 4 or 16 bytes: cannot happen
        }
    }

    static int localPort(int fd) throws NativeIoException {
        int p = localPortNative(fd);
        if (p < 0) {
            throw new NativeIoException("getsockname", null, -p);
        }
        return p;
    }

    /** Sets the receive and send timeouts of a socket (0: wait forever). */
    static void setTimeout(int fd, int ms) throws NativeIoException {
        int rc = setTimeoutNative(fd, ms);
        if (rc < 0) {
            throw new NativeIoException("setsockopt(SO_RCVTIMEO)", null, -rc);
        }
    }

    /**
     * Shuts a socket down both ways; a thread blocked on it wakes up. With {@code abort} its close then
     * resets the connection (SO_LINGER 0), so a peer still sending learns at once. Errors are ignored.
     */
    static void shutdown(int fd, boolean abort) {
        shutdownNative(fd, abort);
    }

    /** Closes a descriptor; errors are ignored (nothing useful can follow). Only {@link Fd} calls this. */
    static void close(int fd) {
        closeNative(fd);
    }

    private static native int listenNative(byte[] address, int port, int backlog);

    private static native int acceptNative(int fd);

    private static native int connectNative(byte[] address, int port, int timeoutMs);

    private static native int localPortNative(int fd);

    private static native byte[] peerAddressNative(int fd);

    private static native int setTimeoutNative(int fd, int ms);

    private static native int shutdownNative(int fd, boolean abort);

    private static native int closeNative(int fd);
}
