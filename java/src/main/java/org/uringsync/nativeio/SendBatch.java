package org.uringsync.nativeio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Files for one {@link TlsSession#sendFiles} call: per file an open descriptor, the number of bytes
 * to send, and the header and trailer bytes that frame it. Layout mirrors {@code send_req} in
 * {@code native/src/tls_session.c}. Not thread-safe.
 */
public final class SendBatch {
    static final int HEADER = 32;

    private ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024).order(ByteOrder.nativeOrder());
    private int count;

    public int size() {
        return count;
    }

    public void clear() {
        buf.clear();
        count = 0;
    }

    /** Read with direct I/O where the filesystem allows (see {@link Ring#DIRECT_IO_THRESHOLD}). */
    public static final int DIRECT = 1;

    /**
     * Adds a file with {@code flags} ({@link #DIRECT}); the C core closes {@code fd} once sent. When the
     * file's size or modification time ({@code mtimeNanos}, as found when it was opened) differ once its
     * data is read, the send fails instead of framing a file that changed meanwhile.
     */
    public void add(int fd, long size, long mtimeNanos, byte[] header, byte[] trailer, int flags) {
        int need = HEADER + ((header.length + trailer.length + 7) & ~7);
        if (buf.remaining() < need) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(buf.capacity() * 2, buf.position() + need))
                    .order(ByteOrder.nativeOrder());
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }
        int at = buf.position();
        buf.putInt(fd).putInt(flags).putLong(size).putInt(header.length).putInt(trailer.length).putLong(mtimeNanos);
        buf.put(header).put(trailer);
        buf.position(at + need);
        count++;
    }

    ByteBuffer buffer() {
        return buf;
    }
}
