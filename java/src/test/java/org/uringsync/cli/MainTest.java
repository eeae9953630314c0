package org.uringsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.nativeio.NativeTestSupport;

class MainTest {
    @TempDir
    Path tmp;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    int run(String... args) {
        return Main.run(args, new PrintStream(out, true), new PrintStream(err, true));
    }

    @Test
    void helpListsTheOptionsAndExitsZero() {
        assertEquals(0, run("--help"));
        String help = out.toString();
        for (String opt : new String[] {"--jobs", "--chunk-size", "--queue-depth", "--verbose", "--preserve", "--archive",
            "--delete", "--dry-run", "--itemize-changes", "--exclude", "--include", "--exclude-from", "--include-from",
            "--help"}) {
            assertTrue(help.contains(opt), opt + " in\n" + help);
        }
    }

    /** --version: the build, the C core loaded, io_uring and kernel TLS as this machine has them, the Java. */
    @Test
    void versionSaysWhatThisMachineOffers() throws Exception {
        assertEquals(0, run("--version"));
        List<String> lines = out.toString().lines().toList();
        assertEquals(5, lines.size(), out.toString());
        assertTrue(lines.get(0).startsWith("uring-sync "), lines.get(0));
        assertTrue(lines.get(1).startsWith("native library: ") && lines.get(1).contains("liburingsync"), lines.get(1));
        assertEquals("io_uring: " + (org.uringsync.nativeio.Ring.isAvailable() ? "available (every operation uring-sync uses: Linux 5.7 or later)"
                : "not available: " + org.uringsync.nativeio.Ring.unavailabilityCause()), lines.get(2));
        boolean ulp = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/net/ipv4/tcp_available_ulp")).contains("tls");
        String release = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/osrelease")).trim();
        boolean module = java.nio.file.Files.isDirectory(java.nio.file.Path.of("/lib/modules", release, "kernel/net/tls"));
        assertTrue(lines.get(3).startsWith(ulp ? "kernel TLS: available (" : module ? "kernel TLS: available as a module"
                : "kernel TLS: not available in this kernel (" + release), lines.get(3));
        assertTrue(lines.get(4).startsWith("java: " + System.getProperty("java.version")), lines.get(4));
    }

    @Test
    void badUsageIsOneLineAndExitOne() {
        assertEquals(Main.USAGE, run("--no-such-option", "a", "b"));
        assertEquals("uring-sync: unknown option: --no-such-option", err.toString().lines().findFirst().orElseThrow());
        err.reset();
        assertEquals(Main.USAGE, run("only-one-path"));
        assertEquals("uring-sync: expected SOURCE and DEST, got 1 path(s)", err.toString().lines().findFirst().orElseThrow());
        err.reset();
        assertEquals(Main.USAGE, run("--chunk-size", "12Q", "a", "b"));
        assertEquals("uring-sync: not a size: '12Q' (examples: 131072, 128K, 4M)", firstLine());
        err.reset();
        assertEquals(Main.USAGE, run("-j", "0", "a", "b"));
        assertEquals("uring-sync: option --jobs must be a whole number in 1..256: '0'", firstLine());
        err.reset();
        assertEquals(Main.USAGE, run("a", "b", "--queue-depth"));
        assertEquals("uring-sync: option --queue-depth needs a value (N)", firstLine());

        err.reset();
        assertEquals(Main.USAGE, run("send", "a", "127.0.0.1:9", "--secret", "x"));
        assertEquals("uring-sync: the secret must be at least 16 bytes (it has 1): a short secret can be guessed;"
                + " let recv generate one, or use e.g. openssl rand -base64 16", firstLine());
    }

    @Test
    void archiveKeepsTimesAsPreserveDoes() throws Exception {
        NativeTestSupport.assumeRing();
        Path src = Files.createDirectories(tmp.resolve("a-src"));
        Files.writeString(src.resolve("f"), "x");
        Files.setLastModifiedTime(src.resolve("f"), java.nio.file.attribute.FileTime.fromMillis(1_000_000_000_000L));
        assertEquals(0, run("-a", src.toString(), tmp.resolve("a-dst").toString()), err.toString());
        assertEquals(Files.getLastModifiedTime(src.resolve("f")), Files.getLastModifiedTime(tmp.resolve("a-dst/f")));
    }

    /** Filter rules keep their command-line order (the first match wins), across the four options. */
    @Test
    void filterOptionsApplyInTheOrderGiven() throws Exception {
        NativeTestSupport.assumeRing();
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("build"));
        Files.writeString(tmp.resolve("src/keep.log"), "k");
        Files.writeString(tmp.resolve("src/drop.log"), "d");
        Files.writeString(tmp.resolve("src/build/out"), "o");
        Path rules = Files.writeString(tmp.resolve("rules"), "# build output\n/build/\n");
        assertEquals(0, run("--include", "keep.log", "--exclude=*.log", "--exclude-from", rules.toString(),
                src.toString(), tmp.resolve("dst").toString()), err.toString());
        assertTrue(Files.exists(tmp.resolve("dst/keep.log")));
        assertTrue(!Files.exists(tmp.resolve("dst/drop.log")) && !Files.exists(tmp.resolve("dst/build")));
        err.reset();
        assertEquals(Main.USAGE, run("--exclude-from", tmp.resolve("missing").toString(), src.toString(), tmp.resolve("d2").toString()));
        assertTrue(firstLine().startsWith("uring-sync: cannot read --exclude-from " + tmp.resolve("missing")), firstLine());
        err.reset();
        assertEquals(Main.USAGE, run("--exclude=", src.toString(), tmp.resolve("d3").toString()));
        assertEquals("uring-sync: --exclude: empty exclude pattern", firstLine());
    }

    @Test
    void optionsParseInEveryUsualSpelling() throws Exception {
        Args.Parsed p = Main.LOCAL.parse(new String[] {"-j4", "--queue-depth=16", "-pv", "--chunk-size", "1M", "--", "-src", "dst"});
        assertEquals("4", p.get("--jobs"));
        assertEquals("16", p.get("--queue-depth"));
        assertTrue(p.has("--preserve") && p.has("--verbose"));
        assertEquals("1M", p.get("--chunk-size"));
        assertEquals(java.util.List.of("-src", "dst"), p.positionals());
    }

    String firstLine() {
        return err.toString().lines().findFirst().orElseThrow();
    }

    @Test
    void copiesAndPrintsAOneLineSummary() throws Exception {
        NativeTestSupport.assumeRing();
        Path src = Files.createDirectory(tmp.resolve("s"));
        Files.writeString(src.resolve("f"), "hello");
        assertEquals(0, run("--chunk-size", "64K", "-q", "8", "-j", "1", src.toString(), tmp.resolve("d").toString()));
        assertTrue(out.toString().strip().matches("1 files, 1 dirs, 0 symlinks, 5 B in \\d+\\.\\d\\d s \\(.+/s\\)"),
                out.toString());
        assertEquals("hello", Files.readString(tmp.resolve("d/f")));
    }

    @Test
    void aMissingSourceExitsOneWithTheReason() {
        NativeTestSupport.assumeRing();
        assertEquals(Main.SOURCE, run(tmp.resolve("nope").toString(), tmp.resolve("d").toString()));
        assertEquals("uring-sync: stat " + tmp.resolve("nope") + ": No such file or directory (ENOENT)",
                err.toString().strip());
    }

    @Test
    void partialFailureExitsTwentyThreeAfterCopyingTheRest() throws Exception {
        NativeTestSupport.assumeRing();
        Path src = Files.createDirectory(tmp.resolve("s"));
        Files.writeString(src.resolve("a"), "a");
        Files.writeString(src.resolve("b"), "b");
        Files.createDirectories(tmp.resolve("d/a/blocker"));
        assertEquals(23, run(src.toString(), tmp.resolve("d").toString()));
        assertEquals("b", Files.readString(tmp.resolve("d/b")));
        assertTrue(err.toString().contains("renameat " + tmp.resolve("d/a") + ": Is a directory (EISDIR)"), err.toString());
    }
}
