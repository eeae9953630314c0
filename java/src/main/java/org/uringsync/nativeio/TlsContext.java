package org.uringsync.nativeio;

import java.nio.file.Path;

/**
 * An OpenSSL {@code SSL_CTX} for TLS 1.3 only. The server side presents a certificate (which only
 * encrypts: peers are authenticated by the pre-shared secret bound to the session, see
 * {@link TlsSession#exportKeyingMaterial}); the client does not verify it. Servers send no session
 * tickets. Owned by one {@link #close()}; idempotent.
 */
public final class TlsContext implements AutoCloseable {
    private long handle;

    private TlsContext(long handle) {
        this.handle = handle;
    }

    /**
     * @param ciphersuites OpenSSL TLS 1.3 suite list, e.g. {@code TLS_AES_128_GCM_SHA256}; null for the default
     */
    public static TlsContext server(Path certificate, Path key, String ciphersuites) throws TlsException {
        NativeLoader.ensureLoaded();
        return new TlsContext(createNative(true, certificate.toString(), key.toString(), ciphersuites));
    }

    public static TlsContext client(String ciphersuites) throws TlsException {
        NativeLoader.ensureLoaded();
        return new TlsContext(createNative(false, null, null, ciphersuites));
    }

    /**
     * Writes a new RSA-2048 key (mode 0600) and a self-signed certificate valid for ten years (0644).
     * Neither file may exist yet.
     */
    public static void generateSelfSigned(Path key, Path certificate, String commonName) throws java.io.IOException {
        NativeLoader.ensureLoaded();
        generateNative(key.toString(), certificate.toString(), commonName);
    }

    synchronized long handle() {
        if (handle == 0) {
            throw new IllegalStateException("TLS context is closed");
        }
        return handle;
    }

    @Override
    public synchronized void close() {
        if (handle != 0) {
            freeNative(handle);
            handle = 0;
        }
    }

    private static native long createNative(boolean server, String cert, String key, String ciphersuites)
            throws TlsException;

    private static native void generateNative(String keyPath, String certPath, String commonName)
            throws java.io.IOException;

    private static native void freeNative(long handle);
}
