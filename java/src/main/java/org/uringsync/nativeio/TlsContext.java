package org.uringsync.nativeio;

import java.nio.file.Path;

/**
 * An OpenSSL {@code SSL_CTX} for TLS 1.3 only. The server side presents a certificate (which only
 * encrypts: peers are authenticated by the pre-shared secret bound to the session, see
 * {@link TlsSession#exportKeyingMaterial}); the client does not verify it. Servers send no session
 * tickets. A guarded {@link NativeHandle}: closing it while a handshake uses it waits for that
 * handshake (sessions made from it keep what they need of it).
 */
public final class TlsContext extends NativeHandle {
    private TlsContext(long handle) {
        super(handle);
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

    @Override
    protected String what() {
        return "TLS context";
    }

    @Override
    protected void free(long handle) {
        freeNative(handle);
    }

    private static native long createNative(boolean server, String cert, String key, String ciphersuites)
            throws TlsException;

    private static native void generateNative(String keyPath, String certPath, String commonName)
            throws java.io.IOException;

    private static native void freeNative(long handle);
}
