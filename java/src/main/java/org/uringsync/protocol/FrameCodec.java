package org.uringsync.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Encodes and decodes frames ({@code type u8 | length u32 LE | payload}). No I/O: callers read the
 * 5-byte header, check the length against {@link #maxPayload} before reading (so nothing is ever
 * allocated from an unchecked length), then decode the payload.
 */
public final class FrameCodec {
    public static final int HEADER = 5;
    public static final int HELLO_SIZE = 66;

    private FrameCodec() {}

    /** @return the largest payload a frame of {@code type} may carry; -1 for an unknown type. */
    public static long maxPayload(int type, int maxData) {
        return switch (type) {
            case Message.HELLO -> HELLO_SIZE;
            case Message.HELLO_OK -> 32;
            case Message.HELLO_FAIL -> 1;
            case Message.FILE_HDR -> 14 + Message.FileHeader.MAX_PATH;
            case Message.FILE_DATA -> maxData;
            case Message.FILE_END, Message.ALL_DONE -> 0;
            case Message.ERROR -> 3 + 65535;
            default -> -1;
        };
    }

    /** @return a frame header for {@code type} with {@code length} */
    public static byte[] header(int type, long length) {
        ByteBuffer b = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) type).putInt((int) length);
        return b.array();
    }

    /** @return the whole frame (header and payload) for {@code m} */
    public static byte[] encode(Message m) {
        ByteBuffer p;
        if (m instanceof Message.Hello h) {
            p = buffer(HELLO_SIZE);
            byte[] s = h.secret();
            p.put((byte) h.version()).put((byte) s.length).put(s);
        } else if (m instanceof Message.HelloOk ok) {
            p = buffer(32).put(ok.proof());
        } else if (m instanceof Message.HelloFail f) {
            p = buffer(1).put((byte) f.reason());
        } else if (m instanceof Message.FileHeader f) {
            byte[] path = f.path();
            p = buffer(14 + path.length).putLong(f.size()).putInt(f.mode()).putShort((short) path.length).put(path);
        } else if (m instanceof Message.Error e) {
            byte[] t = e.text().getBytes(StandardCharsets.UTF_8);
            p = buffer(3 + t.length).put((byte) e.code()).putShort((short) t.length).put(t);
        } else {
            p = buffer(0); // FILE_END, ALL_DONE
        }
        byte[] payload = p.array();
        byte[] frame = new byte[HEADER + payload.length];
        System.arraycopy(header(m.type(), payload.length), 0, frame, 0, HEADER);
        System.arraycopy(payload, 0, frame, HEADER, payload.length);
        return frame;
    }

    private static ByteBuffer buffer(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Decodes a payload that {@link #maxPayload} admitted. FILE_DATA is not decoded here.
     *
     * @throws ProtocolException naming what is wrong
     */
    public static Message decode(int type, ByteBuffer payload) throws ProtocolException {
        ByteBuffer p = payload.slice().order(ByteOrder.LITTLE_ENDIAN);
        int n = p.remaining();
        try {
            switch (type) {
                case Message.HELLO -> {
                    need(type, n, HELLO_SIZE, true);
                    int version = p.get() & 0xff;
                    int len = p.get() & 0xff;
                    if (len > 64) {
                        throw new ProtocolException("HELLO secret_len " + len + " exceeds 64");
                    }
                    byte[] s = new byte[len];
                    p.get(s);
                    return new Message.Hello(version, s);
                }
                case Message.HELLO_OK -> {
                    need(type, n, 32, true);
                    byte[] proof = new byte[32];
                    p.get(proof);
                    return new Message.HelloOk(proof);
                }
                case Message.HELLO_FAIL -> {
                    need(type, n, 1, true);
                    return new Message.HelloFail(p.get() & 0xff);
                }
                case Message.FILE_HDR -> {
                    if (n < 14) {
                        throw new ProtocolException("FILE_HDR payload of " + n + " bytes is shorter than 14");
                    }
                    long size = p.getLong();
                    int mode = p.getInt();
                    int len = p.getShort() & 0xffff;
                    if (len != n - 14) {
                        throw new ProtocolException("FILE_HDR path_len " + len + " does not match the frame (" + (n - 14) + ")");
                    }
                    if (size < 0) {
                        throw new ProtocolException("FILE_HDR size " + Long.toUnsignedString(size) + " is out of range");
                    }
                    if (len > Message.FileHeader.MAX_PATH) {
                        throw new ProtocolException("path of " + len + " bytes exceeds " + Message.FileHeader.MAX_PATH);
                    }
                    byte[] path = new byte[len];
                    p.get(path);
                    return new Message.FileHeader(size, mode, path);
                }
                case Message.FILE_END -> {
                    need(type, n, 0, true);
                    return new Message.FileEnd();
                }
                case Message.ALL_DONE -> {
                    need(type, n, 0, true);
                    return new Message.AllDone();
                }
                case Message.ERROR -> {
                    if (n < 3) {
                        throw new ProtocolException("ERROR payload of " + n + " bytes is shorter than 3");
                    }
                    int code = p.get() & 0xff;
                    int len = p.getShort() & 0xffff;
                    if (len != n - 3) {
                        throw new ProtocolException("ERROR msg_len " + len + " does not match the frame (" + (n - 3) + ")");
                    }
                    byte[] t = new byte[len];
                    p.get(t);
                    return new Message.Error(code, new String(t, StandardCharsets.UTF_8));
                }
                default -> throw new ProtocolException(String.format("unknown message type 0x%02x", type));
            }
        } catch (IllegalArgumentException e) {
            throw new ProtocolException(e.getMessage());
        }
    }

    private static void need(int type, int n, int want, boolean exact) throws ProtocolException {
        if (exact ? n != want : n < want) {
            throw new ProtocolException(String.format("%s payload of %d bytes, expected %d", name(type), n, want));
        }
    }

    /** @return the design's name of a message type, e.g. {@code FILE_HDR}, or its hex value. */
    public static String name(int type) {
        return switch (type) {
            case Message.HELLO -> "HELLO";
            case Message.HELLO_OK -> "HELLO_OK";
            case Message.HELLO_FAIL -> "HELLO_FAIL";
            case Message.FILE_HDR -> "FILE_HDR";
            case Message.FILE_DATA -> "FILE_DATA";
            case Message.FILE_END -> "FILE_END";
            case Message.ALL_DONE -> "ALL_DONE";
            case Message.ERROR -> "ERROR";
            default -> String.format("0x%02x", type);
        };
    }
}
