package org.uringsync.nativeio;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * One TLS 1.3 connection ({@code SSL*}) over a socket it borrows for its whole life: the caller owns
 * the {@link Fd} and closes it; a close asked while this session still uses it waits until the
 * session is freed. Bulk file data crosses in coarse calls: {@link #sendFiles} streams a whole batch
 * of files, {@link #receiveFileData} one file's data frames straight into a descriptor. Calls are
 * meant for one thread at a time; {@link #abort()} and {@link #close()} may come from any thread:
 * close during a call wakes the call and frees the session when it has left.
 */
public final class TlsSession extends NativeHandle {
    private final Fd socket;
    private final boolean ownsSocket;
    private final int ktlsMode;

    private TlsSession(long handle, Fd socket, boolean ownsSocket, int ktlsMode) {
        super(handle);
        this.socket = socket;
        this.ownsSocket = ownsSocket;
        this.ktlsMode = ktlsMode;
    }

    /** Runs the handshake on {@code socket} (still owned by the caller; see the class comment). */
    public static TlsSession handshake(TlsContext ctx, Fd socket, boolean server) throws java.io.IOException {
        return handshake(ctx, socket, server, 0);
    }

    /**
     * Runs the handshake, then, for {@code ktlsMode} 1 (kernel TLS), 2 (kernel TLS with spliced file
     * data) or 3 (the same, the sender using sendfile(2) instead of io_uring's splice), installs the
     * session keys into the kernel where it can; {@link #path()} tells what
     * happened and why. On failure the socket is left to its owner, open.
     */
    public static TlsSession handshake(TlsContext ctx, Fd socket, boolean server, int ktlsMode)
            throws java.io.IOException {
        return handshake(ctx, socket, server, ktlsMode, false);
    }

    /**
     * As {@link #handshake(TlsContext, Fd, boolean, int)}; with {@code takeSocket} the session becomes
     * the socket's one owner instead of the caller: the socket is closed with the session, or at once
     * when the handshake fails.
     */
    public static TlsSession handshake(TlsContext ctx, Fd socket, boolean server, int ktlsMode, boolean takeSocket)
            throws java.io.IOException {
        int fd = socket.acquire(); // held until the session is freed
        boolean made = false;
        try {
            long c = ctx.enter();
            try {
                TlsSession s = new TlsSession(handshakeNative(c, fd, server, ktlsMode), socket, takeSocket, ktlsMode);
                made = true;
                return s;
            } finally {
                ctx.leave();
            }
        } finally {
            if (!made) {
                socket.release();
                if (takeSocket) {
                    socket.close();
                }
            }
        }
    }

    @Override
    protected String what() {
        return "TLS session";
    }

    /** Sends close_notify (best effort) and frees the session; then the socket is the owner's alone again. */
    @Override
    protected void free(long handle) {
        try {
            freeNative(handle);
        } finally {
            socket.release();
            if (ownsSocket) {
                socket.close();
            }
        }
    }

    /** A close during a call: shut the socket down so that the call returns. */
    @Override
    protected void wake(long handle) {
        socket.shutdown();
    }

    /** RFC 8446 section 7.5 exporter (no context). */
    public byte[] exportKeyingMaterial(String label, int length) throws TlsException {
        long h = enter();
        try {
            return exportNative(h, label.getBytes(StandardCharsets.US_ASCII), length);
        } finally {
            leave();
        }
    }

    /**
     * HMAC-SHA256 keyed with {@code key} over {@code prefix || exporter(label, no context, exporterLength)},
     * computed where the exporter lives (OpenSSL), so it never enters the JVM.
     */
    public byte[] exporterMac(String label, int exporterLength, byte[] key, byte[] prefix) throws TlsException {
        long h = enter();
        try {
            return exporterMacNative(h, label.getBytes(StandardCharsets.US_ASCII), exporterLength, key, prefix);
        } finally {
            leave();
        }
    }

    /** @return e.g. {@code kernel tx+rx, TLS_AES_128_GCM_SHA256, splice}, or the user-space path and why */
    public String path() {
        String suite = cipher();
        String why;
        long h = enter();
        try {
            why = kernelWhyNative(h);
        } finally {
            leave();
        }
        if (ktlsMode == 0) {
            return "userspace (OpenSSL record layer, kernel TLS not asked for), " + suite;
        }
        if (!kernelTx()) {
            return "userspace (OpenSSL record layer; kernel TLS unavailable: " + why + "), " + suite;
        }
        String files = ktlsMode == 3 ? "sendfile" : splicing() ? "splice" : "buffered";
        return kernelRx() ? "kernel tx+rx, " + suite + ", " + files
                : "kernel tx, userspace rx (" + why + "), " + suite + ", " + files;
    }

    /**
     * @return true when this session was asked to splice file data between file and socket (kernel TLS
     *         modes 2 and 3); it does so in each direction the kernel holds the keys for
     */
    public boolean splicing() {
        return ktlsMode >= 2;
    }

    /** @return true when the kernel encrypts what this side sends */
    public boolean kernelTx() {
        return (kernel() & 1) != 0;
    }

    /** @return true when the kernel decrypts what this side receives */
    public boolean kernelRx() {
        return (kernel() & 2) != 0;
    }

    private int kernel() {
        long h = enter();
        try {
            return kernelNative(h);
        } finally {
            leave();
        }
    }

    /** Sends a fatal TLS alert with {@code description} (kernel TLS only; tests the peer's alert path). */
    public void sendAlert(int description) throws TlsException {
        long h = enter();
        try {
            alertNative(h, description);
        } finally {
            leave();
        }
    }

    /**
     * @return bytes OpenSSL's record layer moved over the socket since the handshake ended (0 when the
     *         kernel carried everything)
     */
    public long recordLayerBytes() {
        long h = enter();
        try {
            return recordLayerBytesNative(h);
        } finally {
            leave();
        }
    }

    /** @return the negotiated suite, e.g. {@code TLS_AES_128_GCM_SHA256} */
    public String cipher() {
        long h = enter();
        try {
            return cipherNative(h);
        } finally {
            leave();
        }
    }

    /** Sets the socket's receive and send timeouts (0: wait forever); they bound every blocking read and write. */
    public void setTimeout(int ms) throws NativeIoException {
        socket.setTimeout(ms);
    }

    /**
     * Reads between 1 and {@code length} bytes into {@code buf} (a direct buffer) at {@code offset}.
     *
     * @return bytes read, or -1 at a clean end of stream (close_notify or EOF between records)
     */
    public int read(ByteBuffer buf, int offset, int length) throws java.io.IOException {
        checkRange(buf, offset, length);
        long h = enter();
        try {
            return readNative(h, buf, offset, length);
        } finally {
            leave();
        }
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
        long h = enter();
        try {
            writeNative(h, buf, offset, length);
        } finally {
            leave();
        }
    }

    /**
     * Streams a batch of files: for each, its header bytes, then its data as frames of
     * {@code dataType | u32 length | bytes} of at most {@code chunk} bytes read through the ring
     * (files flagged {@link SendBatch#SPLICE}, when the kernel encrypts what this side sends: frames
     * of {@code spliceFrame} bytes spliced file -> pipe -> socket), then its trailer bytes.
     * Descriptors are closed by the C core.
     *
     * @return the number of file bytes sent
     */
    public long sendFiles(Ring ring, SendBatch batch, int dataType, int chunk, int spliceFrame)
            throws java.io.IOException {
        long h = enter();
        try {
            return ring.call(r -> sendFilesNative(h, r, batch.buffer(), batch.size(), dataType, chunk, spliceFrame));
        } finally {
            leave();
        }
    }

    /**
     * Receives one file's data: frames {@code dataType | u32 length | bytes} (each at most
     * {@code maxFrame} bytes) until {@code size} bytes have arrived, written to {@code fileFd} at
     * offset 0 onwards through the ring; then one empty frame of {@code endType}. With {@code direct}
     * the writes use direct I/O when the filesystem supports it (see {@link Ring#DIRECT_IO_THRESHOLD}),
     * buffered I/O otherwise; with {@code splice}, when the kernel decrypts what this side receives,
     * the data moves socket -> pipe -> file without entering user space.
     *
     * @throws ProtocolViolation when another frame arrives, a length is out of bounds, or the
     *         data overruns {@code size}
     */
    public void receiveFileData(Ring ring, int fileFd, long size, int dataType, int endType, int maxFrame,
            boolean direct, boolean splice) throws java.io.IOException {
        receiveFileData(ring, fileFd, 0, size, dataType, endType, maxFrame, direct, splice);
    }

    /**
     * As {@link #receiveFileData(Ring, int, long, int, int, int, boolean, boolean)}, written from file offset
     * {@code start}; {@code endType < 0}: no end frame follows (one data range of a sparse file). Direct
     * I/O only from offset 0.
     */
    public void receiveFileData(Ring ring, int fileFd, long start, long size, int dataType, int endType, int maxFrame,
            boolean direct, boolean splice) throws java.io.IOException {
        long h = enter();
        try {
            ring.call(r -> {
                receiveFileNative(h, r, fileFd, start, size, dataType, endType, maxFrame, direct, splice);
                return 0L;
            });
        } finally {
            leave();
        }
    }

    /** Thrown by the C core when the peer's frames break the protocol. */
    public static final class ProtocolViolation extends java.io.IOException {
        private static final long serialVersionUID = 1L;

        public ProtocolViolation(String message) {
            super(message);
        }
    }

    /** Wakes any call blocked on this session's socket (from any thread); the session stays to be closed. */
    public void abort() {
        socket.shutdown();
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

    private static native String kernelWhyNative(long t);

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
            int chunk, int spliceFrame) throws java.io.IOException;

    private static native void receiveFileNative(long ssl, long ring, int fd, long start, long size, int dataType, int endType,
            int maxFrame, boolean direct, boolean splice) throws java.io.IOException;

    private static native void freeNative(long t);
}
