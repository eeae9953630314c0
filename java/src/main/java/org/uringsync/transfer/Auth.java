package org.uringsync.transfer;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import org.uringsync.nativeio.TlsException;
import org.uringsync.nativeio.TlsSession;

/**
 * The secret never crosses the wire: each side proves it knows it with
 * HMAC-SHA256(secret, role || exporter) over the TLS session's exporter, so a relaying
 * man-in-the-middle (who sees two different sessions) can neither forward nor forge a proof. The
 * HMAC is computed by OpenSSL in the C core (the JDK's first HMAC costs 75 ms of provider set-up).
 */
final class Auth {
    static final String EXPORTER_LABEL = "EXPORTER-uring-sync-hello";
    static final int EXPORTER_LENGTH = 32;
    private static final byte[] CLIENT = "uring-sync client".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER = "uring-sync server".getBytes(StandardCharsets.US_ASCII);

    private Auth() {}

    /** HMAC-SHA256(secret, "uring-sync client" || exporter) */
    static byte[] clientProof(TlsSession session, byte[] secret) throws TlsException {
        return session.exporterMac(EXPORTER_LABEL, EXPORTER_LENGTH, secret, CLIENT);
    }

    /** HMAC-SHA256(secret, "uring-sync server" || exporter) */
    static byte[] serverProof(TlsSession session, byte[] secret) throws TlsException {
        return session.exporterMac(EXPORTER_LABEL, EXPORTER_LENGTH, secret, SERVER);
    }

    /** Constant-time comparison. */
    static boolean matches(byte[] expected, byte[] actual) {
        return MessageDigest.isEqual(expected, actual);
    }
}
