package org.uringsync.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The wire messages of docs/PROTOCOL.md, validated on construction. Frame: {@code type u8 | length
 * u32 LE | payload}. FILE_DATA bodies are not messages here: they stream between file and socket.
 */
public sealed interface Message {
    int HELLO = 0x01, HELLO_OK = 0x02, HELLO_FAIL = 0x03, FILE_HDR = 0x10, FILE_DATA = 0x11, FILE_END = 0x12,
            FILE_LIST = 0x13, WANT = 0x14, FILE_HDR_T = 0x15, DIR = 0x16, SYMLINK = 0x17, DELETE = 0x18, FILE_HDR_S = 0x19,
            RANGE = 0x1A, HARDLINK = 0x1B, OWNER = 0x1C, XATTRS = 0x1D, SPECIAL = 0x1E, FILE_LIST_C = 0x1F, ALL_DONE = 0x20,
            CHANGES = 0x21, CHANGE = 0x22, KEPT = 0x23, ERROR = 0xFF;

    /**
     * The newest protocol version this implementation speaks: 5, version 4 and KEPT (the owner and
     * extended attributes of files the quick check keeps). A sender falls back 5, 4, 2 as receivers
     * refuse; 3 was version 4's development version, refused.
     */
    int VERSION = 5;
    /** Version 4 and KEPT. */
    int VERSION_5 = 5;
    /** File lists, WANT and metadata; served as before. */
    int VERSION_4 = 4;
    /** The design's version, still served exactly as before. */
    int VERSION_2 = 2;

    int type();

    /** @return a copy of {@code path}, refused when longer than {@link FileHeader#MAX_PATH} */
    private static byte[] checkedPath(byte[] path) {
        if (path.length > FileHeader.MAX_PATH) {
            throw new IllegalArgumentException("path longer than " + FileHeader.MAX_PATH + " bytes: " + path.length);
        }
        return path.clone();
    }

    /** HELLO: version, and (v2) the 32-byte proof in a 64-byte field; 66 bytes on the wire. */
    record Hello(int version, byte[] secret) implements Message {
        public Hello {
            if (version < 0 || version > 255) {
                throw new IllegalArgumentException("version out of range: " + version);
            }
            if (secret.length > 64) {
                throw new IllegalArgumentException("secret field holds at most 64 bytes: " + secret.length);
            }
            secret = secret.clone();
        }

        @Override
        public int type() {
            return HELLO;
        }

        @Override
        public byte[] secret() {
            return secret.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Hello h && h.version == version && Arrays.equals(h.secret, secret);
        }

        @Override
        public int hashCode() {
            return 31 * version + Arrays.hashCode(secret);
        }

        @Override
        public String toString() {
            return "Hello[version=" + version + ", secret=" + secret.length + " bytes]";
        }
    }

    /** HELLO_OK: the receiver's 32-byte proof that it knows the secret too. */
    record HelloOk(byte[] proof) implements Message {
        public HelloOk {
            if (proof.length != 32) {
                throw new IllegalArgumentException("HELLO_OK proof must be 32 bytes: " + proof.length);
            }
            proof = proof.clone();
        }

        @Override
        public int type() {
            return HELLO_OK;
        }

        @Override
        public byte[] proof() {
            return proof.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof HelloOk h && Arrays.equals(h.proof, proof);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(proof);
        }
    }

    /** HELLO_FAIL: 1 wrong secret, 2 version mismatch. */
    record HelloFail(int reason) implements Message {
        public static final int WRONG_SECRET = 1, VERSION_MISMATCH = 2;

        public HelloFail {
            if (reason < 0 || reason > 255) {
                throw new IllegalArgumentException("reason out of range: " + reason);
            }
        }

        @Override
        public int type() {
            return HELLO_FAIL;
        }
    }

    /**
     * FILE_HDR: size u64, mode u32, path_len u16, path bytes (relative, not necessarily UTF-8); in
     * version 4, FILE_HDR_T: the same with mtime_ns i64 after the mode, the time the receiver gives the
     * file, and FILE_HDR_S, the same as FILE_HDR_T for a sparse file: its data follows as RANGEs, each
     * with its FILE_DATA frames, then FILE_END; what no RANGE covers is a hole. {@code mtimeNanos} is
     * {@link #NO_TIME} for a FILE_HDR.
     */
    record FileHeader(long size, int mode, byte[] path, long mtimeNanos, boolean sparse) implements Message {
        public static final int MAX_PATH = 4096;
        public static final long NO_TIME = Long.MIN_VALUE;

        /** A FILE_HDR (no time). */
        public FileHeader(long size, int mode, byte[] path) {
            this(size, mode, path, NO_TIME, false);
        }

        /** A FILE_HDR_T. */
        public FileHeader(long size, int mode, byte[] path, long mtimeNanos) {
            this(size, mode, path, mtimeNanos, false);
        }

        public boolean timed() {
            return mtimeNanos != NO_TIME;
        }

        public FileHeader {
            if (size < 0) {
                throw new IllegalArgumentException("size out of range: " + Long.toUnsignedString(size));
            }
            path = checkedPath(path);
            if (sparse && mtimeNanos == NO_TIME) {
                throw new IllegalArgumentException("a sparse file's header carries its time (FILE_HDR_S)");
            }
        }

        @Override
        public int type() {
            return sparse ? FILE_HDR_S : timed() ? FILE_HDR_T : FILE_HDR;
        }

        @Override
        public byte[] path() {
            return path.clone();
        }

        public String pathText() {
            return new String(path, StandardCharsets.UTF_8);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FileHeader h && h.size == size && h.mode == mode && h.mtimeNanos == mtimeNanos
                    && h.sparse == sparse && Arrays.equals(h.path, path);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(size) * 31 + mode * 17 + Arrays.hashCode(path) + Long.hashCode(mtimeNanos);
        }

        @Override
        public String toString() {
            return "FileHeader[size=" + size + ", mode=0" + Integer.toOctalString(mode) + ", path=" + pathText() + "]";
        }
    }

    /**
     * RANGE (version 4, within a FILE_HDR_S file): offset u64, length u64; then FILE_DATA frames carrying
     * exactly {@code length} bytes, written at {@code offset}. A file's ranges are in order, do not
     * overlap, are not empty and end within its size.
     */
    record Range(long offset, long length) implements Message {
        public Range {
            if (offset < 0 || length <= 0 || offset > Long.MAX_VALUE - length) {
                throw new IllegalArgumentException("range out of bounds: " + offset + "+" + length);
            }
        }

        @Override
        public int type() {
            return RANGE;
        }
    }

    /**
     * FILE_LIST (version 4): count u16 (1..{@link #MAX_ENTRIES}), then per regular file size u64,
     * mtime_ns i64, path_len u16, path: the files the sender offers next, in order.
     */
    record FileList(List<Entry> entries) implements Message {
        public static final int MAX_ENTRIES = 256;
        /** The most payload bytes one FILE_LIST carries (ERROR's limit): a sender splits longer batches. */
        public static final int MAX_BYTES = 2 + 65536;

        /** Bytes of an entry's content hash in a FILE_LIST_C (XXH128). */
        public static final int HASH_BYTES = 16;

        /** One offered file: size, mtime, permissions ({@code mode & 07777}); with -c (FILE_LIST_C) its content hash, else null. */
        public record Entry(long size, long mtimeNanos, int mode, byte[] path, byte[] hash) {
            public Entry {
                if (size < 0) {
                    throw new IllegalArgumentException("size out of range: " + Long.toUnsignedString(size));
                }
                if ((mode & ~07777) != 0) {
                    throw new IllegalArgumentException("mode out of range: " + Integer.toOctalString(mode));
                }
                path = checkedPath(path);
                if (hash != null && hash.length != HASH_BYTES) {
                    throw new IllegalArgumentException("a content hash has " + HASH_BYTES + " bytes: " + hash.length);
                }
                hash = hash == null ? null : hash.clone();
            }

            @Override
            public byte[] path() {
                return path.clone();
            }

            @Override
            public byte[] hash() {
                return hash == null ? null : hash.clone();
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof Entry e && e.size == size && e.mtimeNanos == mtimeNanos && e.mode == mode
                        && Arrays.equals(e.path, path) && Arrays.equals(e.hash, hash);
            }

            @Override
            public int hashCode() {
                return Long.hashCode(size) * 31 + Long.hashCode(mtimeNanos) * 17 + mode + Arrays.hashCode(path) + Arrays.hashCode(hash);
            }
        }

        public FileList {
            if (entries.isEmpty() || entries.size() > MAX_ENTRIES) {
                throw new IllegalArgumentException("FILE_LIST holds 1.." + MAX_ENTRIES + " entries: " + entries.size());
            }
            entries = List.copyOf(entries);
            long bytes = 2;
            for (Entry e : entries) {
                if ((e.hash == null) != (entries.get(0).hash == null)) {
                    throw new IllegalArgumentException("FILE_LIST entries carry content hashes all or none");
                }
                bytes += entryBytes(e);
            }
            if (bytes > MAX_BYTES) {
                throw new IllegalArgumentException("FILE_LIST of " + bytes + " bytes exceeds " + MAX_BYTES);
            }
        }

        /** @return the bytes entry {@code e} takes in a FILE_LIST payload */
        public static int entryBytes(Entry e) {
            return 22 + e.path.length + (e.hash == null ? 0 : HASH_BYTES);
        }

        /** @return FILE_LIST_C when the entries carry content hashes (-c), else FILE_LIST */
        @Override
        public int type() {
            return entries.get(0).hash == null ? FILE_LIST : FILE_LIST_C;
        }
    }

    /** WANT (version 4): count u16 (that of the FILE_LIST answered), then a bitmap, bit i: send entry i. */
    record Want(boolean[] wanted) implements Message {
        public Want {
            if (wanted.length == 0 || wanted.length > FileList.MAX_ENTRIES) {
                throw new IllegalArgumentException("WANT answers 1.." + FileList.MAX_ENTRIES + " entries: " + wanted.length);
            }
            wanted = wanted.clone();
        }

        @Override
        public boolean[] wanted() {
            return wanted.clone();
        }

        @Override
        public int type() {
            return WANT;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Want w && Arrays.equals(w.wanted, wanted);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(wanted);
        }
    }

    /** DIR (version 4): mode u32, mtime_ns i64, path_len u16, path: a directory, made even when empty. */
    record Directory(int mode, long mtimeNanos, byte[] path) implements Message {
        public Directory {
            path = checkedPath(path);
        }

        @Override
        public byte[] path() {
            return path.clone();
        }

        @Override
        public int type() {
            return DIR;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Directory d && d.mode == mode && d.mtimeNanos == mtimeNanos && Arrays.equals(d.path, path);
        }

        @Override
        public int hashCode() {
            return mode * 31 + Long.hashCode(mtimeNanos) * 17 + Arrays.hashCode(path);
        }
    }

    /**
     * SYMLINK (version 4): path_len u16, path, target_len u16 (1..4095), target, mtime_ns i64: a
     * symlink, never followed, and its own modification time. HARDLINK (version 4, with -H): path_len
     * u16, path, target_len u16 (1..4096), target: {@code path} becomes a hard link to the regular file
     * {@code target} (a path relative to DEST, sent or left unchanged earlier in the transfer);
     * {@code mtimeNanos} is {@link FileHeader#NO_TIME} for it.
     */
    record Link(int type, byte[] path, byte[] target, long mtimeNanos) implements Message {
        public static final int MAX_TARGET = 4095;

        public static Link symlink(byte[] path, byte[] target, long mtimeNanos) {
            return new Link(SYMLINK, path, target, mtimeNanos);
        }

        public static Link hard(byte[] path, byte[] target) {
            return new Link(HARDLINK, path, target, FileHeader.NO_TIME);
        }

        /** The longest target a link of {@code type} may name. */
        public static int maxTarget(int type) {
            return type == SYMLINK ? MAX_TARGET : FileHeader.MAX_PATH;
        }

        public Link {
            if ((type != SYMLINK && type != HARDLINK) || path.length > FileHeader.MAX_PATH || target.length > maxTarget(type)
                    || target.length == 0) {
                throw new IllegalArgumentException("link path of " + path.length + " or target of " + target.length
                        + " bytes out of range");
            }
            if ((type == SYMLINK) == (mtimeNanos == FileHeader.NO_TIME)) {
                throw new IllegalArgumentException("a symlink carries its time, a hard link none");
            }
            path = path.clone();
            target = target.clone();
        }

        @Override
        public byte[] path() {
            return path.clone();
        }

        @Override
        public byte[] target() {
            return target.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Link l && l.type == type && l.mtimeNanos == mtimeNanos && Arrays.equals(l.path, path)
                    && Arrays.equals(l.target, target);
        }

        @Override
        public int hashCode() {
            return type * 961 + Arrays.hashCode(path) * 31 + Arrays.hashCode(target) + Long.hashCode(mtimeNanos);
        }
    }

    /**
     * OWNER (version 4, when the sender keeps owners): numeric u8 (0/1), uid u32, gid u32, user_len u8,
     * user, group_len u8, group (names as bytes; empty when the id has no name): the owner and group of the
     * FILE_HDR_T, FILE_HDR_S, DIR or SYMLINK that comes next. A receiver running as root gives the entry
     * the local ids of those names (the ids themselves when {@code numeric}, or when a name is empty or
     * unknown there, as rsync does); any other receiver ignores it.
     */
    record Owner(boolean numeric, int uid, int gid, byte[] user, byte[] group) implements Message {
        public static final int MAX_NAME = 255;

        public Owner {
            if (user.length > MAX_NAME || group.length > MAX_NAME) {
                throw new IllegalArgumentException("owner names longer than " + MAX_NAME + " bytes");
            }
            user = user.clone();
            group = group.clone();
        }

        @Override
        public byte[] user() {
            return user.clone();
        }

        @Override
        public byte[] group() {
            return group.clone();
        }

        @Override
        public int type() {
            return OWNER;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Owner w && w.numeric == numeric && w.uid == uid && w.gid == gid && Arrays.equals(w.user, user)
                    && Arrays.equals(w.group, group);
        }

        @Override
        public int hashCode() {
            return (uid * 31 + gid) * 31 + Arrays.hashCode(user) + Arrays.hashCode(group) + (numeric ? 1 : 0);
        }
    }

    /**
     * KEPT (version 5, when the sender keeps owners or extended attributes): all u8 (0/1), path_len u16,
     * path. A file offered in a FILE_LIST that the receiver did not want, after its OWNER and its XATTRS
     * (an empty one when the file has none): the receiver gives the file it kept those (what the entry's
     * OWNER and XATTRS would give a file it writes), and takes away the attributes it may set that XATTRS
     * lacks, in the namespaces the sender read: "user." alone, or with {@code all} (a sender running as
     * root) every one but "system.".
     */
    record Kept(boolean all, byte[] path) implements Message {
        public Kept {
            path = checkedPath(path);
        }

        @Override
        public byte[] path() {
            return path.clone();
        }

        @Override
        public int type() {
            return KEPT;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Kept k && k.all == all && Arrays.equals(k.path, path);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(path) * 2 + (all ? 1 : 0);
        }
    }

    /**
     * XATTRS (version 4, with -X): the extended attributes of the FILE_HDR_T, FILE_HDR_S or DIR that
     * comes next (its OWNER, if any, comes before the XATTRS): per attribute name_len u8 (1..255), name (no NUL),
     * value_len u32, value; at most 65,535 bytes in all.
     */
    record Xattrs(List<byte[][]> attributes) implements Message {
        public static final int MAX_BYTES = 65535;

        public Xattrs {
            long n = 0;
            List<byte[][]> copy = new java.util.ArrayList<>();
            for (byte[][] a : attributes) {
                if (a[0].length == 0 || a[0].length > 255) {
                    throw new IllegalArgumentException("attribute name of " + a[0].length + " bytes");
                }
                n += 5 + a[0].length + a[1].length;
                copy.add(new byte[][] {a[0].clone(), a[1].clone()});
            }
            if (n > MAX_BYTES) {
                throw new IllegalArgumentException("attributes of " + n + " bytes");
            }
            attributes = List.copyOf(copy);
        }

        @Override
        public int type() {
            return XATTRS;
        }

        @Override
        public boolean equals(Object o) {
            if (!(o instanceof Xattrs x) || x.attributes.size() != attributes.size()) {
                return false;
            }
            for (int i = 0; i < attributes.size(); i++) {
                if (!Arrays.equals(x.attributes.get(i)[0], attributes.get(i)[0]) || !Arrays.equals(x.attributes.get(i)[1], attributes.get(i)[1])) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public int hashCode() {
            int h = 0;
            for (byte[][] a : attributes) {
                h = h * 31 + Arrays.hashCode(a[0]) * 7 + Arrays.hashCode(a[1]);
            }
            return h;
        }
    }

    /**
     * SPECIAL (version 4, with send -a): mode u32 (a device's, FIFO's or socket's type and permissions),
     * rdev u64, mtime_ns i64, path_len u16, path: a node a receiver running as root makes (any other
     * receiver skips it, saying so in its log).
     */
    record Special(int mode, long rdev, long mtimeNanos, byte[] path) implements Message {
        public Special {
            if (!isSpecial(mode)) {
                throw new IllegalArgumentException("SPECIAL mode " + Integer.toOctalString(mode) + " is not a device, FIFO or socket");
            }
            path = checkedPath(path);
        }

        /** @return whether {@code mode}'s type (its S_IFMT bits) is a character or block device, a FIFO or a socket */
        public static boolean isSpecial(int mode) {
            int t = mode & 0170000;
            return t == 0020000 || t == 0060000 || t == 0010000 || t == 0140000;
        }

        @Override
        public byte[] path() {
            return path.clone();
        }

        @Override
        public int type() {
            return SPECIAL;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Special s && s.mode == mode && s.rdev == rdev && s.mtimeNanos == mtimeNanos
                    && Arrays.equals(s.path, path);
        }

        @Override
        public int hashCode() {
            return (mode * 31 + Long.hashCode(rdev)) * 31 + Long.hashCode(mtimeNanos) + Arrays.hashCode(path);
        }
    }

    /**
     * DELETE (version 4), before ALL_DONE: remove what DEST has and the transfer did not offer, in
     * every directory offered, except what these rules exclude. count u16, then per rule include u8,
     * pattern_len u16, pattern. At most {@link #MAX_BYTES} of payload.
     */
    record Delete(List<Rule> rules) implements Message {
        public static final int MAX_BYTES = 2 + 65536;

        /** A filter rule: include or exclude, and its pattern. */
        public record Rule(boolean include, byte[] pattern) {
            public Rule {
                if (pattern.length == 0 || pattern.length > FileHeader.MAX_PATH) {
                    throw new IllegalArgumentException("pattern of " + pattern.length + " bytes");
                }
                pattern = pattern.clone();
            }

            @Override
            public byte[] pattern() {
                return pattern.clone();
            }

            @Override
            public boolean equals(Object o) {
                return o instanceof Rule r && r.include == include && Arrays.equals(r.pattern, pattern);
            }

            @Override
            public int hashCode() {
                return Arrays.hashCode(pattern) * 2 + (include ? 1 : 0);
            }
        }

        public Delete {
            rules = List.copyOf(rules);
            long bytes = 2;
            for (Rule r : rules) {
                bytes += 3 + r.pattern.length;
            }
            if (rules.size() > 65535 || bytes > MAX_BYTES) {
                throw new IllegalArgumentException("DELETE of " + bytes + " bytes exceeds " + MAX_BYTES);
            }
        }

        @Override
        public int type() {
            return DELETE;
        }
    }

    /** FILE_END: no payload. */
    record FileEnd() implements Message {
        @Override
        public int type() {
            return FILE_END;
        }
    }

    /**
     * CHANGES (version 4, sender to receiver, right after HELLO_OK): dry_run u8 (0/1). The receiver
     * reports each change it makes as a CHANGE, all of them before its ALL_DONE; with dry_run 1 it
     * changes nothing and reports what it would do (the sender then sends no file data).
     */
    record ReportChanges(boolean dryRun) implements Message {
        @Override
        public int type() {
            return CHANGES;
        }
    }

    /**
     * CHANGE (version 4, receiver to sender, when CHANGES asked for them): itemize [11] (rsync's -i
     * code, ASCII), path_len u16, path: one change the receiver made, or would make.
     */
    record ChangeReport(String itemize, byte[] path) implements Message {
        public ChangeReport {
            if (itemize.length() != 11 || !StandardCharsets.US_ASCII.newEncoder().canEncode(itemize)) {
                throw new IllegalArgumentException("an itemize code has 11 ASCII characters: '" + itemize + "'");
            }
            path = checkedPath(path);
        }

        @Override
        public byte[] path() {
            return path.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof ChangeReport c && c.itemize.equals(itemize) && Arrays.equals(c.path, path);
        }

        @Override
        public int hashCode() {
            return itemize.hashCode() * 31 + Arrays.hashCode(path);
        }

        @Override
        public int type() {
            return CHANGE;
        }
    }

    /** ALL_DONE: no payload. From the sender: nothing more follows; from the receiver: all files are in place. */
    record AllDone() implements Message {
        @Override
        public int type() {
            return ALL_DONE;
        }
    }

    /** ERROR: code u8, msg_len u16, message (UTF-8). */
    record Error(int code, String text) implements Message {
        public static final int PROTOCOL = 1, PATH = 2, IO = 3, INTERNAL = 4;

        public Error {
            if (code < 0 || code > 255) {
                throw new IllegalArgumentException("code out of range: " + code);
            }
            if (text.getBytes(StandardCharsets.UTF_8).length > 65535) {
                throw new IllegalArgumentException("error text longer than 65535 bytes");
            }
        }

        @Override
        public int type() {
            return ERROR;
        }
    }
}
