package org.uringsync.protocol;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

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
            case Message.FILE_HDR_T, Message.FILE_HDR_S -> 22 + Message.FileHeader.MAX_PATH;
            case Message.RANGE -> 16;
            case Message.FILE_LIST, Message.FILE_LIST_C -> Message.FileList.MAX_BYTES;
            case Message.WANT -> 2 + Message.FileList.MAX_ENTRIES / 8;
            case Message.DIR -> 14 + Message.FileHeader.MAX_PATH;
            case Message.KEPT -> 3 + Message.FileHeader.MAX_PATH;
            case Message.DELETE -> Message.Delete.MAX_BYTES;
            case Message.SYMLINK -> 12 + Message.FileHeader.MAX_PATH + Message.Link.MAX_TARGET;
            case Message.HARDLINK -> 4 + 2L * Message.FileHeader.MAX_PATH;
            case Message.OWNER -> 11 + 2 * Message.Owner.MAX_NAME;
            case Message.XATTRS -> Message.Xattrs.MAX_BYTES;
            case Message.SPECIAL -> 22 + Message.FileHeader.MAX_PATH;
            case Message.FILE_DATA -> maxData;
            case Message.FILE_END, Message.ALL_DONE -> 0;
            case Message.CHANGES -> 1;
            case Message.CHANGE -> 13 + Message.FileHeader.MAX_PATH;
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
        } else if (m instanceof Message.FileHeader f && f.timed()) {
            byte[] path = f.path();
            p = buffer(22 + path.length).putLong(f.size()).putInt(f.mode()).putLong(f.mtimeNanos())
                    .putShort((short) path.length).put(path);
        } else if (m instanceof Message.Special sp) {
            byte[] path = sp.path();
            p = buffer(22 + path.length).putInt(sp.mode()).putLong(sp.rdev()).putLong(sp.mtimeNanos())
                    .putShort((short) path.length).put(path);
        } else if (m instanceof Message.Xattrs x) {
            int n = 0;
            for (byte[][] a : x.attributes()) {
                n += 5 + a[0].length + a[1].length;
            }
            p = buffer(n);
            for (byte[][] a : x.attributes()) {
                p.put((byte) a[0].length).put(a[0]).putInt(a[1].length).put(a[1]);
            }
        } else if (m instanceof Message.Owner o) {
            byte[] user = o.user();
            byte[] group = o.group();
            p = buffer(11 + user.length + group.length).put((byte) (o.numeric() ? 1 : 0)).putInt(o.uid()).putInt(o.gid())
                    .put((byte) user.length).put(user).put((byte) group.length).put(group);
        } else if (m instanceof Message.Range r) {
            p = buffer(16).putLong(r.offset()).putLong(r.length());
        } else if (m instanceof Message.FileHeader f) {
            byte[] path = f.path();
            p = buffer(14 + path.length).putLong(f.size()).putInt(f.mode()).putShort((short) path.length).put(path);
        } else if (m instanceof Message.FileList l) {
            int n = 2;
            for (Message.FileList.Entry e : l.entries()) {
                n += Message.FileList.entryBytes(e);
            }
            p = buffer(n).putShort((short) l.entries().size());
            for (Message.FileList.Entry e : l.entries()) {
                byte[] path = e.path();
                p.putLong(e.size()).putLong(e.mtimeNanos()).putInt(e.mode());
                if (e.hash() != null) {
                    p.put(e.hash());
                }
                p.putShort((short) path.length).put(path);
            }
        } else if (m instanceof Message.Delete d) {
            int n = 2;
            for (Message.Delete.Rule r : d.rules()) {
                n += 3 + r.pattern().length;
            }
            p = buffer(n).putShort((short) d.rules().size());
            for (Message.Delete.Rule r : d.rules()) {
                byte[] pattern = r.pattern();
                p.put((byte) (r.include() ? 1 : 0)).putShort((short) pattern.length).put(pattern);
            }
        } else if (m instanceof Message.Kept k) {
            byte[] path = k.path();
            p = buffer(3 + path.length).put((byte) (k.all() ? 1 : 0)).putShort((short) path.length).put(path);
        } else if (m instanceof Message.Directory d) {
            byte[] path = d.path();
            p = buffer(14 + path.length).putInt(d.mode()).putLong(d.mtimeNanos()).putShort((short) path.length).put(path);
        } else if (m instanceof Message.Link l) {
            byte[] path = l.path();
            byte[] target = l.target();
            boolean timed = l.type() == Message.SYMLINK;
            p = buffer(4 + path.length + target.length + (timed ? 8 : 0)).putShort((short) path.length).put(path)
                    .putShort((short) target.length).put(target);
            if (timed) {
                p.putLong(l.mtimeNanos());
            }
        } else if (m instanceof Message.Want w) {
            boolean[] bits = w.wanted();
            p = buffer(2 + (bits.length + 7) / 8).putShort((short) bits.length);
            byte[] map = new byte[(bits.length + 7) / 8];
            for (int i = 0; i < bits.length; i++) {
                if (bits[i]) {
                    map[i / 8] |= (byte) (1 << (i % 8));
                }
            }
            p.put(map);
        } else if (m instanceof Message.ReportChanges c) {
            p = buffer(1).put((byte) (c.dryRun() ? 1 : 0));
        } else if (m instanceof Message.ChangeReport c) {
            byte[] path = c.path();
            p = buffer(13 + path.length).put(c.itemize().getBytes(StandardCharsets.US_ASCII)).putShort((short) path.length)
                    .put(path);
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
                    byte[] path = path(type, p, n - 14);
                    if (size < 0) {
                        throw new ProtocolException("FILE_HDR size " + Long.toUnsignedString(size) + " is out of range");
                    }
                    return new Message.FileHeader(size, mode, path);
                }
                case Message.FILE_HDR_T, Message.FILE_HDR_S -> {
                    if (n < 22) {
                        throw new ProtocolException(name(type) + " payload of " + n + " bytes is shorter than 22");
                    }
                    long size = p.getLong();
                    int mode = p.getInt();
                    long mtime = p.getLong();
                    byte[] path = path(type, p, n - 22);
                    if (size < 0) {
                        throw new ProtocolException(name(type) + " size " + Long.toUnsignedString(size) + " is out of range");
                    }
                    if (mtime == Message.FileHeader.NO_TIME) {
                        throw new ProtocolException(name(type) + " mtime out of range");
                    }
                    return new Message.FileHeader(size, mode, path, mtime, type == Message.FILE_HDR_S);
                }
                case Message.RANGE -> {
                    need(type, n, 16, true);
                    long offset = p.getLong();
                    long length = p.getLong();
                    if (offset < 0 || length <= 0 || offset > Long.MAX_VALUE - length) {
                        throw new ProtocolException("RANGE " + Long.toUnsignedString(offset) + "+" + Long.toUnsignedString(length)
                                + " is out of range");
                    }
                    return new Message.Range(offset, length);
                }
                case Message.FILE_LIST, Message.FILE_LIST_C -> {
                    need(type, n, 2, false);
                    String name = name(type);
                    int hashBytes = type == Message.FILE_LIST_C ? Message.FileList.HASH_BYTES : 0;
                    int count = p.getShort() & 0xffff;
                    if (count == 0 || count > Message.FileList.MAX_ENTRIES) {
                        throw new ProtocolException(name + " count " + count + " is not in 1.." + Message.FileList.MAX_ENTRIES);
                    }
                    java.util.List<Message.FileList.Entry> entries = new java.util.ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        if (p.remaining() < 22 + hashBytes) {
                            throw new ProtocolException(name + " entry " + i + " is cut short");
                        }
                        long size = p.getLong();
                        long mtime = p.getLong();
                        int mode = p.getInt();
                        if ((mode & ~07777) != 0) {
                            throw new ProtocolException(name + " entry " + i + " mode " + Integer.toOctalString(mode)
                                    + " is not permissions");
                        }
                        byte[] hash = hashBytes == 0 ? null : new byte[hashBytes];
                        if (hash != null) {
                            p.get(hash);
                        }
                        int len = p.getShort() & 0xffff;
                        if (len > p.remaining() || len > Message.FileHeader.MAX_PATH) {
                            throw new ProtocolException(name + " entry " + i + " path_len " + len + " does not fit");
                        }
                        if (size < 0) {
                            throw new ProtocolException(name + " entry " + i + " size is out of range");
                        }
                        byte[] path = new byte[len];
                        p.get(path);
                        entries.add(new Message.FileList.Entry(size, mtime, mode, path, hash));
                    }
                    if (p.hasRemaining()) {
                        throw new ProtocolException(name + " has " + p.remaining() + " bytes after its entries");
                    }
                    return new Message.FileList(entries);
                }
                case Message.WANT -> {
                    need(type, n, 2, false);
                    int count = p.getShort() & 0xffff;
                    if (count == 0 || count > Message.FileList.MAX_ENTRIES) {
                        throw new ProtocolException("WANT count " + count + " is not in 1.." + Message.FileList.MAX_ENTRIES);
                    }
                    need(type, n, 2 + (count + 7) / 8, true);
                    boolean[] bits = new boolean[count];
                    for (int i = 0; i < count; i++) {
                        bits[i] = (p.get(2 + i / 8) >> (i % 8) & 1) != 0;
                    }
                    if (count % 8 != 0 && (p.get(2 + count / 8) & 0xff) >> (count % 8) != 0) {
                        throw new ProtocolException("WANT sets bits beyond its " + count + " entries");
                    }
                    return new Message.Want(bits);
                }
                case Message.DELETE -> {
                    need(type, n, 2, false);
                    int count = p.getShort() & 0xffff;
                    java.util.List<Message.Delete.Rule> rules = new java.util.ArrayList<>(Math.min(count, 1024));
                    for (int i = 0; i < count; i++) {
                        if (p.remaining() < 3) {
                            throw new ProtocolException("DELETE rule " + i + " is cut short");
                        }
                        int include = p.get() & 0xff;
                        int len = p.getShort() & 0xffff;
                        if (include > 1 || len == 0 || len > p.remaining() || len > Message.FileHeader.MAX_PATH) {
                            throw new ProtocolException("DELETE rule " + i + " is malformed");
                        }
                        byte[] pattern = new byte[len];
                        p.get(pattern);
                        rules.add(new Message.Delete.Rule(include == 1, pattern));
                    }
                    if (p.hasRemaining()) {
                        throw new ProtocolException("DELETE has " + p.remaining() + " bytes after its rules");
                    }
                    return new Message.Delete(rules);
                }
                case Message.KEPT -> {
                    need(type, n, 3, false);
                    int all = p.get() & 0xff;
                    if (all > 1) {
                        throw new ProtocolException("KEPT all " + all + " is not 0 or 1");
                    }
                    return new Message.Kept(all == 1, path(type, p, n - 3));
                }
                case Message.DIR -> {
                    need(type, n, 14, false);
                    int mode = p.getInt();
                    long mtime = p.getLong();
                    return new Message.Directory(mode, mtime, path(type, p, n - 14));
                }
                case Message.SYMLINK -> {
                    need(type, n, 12, false);
                    byte[][] pair = pathPair(type, p, n - 8, Message.Link.MAX_TARGET);
                    long mtime = p.getLong();
                    if (mtime == Message.FileHeader.NO_TIME) {
                        throw new ProtocolException("SYMLINK mtime out of range");
                    }
                    return Message.Link.symlink(pair[0], pair[1], mtime);
                }
                case Message.SPECIAL -> {
                    need(type, n, 22, false);
                    int mode = p.getInt();
                    long rdev = p.getLong();
                    long mtime = p.getLong();
                    byte[] path = path(type, p, n - 22);
                    return new Message.Special(mode, rdev, mtime, path); // a mode of another type: refused there
                }
                case Message.XATTRS -> {
                    List<byte[][]> attrs = new java.util.ArrayList<>();
                    while (p.hasRemaining()) {
                        int nl = p.get() & 0xff;
                        if (nl == 0 || nl + 4 > p.remaining()) {
                            throw new ProtocolException("XATTRS attribute " + attrs.size() + " is malformed");
                        }
                        byte[] name = new byte[nl];
                        p.get(name);
                        for (byte b : name) {
                            if (b == 0) {
                                throw new ProtocolException("XATTRS attribute " + attrs.size() + ": a NUL byte in its name");
                            }
                        }
                        long vl = p.getInt() & 0xffffffffL;
                        if (vl > p.remaining()) {
                            throw new ProtocolException("XATTRS attribute " + attrs.size() + " value_len " + vl + " does not fit the frame");
                        }
                        byte[] value = new byte[(int) vl];
                        p.get(value);
                        attrs.add(new byte[][] {name, value});
                    }
                    return new Message.Xattrs(attrs);
                }
                case Message.OWNER -> {
                    need(type, n, 11, false);
                    int numeric = p.get() & 0xff;
                    int uid = p.getInt();
                    int gid = p.getInt();
                    int ulen = p.get() & 0xff;
                    if (numeric > 1 || ulen > n - 11) {
                        throw new ProtocolException("OWNER is malformed");
                    }
                    byte[] user = new byte[ulen];
                    p.get(user);
                    int glen = p.get() & 0xff;
                    if (glen != n - 11 - ulen) {
                        throw new ProtocolException("OWNER group_len " + glen + " does not match the frame (" + (n - 11 - ulen) + ")");
                    }
                    byte[] group = new byte[glen];
                    p.get(group);
                    return new Message.Owner(numeric == 1, uid, gid, user, group);
                }
                case Message.HARDLINK -> {
                    byte[][] pair = pathPair(type, p, n, Message.FileHeader.MAX_PATH);
                    return Message.Link.hard(pair[0], pair[1]);
                }
                case Message.FILE_END -> {
                    need(type, n, 0, true);
                    return new Message.FileEnd();
                }
                case Message.ALL_DONE -> {
                    need(type, n, 0, true);
                    return new Message.AllDone();
                }
                case Message.CHANGES -> {
                    need(type, n, 1, true);
                    int dry = p.get() & 0xff;
                    if (dry > 1) {
                        throw new ProtocolException("CHANGES dry_run " + dry + " is not 0 or 1");
                    }
                    return new Message.ReportChanges(dry == 1);
                }
                case Message.CHANGE -> {
                    need(type, n, 13, false);
                    byte[] code = new byte[11];
                    p.get(code);
                    for (byte b : code) {
                        if (b < 0x20 || b > 0x7e) {
                            throw new ProtocolException("CHANGE itemize code is not printable ASCII");
                        }
                    }
                    byte[] path = path(type, p, n - 13);
                    return new Message.ChangeReport(new String(code, StandardCharsets.US_ASCII), path);
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

    /** A header's path_len u16 and path, which must fill the rest of the frame ({@code rest} bytes after the length). */
    private static byte[] path(int type, ByteBuffer p, int rest) throws ProtocolException {
        int len = p.getShort() & 0xffff;
        if (len != rest) {
            throw new ProtocolException(name(type) + " path_len " + len + " does not match the frame (" + rest + ")");
        }
        if (len > Message.FileHeader.MAX_PATH) {
            throw new ProtocolException("path of " + len + " bytes exceeds " + Message.FileHeader.MAX_PATH);
        }
        byte[] path = new byte[len];
        p.get(path);
        return path;
    }

    /** SYMLINK's and HARDLINK's path_len u16, path, target_len u16, target, in the first {@code n} bytes. */
    private static byte[][] pathPair(int type, ByteBuffer p, int n, int maxTarget) throws ProtocolException {
        need(type, n, 4, false);
        int len = p.getShort() & 0xffff;
        if (len > n - 4 || len > Message.FileHeader.MAX_PATH) {
            throw new ProtocolException(name(type) + " path_len " + len + " does not fit the frame (" + n + ")");
        }
        byte[] path = new byte[len];
        p.get(path);
        int tlen = p.getShort() & 0xffff;
        if (tlen != n - 4 - len || tlen == 0 || tlen > maxTarget) {
            throw new ProtocolException(name(type) + " target_len " + tlen + " does not match the frame (" + (n - 4 - len) + ")");
        }
        byte[] target = new byte[tlen];
        p.get(target);
        return new byte[][] {path, target};
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
            case Message.FILE_LIST -> "FILE_LIST";
            case Message.FILE_LIST_C -> "FILE_LIST_C";
            case Message.WANT -> "WANT";
            case Message.FILE_HDR_T -> "FILE_HDR_T";
            case Message.FILE_HDR_S -> "FILE_HDR_S";
            case Message.RANGE -> "RANGE";
            case Message.HARDLINK -> "HARDLINK";
            case Message.OWNER -> "OWNER";
            case Message.XATTRS -> "XATTRS";
            case Message.SPECIAL -> "SPECIAL";
            case Message.DIR -> "DIR";
            case Message.KEPT -> "KEPT";
            case Message.DELETE -> "DELETE";
            case Message.SYMLINK -> "SYMLINK";
            case Message.ALL_DONE -> "ALL_DONE";
            case Message.CHANGES -> "CHANGES";
            case Message.CHANGE -> "CHANGE";
            case Message.ERROR -> "ERROR";
            default -> String.format("0x%02x", type);
        };
    }
}
