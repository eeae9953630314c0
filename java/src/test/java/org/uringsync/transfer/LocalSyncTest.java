package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.CopyListener;
import org.uringsync.CopyResult;
import org.uringsync.Filter;
import org.uringsync.LocalCopy;
import org.uringsync.cli.Main;
import org.uringsync.nativeio.NativeTestSupport;

/** The local copy as a sync: rsync's quick check on a second run, and --delete. */
class LocalSyncTest {
    @TempDir
    Path tmp;
    Path src;
    Path dst;

    @BeforeEach
    void tree() throws IOException {
        NativeTestSupport.assumeRing();
        src = tmp.resolve("src");
        dst = tmp.resolve("dst");
        for (int d = 0; d < 4; d++) {
            Files.createDirectories(src.resolve("d" + d + "/sub"));
            for (int f = 0; f < 25; f++) {
                Files.writeString(src.resolve("d" + d + "/f" + f), "file " + d + "/" + f + "\n".repeat(f));
            }
            Files.writeString(src.resolve("d" + d + "/sub/deep"), "deep " + d);
        }
        Files.createSymbolicLink(src.resolve("link"), Path.of("d0/f1"));
    }

    private CopyResult copy(LocalCopy.Builder b) throws IOException {
        CopyResult r = b.preserve(true).build().copy(src, dst);
        assertTrue(r.succeeded(), r.failures().toString());
        return r;
    }

    /** Holes found with SEEK_DATA stay holes: a 256 MiB file holding 3 MiB of data occupies about that on DEST. */
    @Test
    void sparseFilesStaySparse() throws IOException {
        SparseFiles.makeSet(src);
        copy(LocalCopy.builder());
        SparseFiles.assertArrivedSparse(src, dst);
        assertTrue(SparseFiles.allocated(dst.resolve("sparse")) <= 4 << 20);
    }

    /**
     * -H: names that share an inode in SOURCE share one in DEST (with the same link count), the data
     * copied once; a second run changes nothing; without -H each name is a copy of its own.
     */
    @Test
    void hardLinksAreKeptWithH() throws IOException {
        Files.createLink(src.resolve("d1/link-to-f1"), src.resolve("d0/f1"));
        Files.createLink(src.resolve("d3/sub/second-link"), src.resolve("d0/f1"));
        Files.createLink(src.resolve("top-link"), src.resolve("d2/f5"));
        CopyResult first = copy(LocalCopy.builder().hardLinks(true).jobs(2));
        assertEquals(107, first.files(), first.summary());
        Listings.assertHardLinked(src, dst, List.of(List.of("d0/f1", "d1/link-to-f1", "d3/sub/second-link"), List.of("d2/f5", "top-link")));
        Path plain = tmp.resolve("plain");
        CopyResult copies = LocalCopy.builder().preserve(true).build().copy(src, plain);
        assertTrue(copies.succeeded());
        assertEquals(1, Files.getAttribute(plain.resolve("d1/link-to-f1"), "unix:nlink"));
        assertEquals(copies.bytes() - 2 * Files.size(src.resolve("d0/f1")) - Files.size(src.resolve("d2/f5")), first.bytes(),
                "with -H each inode's data is copied once");
        CopyResult second = copy(LocalCopy.builder().hardLinks(true));
        assertEquals(0, second.files(), second.summary());
        assertEquals(107, second.unchanged(), second.summary());
        // the inode changes: a dry run names the file and both links, as the real run then does
        Files.writeString(src.resolve("d0/f1"), "changed through every name");
        for (boolean dryRun : new boolean[] {true, false}) {
            List<String> changes = new ArrayList<>();
            copy(LocalCopy.builder().hardLinks(true).dryRun(dryRun).listener(new CopyListener() {
                @Override
                public void changed(String path, CopyListener.Change change) {
                    changes.add(change.itemize() + " " + path);
                }
            }));
            changes.removeIf(c -> c.startsWith("cL")); // symlinks are always made again
            assertEquals(3, changes.size(), changes.toString());
            assertEquals(2, changes.stream().filter(c -> c.startsWith("hf+++++++++ ")).count(), changes.toString());
        }
        Listings.assertHardLinked(src, dst, List.of(List.of("d0/f1", "d1/link-to-f1", "d3/sub/second-link")));
    }

    /** Across file systems (to tmpfs: copy_file_range refused, the splice path) holes stay holes too. */
    @Test
    void sparseFilesStaySparseAcrossFileSystems() throws IOException {
        Path shm = Path.of("/dev/shm");
        boolean tmpfs = Files.isDirectory(shm) && "tmpfs".equals(Files.getFileStore(shm).type());
        if (!tmpfs) {
            System.out.println("SKIPPED sparseFilesStaySparseAcrossFileSystems: /dev/shm is not a tmpfs here");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(tmpfs, "/dev/shm is a tmpfs");
        SparseFiles.makeSet(src);
        Path other = Files.createTempDirectory(shm, "usync-sparse-");
        try {
            dst = other.resolve("dst");
            copy(LocalCopy.builder());
            SparseFiles.assertArrivedSparse(src, dst);
        } finally {
            try (Stream<Path> s = Files.walk(other)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    /**
     * A file of the same size and time whose mode (or, as root, owner) differs stays in place and gets
     * the source's attributes, as rsync does: reported as {@code .f...p.....} / {@code .f....og...},
     * no byte copied; a dry run names it and changes nothing.
     */
    @Test
    void attributeChangesAreAppliedInPlace() throws IOException {
        copy(LocalCopy.builder());
        Object inode = Files.getAttribute(dst.resolve("d1/f3"), "unix:ino");
        Files.setPosixFilePermissions(src.resolve("d1/f3"), java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        boolean root = org.uringsync.nativeio.FileOps.geteuid() == 0;
        if (root) {
            Files.setAttribute(src.resolve("d2/f4"), "unix:uid", 65534);
        } else {
            System.out.println("attributeChangesAreAppliedInPlace: not root, owners not checked");
        }
        for (boolean dryRun : new boolean[] {true, false}) {
            List<String> changes = new ArrayList<>();
            CopyResult r = copy(LocalCopy.builder().dryRun(dryRun).listener(new CopyListener() {
                @Override
                public void changed(String path, CopyListener.Change change) {
                    changes.add(change.itemize() + " " + path);
                }
            }));
            changes.removeIf(c -> c.startsWith("cL")); // symlinks are always made again
            List<String> expected = new ArrayList<>(List.of(".f...p..... d1/f3"));
            if (root) {
                expected.add(".f....og... d2/f4");
            }
            assertEquals(new TreeSet<>(expected), new TreeSet<>(changes), dryRun ? "dry run" : "real run");
            assertEquals(0, r.bytes(), r.summary());
            assertEquals(dryRun ? "rw-r--r--" : "rwx------", java.nio.file.attribute.PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(dst.resolve("d1/f3"))));
        }
        assertEquals(inode, Files.getAttribute(dst.resolve("d1/f3"), "unix:ino"), "the file stayed in place");
        if (root) {
            assertEquals(65534, Files.getAttribute(dst.resolve("d2/f4"), "unix:uid"));
        }
        assertEquals(0, copy(LocalCopy.builder()).files());
    }

    /** -X: the extended attributes of files and directories arrive ("user." ones; as root "trusted." too); without -X none. */
    @Test
    void extendedAttributesArriveWithX() throws IOException {
        boolean root = Listings.setTestXattrs(src);
        copy(LocalCopy.builder().xattrs(true));
        String expected = Listings.xattrs(src);
        assertTrue(expected.contains("user.color=\"blue\"") && (!root || expected.contains("trusted.secret")), expected);
        assertEquals(expected, Listings.xattrs(dst));
        if (root) { // an owner change with -X copies the file again: a chown would drop security.capability
            Files.setAttribute(src.resolve("d0/f1"), "unix:uid", 65534);
            List<String> changes = new ArrayList<>();
            copy(LocalCopy.builder().xattrs(true).listener(new CopyListener() {
                @Override
                public void changed(String path, CopyListener.Change change) {
                    changes.add(change.itemize() + " " + path);
                }
            }));
            assertTrue(changes.contains(">f....og... d0/f1"), changes.toString());
            assertEquals(65534, Files.getAttribute(dst.resolve("d0/f1"), "unix:uid"));
            assertEquals(expected, Listings.xattrs(dst));
        }
        Path plain = tmp.resolve("plain");
        assertTrue(LocalCopy.builder().build().copy(src, plain).succeeded());
        assertEquals("", Listings.xattrs(plain), "without -X");
    }

    /**
     * -X on files the quick check keeps (same size and time): a changed value, a new attribute and one
     * the source no longer has are made the source's in place ({@code .f........x}), directories' too
     * (not reported, as their times are not); a dry run names exactly those files and changes nothing;
     * files whose attributes match are left alone.
     */
    @Test
    void keptFilesGetTheSourcesExtendedAttributes() throws IOException {
        Listings.setTestXattrs(src);
        copy(LocalCopy.builder().xattrs(true));
        Listings.setXattr(src.resolve("d0/f1"), "user.color", "green"); // a changed value
        Listings.setXattr(src.resolve("d1/f3"), "user.new", "1"); // a new one
        Listings.setXattr(dst.resolve("d2/f4"), "user.stale", "x"); // one the source does not have
        Listings.setTestDirectoryChanges(src, dst);
        // a read-only file (as git's objects): its attribute changes all the same, and it stays read-only
        Listings.setXattr(src.resolve("d2/f4"), "user.ro", "r");
        Files.setPosixFilePermissions(src.resolve("d2/f4"), java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
        Files.setPosixFilePermissions(dst.resolve("d2/f4"), java.nio.file.attribute.PosixFilePermissions.fromString("r--r--r--"));
        long inode = (long) Files.getAttribute(dst.resolve("d0/f1"), "unix:ino");
        String before = Listings.xattrs(dst);
        for (boolean dry : new boolean[] {true, false}) {
            List<String> changes = new java.util.concurrent.CopyOnWriteArrayList<>();
            CopyResult r = copy(LocalCopy.builder().xattrs(true).dryRun(dry).listener(new CopyListener() {
                @Override
                public void changed(String path, CopyListener.Change change) {
                    changes.add(change.itemize() + " " + path);
                }
            }));
            assertEquals(List.of(".f........x d0/f1", ".f........x d1/f3", ".f........x d2/f4"),
                    changes.stream().filter(c -> !c.startsWith("cL")).sorted().toList(), (dry ? "dry run: " : "") + changes);
            assertEquals(0, r.files(), r.summary());
            if (dry) {
                assertEquals(before, Listings.xattrs(dst), "a dry run changes nothing");
            }
        }
        assertEquals(Listings.xattrs(src), Listings.xattrs(dst));
        assertEquals(inode, Files.getAttribute(dst.resolve("d0/f1"), "unix:ino"), "changed in place");
        assertEquals("r--r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(dst.resolve("d2/f4"))));
        assertEquals(CopyListener.Change.ofItemize(".f........x"), new CopyListener.Change(CopyListener.Change.Kind.ATTRIBUTES,
                false, false, false, false, false, true));
    }

    /** As root, devices, FIFOs and sockets are made (cD+++++++++) with their type, mode, device number and time; a second run leaves them. */
    @Test
    void devicesFifosAndSocketsAreMadeAsRoot() throws IOException {
        NativeTestSupport.assumeRoot("devicesFifosAndSocketsAreMadeAsRoot");
        List<String> nodes = Listings.makeSpecials(src.resolve("d1"));
        CopyResult first = copy(LocalCopy.builder());
        assertEquals(0, first.skipped(), first.summary());
        for (String n : nodes) {
            assertEquals(Listings.node(src.resolve("d1/" + n)), Listings.node(dst.resolve("d1/" + n)), n);
        }
        List<String> changes = new ArrayList<>();
        copy(LocalCopy.builder().listener(new CopyListener() {
            @Override
            public void changed(String path, CopyListener.Change change) {
                changes.add(change.itemize() + " " + path);
            }
        }));
        changes.removeIf(c -> c.startsWith("cL")); // symlinks are always made again
        assertEquals(List.of(), changes, "a second run leaves them");
    }

    @Test
    void aSecondRunCopiesNoFileBytes() throws IOException {
        CopyResult first = copy(LocalCopy.builder());
        assertEquals(104, first.files());
        CopyResult second = copy(LocalCopy.builder());
        assertEquals(0, second.files(), second.summary());
        assertEquals(0, second.bytes(), second.summary());
        assertEquals(104, second.unchanged(), second.summary());
        assertEquals(Listings.of(src), Listings.of(dst));
    }

    @Test
    void touchingOneFileCopiesOnlyThatFile() throws IOException {
        copy(LocalCopy.builder());
        Path changed = src.resolve("d2/f7");
        Files.writeString(changed, "changed, and longer than before\n");
        Path touched = src.resolve("d3/f3"); // same size and contents, a newer time: copied again, as rsync does
        Files.setLastModifiedTime(touched, FileTime.fromMillis(Files.getLastModifiedTime(touched).toMillis() + 5000));
        List<String> copied = new ArrayList<>();
        CopyResult r = copy(LocalCopy.builder().listener(new CopyListener() {
            @Override
            public void copied(String path, long bytes) {
                copied.add(path);
            }
        }));
        assertEquals(new TreeSet<>(List.of("d2/f7", "d3/f3", "link")), new TreeSet<>(copied), r.summary()); // links are remade
        assertEquals(2, r.files());
        assertEquals(Files.readString(changed), Files.readString(dst.resolve("d2/f7")));
        assertEquals(Files.getLastModifiedTime(touched), Files.getLastModifiedTime(dst.resolve("d3/f3")));
    }

    @Test
    void sameSizeAndTimeIsUnchangedEvenWithOtherBytes() throws IOException {
        copy(LocalCopy.builder());
        Path f = dst.resolve("d1/f4");
        FileTime t = Files.getLastModifiedTime(f);
        String old = Files.readString(f);
        Files.writeString(f, "X".repeat(old.length()));
        Files.setLastModifiedTime(f, t);
        CopyResult r = copy(LocalCopy.builder());
        assertEquals(0, r.files(), "the quick check looks at size and time only, as rsync's does");
        assertEquals("X".repeat(old.length()), Files.readString(f));
    }

    /**
     * -c compares same-size files by content: a file whose bytes changed under the same size and time
     * (which the quick check keeps) is copied again ({@code >fc........}); one whose content matches but
     * whose time differs only gets the source's time ({@code .f..t......}, no byte copied); a size
     * change is found without hashing; the run after copies nothing. A dry run names the same. Large
     * files too (read two at once beside the ring's): one whose last byte changed is copied, its
     * same-content neighbour is not.
     */
    @Test
    void checksumComparesContentNotTime() throws IOException {
        long large = Listings.largePair(src.resolve("d0")); // hashed two at a time beside the ring
        copy(LocalCopy.builder());
        Path hidden = dst.resolve("d1/f4");
        FileTime t = Files.getLastModifiedTime(hidden);
        Files.writeString(hidden, "X".repeat(Files.readString(hidden).length()));
        Files.setLastModifiedTime(hidden, t); // the quick check cannot see it
        Listings.flipLastByte(dst.resolve("d0/large")); // its last byte, under the same size and time
        Path touched = dst.resolve("d2/f7");
        Files.setLastModifiedTime(touched, FileTime.fromMillis(t.toMillis() - 3_600_000)); // same bytes, other time
        Files.writeString(dst.resolve("d3/f2"), "longer than it was, so another size");
        for (boolean dryRun : new boolean[] {true, false}) {
            Changes changes = new Changes();
            CopyResult r = copy(LocalCopy.builder().checksum(true).dryRun(dryRun).jobs(2).listener(changes));
            TreeSet<String> seen = changes.sorted();
            seen.removeIf(c -> c.startsWith("cL")); // symlinks are always made again
            assertEquals(new TreeSet<>(List.of(">fc........ d1/f4", ".f..t...... d2/f7", ">f.st...... d3/f2", ">fc........ d0/large")),
                    seen, dryRun ? "dry run" : "real run");
            assertEquals(dryRun ? 0 : Files.size(src.resolve("d1/f4")) + Files.size(src.resolve("d3/f2")) + large, r.bytes(), r.summary());
        }
        assertEquals(Files.readString(src.resolve("d1/f4")), Files.readString(hidden));
        assertEquals(-1L, Files.mismatch(src.resolve("d0/large"), dst.resolve("d0/large")));
        assertEquals(Files.getLastModifiedTime(src.resolve("d2/f7")), Files.getLastModifiedTime(touched));
        Changes after = new Changes();
        CopyResult again = copy(LocalCopy.builder().checksum(true).listener(after));
        after.lines.removeIf(c -> c.startsWith("cL"));
        assertEquals(List.of(), after.lines);
        assertEquals(0, again.bytes());
        assertEquals(Listings.of(src), Listings.of(dst));
    }

    /** --delete keeps what the filter excludes; --delete-excluded removes it too (and implies --delete). */
    @Test
    void deleteExcludedRemovesExcludedEntriesToo() throws IOException {
        copy(LocalCopy.builder());
        Files.writeString(dst.resolve("d3/kept.log"), "excluded");
        Files.writeString(dst.resolve("extra.txt"), "x");
        Files.writeString(src.resolve("d0/source.log"), "excluded in the source: not copied, and gone from DEST");
        Files.writeString(dst.resolve("d0/source.log"), "an old copy");
        CopyResult kept = copy(LocalCopy.builder().delete(true).filter(Filter.none().exclude("*.log")));
        assertEquals(1, kept.deleted(), kept.summary());
        assertTrue(Files.exists(dst.resolve("d3/kept.log")) && Files.exists(dst.resolve("d0/source.log")));
        Files.writeString(dst.resolve("extra.txt"), "x");
        CopyResult excluded = copy(LocalCopy.builder().deleteExcluded(true).filter(Filter.none().exclude("*.log")));
        assertEquals(3, excluded.deleted(), excluded.summary());
        TreeSet<String> expected = Listings.of(src);
        expected.remove("d0/source.log");
        assertEquals(expected, Listings.of(dst));
    }

    @Test
    void deleteRemovesExactlyWhatTheSourceLacksAndNothingOutside() throws IOException {
        copy(LocalCopy.builder());
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.writeString(outside.resolve("precious"), "keep me");
        Files.writeString(dst.resolve("extra.txt"), "x");
        Files.writeString(dst.resolve("d1/extra"), "x");
        Files.createDirectories(dst.resolve("gone/deeper"));
        Files.writeString(dst.resolve("gone/deeper/file"), "x");
        Files.createSymbolicLink(dst.resolve("escape"), outside);         // a link to a directory outside DEST
        Files.createSymbolicLink(dst.resolve("d2/escape2"), outside.resolve("precious"));
        Files.writeString(dst.resolve("d3/kept.log"), "excluded, so protected");
        List<String> deleted = new ArrayList<>();
        CopyResult r = copy(LocalCopy.builder().delete(true).filter(Filter.none().exclude("*.log"))
                .listener(new CopyListener() {
                    @Override
                    public void deleted(String path) {
                        deleted.add(path);
                    }
                }));
        assertEquals(new TreeSet<>(List.of("extra.txt", "d1/extra", "gone/deeper/file", "gone/deeper", "gone", "escape",
                "d2/escape2")), new TreeSet<>(deleted));
        assertEquals(7, r.deleted());
        assertEquals("keep me", Files.readString(outside.resolve("precious")));
        assertTrue(Files.exists(dst.resolve("d3/kept.log")));
        TreeSet<String> expected = Listings.of(src);
        expected.add("d3/kept.log");
        assertEquals(expected, Listings.of(dst));
    }

    @Test
    void nothingIsDeletedWhenTheCopyFailed() throws IOException {
        copy(LocalCopy.builder());
        Files.writeString(dst.resolve("extra.txt"), "x");
        Path fifo = src.resolve("d0/unreadable");
        Files.writeString(fifo, "y");
        Files.createDirectories(dst.resolve("d0/unreadable")); // a directory where the file must go: that file fails
        CopyResult r = LocalCopy.builder().preserve(true).delete(true).build().copy(src, dst);
        assertFalse(r.succeeded());
        assertEquals(0, r.deleted());
        assertTrue(Files.exists(dst.resolve("extra.txt")));
    }

    @Test
    void theCommandLineSaysWhatADeletingSecondRunDid() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true);
        assertEquals(0, Main.run(new String[] {"-p", src.toString(), dst.toString()}, ps, ps));
        Files.writeString(dst.resolve("extra.txt"), "x");
        out.reset();
        assertEquals(0, Main.run(new String[] {"-pv", "--delete", src.toString(), dst.toString()}, ps, ps), out.toString());
        String text = out.toString();
        assertTrue(text.contains("deleting extra.txt"), text);
        assertTrue(text.lines().anyMatch(l -> l.startsWith("0 files, ") && l.contains(" 0 B in ")
                && l.contains("104 unchanged, 1 deleted")), text);
    }

    /** Changes as "itemize path", sorted: workers report concurrently. */
    private static final class Changes implements CopyListener {
        final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());

        @Override
        public void changed(String path, Change change) {
            lines.add(change.itemize() + " " + path);
        }

        TreeSet<String> sorted() {
            return new TreeSet<>(lines);
        }
    }

    @Test
    void aDryRunChangesNothingAndNamesExactlyWhatTheRealRunThenDoes() throws IOException {
        copy(LocalCopy.builder());
        Files.writeString(src.resolve("d2/f7"), "changed, and longer than before\n");
        Path touched = src.resolve("d3/f3");
        Files.setLastModifiedTime(touched, FileTime.fromMillis(Files.getLastModifiedTime(touched).toMillis() + 5000));
        Files.writeString(src.resolve("d1/new"), "new in an old directory");
        Files.createDirectories(src.resolve("fresh/inner"));
        Files.writeString(src.resolve("fresh/inner/file"), "new in a new directory");
        Files.writeString(dst.resolve("extra.txt"), "x");
        Files.createDirectories(dst.resolve("gone"));
        Files.writeString(dst.resolve("gone/file"), "x");
        Map<String, String> before = snapshot(dst);

        Changes dry = new Changes();
        CopyResult d = copy(LocalCopy.builder().delete(true).dryRun(true).listener(dry));
        assertEquals(before, snapshot(dst), "a dry run changes nothing");
        assertEquals(0, d.bytes());
        assertEquals(new TreeSet<>(List.of(">f.st...... d2/f7", ">f..t...... d3/f3", ">f+++++++++ d1/new",
                "cd+++++++++ fresh", "cd+++++++++ fresh/inner", ">f+++++++++ fresh/inner/file", "cL+++++++++ link",
                "*deleting   extra.txt", "*deleting   gone/file", "*deleting   gone")), dry.sorted());
        assertEquals(4, d.files());
        assertEquals(3, d.deleted());

        Changes real = new Changes();
        copy(LocalCopy.builder().delete(true).listener(real));
        assertEquals(dry.sorted(), real.sorted(), "the real run does what the dry run named");
        TreeSet<String> expected = Listings.of(src);
        assertEquals(expected, Listings.of(dst));
    }

    @Test
    void aDryRunIntoAMissingDestinationCreatesNothing() throws IOException {
        Changes dry = new Changes();
        CopyResult r = copy(LocalCopy.builder().dryRun(true).delete(true).listener(dry));
        assertFalse(Files.exists(dst));
        assertEquals(104, r.files());
        assertTrue(dry.sorted().containsAll(List.of("cd+++++++++ ", "cd+++++++++ d0/sub", ">f+++++++++ d0/sub/deep")),
                dry.sorted().toString());
    }

    @Test
    void theCommandLineItemizesAsRsync() throws IOException {
        copy(LocalCopy.builder());
        Files.writeString(src.resolve("d1/new"), "n");
        Files.writeString(dst.resolve("extra.txt"), "x");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(out, true);
        assertEquals(0, Main.run(new String[] {"-p", "-n", "-i", "--delete", src.toString(), dst.toString()}, ps, ps));
        String text = out.toString();
        assertTrue(text.contains(">f+++++++++ d1/new\n") && text.contains("*deleting   extra.txt\n"), text);
        assertTrue(text.contains("(dry run: nothing changed)"), text);
        assertTrue(Files.exists(dst.resolve("extra.txt")) && !Files.exists(dst.resolve("d1/new")));
    }

    /** Every entry with its type, size, mtime and contents (files) or target (links). */
    private static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> m = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                String k = root.relativize(p).toString();
                if (Files.isSymbolicLink(p)) {
                    m.put(k, "link " + Files.readSymbolicLink(p));
                } else if (Files.isDirectory(p)) {
                    m.put(k, "dir " + Files.getLastModifiedTime(p));
                } else {
                    m.put(k, Files.getLastModifiedTime(p) + " " + Files.readString(p));
                }
            }
        }
        return m;
    }

}
