package org.uringsync.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

class FrameCodecTest {
    static Message roundTrip(Message m) throws ProtocolException {
        byte[] f = FrameCodec.encode(m);
        int len = ByteBuffer.wrap(f, 1, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
        assertEquals(f.length - 5, len);
        return FrameCodec.decode(f[0] & 0xff, ByteBuffer.wrap(f, 5, len));
    }

    @Test
    void fileHeaderMatchesTheByteExampleInProtocolMd() {
        byte[] f = FrameCodec.encode(new Message.FileHeader(4096, 0644, "a.txt".getBytes(StandardCharsets.US_ASCII)));
        assertEquals("10" + "13000000" + "0010000000000000" + "a4010000" + "0500" + "612e747874",
                HexFormat.of().formatHex(f));
    }

    @Test
    void helloIsThe66ByteStructure() {
        byte[] proof = new byte[32];
        Arrays.fill(proof, (byte) 0xab);
        byte[] f = FrameCodec.encode(new Message.Hello(2, proof));
        assertEquals(5 + 66, f.length);
        assertEquals("01" + "42000000" + "02" + "20", HexFormat.of().formatHex(f, 0, 7));
        for (int i = 7 + 32; i < f.length; i++) {
            assertEquals(0, f[i], "padding byte " + i);
        }
    }

    @Test
    void everyMessageRoundTrips() throws ProtocolException {
        byte[] proof = new byte[32];
        proof[3] = 9;
        Message[] all = {new Message.Hello(2, proof), new Message.Hello(1, "secret".getBytes()),
            new Message.HelloOk(proof), new Message.HelloFail(1), new Message.HelloFail(2),
            new Message.FileHeader(0, 0755, new byte[] {'x', (byte) 0xff}), new Message.FileHeader(1L << 40, 0600, "a/b".getBytes()),
            new Message.FileEnd(), new Message.AllDone(), new Message.Error(3, "disk full: ü")};
        for (Message m : all) {
            assertEquals(m, roundTrip(m));
        }
        assertEquals("FileEnd[]", roundTrip(new Message.FileEnd()).toString());
    }

    /** Version 4's messages: the byte examples of docs/PROTOCOL.md (read from the document) and round trips. */
    @Test
    void version4MessagesMatchTheByteExamplesInProtocolMd() throws Exception {
        String doc = java.nio.file.Files.readString(java.nio.file.Path.of("..", "docs", "PROTOCOL.md"));
        long mtime = 1_700_000_000_123_456_789L;
        byte[] path = "a.txt".getBytes(StandardCharsets.US_ASCII);
        Message list = new Message.FileList(java.util.List.of(new Message.FileList.Entry(4096, mtime, 0644, path, null)));
        Message want = new Message.Want(new boolean[] {true, false, true});
        Message hdr = new Message.FileHeader(4096, 0644, path, mtime);
        assertEquals(example(doc, "FILE_LIST offering"), HexFormat.of().formatHex(FrameCodec.encode(list)));
        byte[] hash = HexFormat.of().parseHex("000102030405060708090a0b0c0d0e0f");
        Message listC = new Message.FileList(java.util.List.of(new Message.FileList.Entry(4096, mtime, 0644, path, hash)));
        assertEquals(example(doc, "FILE_LIST_C (`-c`) offering"), HexFormat.of().formatHex(FrameCodec.encode(listC)));
        assertEquals(Message.FILE_LIST_C, listC.type());
        Message changes = new Message.ReportChanges(true);
        Message change = new Message.ChangeReport(">f+++++++++", path);
        assertEquals(example(doc, "CHANGES asking for a dry run"), HexFormat.of().formatHex(FrameCodec.encode(changes)));
        assertEquals(example(doc, "CHANGE reporting a new file"), HexFormat.of().formatHex(FrameCodec.encode(change)));
        assertEquals(example(doc, "WANT for a list of 3"), HexFormat.of().formatHex(FrameCodec.encode(want)));
        assertEquals(example(doc, "FILE_HDR_T for the same file"), HexFormat.of().formatHex(FrameCodec.encode(hdr)));
        Message dir = new Message.Directory(0750, mtime, "d".getBytes(StandardCharsets.US_ASCII));
        Message link = Message.Link.symlink("l".getBytes(StandardCharsets.US_ASCII), "a.txt".getBytes(StandardCharsets.US_ASCII), mtime);
        assertEquals(example(doc, "mode 0750, the same mtime"), HexFormat.of().formatHex(FrameCodec.encode(dir)));
        assertEquals(example(doc, "SYMLINK `l`"), HexFormat.of().formatHex(FrameCodec.encode(link)));
        Message delete = new Message.Delete(java.util.List.of(new Message.Delete.Rule(false,
                "*.log".getBytes(StandardCharsets.US_ASCII))));
        assertEquals(example(doc, "DELETE keeping"), HexFormat.of().formatHex(FrameCodec.encode(delete)));
        Message sparse = new Message.FileHeader(1L << 30, 0644, path, mtime, true);
        Message range = new Message.Range(1 << 20, 1 << 16);
        assertEquals(example(doc, "FILE_HDR_S for a sparse"), HexFormat.of().formatHex(FrameCodec.encode(sparse)));
        assertEquals(example(doc, "RANGE of 64 KiB at 1 MiB"), HexFormat.of().formatHex(FrameCodec.encode(range)));
        Message hardLink = Message.Link.hard("l2".getBytes(StandardCharsets.US_ASCII), path);
        assertEquals(example(doc, "HARDLINK making `l2`"), HexFormat.of().formatHex(FrameCodec.encode(hardLink)));
        byte[] rootName = "root".getBytes(StandardCharsets.US_ASCII);
        Message owner = new Message.Owner(false, 0, 0, rootName, rootName);
        assertEquals(example(doc, "OWNER root:root by name"), HexFormat.of().formatHex(FrameCodec.encode(owner)));
        Message xattrs = new Message.Xattrs(java.util.List.<byte[][]>of(new byte[][] {"user.color".getBytes(StandardCharsets.US_ASCII),
            "blue".getBytes(StandardCharsets.US_ASCII)}));
        assertEquals(example(doc, "XATTRS with `user.color`"), HexFormat.of().formatHex(FrameCodec.encode(xattrs)));
        Message fifo = new Message.Special(0010644, 0, mtime, "fifo".getBytes(StandardCharsets.US_ASCII));
        assertEquals(example(doc, "SPECIAL, a FIFO"), HexFormat.of().formatHex(FrameCodec.encode(fifo)));
        Message kept = new Message.Kept(false, path);
        assertEquals(example(doc, "KEPT `a.txt` (version 5)"), HexFormat.of().formatHex(FrameCodec.encode(kept)));
        Message noXattrs = new Message.Xattrs(java.util.List.of());
        assertEquals("1d00000000", HexFormat.of().formatHex(FrameCodec.encode(noXattrs)), "an empty XATTRS, as docs/PROTOCOL.md writes it");
        assertTrue(doc.contains("an empty one, `1d 00 00 00 00`"), "docs/PROTOCOL.md shows the empty XATTRS");
        for (Message m : new Message[] {list, listC, changes, change, want, hdr, dir, link, delete, sparse, range, hardLink, owner, xattrs, fifo,
                kept, new Message.Kept(true, path), noXattrs, new Message.Owner(true, 65534, 7, new byte[0], new byte[0])}) {
            assertEquals(m, roundTrip(m));
        }
        assertEquals(Message.FILE_HDR_S, sparse.type());
        assertEquals(Message.FILE_HDR_T, hdr.type());
        assertEquals(Message.FILE_HDR, new Message.FileHeader(1, 0644, path).type());
    }

    /** The first backquoted hex run after {@code lead} in the document, without spaces. */
    private static String example(String doc, String lead) {
        int at = doc.indexOf(lead);
        assertTrue(at >= 0, lead);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("`([0-9a-f ]+)`").matcher(doc);
        assertTrue(m.find(at), lead);
        return m.group(1).replace(" ", "");
    }

    @Test
    void malformedVersion3PayloadsAreRefusedWithTheReason() {
        assertEquals("FILE_LIST count 0 is not in 1..256", refused(Message.FILE_LIST, "0000"));
        assertEquals("FILE_LIST count 257 is not in 1..256", refused(Message.FILE_LIST, "0101"));
        assertEquals("FILE_LIST entry 0 is cut short", refused(Message.FILE_LIST, "0100" + "00".repeat(21)));
        assertEquals("FILE_LIST entry 0 path_len 6 does not fit",
                refused(Message.FILE_LIST, "0100" + "00".repeat(20) + "0600" + "612e747874"));
        assertEquals("FILE_LIST has 1 bytes after its entries",
                refused(Message.FILE_LIST, "0100" + "00".repeat(20) + "0000" + "ff"));
        assertEquals("FILE_LIST entry 0 mode 10644 is not permissions",
                refused(Message.FILE_LIST, "0100" + "00".repeat(16) + "a4110000" + "0000"));
        assertEquals("FILE_LIST_C entry 0 is cut short", refused(Message.FILE_LIST_C, "0100" + "00".repeat(37)));
        assertEquals("CHANGES dry_run 2 is not 0 or 1", refused(Message.CHANGES, "02"));
        assertEquals("CHANGE itemize code is not printable ASCII", refused(Message.CHANGE, "0a" + "2b".repeat(10) + "0000"));
        assertEquals("FILE_LIST_C entry 1 is cut short",
                refused(Message.FILE_LIST_C, "0200" + "00".repeat(36) + "0100" + "61" + "00".repeat(22)));
        assertEquals("WANT payload of 4 bytes, expected 3", refused(Message.WANT, "0300" + "0500"));
        assertEquals("WANT count 0 is not in 1..256", refused(Message.WANT, "0000"));
        assertEquals("WANT sets bits beyond its 3 entries", refused(Message.WANT, "0300" + "0d"));
        assertEquals("DELETE rule 0 is malformed", refused(Message.DELETE, "0100" + "02" + "0100" + "61"));
        assertEquals("DELETE has 1 bytes after its rules", refused(Message.DELETE, "0000" + "ff"));
        String time = "15cd853dfe9c9717";
        assertEquals("SYMLINK target_len 0 does not match the frame (0)", refused(Message.SYMLINK, "0100" + "6c" + "0000" + time));
        assertEquals("SYMLINK path_len 9 does not fit the frame (7)",
                refused(Message.SYMLINK, "0900" + "6c" + "0100" + "61" + "00" + time));
        assertEquals("SYMLINK payload of 11 bytes, expected 12", refused(Message.SYMLINK, "0100" + "6c" + "0100" + "61" + "0000000000"));
        assertEquals("SYMLINK mtime out of range", refused(Message.SYMLINK, "0100" + "6c" + "0100" + "61" + "0000000000000080"));
        assertEquals("FILE_HDR_T path_len 9 does not match the frame (5)",
                refused(Message.FILE_HDR_T, "00".repeat(20) + "0900" + "612e747874"));
        assertEquals("FILE_HDR_S path_len 9 does not match the frame (5)",
                refused(Message.FILE_HDR_S, "00".repeat(20) + "0900" + "612e747874"));
        assertEquals("RANGE payload of 15 bytes, expected 16", refused(Message.RANGE, "00".repeat(15)));
        assertEquals("SPECIAL mode 100644 is not a device, FIFO or socket",
                refused(Message.SPECIAL, "a4810000" + "00".repeat(16) + "0100" + "66"));
        assertEquals("XATTRS attribute 0 is malformed", refused(Message.XATTRS, "00" + "00000000"));
        assertEquals("XATTRS attribute 0: a NUL byte in its name", refused(Message.XATTRS, "02" + "6100" + "00000000"));
        assertEquals("XATTRS attribute 1 value_len 5 does not fit the frame",
                refused(Message.XATTRS, "01" + "61" + "00000000" + "01" + "62" + "05000000" + "00"));
        assertEquals("OWNER is malformed", refused(Message.OWNER, "02" + "00".repeat(8) + "00" + "00"));
        assertEquals("OWNER group_len 1 does not match the frame (0)", refused(Message.OWNER, "00" + "00".repeat(8) + "00" + "01"));
        assertEquals("OWNER payload of 10 bytes, expected 11", refused(Message.OWNER, "00".repeat(10)));
        assertEquals("HARDLINK target_len 0 does not match the frame (0)", refused(Message.HARDLINK, "0100" + "62" + "0000"));
        assertEquals("HARDLINK path_len 9 does not fit the frame (7)", refused(Message.HARDLINK, "0900" + "62" + "0100" + "61" + "00"));
        assertEquals("KEPT path_len 3 does not match the frame (2)", refused(Message.KEPT, "00" + "0300" + "6162"));
        assertEquals("KEPT payload of 2 bytes, expected 3", refused(Message.KEPT, "0000"));
        assertEquals("KEPT all 2 is not 0 or 1", refused(Message.KEPT, "02" + "0100" + "61"));
        assertEquals("RANGE 0+0 is out of range", refused(Message.RANGE, "00".repeat(16)));
        assertEquals("RANGE 1+9223372036854775807 is out of range",
                refused(Message.RANGE, "0100000000000000" + "ffffffffffffff7f"));
    }

    private static String refused(int type, String hex) {
        byte[] b = HexFormat.of().parseHex(hex);
        return org.junit.jupiter.api.Assertions.assertThrows(ProtocolException.class,
                () -> FrameCodec.decode(type, ByteBuffer.wrap(b))).getMessage();
    }

    @Test
    void limitsAreKnownBeforeReadingAPayload() {
        assertEquals(66, FrameCodec.maxPayload(Message.HELLO, 0));
        assertEquals(14 + 4096, FrameCodec.maxPayload(Message.FILE_HDR, 0));
        assertEquals(0, FrameCodec.maxPayload(Message.FILE_END, 0));
        assertEquals(131072, FrameCodec.maxPayload(Message.FILE_DATA, 131072));
        assertEquals(-1, FrameCodec.maxPayload(0x42, 0));
    }

    @Test
    void malformedPayloadsAreRefusedWithTheReason() {
        assertEquals("HELLO payload of 10 bytes, expected 66",
                assertThrows(ProtocolException.class, () -> FrameCodec.decode(Message.HELLO, ByteBuffer.allocate(10))).getMessage());
        ByteBuffer hello = ByteBuffer.allocate(66).put(0, (byte) 2).put(1, (byte) 65);
        assertEquals("HELLO secret_len 65 exceeds 64",
                assertThrows(ProtocolException.class, () -> FrameCodec.decode(Message.HELLO, hello)).getMessage());
        ByteBuffer hdr = ByteBuffer.allocate(16).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(5).putInt(0644).putShort((short) 9);
        hdr.clear();
        assertEquals("FILE_HDR path_len 9 does not match the frame (2)",
                assertThrows(ProtocolException.class, () -> FrameCodec.decode(Message.FILE_HDR, hdr)).getMessage());
        ByteBuffer neg = ByteBuffer.allocate(15).order(java.nio.ByteOrder.LITTLE_ENDIAN).putLong(-1).putInt(0).putShort((short) 1).put((byte) 'a');
        neg.clear();
        assertEquals("FILE_HDR size 18446744073709551615 is out of range",
                assertThrows(ProtocolException.class, () -> FrameCodec.decode(Message.FILE_HDR, neg)).getMessage());
        assertEquals("unknown message type 0x42",
                assertThrows(ProtocolException.class, () -> FrameCodec.decode(0x42, ByteBuffer.allocate(0))).getMessage());
    }

    @Test
    void errorTextIsUtf8() throws ProtocolException {
        byte[] f = FrameCodec.encode(new Message.Error(2, "nö"));
        assertArrayEquals(new byte[] {(byte) 0xff, 6, 0, 0, 0, 2, 3, 0, 'n', (byte) 0xc3, (byte) 0xb6}, f);
    }
}
