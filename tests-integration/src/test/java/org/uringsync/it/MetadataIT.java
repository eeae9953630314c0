package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.uringsync.it.Launcher.sh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's metadata test, through the launcher, for the local copy and for send/recv: a tree of
 * nested empty directories, dangling, relative and absolute symlinks, hard links, a sparse 1 GiB file
 * holding 10 MiB, non-UTF-8 names, modes, nanosecond mtimes and (as root) owners arrives with
 * {@code find -printf '%P %y %m %T@ %s %l %n %U %G'} equal to the source's (link counts included,
 * with -H; owners with -a), and with -X {@code getfattr -d} of every entry equal too; the sparse file
 * occupies at most 12 MiB on DEST and costs at most 12 MiB on the wire.
 */
class MetadataIT {
    static final String SECRET = "metadata-secret-0123456789";
    @TempDir
    static Path tmp;
    static Path src;

    @BeforeAll
    static void makeTree() throws Exception {
        src = Files.createDirectory(tmp.resolve("src"));
        sh(src, String.join("\n",
                "set -e",
                "mkdir -p empty/nested/deeper a/b/c \"$(printf 'caf\\351')\" 'with space'",
                "printf data > a/b/c/file; printf x > \"$(printf 'caf\\351/na\\357ve\\377')\"",
                "for i in 1 2 3 4 5; do head -c $((i * 1000)) /dev/urandom > a/f$i; done",
                "ln a/f1 a/b/hard1; ln a/f1 'with space/hard2'; ln a/f2 a/b/c/hard3",
                "ln -s f2 a/rel-link; ln -s ../../a/f3 a/b/up-link; ln -s nowhere dangling; ln -s /etc/hostname abs-link",
                "chmod 600 a/f4; chmod 751 a/b; chmod 700 empty/nested; chmod 444 a/f5",
                // owners, as root: a named one, ids without names, a symlink's own
                "if [ \"$(id -u)\" = 0 ]; then chown 65534:65534 a/f4; chown 4242:4343 a/b; chown -h 1:1 a/rel-link; fi",
                // a FIFO and a character device, as root
                "if [ \"$(id -u)\" = 0 ]; then mkfifo -m 0640 a/fifo; mknod -m 0600 a/b/null c 1 3; fi",
                // 1 GiB, 10 MiB of data: 4 MiB at the start, 5 MiB in the middle, 1 MiB at the end
                "truncate -s 1G sparse.img",
                "head -c 4M /dev/urandom | dd of=sparse.img conv=notrunc status=none",
                "head -c 5M /dev/urandom | dd of=sparse.img bs=1M seek=500 conv=notrunc status=none",
                "head -c 1M /dev/urandom | dd of=sparse.img bs=1M seek=1023 conv=notrunc status=none",
                // extended attributes: files, a directory, the root, the sparse file (as root a trusted. one too)
                "setfattr -n user.color -v blue a/f1; setfattr -n user.empty a/f2; setfattr -n user.dir -v 0x00ff10 a/b",
                "setfattr -n user.root -v top .; setfattr -n user.kind -v sparse sparse.img",
                "if [ \"$(id -u)\" = 0 ]; then setfattr -n trusted.t -v 1 a/f3; fi",
                // nanosecond times on everything, links included, directories last (deepest first)
                "find . -mindepth 1 ! -type d -exec touch -h -d '2021-03-04 05:06:07.123456789' {} +",
                "touch -h -d '2019-01-01 00:00:00.987654321' a/f3 dangling",
                "find . -depth -type d -exec touch -d '2020-02-02 02:02:02.222222222' {} +"));
    }

    /** The listing the issue names, sorted: path, type, mode, mtime (ns), size, link target, link count. */
    static String listing(Path root) throws Exception {
        return sh(root, "find . -printf '%P %y %m %T@ %s %l %n %U %G\\n' | LC_ALL=C sort | grep -v '^ d' || true")
                + sh(root, "stat -c '%a %Y %u %g' .");
    }

    /** getfattr -d of every entry, blocks sorted (directories list in different orders). */
    static String xattrs(Path root) throws Exception {
        String out = sh(root, "getfattr -h -R -d -m '^(user|trusted)\\.' .");
        return String.join("\n\n", new java.util.TreeSet<>(java.util.List.of(out.strip().split("\n\n"))));
    }

    static long allocated(Path f) throws Exception {
        return Long.parseLong(sh(f.getParent(), "stat -c %b " + f.getFileName()).trim()) * 512;
    }

    @Test
    void localCopyKeepsEveryListedAttribute() throws Exception {
        Path dst = tmp.resolve("dst-local");
        Launcher.Result r = Launcher.run("-a", "-H", "-X", src.toString(), dst.toString());
        assertEquals(0, r.exit(), r.toString());
        assertEquals(listing(src), listing(dst));
        assertTrue(xattrs(src).contains("user.kind=\"sparse\""), xattrs(src));
        assertEquals(xattrs(src), xattrs(dst));
        sh(tmp, "cmp src/sparse.img dst-local/sparse.img");
        assertTrue(allocated(dst.resolve("sparse.img")) <= 12L << 20, allocated(dst.resolve("sparse.img")) + " bytes on disk");
    }

    @Test
    void sendAndReceiveKeepEveryListedAttribute() throws Exception {
        Path dst = tmp.resolve("dst-net");
        try (ReceiverProcess recv = ReceiverProcess.start(dst, tmp.resolve("home"), SECRET)) {
            Launcher.Result r = Launcher.run("send", "-a", "-H", "-X", src.toString(), "127.0.0.1:" + recv.port, "--secret", SECRET);
            assertEquals(0, r.exit(), r.toString());
            Matcher m = Pattern.compile("([0-9.]+) (B|KiB|MiB|GiB) in").matcher(r.out());
            assertTrue(m.find(), r.out());
            double mib = Double.parseDouble(m.group(1)) / switch (m.group(2)) {
                case "B" -> 1 << 20;
                case "KiB" -> 1024;
                case "MiB" -> 1;
                default -> 1.0 / 1024;
            };
            assertTrue(mib <= 12, "on the wire: " + r.out());
        }
        assertEquals(listing(src), listing(dst));
        assertTrue(xattrs(src).contains("user.kind=\"sparse\""), xattrs(src));
        assertEquals(xattrs(src), xattrs(dst));
        sh(tmp, "cmp src/sparse.img dst-net/sparse.img");
        assertTrue(allocated(dst.resolve("sparse.img")) <= 12L << 20, allocated(dst.resolve("sparse.img")) + " bytes on disk");
    }
}
