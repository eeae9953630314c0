package org.uringsync.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileOpsTest {
    @TempDir
    Path dir;

    @Test
    void listsRawNamesWithTheirTypes() throws Exception {
        NativeTestSupport.sh(dir, "touch plain \"with space\" \"$(printf 'bad\\377name')\" \"$(printf 'new\\nline')\";"
                + " mkdir sub; ln -s plain link; mkfifo pipe");
        FileOps.Listing l = FileOps.listDirectory(PathBytes.of(dir), false);
        List<FileOps.Entry> entries = l.entries().stream()
                .sorted(Comparator.comparing(e -> new String(e.name(), StandardCharsets.ISO_8859_1))).toList();
        assertEquals(7, entries.size());
        assertArrayEquals(new byte[] {'b', 'a', 'd', (byte) 0xff, 'n', 'a', 'm', 'e'}, entries.get(0).name());
        assertEquals(FileOps.TYPE_REG, entries.get(0).type());
        assertEquals("link", new String(entries.get(1).name()));
        assertEquals(FileOps.TYPE_LNK, entries.get(1).type());
        assertEquals("new\nline", new String(entries.get(2).name()));
        assertEquals("pipe", new String(entries.get(3).name()));
        assertEquals(FileOps.TYPE_FIFO, entries.get(3).type());
        assertEquals("sub", new String(entries.get(5).name()));
        assertEquals(FileOps.TYPE_DIR, entries.get(5).type());
        assertEquals(040000, l.mode() & 0170000);
    }

    @Test
    void aListingWithStatCarriesEachEntrysLstat() throws Exception {
        NativeTestSupport.sh(dir, "head -c 12345 /dev/zero > plain; ln plain twin; touch -d @1614834367.123456789 plain;"
                + " chmod 0640 plain; mkdir sub; ln -s missing dangling");
        FileOps.Listing l = FileOps.listDirectory(PathBytes.of(dir), false, true);
        assertEquals(4, l.entries().size());
        for (FileOps.Entry e : l.entries()) {
            Path p = dir.resolve(new String(e.name(), StandardCharsets.UTF_8));
            java.util.Map<String, Object> a = Files.readAttributes(p, "unix:*", java.nio.file.LinkOption.NOFOLLOW_LINKS);
            FileOps.Stat st = e.stat();
            assertEquals(0, st.errno(), p.toString());
            assertEquals(a.get("mode"), st.mode(), p.toString());
            assertEquals(a.get("nlink"), st.links(), p.toString());
            assertEquals(a.get("ino"), st.inode(), p.toString());
            assertEquals(a.get("dev"), st.device(), p.toString());
            assertEquals(a.get("uid"), st.uid(), p.toString());
            assertEquals(a.get("gid"), st.gid(), p.toString());
            assertEquals(a.get("size"), st.size(), p.toString());
            java.nio.file.attribute.FileTime t = (java.nio.file.attribute.FileTime) a.get("lastModifiedTime");
            assertEquals(t.to(java.util.concurrent.TimeUnit.NANOSECONDS), st.mtimeNanos(), p.toString());
        }
        FileOps.Stat plain = l.entries().stream().filter(e -> new String(e.name()).equals("plain")).findFirst().orElseThrow().stat();
        assertEquals(0100640, plain.mode());
        assertEquals(2, plain.links());
        assertEquals(12345, plain.size());
        assertEquals(1614834367_123456789L, plain.mtimeNanos());
        assertEquals(null, FileOps.listDirectory(PathBytes.of(dir), false).entries().get(0).stat()); // not asked for
    }

    @Test
    void listingAMissingDirectoryNamesPathAndCause() {
        Path missing = dir.resolve("missing");
        NativeIoException e = assertThrows(NativeIoException.class,
                () -> FileOps.listDirectory(PathBytes.of(missing), false));
        assertEquals("open " + missing + ": No such file or directory (ENOENT)", e.getMessage());
    }

    @Test
    void mkdirAcceptsAnExistingDirectoryButNotAFile() throws Exception {
        assertEquals(0, FileOps.mkdir(PathBytes.of(dir.resolve("d")), 0755), "made");
        assertEquals(1, FileOps.mkdir(PathBytes.of(dir.resolve("d")), 0755), "existed");
        Files.writeString(dir.resolve("f"), "");
        assertEquals(-Errno.ENOTDIR, FileOps.mkdir(PathBytes.of(dir.resolve("f")), 0755));
        Files.createSymbolicLink(dir.resolve("l"), dir.resolve("d"));
        assertEquals(-Errno.ENOTDIR, FileOps.mkdir(PathBytes.of(dir.resolve("l")), 0755));
    }
}
