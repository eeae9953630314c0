package org.uringsync.transfer;

import org.uringsync.nativeio.TlsSession;

/** The short name of the TLS path a session took, as results and events report it. */
final class TlsPaths {
    private TlsPaths() {}

    /** @return {@code userspace}, {@code ktls} (the kernel holds the keys of a direction), or {@code ktls+splice} */
    static String name(TlsSession s) {
        if (!s.kernelTx() && !s.kernelRx()) {
            return "userspace";
        }
        return s.splicing() ? "ktls+splice" : "ktls";
    }
}
