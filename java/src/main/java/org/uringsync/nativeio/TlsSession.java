package org.uringsync.nativeio;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One TLS 1.3 connection over a socket it owns ({@code SSL*} plus descriptor), on OpenSSL's record
 * layer. Bulk file data crosses in coarse calls: {@link #sendFiles} streams a whole batch of files,
 * {@link #receiveFileData} one file's data frames straight into a descriptor. Not thread-safe;
 * {@link #close()} is idempotent. {@link #abort()} may be called from any thread to wake a blocked call.
 */
public final class TlsSession implements AutoCloseable {
    private long handle;
    private final int fd;

    private TlsSession(long handle, int fd) {
        this.handle = handle;
        this.fd = fd;
    }

    /**
     * Runs the handshake on {@code fd}, which the session then owns (closed by {@link #close()}, and
     * on failure here).
     */
    public static TlsSession handshake(TlsContext ctx, int fd, boolean server) throws java.io.IOException {
        return handshake(ctx, fd, server, 0);
    }

    /**
     * Runs the handshake, then, for {@code ktlsMode} 1 (kernel TLS) or 2 (kernel TLS with spliced file
     * data), installs the session keys into the kernel where it can; {@link #path()} tells what
     * happened and why.
     */
    public static TlsSession handshake(TlsContext ctx, int fd, boolean server, int ktlsMode) throws java.io.IOException {
        long h;
        try {
            h = handshakeNative(ctx.handle(), fd, server, ktlsMode);
        } catch (java.io.IOException | RuntimeException e) {
            Net.close(fd);
            throw e;
        }
        return new TlsSession(h, fd);
    }

    /** RFC 8446 section 7.5 exporter (no context). */
    public byte[] exportKeyingMaterial(String label, int length) throws TlsException {
        return exportNative(handle(), label.getBytes(StandardCharsets.US_ASCII), length);
    }

    /**
     * HMAC-SHA256 keyed with {@code key} over {@code prefix || exporter(label, no context, exporterLength)},
     * computed where the exporter lives (OpenSSL), so it never enters the JVM.
     */
    public byte[] exporterMac(String label, int exporterLength, byte[] key, byte[] prefix) throws TlsException {
        return exporterMacNative(handle(), label.getBytes(StandardCharsets.US_ASCII), exporterLength, key, prefix);
    }

    /** @return e.g. {@code kernel tx+rx, TLS_AES_128_GCM_SHA256, splice}, or the user-space path and why */
    public String path() {
        return pathNative(handle());
    }

    /** @return true when the kernel encrypts what this side sends */
    public boolean kernelTx() {
        return (kernelNative(handle()) & 1) != 0;
    }

    /** @return true when the kernel decrypts what this side receives */
    public boolean kernelRx() {
        return (kernelNative(handle()) & 2) != 0;
    }

    /** Sends a fatal TLS alert with {@code description} (kernel TLS only; tests the peer's alert path). */
    public void sendAlert(int description) throws TlsException {
        alertNative(handle(), description);
    }

    /**
     * @return bytes OpenSSL's record layer moved over the socket since the handshake ended (0 when the
     *         kernel carried everything)
     */
    public long recordLayerBytes() {
        return recordLayerBytesNative(handle());
    }

    /** @return the negotiated suite, e.g. {@code TLS_AES_128_GCM_SHA256} */
    public String cipher() {
        return cipherNative(handle());
    }

    /** @return the socket descriptor (owned by this session) */
    public int fd() {
        return fd;
    }

    /**
     * Reads between 1 and {@code length} bytes into {@code buf} (a direct buffer) at {@code offset}.
     *
     * @return bytes read, or -1 at a clean end of stream (close_notify or EOF between records)
     */
    public int read(ByteBuffer buf, int offset, int length) throws java.io.IOException {
        checkRange(buf, offset, length);
        return readNative(handle(), buf, offset, length);
    }

    /** Reads exactly {@code length} bytes, or throws {@link java.io.EOFException}. */
    public void readFully(ByteBuffer buf, int offset, int length) throws java.io.IOException {
        while (length > 0) {
            int n = read(buf, offset, length);
            if (n < 0) {
                throw new java.io.EOFException("connection closed by the peer");
            }
            offset += n;
            length -= n;
        }
    }

    /** Writes all {@code length} bytes of {@code buf} from {@code offset}. */
    public void write(ByteBuffer buf, int offset, int length) throws java.io.IOException {
        checkRange(buf, offset, length);
        writeNative(handle(), buf, offset, length);
    }

    /**
     * Streams a batch of files: for each, its header bytes, then its data as frames of
     * {@code dataType | u32 length | bytes} of at most {@code chunk} bytes read through the ring,
     * then its trailer bytes. Descriptors are closed by the C core.
     *
     * @return the number of file bytes sent
     */
    public long sendFiles(Ring ring, SendBatch batch, int dataType, int chunk) throws java.io.IOException {
        return ring.call(h -> sendFilesNative(handle(), h, batch.buffer(), batch.size(), dataType, chunk));
    }

    /**
     * Receives one file's data: frames {@code dataType | u32 length | bytes} (each at most
     * {@code maxFrame} bytes) until {@code size} bytes have arrived, written to {@code fileFd} at
     * offset 0 onwards through the ring; then one empty frame of {@code endType}. With {@code direct}
     * the writes use direct I/O when the filesystem supports it (see {@link Ring#DIRECT_IO_THRESHOLD}),
     * buffered I/O otherwise.
     *
     * @throws ProtocolViolation when another frame arrives, a length is out of bounds, or the
     *         data overruns {@code size}
     */
    public void receiveFileData(Ring ring, int fileFd, long size, int dataType, int endType, int maxFrame,
            boolean direct) throws java.io.IOException {
        ring.call(h -> {
            receiveFileNative(handle(), h, fileFd, size, dataType, endType, maxFrame, direct);
            return 0L;
        });
    }

    /** Thrown by the C core when the peer's frames break the protocol. */
    public static final class ProtocolViolation extends java.io.IOException {
        private static final long serialVersionUID = 1L;

        public ProtocolViolation(String message) {
            super(message);
        }
    }

    /** Wakes any call blocked on this session's socket (from another thread); the session stays to be closed. */
    public void abort() {
        Net.shutdown(fd);
    }

    private synchronized long handle() {
        if (handle == 0) {
            throw new IllegalStateException("TLS session is closed");
        }
        return handle;
    }

    /** Sends close_notify (best effort), frees the session and closes the socket. */
    @Override
    public synchronized void close() {
        if (handle != 0) {
            freeNative(handle);
            handle = 0;
        }
    }

    private static void checkRange(ByteBuffer buf, int offset, int length) {
        if (!buf.isDirect()) {
            throw new IllegalArgumentException("a direct buffer is needed");
        }
        if (offset < 0 || length < 0 || offset + length > buf.capacity()) {
            throw new IndexOutOfBoundsException("offset " + offset + ", length " + length + ", capacity " + buf.capacity());
        }
    }

    private static native long handshakeNative(long ctx, int fd, boolean server, int ktlsMode)
            throws java.io.IOException;

    private static native String pathNative(long t);

    private static native int kernelNative(long t);

    private static native long recordLayerBytesNative(long t);

    private static native void alertNative(long t, int description) throws TlsException;

    private static native byte[] exportNative(long ssl, byte[] label, int length) throws TlsException;

    private static native String cipherNative(long ssl);

    private static native byte[] exporterMacNative(long t, byte[] label, int exporterLength, byte[] key, byte[] prefix)
            throws TlsException;

    private static native int readNative(long ssl, ByteBuffer buf, int offset, int length) throws java.io.IOException;

    private static native void writeNative(long ssl, ByteBuffer buf, int offset, int length) throws java.io.IOException;

    private static native long sendFilesNative(long ssl, long ring, ByteBuffer batch, int count, int dataType,
            int chunk) throws java.io.IOException;

    private static native void receiveFileNative(long ssl, long ring, int fd, long size, int dataType, int endType,
            int maxFrame, boolean direct) throws java.io.IOException;

    private static native void freeNative(long t);
}
