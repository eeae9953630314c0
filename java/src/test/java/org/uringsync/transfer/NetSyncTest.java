package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.CopyListener;
import org.uringsync.CopyResult;
import org.uringsync.Filter;
import org.uringsync.Receiver;
import org.uringsync.Sender;
import org.uringsync.nativeio.NativeTestSupport;
import org.uringsync.protocol.Message;

/** Send and receive as a sync (protocol version 4): file lists, the receiver's WANT, mtimes kept. */
class NetSyncTest {
    static final String SECRET = "net-sync-test-secret-0123";

    @TempDir
    Path tmp;
    Path src;
    Path dst;
    Receiver receiver;
    final List<String> log = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void start() throws IOException {
        NativeTestSupport.assumeRing();
        src = tmp.resolve("src");
        dst = tmp.resolve("dst");
        for (int d = 0; d < 3; d++) {
            Files.createDirectories(src.resolve("d" + d));
            for (int f = 0; f < 200; f++) { // more than one FILE_LIST (256 entries) in all
                Files.writeString(src.resolve("d" + d + "/f" + f), "file " + d + "/" + f + "\n".repeat(f));
            }
        }
        receiver = Receiver.builder(dst).bind(InetAddress.getLoopbackAddress()).port(0).secret(SECRET)
                .stateDirectory(tmp.resolve("state")).log(log::add).build().start();
    }

    @AfterEach
    void stop() {
        ReceiverHandshake.newestVersion = Message.VERSION;
        if (receiver != null) {
            receiver.close();
        }
    }

    private CopyResult send(List<String> sent) throws IOException {
        CopyResult r = Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).listener(new CopyListener() {
            @Override
            public void copied(String path, long bytes) {
                sent.add(path);
            }
        }).build().send(src);
        assertTrue(r.succeeded(), r.failures().toString());
        return r;
    }

    /**
     * A sparse file's holes cross the wire as nothing (FILE_HDR_S, RANGEs) and stay holes on DEST; a file
     * that is all hole sends no data at all. The sender's byte count is the data's.
     */
    @Test
    void sparseFilesSendOnlyTheirData() throws IOException {
        long dense = 0;
        for (String f : Listings.of(src)) {
            dense += f.endsWith("/") ? 0 : Files.size(src.resolve(f));
        }
        SparseFiles.makeSet(src);
        CopyResult r = send(new ArrayList<>());
        SparseFiles.assertArrivedSparse(src, dst);
        long mib = 1 << 20;
        // 4 MiB + 123 bytes of data; SEEK_HOLE rounds a range's end up to the file system's block
        long data = r.bytes() - dense;
        assertTrue(data >= 4 * mib + 123 && data <= 4 * mib + 4096, "data bytes sent: " + data);
        assertEquals(0, send(new ArrayList<>()).bytes(), "a second send");
    }

    /**
     * -H: names sharing an inode in SOURCE share one in DEST (HARDLINK), each inode's data sent once; a
     * second send carries no file bytes and keeps the links; a link whose first is excluded becomes the
     * first itself.
     */
    @Test
    void hardLinksArriveAsLinksWithH() throws IOException {
        Files.createLink(src.resolve("d1/link-to-f1"), src.resolve("d0/f1"));
        Files.createLink(src.resolve("d2/second-link"), src.resolve("d0/f1"));
        Files.createLink(src.resolve("top-link"), src.resolve("d2/f5"));
        long linkBytes = 2 * Files.size(src.resolve("d0/f1")) + Files.size(src.resolve("d2/f5"));
        long all = 0;
        for (String f : Listings.of(src)) {
            all += f.endsWith("/") ? 0 : Files.size(src.resolve(f));
        }
        CopyResult first = sendWith(Sender.builder("127.0.0.1", receiver.port()).hardLinks(true));
        assertEquals(all - linkBytes, first.bytes(), "each inode's data once");
        Listings.assertHardLinked(src, dst, List.of(List.of("d0/f1", "d1/link-to-f1", "d2/second-link"), List.of("d2/f5", "top-link")));
        CopyResult second = sendWith(Sender.builder("127.0.0.1", receiver.port()).hardLinks(true));
        assertEquals(0, second.bytes(), second.summary());
        assertEquals(3, Files.getAttribute(dst.resolve("d0/f1"), "unix:nlink"));
        try (java.util.stream.Stream<Path> s = Files.walk(dst)) { // an empty DEST again
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).filter(p -> !p.equals(dst)).toList()) {
                Files.delete(p);
            }
        }
        sendWith(Sender.builder("127.0.0.1", receiver.port()).hardLinks(true).filter(org.uringsync.Filter.none().exclude("d0/")));
        assertTrue(Files.notExists(dst.resolve("d0")));
        Listings.assertHardLinked(src, dst, List.of(List.of("d1/link-to-f1", "d2/second-link"), List.of("d2/f5", "top-link")));
    }

    /**
     * -a with a receiver running as root: each file's, directory's (the root's too) and symlink's owner
     * and group arrive (by name; ids without a name as ids), and with --numeric-ids by id.
     */
    @Test
    void ownersArriveWhenTheReceiverRunsAsRoot() throws IOException {
        NativeTestSupport.assumeRoot("ownersArriveWhenTheReceiverRunsAsRoot");
        java.nio.file.LinkOption nofollow = java.nio.file.LinkOption.NOFOLLOW_LINKS;
        Files.createSymbolicLink(src.resolve("d0/link"), Path.of("f1"));
        Object[][] owners = { // path, uid, gid: named ids (nobody, daemon, root) and ids without a name
            {"d0/f0", 65534, 65534}, {"d0/f2", 54321, 54322}, {"d1", 4242, 4343}, {"d0/link", 1, 1}, {"", 2, 3}};
        for (Object[] o : owners) {
            Files.setAttribute(src.resolve((String) o[0]), "unix:uid", o[1], nofollow);
            Files.setAttribute(src.resolve((String) o[0]), "unix:gid", o[2], nofollow);
        }
        sendWith(Sender.builder("127.0.0.1", receiver.port()).owners(true));
        for (Object[] o : owners) {
            assertEquals(o[1], Files.getAttribute(dst.resolve((String) o[0]), "unix:uid", nofollow), (String) o[0]);
            assertEquals(o[2], Files.getAttribute(dst.resolve((String) o[0]), "unix:gid", nofollow), (String) o[0]);
        }
        assertEquals(0, Files.getAttribute(dst.resolve("d2/f3"), "unix:uid"), "root's own files stay root's");
        Files.writeString(src.resolve("d2/numeric"), "by id");
        Files.setAttribute(src.resolve("d2/numeric"), "unix:uid", 65534);
        sendWith(Sender.builder("127.0.0.1", receiver.port()).owners(true).numericIds(true));
        assertEquals(65534, Files.getAttribute(dst.resolve("d2/numeric"), "unix:uid"));
        Files.writeString(src.resolve("d2/plain"), "no -a");
        Files.setAttribute(src.resolve("d2/plain"), "unix:uid", 65534);
        sendWith(Sender.builder("127.0.0.1", receiver.port()));
        assertEquals(0, Files.getAttribute(dst.resolve("d2/plain"), "unix:uid"), "without -a the receiver's own");
    }

    /** send -X: the extended attributes of files (sparse too), directories and the root arrive; without -X none. */
    @Test
    void extendedAttributesArriveWithX() throws IOException {
        SparseFiles.make(src.resolve("sparse"), 8 << 20, 1 << 20, 5000);
        Listings.setXattr(src.resolve("sparse"), "user.kind", "sparse");
        boolean root = Listings.setTestXattrs(src);
        sendWith(Sender.builder("127.0.0.1", receiver.port()).xattrs(true));
        String expected = Listings.xattrs(src);
        assertTrue(expected.contains("user.kind=\"sparse\"") && (!root || expected.contains("trusted.secret")), expected);
        assertEquals(expected, Listings.xattrs(dst));
        Files.writeString(src.resolve("d2/plain"), "no -X");
        Listings.setXattr(src.resolve("d2/plain"), "user.x", "1");
        sendWith(Sender.builder("127.0.0.1", receiver.port()));
        assertTrue(Files.exists(dst.resolve("d2/plain")));
        assertTrue(!Listings.xattrs(dst).contains("d2/plain"), "without -X");
    }

    /**
     * send -X again (version 5, KEPT): files the quick check keeps get the sender's extended attributes,
     * a changed value, a new name and a name the source lost alike, in place (no byte sent, the same
     * inode), reported as {@code .f........x}; directories too, those with none included (an empty
     * XATTRS), not reported (as their times are not); a dry run names the same files and changes nothing.
     */
    @Test
    void keptFilesGetTheSendersExtendedAttributesWithX() throws IOException {
        boolean root = Listings.setTestXattrs(src);
        sendWith(Sender.builder("127.0.0.1", receiver.port()).xattrs(true));
        Object inode = Files.getAttribute(dst.resolve("d0/f1"), "unix:ino");
        Listings.setXattr(src.resolve("d0/f1"), "user.color", "green"); // a changed value
        Listings.setXattr(src.resolve("d1/f7"), "user.new", "1"); // a new name
        Listings.setXattr(dst.resolve("d2/f9"), "user.stale", "gone on the source"); // a name the source lacks
        Listings.setTestDirectoryChanges(src, dst);
        if (root) {
            Listings.setXattr(src.resolve("d2/f2"), "trusted.secret", "changed");
        }
        String before = Listings.xattrs(dst);
        for (boolean dryRun : new boolean[] {true, false}) {
            List<String> seen = new ArrayList<>();
            CopyResult r = sendItemized(Sender.builder("127.0.0.1", receiver.port()).xattrs(true).dryRun(dryRun), seen);
            List<String> expected = new ArrayList<>(List.of(".f........x d0/f1", ".f........x d1/f7", ".f........x d2/f9"));
            if (root) {
                expected.add(".f........x d2/f2");
            }
            assertEquals(new java.util.TreeSet<>(expected), new java.util.TreeSet<>(seen), dryRun ? "dry run" : "real run");
            assertEquals(0, r.bytes(), r.summary());
            assertEquals(Message.VERSION, r.protocol());
            if (dryRun) {
                assertEquals(before, Listings.xattrs(dst), "a dry run changes nothing");
            }
        }
        assertEquals(Listings.xattrs(src), Listings.xattrs(dst));
        assertEquals(inode, Files.getAttribute(dst.resolve("d0/f1"), "unix:ino"), "the file stayed in place");
        assertNothingLeftToChange(Sender.builder("127.0.0.1", receiver.port()).xattrs(true));
    }

    /**
     * As root, a directory already on DEST gets the sender's values in every namespace it may set, but
     * loses stale names in "user." alone: its XATTRS does not say whether the sender read the others.
     */
    @Test
    void aDirectoryKeepsItsOtherNamespacesStaleNamesWithX() throws IOException {
        NativeTestSupport.assumeRoot("aDirectoryKeepsItsOtherNamespacesStaleNamesWithX");
        sendWith(Sender.builder("127.0.0.1", receiver.port()).xattrs(true));
        Listings.setXattr(src.resolve("d1"), "trusted.dir", "from-the-sender");
        Listings.setXattr(dst.resolve("d2"), "trusted.mine", "from-the-receiver");
        Listings.setXattr(dst.resolve("d2"), "user.stale", "gone on the source");
        sendWith(Sender.builder("127.0.0.1", receiver.port()).xattrs(true));
        assertTrue(Listings.xattrs(dst.resolve("d1")).contains("trusted.dir=\"from-the-sender\""), Listings.xattrs(dst.resolve("d1")));
        String d2 = Listings.xattrs(dst.resolve("d2"));
        assertTrue(d2.contains("trusted.mine=\"from-the-receiver\""), d2);
        assertTrue(!d2.contains("user.stale"), d2);
    }

    /**
     * send -a again to a receiver running as root: files the quick check keeps get the sender's owner in
     * place, {@code .f....og...} (a uid above 2^31 too, which a run after that finds the same).
     */
    @Test
    void keptFilesGetTheSendersOwnerWithA() throws IOException {
        NativeTestSupport.assumeRoot("keptFilesGetTheSendersOwnerWithA");
        sendWith(Sender.builder("127.0.0.1", receiver.port()).owners(true));
        Object inode = Files.getAttribute(dst.resolve("d1/f4"), "unix:ino");
        int bigUid = (int) 3_000_000_000L; // as uid_t: 3,000,000,000
        Files.setAttribute(src.resolve("d1/f4"), "unix:uid", bigUid);
        Files.setAttribute(src.resolve("d1/f4"), "unix:gid", 54322);
        for (boolean dryRun : new boolean[] {true, false}) {
            List<String> seen = new ArrayList<>();
            CopyResult r = sendItemized(Sender.builder("127.0.0.1", receiver.port()).owners(true).dryRun(dryRun), seen);
            assertEquals(List.of(".f....og... d1/f4"), seen, dryRun ? "dry run" : "real run");
            assertEquals(0, r.bytes(), r.summary());
            assertEquals(dryRun ? 0 : bigUid, Files.getAttribute(dst.resolve("d1/f4"), "unix:uid"));
            assertEquals(dryRun ? 0 : 54322, Files.getAttribute(dst.resolve("d1/f4"), "unix:gid"));
        }
        assertEquals(inode, Files.getAttribute(dst.resolve("d1/f4"), "unix:ino"), "the file stayed in place");
        assertNothingLeftToChange(Sender.builder("127.0.0.1", receiver.port()).owners(true));
    }

    /** A kept file with other names (link count above 1) is left alone by KEPT: changing it in place would change them too. */
    @Test
    void aKeptFileWithOtherNamesKeepsItsAttributes() throws IOException {
        sendWith(Sender.builder("127.0.0.1", receiver.port()).xattrs(true));
        Files.createLink(dst.resolve("other-name"), dst.resolve("d0/f3"));
        Listings.setXattr(src.resolve("d0/f3"), "user.x", "1");
        Listings.setXattr(src.resolve("d0/f4"), "user.x", "1");
        List<String> seen = new ArrayList<>();
        sendItemized(Sender.builder("127.0.0.1", receiver.port()).xattrs(true), seen);
        assertEquals(List.of(".f........x d0/f4"), seen);
        assertTrue(!Listings.xattrs(dst.resolve("d0")).contains("f3\nuser.x"), Listings.xattrs(dst.resolve("d0")));
    }

    /** A send -X to a receiver of the design's version alone falls back 5, 4, 2, and arrives. */
    @Test
    void aSendXFallsBackThroughVersion4ToTheDesignsVersion() throws IOException {
        ReceiverHandshake.newestVersion = Message.VERSION_2;
        CopyResult r = sendWith(Sender.builder("127.0.0.1", receiver.port()).xattrs(true));
        assertEquals(Message.VERSION_2, r.protocol());
        assertEquals(600, r.files());
        assertTrue(log.stream().anyMatch(l -> l.contains("refused protocol version 5 (this receiver speaks 2)")), log.toString());
        assertTrue(log.stream().anyMatch(l -> l.contains("refused protocol version 4 (this receiver speaks 2)")), log.toString());
    }

    /**
     * A receiver of version 4 serves a send -X as before (version 4): kept files keep their attributes,
     * and so does a directory without any on the source (no XATTRS for it: only version 5 sends an
     * empty one); nothing fails.
     */
    @Test
    void aVersion4ReceiverServesSendXAndKeptFilesKeepTheirAttributes() throws IOException {
        Listings.setTestXattrs(src);
        sendWith(Sender.builder("127.0.0.1", receiver.port()).xattrs(true));
        ReceiverHandshake.newestVersion = Message.VERSION_4; // play a receiver of version 4
        Listings.setXattr(src.resolve("d0/f1"), "user.color", "green");
        Files.writeString(src.resolve("d0/new"), "new");
        Listings.setXattr(src.resolve("d0/new"), "user.fresh", "yes");
        Listings.setXattr(dst.resolve("d2"), "user.receivers", "kept");
        CopyResult r = sendWith(Sender.builder("127.0.0.1", receiver.port()).xattrs(true));
        assertEquals(Message.VERSION_4, r.protocol());
        assertTrue(Listings.xattrs(dst.resolve("d2")).contains("user.receivers=\"kept\""), "version 4: no XATTRS for a directory without any");
        assertEquals(1, r.files(), r.summary());
        assertTrue(log.stream().anyMatch(l -> l.contains("refused protocol version 5 (this receiver speaks 2 and 4)")), log.toString());
        String there = Listings.xattrs(dst);
        assertTrue(there.contains("user.color=\"blue\"") && there.contains("user.fresh=\"yes\""), there);
    }

    /** send -a to a receiver running as root: devices, FIFOs and sockets arrive (SPECIAL); without -a they are skipped. */
    @Test
    void devicesFifosAndSocketsArriveWithA() throws IOException {
        NativeTestSupport.assumeRoot("devicesFifosAndSocketsArriveWithA");
        List<String> nodes = Listings.makeSpecials(src.resolve("d1"));
        CopyResult plain = sendWith(Sender.builder("127.0.0.1", receiver.port()));
        assertEquals(3, plain.skipped(), plain.summary());
        assertTrue(Files.notExists(dst.resolve("d1/fifo"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        sendWith(Sender.builder("127.0.0.1", receiver.port()).owners(true));
        for (String n : nodes) {
            assertEquals(Listings.node(src.resolve("d1/" + n)), Listings.node(dst.resolve("d1/" + n)), n);
        }
    }

    private CopyResult sendWith(Sender.Builder b) throws IOException {
        CopyResult r = b.secret(SECRET).build().send(src);
        assertTrue(r.succeeded(), r.failures().toString());
        return r;
    }

    /**
     * send -c (FILE_LIST_C): a file whose bytes changed under the same size and time is sent again; one
     * with the same content and another time is not sent but gets the sender's time; a size change is
     * sent; the next -c send carries no file bytes. Without -c the hidden change stays, as rsync's would.
     */
    @Test
    void checksumSendsWhatDiffersInContent() throws IOException {
        long large = Listings.largePair(src.resolve("d0")); // hashed two at a time beside the ring
        send(new ArrayList<>());
        Path hidden = dst.resolve("d1/f4");
        FileTime t = Files.getLastModifiedTime(hidden);
        Files.writeString(hidden, "X".repeat((int) Files.size(hidden)));
        Files.setLastModifiedTime(hidden, t);
        Listings.flipLastByte(dst.resolve("d0/large"));
        assertEquals(0, send(new ArrayList<>()).files(), "the quick check cannot see it");
        Path touched = dst.resolve("d2/f7");
        Files.setLastModifiedTime(touched, FileTime.fromMillis(t.toMillis() - 3_600_000));
        Files.writeString(dst.resolve("d0/f3"), "another size");
        List<String> sent = new ArrayList<>();
        CopyResult r = sendWith(Sender.builder("127.0.0.1", receiver.port()).checksum(true).listener(new CopyListener() {
            @Override
            public void copied(String path, long bytes) {
                sent.add(path);
            }
        }));
        assertEquals(List.of("d0/f3", "d0/large", "d1/f4"), sent.stream().sorted().toList());
        assertEquals(Files.size(src.resolve("d0/f3")) + Files.size(src.resolve("d1/f4")) + large, r.bytes());
        assertEquals(Files.readString(src.resolve("d1/f4")), Files.readString(hidden));
        assertEquals(-1L, Files.mismatch(src.resolve("d0/large"), dst.resolve("d0/large")));
        assertEquals(Files.getLastModifiedTime(src.resolve("d2/f7")), Files.getLastModifiedTime(touched), "only its time");
        CopyResult again = sendWith(Sender.builder("127.0.0.1", receiver.port()).checksum(true));
        assertEquals(0, again.bytes());
        assertEquals(602, again.unchanged());
    }

    /** send --delete-excluded: the receiver removes what the filter excludes too (--delete keeps it). */
    @Test
    void deleteExcludedRemovesExcludedEntriesOnTheReceiver() throws IOException {
        send(new ArrayList<>());
        Files.writeString(dst.resolve("d0/old.log"), "excluded");
        Files.writeString(src.resolve("d1/new.log"), "excluded in the source");
        Files.writeString(dst.resolve("d1/new.log"), "an old copy");
        sendWith(Sender.builder("127.0.0.1", receiver.port()).delete(true).filter(Filter.none().exclude("*.log")));
        assertTrue(Files.exists(dst.resolve("d0/old.log")) && Files.exists(dst.resolve("d1/new.log")), "kept by --delete");
        sendWith(Sender.builder("127.0.0.1", receiver.port()).deleteExcluded(true).filter(Filter.none().exclude("*.log")));
        assertFalse(Files.exists(dst.resolve("d0/old.log")));
        assertFalse(Files.exists(dst.resolve("d1/new.log")));
        TreeSet<String> expected = Listings.of(src);
        expected.remove("d1/new.log");
        assertEquals(expected, Listings.of(dst));
    }

    /**
     * send -n: the receiver changes nothing (DEST's listing, sizes, times and link targets the same
     * before and after) and names each change (CHANGE reports, rsync's itemize codes); the real send
     * after it, with -i, reports exactly those changes, and its file count is the dry run's.
     */
    @Test
    void aDryRunChangesNothingAndNamesExactlyWhatTheRealSendThenDoes() throws IOException {
        send(new ArrayList<>());
        Files.writeString(src.resolve("d0/new"), "new");
        Files.writeString(src.resolve("d1/f2"), "another size");
        Files.setLastModifiedTime(src.resolve("d2/f3"), FileTime.fromMillis(1_600_000_000_000L));
        Files.createDirectories(src.resolve("newdir/sub"));
        Files.writeString(src.resolve("newdir/sub/x"), "x");
        Files.createSymbolicLink(src.resolve("link"), Path.of("d0/f0"));
        Files.writeString(dst.resolve("extra"), "x");
        Files.createDirectories(dst.resolve("d1/extra-dir"));
        java.util.Map<String, String> before = state(dst);
        List<String> dry = Collections.synchronizedList(new ArrayList<>());
        CopyResult d = sendWith(Sender.builder("127.0.0.1", receiver.port()).delete(true).dryRun(true).listener(changes(dry)));
        assertEquals(before, state(dst), "a dry run changes nothing");
        assertEquals(0, d.bytes());
        TreeSet<String> expected = new TreeSet<>(List.of(">f+++++++++ d0/new", ">f.st...... d1/f2", ">f..t...... d2/f3",
                "cd+++++++++ newdir", "cd+++++++++ newdir/sub", ">f+++++++++ newdir/sub/x", "cL+++++++++ link",
                "*deleting   extra", "*deleting   d1/extra-dir"));
        assertEquals(expected, new TreeSet<>(dry));
        List<String> real = Collections.synchronizedList(new ArrayList<>());
        CopyResult r = sendWith(Sender.builder("127.0.0.1", receiver.port()).delete(true).itemizeChanges(true)
                .listener(changes(real)));
        assertEquals(expected, new TreeSet<>(real), "the real send did what the dry run named");
        assertEquals(d.files(), r.files());
        assertEquals(2, r.deleted());
        assertEquals(Listings.of(src), Listings.of(dst));
    }

    /**
     * A file the quick check leaves alone gets the sender's permissions in place (FILE_LIST's mode):
     * no byte sent, the same inode, {@code .f...p.....} reported; a dry run names it and changes nothing.
     */
    @Test
    void permissionChangesOfUnchangedFilesArriveInPlace() throws IOException {
        send(new ArrayList<>());
        Object inode = Files.getAttribute(dst.resolve("d0/f5"), "unix:ino");
        Files.setPosixFilePermissions(src.resolve("d0/f5"), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        for (boolean dryRun : new boolean[] {true, false}) {
            List<String> seen = new ArrayList<>();
            CopyResult r = sendItemized(Sender.builder("127.0.0.1", receiver.port()).dryRun(dryRun), seen);
            assertEquals(List.of(".f...p..... d0/f5"), seen, dryRun ? "dry run" : "real run");
            assertEquals(0, r.bytes());
            assertEquals(dryRun ? "rw-r--r--" : "rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(dst.resolve("d0/f5"))));
        }
        assertEquals(inode, Files.getAttribute(dst.resolve("d0/f5"), "unix:ino"), "the file stayed in place");
    }

    /** A successful send with -i: each change it reports goes into {@code into} as "itemize path". */
    private CopyResult sendItemized(Sender.Builder b, List<String> into) throws IOException {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        CopyResult r = sendWith(b.itemizeChanges(true).listener(changes(seen)));
        into.addAll(seen);
        return r;
    }

    /** The same send once more reports no change at all. */
    private void assertNothingLeftToChange(Sender.Builder b) throws IOException {
        List<String> again = new ArrayList<>();
        sendItemized(b, again);
        assertEquals(List.of(), again, "nothing left to change");
    }

    private static CopyListener changes(List<String> into) {
        return new CopyListener() {
            @Override
            public void changed(String path, Change change) {
                into.add(change.itemize() + " " + path);
            }
        };
    }

    /** Each entry beneath {@code root}: its type, size, mtime and link target. */
    private static java.util.Map<String, String> state(Path root) throws IOException {
        java.util.Map<String, String> m = new java.util.TreeMap<>();
        try (java.util.stream.Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(p,
                        java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                m.put(root.relativize(p).toString(), (a.isDirectory() ? "d " : a.isSymbolicLink() ? "l " + Files.readSymbolicLink(p)
                        : "f " + a.size()) + " " + a.lastModifiedTime().toInstant());
            }
        }
        return m;
    }

    @Test
    void aSecondSendCarriesNoFileBytesAndTimesArrive() throws IOException {
        CopyResult first = send(new ArrayList<>());
        assertEquals(600, first.files());
        for (String f : List.of("d0/f0", "d1/f17", "d2/f199")) {
            assertEquals(Files.getLastModifiedTime(src.resolve(f)), Files.getLastModifiedTime(dst.resolve(f)), f);
        }
        List<String> sent = new ArrayList<>();
        CopyResult second = send(sent);
        assertEquals(List.of(), sent);
        assertEquals(0, second.files(), second.summary());
        assertEquals(0, second.bytes(), second.summary());
        assertEquals(600, second.unchanged(), second.summary());
    }

    @Test
    void changingAndTouchingFilesResendsExactlyThose() throws IOException {
        send(new ArrayList<>());
        Files.writeString(src.resolve("d1/f5"), "changed and longer than it was\n");
        Path touched = src.resolve("d2/f9");
        Files.setLastModifiedTime(touched, FileTime.fromMillis(Files.getLastModifiedTime(touched).toMillis() + 7000));
        Files.writeString(dst.resolve("d0/f3"), "damaged on the receiver, same time? no: a new one");
        List<String> sent = new ArrayList<>();
        CopyResult r = send(sent);
        assertEquals(new TreeSet<>(List.of("d1/f5", "d2/f9", "d0/f3")), new TreeSet<>(sent), r.summary());
        assertEquals(Files.readString(src.resolve("d0/f3")), Files.readString(dst.resolve("d0/f3")));
        assertEquals(Files.getLastModifiedTime(touched), Files.getLastModifiedTime(dst.resolve("d2/f9")));
    }

    /** 256 files with 500-byte paths do not fit one FILE_LIST (64 KiB): the sender splits the offer. */
    @Test
    void longPathsAreOfferedInSeveralLists() throws IOException {
        Path deep = Files.createDirectories(src.resolve("x".repeat(200)).resolve("y".repeat(200)));
        for (int f = 0; f < 256; f++) {
            Files.writeString(deep.resolve(String.format("%090d", f)), "long " + f);
        }
        CopyResult first = send(new ArrayList<>());
        assertEquals(856, first.files(), first.summary());
        CopyResult second = send(new ArrayList<>());
        assertEquals(0, second.files(), second.summary());
        assertEquals(856, second.unchanged(), second.summary());
    }

    /** Version 4 carries symlinks (as links) and directories (empty ones too), with modes and mtimes. */
    @Test
    void symlinksAndEmptyDirectoriesArriveWithTheirModesAndTimes() throws IOException {
        Files.createDirectories(src.resolve("empty/inner"));
        Files.createSymbolicLink(src.resolve("d0/link"), Path.of("f1"));
        Files.createSymbolicLink(src.resolve("dangling"), Path.of("no/such/target"));
        Files.createSymbolicLink(src.resolve("outside"), Path.of("/etc"));
        Files.setPosixFilePermissions(src.resolve("empty"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-x---"));
        Files.setLastModifiedTime(src.resolve("empty/inner"), FileTime.fromMillis(1_000_000_000_000L));
        Files.setLastModifiedTime(src.resolve("d1"), FileTime.fromMillis(1_100_000_000_000L));
        CopyResult r = send(new ArrayList<>());
        assertEquals(3, r.symlinks(), r.summary());
        assertEquals(6, r.directories(), r.summary()); // the root (as the local copy counts it), d0 d1 d2 empty empty/inner
        assertEquals(Path.of("f1"), Files.readSymbolicLink(dst.resolve("d0/link")));
        assertEquals(Path.of("no/such/target"), Files.readSymbolicLink(dst.resolve("dangling")));
        assertEquals(Path.of("/etc"), Files.readSymbolicLink(dst.resolve("outside")));
        assertTrue(Files.isDirectory(dst.resolve("empty/inner")));
        assertEquals("rwxr-x---", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dst.resolve("empty"))));
        assertEquals(FileTime.fromMillis(1_000_000_000_000L), Files.getLastModifiedTime(dst.resolve("empty/inner")));
        assertEquals(FileTime.fromMillis(1_100_000_000_000L), Files.getLastModifiedTime(dst.resolve("d1")));
        for (String link : List.of("d0/link", "dangling", "outside")) { // a symlink's own time (SYMLINK's mtime)
            assertEquals(Files.getLastModifiedTime(src.resolve(link), java.nio.file.LinkOption.NOFOLLOW_LINKS),
                    Files.getLastModifiedTime(dst.resolve(link), java.nio.file.LinkOption.NOFOLLOW_LINKS), link);
        }
        assertEquals(Files.getLastModifiedTime(src), Files.getLastModifiedTime(dst), "the root's time (a DIR with an empty path)");
        Object inode = Files.getAttribute(dst.resolve("d0/link"), "unix:ino", java.nio.file.LinkOption.NOFOLLOW_LINKS);
        CopyResult second = send(new ArrayList<>());
        assertEquals(0, second.files(), second.summary());
        assertEquals(inode, Files.getAttribute(dst.resolve("d0/link"), "unix:ino", java.nio.file.LinkOption.NOFOLLOW_LINKS),
                "the same link is left alone");
        Files.delete(src.resolve("d0/link"));
        Files.createSymbolicLink(src.resolve("d0/link"), Path.of("f2"));
        send(new ArrayList<>());
        assertEquals(Path.of("f2"), Files.readSymbolicLink(dst.resolve("d0/link")));
    }

    /** --delete: the receiver removes exactly what the source lacks, keeps what the filter excludes, nothing outside. */
    @Test
    void deleteRemovesExactlyWhatTheSourceLacks() throws IOException {
        Files.createDirectories(src.resolve("empty"));
        send(new ArrayList<>());
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("precious"), "keep me");
        Files.writeString(dst.resolve("extra.txt"), "x");
        Files.writeString(dst.resolve("d1/extra"), "x");
        Files.createDirectories(dst.resolve("gone/deeper"));
        Files.writeString(dst.resolve("gone/deeper/file"), "x");
        Files.writeString(dst.resolve("empty/extra"), "x");
        Files.createSymbolicLink(dst.resolve("escape"), outside);
        Files.writeString(dst.resolve("d2/kept.log"), "excluded, so protected");
        List<String> deleted = Collections.synchronizedList(new ArrayList<>());
        try (Receiver r2 = Receiver.builder(dst).bind(InetAddress.getLoopbackAddress()).port(0).secret(SECRET)
                .stateDirectory(tmp.resolve("state2")).listener(new CopyListener() {
                    @Override
                    public void deleted(String path) {
                        deleted.add(path);
                    }
                }).build().start()) {
            CopyResult res = Sender.builder("127.0.0.1", r2.port()).secret(SECRET).delete(true)
                    .filter(org.uringsync.Filter.none().exclude("*.log")).build().send(src);
            assertTrue(res.succeeded(), res.failures().toString());
        }
        assertEquals(new TreeSet<>(List.of("extra.txt", "d1/extra", "gone/deeper/file", "gone/deeper", "gone",
                "empty/extra", "escape")), new TreeSet<>(deleted));
        assertEquals("keep me", Files.readString(outside.resolve("precious")));
        assertTrue(Files.exists(dst.resolve("d2/kept.log")));
        TreeSet<String> expected = Listings.of(src);
        expected.add("d2/kept.log");
        assertEquals(expected, Listings.of(dst));
    }

    /**
     * A symlink in DEST where the source now has a directory is replaced by the directory, never
     * followed: with --delete, the old link's target directory goes (the source does not have it)
     * and nothing of the source is lost. (A regular file in the way is refused: FaultsIT.)
     */
    @Test
    void aSymlinkWhereTheSourceHasADirectoryIsReplaced() throws IOException {
        send(new ArrayList<>());
        Files.createDirectories(dst.resolve("x"));
        Files.writeString(dst.resolve("x/old"), "was reached through the link");
        Files.createSymbolicLink(dst.resolve("d0-link-place"), Path.of("x")); // a link inside DEST
        Files.createDirectories(src.resolve("d0-link-place"));
        Files.writeString(src.resolve("d0-link-place/new"), "must land in a real directory");
        try (Receiver r2 = Receiver.builder(dst).bind(InetAddress.getLoopbackAddress()).port(0).secret(SECRET)
                .stateDirectory(tmp.resolve("state3")).build().start()) {
            CopyResult res = Sender.builder("127.0.0.1", r2.port()).secret(SECRET).delete(true).build().send(src);
            assertTrue(res.succeeded(), res.failures().toString());
        }
        assertTrue(Files.isDirectory(dst.resolve("d0-link-place"), java.nio.file.LinkOption.NOFOLLOW_LINKS));
        assertEquals("must land in a real directory", Files.readString(dst.resolve("d0-link-place/new")));
        assertEquals(Listings.of(src), Listings.of(dst));
    }

    @Test
    void deleteToAnOlderReceiverDeletesNothingAndSaysSo() throws IOException {
        send(new ArrayList<>());
        Files.writeString(dst.resolve("extra.txt"), "x");
        ReceiverHandshake.newestVersion = Message.VERSION_2;
        CopyResult r = Sender.builder("127.0.0.1", receiver.port()).secret(SECRET).delete(true).build().send(src);
        assertTrue(r.failures().toString().contains("--delete: the receiver speaks protocol version 2"), r.failures().toString());
        assertTrue(Files.exists(dst.resolve("extra.txt")));
    }


    @Test
    void aReceiverOfTheDesignsVersionIsServedAsBefore() throws IOException {
        ReceiverHandshake.newestVersion = Message.VERSION_2; // play a receiver that knows version 2 only
        List<String> sent = new ArrayList<>();
        CopyResult first = send(sent);
        assertEquals(600, first.files());
        assertTrue(log.stream().anyMatch(l -> l.contains("refused protocol version 4 (this receiver speaks 2)")), log.toString());
        CopyResult second = send(new ArrayList<>());
        assertEquals(600, second.files(), "version 2 has no file list: everything again");
        assertNotEquals(Files.getLastModifiedTime(src.resolve("d0/f0")), Files.getLastModifiedTime(dst.resolve("d0/f0")),
                "version 2 carries no times");
    }
}
