package org.uringsync.transfer;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The secret never crosses the wire: each side proves it knows it with an HMAC over the TLS
 * session's exporter, so a relaying man-in-the-middle (who sees two different sessions) can neither
 * forward nor forge a proof.
 */
final class Auth {
    static final String EXPORTER_LABEL = "EXPORTER-uring-sync-hello";
    static final int EXPORTER_LENGTH = 32;
    private static final byte[] CLIENT = "uring-sync client".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] SERVER = "uring-sync server".getBytes(StandardCharsets.US_ASCII);

    private Auth() {}

    /** HMAC-SHA256(secret, "uring-sync client" || exporter) */
    static byte[] clientProof(byte[] secret, byte[] exporter) {
        return hmac(secret, CLIENT, exporter);
    }

    /** HMAC-SHA256(secret, "uring-sync server" || exporter) */
    static byte[] serverProof(byte[] secret, byte[] exporter) {
        return hmac(secret, SERVER, exporter);
    }

    /** Constant-time comparison. */
    static boolean matches(byte[] expected, byte[] actual) {
        return MessageDigest.isEqual(expected, actual);
    }

    private static byte[] hmac(byte[] key, byte[] prefix, byte[] exporter) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            mac.update(prefix);
            return mac.doFinal(exporter);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
