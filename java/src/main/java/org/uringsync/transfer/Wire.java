package org.uringsync.transfer;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.uringsync.nativeio.TlsSession;
import org.uringsync.protocol.FrameCodec;
import org.uringsync.protocol.Message;
import org.uringsync.protocol.ProtocolException;

/**
 * Message-level reads and writes on a TLS session: a frame header first, its length checked against
 * the type's limit before a single payload byte is read.
 */
final class Wire {
    private final TlsSession session;
    private final ByteBuffer buf = ByteBuffer.allocateDirect(MAX_WRITE).order(ByteOrder.LITTLE_ENDIAN);
    private int type;
    private long length;

    Wire(TlsSession session) {
        this.session = session;
    }

    /** Reads the next frame header. @return false at a clean end of stream before any header byte */
    boolean next() throws IOException {
        int got = 0;
        while (got < FrameCodec.HEADER) {
            int n = session.read(buf, got, FrameCodec.HEADER - got);
            if (n < 0) {
                if (got == 0) {
                    return false;
                }
                throw new EOFException("connection closed inside a frame header");
            }
            got += n;
        }
        type = buf.get(0) & 0xff;
        length = Integer.toUnsignedLong(buf.getInt(1));
        return true;
    }

    int type() {
        return type;
    }

    long length() {
        return length;
    }

    /** Reads and decodes the current frame's payload (not for FILE_DATA). */
    Message payload() throws IOException {
        long max = FrameCodec.maxPayload(type, 0);
        if (max < 0) {
            throw new ProtocolException(String.format("unknown message type 0x%02x", type));
        }
        if (length > max) {
            throw new ProtocolException(FrameCodec.name(type) + " length " + length + " exceeds " + max);
        }
        session.readFully(buf, 0, (int) length);
        return FrameCodec.decode(type, buf.slice(0, (int) length));
    }

    /** Reads the next message, which must exist; FILE_DATA is refused here. */
    Message read() throws IOException {
        if (!next()) {
            throw new EOFException("connection closed by the peer");
        }
        if (type == Message.FILE_DATA) {
            throw new ProtocolException("FILE_DATA outside a file");
        }
        return payload();
    }

    void send(Message m) throws IOException {
        sendFrames(FrameCodec.encode(m));
    }

    /** The most {@link #sendFrames} writes at once. */
    static final int MAX_WRITE = FrameCodec.HEADER + 3 + 65535;

    /** Sends whole frames encoded already, back to back, in writes of at most {@link #MAX_WRITE} bytes. */
    void sendFrames(byte[] frames) throws IOException {
        for (int at = 0; at < frames.length;) {
            int n = Math.min(MAX_WRITE, frames.length - at);
            buf.put(0, frames, at, n);
            session.write(buf, 0, n);
            at += n;
        }
    }
}
