package org.uringsync.nativeio;

import java.lang.annotation.Native;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Files for one {@link TlsSession#sendFiles} call: per file an open descriptor, the number of bytes
 * to send, and the header and trailer bytes that frame it. Layout mirrors {@code send_req} in
 * {@code native/src/send_batch.c}. Not thread-safe.
 */
public final class SendBatch {
    // The request layout, the one definition: javac -h writes it into org_uringsync_nativeio_SendBatch.h,
    // and native/src/send_batch.c checks its struct against it at build time.
    @Native static final int REQ_FD = 0;
    @Native static final int REQ_FLAGS = 4;
    @Native static final int REQ_SIZE = 8;
    @Native static final int REQ_HDR_LEN = 16;
    @Native static final int REQ_TRL_LEN = 20;
    @Native static final int REQ_MTIME_NS = 24;
    @Native static final int REQ_OFFSET = 32;
    @Native static final int REQ_FILE_SIZE = 40;
    /** Request header bytes; then the header bytes, the trailer bytes, padded to 8. */
    @Native static final int HEADER = 48;

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
    @Native public static final int DIRECT = 1;
    /**
     * Splice the data file -> pipe -> socket, never through user space, where the kernel encrypts what
     * the session sends (see {@link TlsSession#sendFiles}); read through the ring otherwise.
     */
    @Native public static final int SPLICE = 2;
    /**
     * The descriptor is not closed after this entry: a later entry of the same batch sends another range
     * of the same file and closes it (the last entry of a file never has this flag).
     */
    @Native public static final int KEEP_OPEN = 4;

    /**
     * Adds a file with {@code flags} ({@link #DIRECT}, {@link #SPLICE}); the C core closes {@code fd} once sent. When the
     * file's size or modification time ({@code mtimeNanos}, as found when it was opened) differ once its
     * data is read, the send fails instead of framing a file that changed meanwhile.
     */
    public void add(int fd, long size, long mtimeNanos, byte[] header, byte[] trailer, int flags) {
        add(fd, 0, size, size, mtimeNanos, header, trailer, flags);
    }

    /**
     * Adds {@code size} bytes of a file from {@code offset}: one range of a sparse file, the others its
     * holes. {@code fileSize} is the whole file's size as found when it was opened (the changed-while-sent
     * check).
     */
    public void add(int fd, long offset, long size, long fileSize, long mtimeNanos, byte[] header, byte[] trailer,
            int flags) {
        int need = HEADER + ((header.length + trailer.length + 7) & ~7);
        if (buf.remaining() < need) {
            ByteBuffer bigger = ByteBuffer.allocateDirect(Math.max(buf.capacity() * 2, buf.position() + need))
                    .order(ByteOrder.nativeOrder());
            buf.flip();
            bigger.put(buf);
            buf = bigger;
        }
        int at = buf.position();
        buf.putInt(at + REQ_FD, fd).putInt(at + REQ_FLAGS, flags).putLong(at + REQ_SIZE, size)
                .putInt(at + REQ_HDR_LEN, header.length).putInt(at + REQ_TRL_LEN, trailer.length)
                .putLong(at + REQ_MTIME_NS, mtimeNanos).putLong(at + REQ_OFFSET, offset).putLong(at + REQ_FILE_SIZE, fileSize);
        buf.position(at + HEADER);
        buf.put(header).put(trailer);
        buf.position(at + need);
        count++;
    }

    ByteBuffer buffer() {
        return buf;
    }
}
