package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Test helper: a tree's entries, relative to its root, directories with a trailing slash, sorted; hard-link groups. */
final class Listings {
    private Listings() {}

    /** Each group's names are one inode in {@code dst} (link count: the group's size), with the bytes of {@code src}'s. */
    static void assertHardLinked(Path src, Path dst, List<List<String>> groups) throws IOException {
        for (List<String> group : groups) {
            Object ino = Files.getAttribute(dst.resolve(group.get(0)), "unix:ino");
            for (String name : group) {
                assertEquals(ino, Files.getAttribute(dst.resolve(name), "unix:ino"), name);
                assertEquals(group.size(), Files.getAttribute(dst.resolve(name), "unix:nlink"), name);
                assertEquals(-1, Files.mismatch(src.resolve(name), dst.resolve(name)), name);
            }
        }
    }

    /**
     * Every entry's "user." and "trusted." attributes beneath {@code root} as {@code getfattr -R -d} prints them
     * (one block per entry that has any), the blocks sorted: two trees with the same attributes give
     * the same text whatever order their directories list in.
     */
    static String xattrs(Path root) throws IOException {
        String out = sh(root, "getfattr -h -R -d -m '^(user|trusted)\\.' . 2>/dev/null");
        return String.join("\n\n", new TreeSet<>(List.of(out.strip().split("\n\n"))));
    }

    /**
     * The -X tests' attributes in a tree with d0/f1, d1 and d2/f2: "user." ones on a file (one empty), a
     * directory and the root; as root a "trusted." one too. @return whether running as root
     */
    static boolean setTestXattrs(Path root) throws IOException {
        setXattr(root.resolve("d0/f1"), "user.color", "blue");
        setXattr(root.resolve("d0/f1"), "user.empty", "");
        setXattr(root.resolve("d1"), "user.dir", "0x00ff10");
        setXattr(root, "user.root", "top");
        boolean asRoot = org.uringsync.nativeio.FileOps.geteuid() == 0;
        if (asRoot) {
            setXattr(root.resolve("d2/f2"), "trusted.secret", "t");
        }
        return asRoot;
    }

    /**
     * After {@link #setTestXattrs} and a copy: directories' attributes changed, for the next run to
     * make DEST's the same: a value changed on the source (d1), a name on DEST that a directory without
     * any on the source lacks (d2), and one DEST's root has that the source's lacks.
     */
    static void setTestDirectoryChanges(Path src, Path dst) throws IOException {
        setXattr(src.resolve("d1"), "user.dir", "changed");
        setXattr(dst.resolve("d2"), "user.stale", "gone on the source");
        setXattr(dst, "user.stale", "gone on the source");
    }

    /**
     * As root: a FIFO, a character device (1, 3: as /dev/null) and a socket in {@code dir}.
     * @return their names
     */
    static List<String> makeSpecials(Path dir) throws IOException {
        sh(dir, "mkfifo -m 0640 fifo; mknod -m 0600 null c 1 3");
        try (java.nio.channels.ServerSocketChannel s = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            s.bind(java.net.UnixDomainSocketAddress.of(dir.resolve("sock"))); // the socket file stays after close
        }
        return List.of("fifo", "null", "sock");
    }

    /** Type, permissions, device number and mtime of {@code path}, not followed. */
    static String node(Path path) throws IOException {
        java.nio.file.LinkOption nofollow = java.nio.file.LinkOption.NOFOLLOW_LINKS;
        return Files.getAttribute(path, "unix:mode", nofollow) + " " + Files.getAttribute(path, "unix:rdev", nofollow) + " "
                + Files.getLastModifiedTime(path, nofollow);
    }

    /**
     * -c's large files: {@code large} and {@code large-same} in {@code dir}, random, just past the size
     * from which Ring.hash reads files two at a time beside the ring. @return their size
     */
    static long largePair(Path dir) throws IOException {
        long size = org.uringsync.nativeio.Ring.HASH_ALONE_MIN + 5;
        org.uringsync.nativeio.NativeTestSupport.randomFile(dir.resolve("large"), size, 1);
        org.uringsync.nativeio.NativeTestSupport.randomFile(dir.resolve("large-same"), size, 2);
        return size;
    }

    /** Changes the last byte of {@code file} in place, its size and mtime kept: only a content hash finds it. */
    static void flipLastByte(Path file) throws IOException {
        java.nio.file.attribute.FileTime t = Files.getLastModifiedTime(file);
        try (java.nio.channels.FileChannel c = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.READ,
                java.nio.file.StandardOpenOption.WRITE)) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
            c.read(b, c.size() - 1);
            b.put(0, (byte) ~b.get(0));
            c.write(b.rewind(), c.size() - 1);
        }
        Files.setLastModifiedTime(file, t);
    }

    /** Sets {@code name} = {@code value} on {@code path} (not followed), as setfattr does (test names and values: no quotes). */
    static void setXattr(Path path, String name, String value) throws IOException {
        sh(path.getParent(), "setfattr -h -n '" + name + "' -v '" + value + "' '" + path + "'");
    }

    /** {@link NativeTestSupport#sh}, its interruption as an IOException. */
    static String sh(Path dir, String script) throws IOException {
        try {
            return org.uringsync.nativeio.NativeTestSupport.sh(dir, script);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
    }

    static TreeSet<String> of(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            TreeSet<String> out = new TreeSet<>();
            s.filter(p -> !p.equals(root)).forEach(p -> out.add(root.relativize(p) + (Files.isDirectory(p) ? "/" : "")));
            return out;
        }
    }
}
