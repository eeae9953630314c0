package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.uringsync.CopyResult;
import org.uringsync.Filter;
import org.uringsync.LocalCopy;
import org.uringsync.Receiver;
import org.uringsync.Sender;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.NativeTestSupport;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.path.FilterRules;
import org.uringsync.scan.TreeScanner;

/**
 * --exclude / --include as rsync applies them: each rule list filters the same tree through a local
 * copy and through rsync itself ({@code rsync -a}, the reference), and the two destinations must list
 * the same entries. A send with the same filter carries the same files.
 */
class FilterTest {
    @TempDir
    static Path tmp;
    static Path src;

    private static final String[] FILES = {
        "x.log", "keep.log", "notes.txt", "sp ace.txt", "[br]ackets", "a/x.o", "a/keep.o", "a/b/c.txt", "a/b/deep.log",
        "build/out.bin", "build/sub/more.bin", "src/main.c", "src/util.h", "src/build/gen.c", "src/build/gen.h",
        "logs/2024/app.log", "logs/2024/app.txt", "logs/readme", "docs/a.md", "docs/b.MD", "docs/img/p1.png",
        "docs/img/p2.jpg", "cache/x", "deep/er/cache/y", "q1", "q22", "build.txt"};

    @BeforeAll
    static void tree() throws IOException {
        src = tmp.resolve("src");
        for (String f : FILES) {
            Path p = src.resolve(f);
            Files.createDirectories(p.getParent());
            Files.writeString(p, f + "\n");
        }
        Files.createDirectories(src.resolve("empty/inner"));
    }

    /** Rule lists: "- pattern" excludes, "+ pattern" includes, in order. */
    static Stream<List<String>> rules() {
        return Stream.of(
                List.of("- *.log"),
                List.of("+ keep.log", "- *.log"),
                List.of("- /build/"),
                List.of("- build/"),
                List.of("- build"),
                List.of("- /build"),
                List.of("- src/build/"),
                List.of("- **/cache"),
                List.of("- cache/"),
                List.of("- logs/**"),
                List.of("- logs/***"),
                List.of("- q?"),
                List.of("- q*"),
                List.of("- *.[oh]"),
                List.of("- *.[!o]"),
                List.of("- \\[br]ackets"),
                List.of("- [[]br]ackets"),
                List.of("- sp ace.txt"),
                List.of("- docs/*.md"),
                List.of("- docs/**.png"),
                List.of("+ docs/", "+ docs/img/", "+ *.png", "- *"),
                List.of("+ */", "+ *.c", "- *"),
                List.of("- a/b"),
                List.of("- b/*.txt"),
                List.of("- /a/b/c.txt"),
                List.of("- empty/"),
                List.of("- inner/"),
                List.of("- *"),
                List.of("+ *.txt", "- /a/", "- /logs/2024/"),
                List.of("- */"),
                List.of("- a/*/c.txt"),
                List.of("- docs/**/p1.png"),
                List.of("- *.LOG"),
                List.of("- **"),
                List.of("- /**/*.txt"),
                List.of("+ a/b/c.txt", "- a/b/*"),
                List.of("- [a-c]*"),
                List.of("- *[0-9]"));
    }

    private static Filter filter(List<String> rules) {
        Filter f = Filter.none();
        for (String r : rules) {
            f = r.startsWith("+ ") ? f.include(r.substring(2)) : f.exclude(r.substring(2));
        }
        return f;
    }

    @ParameterizedTest
    @MethodSource("rules")
    void aLocalCopyLeavesOutWhatRsyncLeavesOut(List<String> rules) throws Exception {
        NativeTestSupport.assumeRing();
        String name = Integer.toHexString(rules.hashCode());
        Path ours = tmp.resolve("ours-" + name);
        Path theirs = tmp.resolve("rsync-" + name);
        CopyResult r = LocalCopy.builder().filter(filter(rules)).build().copy(src, ours);
        assertTrue(r.succeeded(), r.failures().toString());
        List<String> cmd = new ArrayList<>(List.of("rsync", "-a"));
        for (String rule : rules) {
            cmd.add((rule.startsWith("+ ") ? "--include=" : "--exclude=") + rule.substring(2));
        }
        cmd.add(src + "/");
        cmd.add(theirs + "/");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "rsync: " + out);
        assertEquals(Listings.of(theirs), Listings.of(ours), "rules " + rules);
    }

    @Test
    void aSendCarriesTheFilesALocalCopyWithTheSameFilterCopies() throws Exception {
        NativeTestSupport.assumeRing();
        Filter f = filter(List.of("+ keep.log", "- *.log", "- /build/", "- **/cache"));
        Path local = tmp.resolve("send-local");
        assertTrue(LocalCopy.builder().filter(f).build().copy(src, local).succeeded());
        Path received = tmp.resolve("send-received");
        try (Receiver rec = Receiver.builder(received).bind(InetAddress.getLoopbackAddress()).port(0)
                .secret("filter-test-secret-1234").stateDirectory(tmp.resolve("state")).build().start()) {
            CopyResult r = Sender.builder("127.0.0.1", rec.port()).secret("filter-test-secret-1234").filter(f).build()
                    .send(src);
            assertTrue(r.succeeded(), r.failures().toString());
        }
        assertEquals(files(local), files(received)); // the protocol carries regular files only
    }

    /** Excluded entries never reach the walk's visitor, and an excluded directory is never listed. */
    @Test
    void theWalkNeverListsAnExcludedDirectoryNorHandsOnAnExcludedFile() {
        List<String> seen = new ArrayList<>();
        FilterRules rules = FilterRules.NONE.and(false, "/build/".getBytes()).and(false, "*.log".getBytes());
        TreeScanner.walk(PathBytes.of(src), rules,
                new TreeScanner.Visitor() {
                    @Override
                    public boolean directory(byte[] relative, FileOps.Listing listing) {
                        seen.add("dir " + PathBytes.show(relative));
                        return true;
                    }

                    @Override
                    public void file(byte[] relative, FileOps.Stat stat) {
                        seen.add(PathBytes.show(relative));
                    }

                    @Override
                    public void symlink(byte[] relative) {}

                    @Override
                    public void special(byte[] relative, int type) {}

                    @Override
                    public void unreadable(byte[] relative, NativeIoException cause) {}
                });
        assertTrue(seen.contains("dir src") && seen.contains("src/build/gen.c"), seen.toString());
        assertFalse(seen.stream().anyMatch(s -> s.startsWith("build/") || s.startsWith("dir build")), seen.toString());
        assertTrue(seen.contains("build.txt"), seen.toString());
        assertFalse(seen.stream().anyMatch(s -> s.endsWith(".log")), seen.toString());
    }

    @Test
    void patternFilesSkipBlankAndCommentLines() throws IOException {
        Path rules = Files.writeString(tmp.resolve("rules.txt"), "# comment\n\n; also a comment\n*.log\r\n/build/\n");
        Filter f = Filter.none().excludeFrom(rules);
        assertTrue(f.excludes("a/x.log", false));
        assertTrue(f.excludes("build", true));
        assertFalse(f.excludes("src/build", true));
        assertFalse(f.excludes("# comment", false));
        assertThrows(IllegalArgumentException.class, () -> Filter.none().exclude(""));
    }

    /**
     * A pattern with many stars against a long name that almost matches: rsync's early give-ups keep
     * this polynomial (plain backtracking would try about 200^8 ways). Guarded against a hang only.
     */
    @Test
    void manyStarsAgainstALongNameEndQuickly() {
        byte[] name = ("a".repeat(200) + "/" + "a".repeat(200)).getBytes();
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(10), () -> {
            assertFalse(org.uringsync.path.Wildmatch.matches("*a*a*a*a*a*a*a*a*b".getBytes(), name));
            assertFalse(org.uringsync.path.Wildmatch.matches("**a**a**a**a**a**a**a**b".getBytes(), name));
            assertTrue(org.uringsync.path.Wildmatch.matches("*a*a*a*a*a*a*a*a*/**".getBytes(), name));
            assertFalse(FilterRules.NONE.and(false, "a*a*a*a*a*a*a*a*b".getBytes()).excludes(name, false));
        });
    }


    private static TreeSet<String> files(Path root) throws IOException {
        TreeSet<String> out = new TreeSet<>(Listings.of(root));
        out.removeIf(s -> s.endsWith("/"));
        return out;
    }
}
