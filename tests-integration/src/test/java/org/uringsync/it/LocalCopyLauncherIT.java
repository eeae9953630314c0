package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.uringsync.it.Launcher.listing;
import static org.uringsync.it.Launcher.sh;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built launcher, as a process, on real trees; results compared byte for byte and mode for mode. */
class LocalCopyLauncherIT {
    @TempDir
    static Path tmp;
    static Path src;

    @BeforeAll
    static void makeTree() throws Exception {
        src = Files.createDirectory(tmp.resolve("src"));
        sh(src, String.join("\n",
                "set -e",
                "for d in $(seq 1 30); do mkdir -p many/d$d; for f in $(seq 1 100); do head -c $((f * 41)) /dev/urandom > many/d$d/f$f; done; done",
                "head -c 314572800 /dev/urandom > large.bin",
                "mkdir -p empty/nested/deeper 'with space' \"$(printf 'bad\\377dir')\"",
                "touch zero empty-too 'with space/a b' \"$(printf 'tab\\tand\\nnewline')\" \"$(printf 'bad\\377dir/x\\200y')\"",
                "printf x > mode-600; chmod 600 mode-600; printf x > mode-755; chmod 755 mode-755",
                "printf x > mode-4755; chmod 4755 mode-4755; printf x > mode-444; chmod 444 mode-444",
                "ln -s large.bin rel-link; ln -s /etc/hostname abs-link; ln -s ../../outside escaping-link; ln -s nowhere dangling",
                "mkdir locked; printf x > locked/f; chmod 0500 locked",
                "touch -d '1999-12-31 23:59:59.5' zero many/d1 'with space'"));
    }

    @Test
    void copiesARealTreeIdentically() throws Exception {
        Path dst = tmp.resolve("dst-plain");
        Launcher.Result r = Launcher.run(src.toString(), dst.toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().strip().matches("3011 files, 38 dirs, 4 symlinks, .* in [0-9.]+ s \\(.*/s\\)"), r.toString());
        sh(tmp, "diff -r --no-dereference src dst-plain");
        assertEquals(listing(src, false), listing(dst, false));
        assertEquals("../../outside", Files.readSymbolicLink(dst.resolve("escaping-link")).toString());
    }

    @Test
    void preserveKeepsTimesToo() throws Exception {
        Path dst = tmp.resolve("dst-p");
        Launcher.Result r = Launcher.run("-p", "-j", "2", "-q", "32", "--chunk-size", "256K", src.toString(), dst.toString());
        assertEquals(0, r.exit(), r.toString());
        sh(tmp, "diff -r --no-dereference src dst-p");
        assertEquals(listing(src, true), listing(dst, true));
    }

    @Test
    void copiesUsrShareDocIdentically() throws Exception {
        Path dst = tmp.resolve("doc");
        Launcher.Result r = Launcher.run("-p", "/usr/share/doc", dst.toString());
        assertEquals(0, r.exit(), r.toString());
        sh(tmp, "diff -r --no-dereference /usr/share/doc doc");
        assertEquals(listing(Path.of("/usr/share/doc"), true), listing(dst, true));
    }

    @Test
    void anUnreadableSourceFileIsReportedAndTheRestIsCopied() throws Exception {
        Path work = Files.createDirectory(tmp.resolve("unreadable"));
        sh(work, "mkdir s; printf ok > s/readable; printf secret > s/closed; chmod 000 s/closed; chmod -R a+rwX . ;"
                + " chmod 000 s/closed; chmod 0755 " + tmp);
        boolean root = sh(work, "id -u").strip().equals("0");
        // root reads everything, so as root the launcher runs as nobody to meet a real EACCES.
        List<String> as = root ? List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups") : List.of();
        Launcher.Result r = Launcher.run(as, work.resolve("s").toString(), work.resolve("d").toString());
        assertEquals(23, r.exit(), r.toString());
        assertTrue(r.err().contains("openat " + work.resolve("s/closed") + ": Permission denied (EACCES)"), r.toString());
        assertEquals("ok", Files.readString(work.resolve("d/readable")));
        assertTrue(Files.notExists(work.resolve("d/closed")));
    }

    /**
     * -X on a kept read-only file as an ordinary user (as root: as nobody, in a tree nobody owns): "user."
     * attributes need write permission even for the owner, so the copy lends it for the change; the
     * attributes arrive and the file stays read-only.
     */
    @Test
    void keptReadOnlyFilesGetTheirExtendedAttributesAsAnOrdinaryUser() throws Exception {
        Path work = Files.createDirectory(tmp.resolve("readonly-x"));
        boolean root = sh(work, "id -u").strip().equals("0");
        List<String> as = root ? List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups") : List.of();
        sh(work, "mkdir s; echo hi > s/f; setfattr -n user.a -v 1 s/f; chmod 0755 " + tmp
                + (root ? "; chown -R 65534:65534 ." : ""));
        Launcher.Result first = Launcher.run(as, "-p", "-X", work.resolve("s").toString(), work.resolve("d").toString());
        assertEquals(0, first.exit(), first.toString());
        sh(work, "chmod 444 d/f; setfattr -n user.a -v 2 s/f; setfattr -n user.b -v 3 s/f; chmod 444 s/f");
        Launcher.Result second = Launcher.run(as, "-p", "-X", "-i", work.resolve("s").toString(), work.resolve("d").toString());
        assertEquals(0, second.exit(), second.toString());
        assertTrue(second.out().startsWith(".f........x f\n"), second.toString());
        assertEquals(sh(work.resolve("s"), "getfattr -d f"), sh(work.resolve("d"), "getfattr -d f"));
        assertEquals("444", sh(work, "stat -c %a d/f").strip());
    }

    @Test
    void badUsageGivesOneLineAndExitOne() throws Exception {
        Launcher.Result r = Launcher.run("--chunk-size", "lots", "a", "b");
        assertEquals(1, r.exit(), r.toString()); // rsync's "syntax or usage error"
        assertEquals("uring-sync: not a size: 'lots' (examples: 131072, 128K, 4M)", r.err().lines().findFirst().orElseThrow());
    }
}
