package org.uringsync;

/**
 * How a connection's bytes are encrypted and moved after the TLS 1.3 handshake.
 * Whatever is asked, a kernel without kernel TLS falls back to {@link #USERSPACE}, and the
 * session's {@code path} says why.
 */
public enum TlsPath {
    /** Kernel TLS with file data spliced when the kernel has it, else user space: the default. */
    AUTO(2),
    /** OpenSSL's record layer in user space (what {@code --no-ktls} asks for). */
    USERSPACE(0),
    /** Kernel TLS; file data still passes through the ring's registered buffers (io_uring send/recv). */
    KTLS(1),
    /** Kernel TLS; file data goes file -> pipe -> socket and socket -> pipe -> file (io_uring splice). */
    KTLS_ZEROCOPY(2),
    /**
     * As {@link #KTLS_ZEROCOPY}, but the sender moves each frame with sendfile(2) instead of linked
     * io_uring SPLICE: kept to measure one against the other.
     */
    KTLS_SENDFILE(3);

    private final int nativeMode;

    TlsPath(int nativeMode) {
        this.nativeMode = nativeMode;
    }

    /** @return the C core's mode number: 0 user space, 1 kernel TLS, 2 with splice, 3 with sendfile */
    public int nativeMode() {
        return nativeMode;
    }

    /** Parses {@code auto | userspace | ktls | ktls-zerocopy}. */
    public static TlsPath parse(String s) {
        return switch (s) {
            case "auto" -> AUTO;
            case "userspace" -> USERSPACE;
            case "ktls" -> KTLS;
            case "ktls-zerocopy" -> KTLS_ZEROCOPY;
            case "ktls-sendfile" -> KTLS_SENDFILE;
            default -> throw new IllegalArgumentException(
                    "--tls-path must be auto, userspace, ktls, ktls-zerocopy or ktls-sendfile: '" + s + "'");
        };
    }
}
