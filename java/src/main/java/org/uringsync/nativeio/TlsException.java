package org.uringsync.nativeio;

import java.io.IOException;

/** A TLS operation failed; the message carries OpenSSL's error text. */
public class TlsException extends IOException {
    private static final long serialVersionUID = 1L;

    public TlsException(String message) {
        super(message);
    }
}
