package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PlatformSmoke} on both libraries the jar carries: linux-x86_64 on this machine's JVM, and
 * linux-aarch64 on Debian's arm64 JVM run by qemu-user (scripts/prereqs.sh installs both). Under
 * qemu-user the aarch64 code really runs: the library loads, its JNI entry points resolve, OpenSSL
 * makes a key and completes a handshake; qemu-user does not emulate io_uring, so there the reason
 * is reported in one line instead of a copy.
 */
class PlatformSmokeIT {
    static final Path QEMU = Path.of("/usr/bin/qemu-aarch64-static");

    @TempDir
    Path tmp;

    /** The library for this machine (linux-x86_64 here), on this JVM, with a real io_uring copy. */
    @Test
    void theHostLibraryPassesOnThisJvm() throws Exception {
        Map<String, String> out = smoke(List.of(ProcessHandle.current().info().command().orElseThrow()), "host");
        assertEquals(System.getProperty("os.arch"), out.get("arch"));
        String platform = org.uringsync.nativeio.NativeLoader.platform("Linux", System.getProperty("os.arch"), false);
        assertTrue(out.get("library").contains("/" + platform + "/"), out.toString());
        assertEquals("copied 2 files, identical", out.get("io_uring"), out.toString());
    }

    @Test
    void theAarch64LibraryPassesUnderQemu() throws Exception {
        assumeCrossBuilt();
        assertTrue(Files.isExecutable(QEMU), QEMU + " missing: bash scripts/prereqs.sh installs qemu-user-static");
        Path java;
        try (Stream<Path> jvms = Files.list(Path.of("/usr/lib/jvm"))) {
            java = jvms.map(p -> p.resolve("bin/java")).filter(p -> p.getParent().getParent().getFileName().toString().endsWith("-arm64"))
                    .filter(Files::isExecutable).findFirst()
                    .orElseThrow(() -> new AssertionError("no arm64 JVM under /usr/lib/jvm: bash scripts/prereqs.sh installs one"));
        }
        Map<String, String> out = smoke(List.of(QEMU.toString(), java.toString()), "aarch64");
        assertEquals("aarch64", out.get("arch"));
        assertTrue(out.get("library").contains("/linux-aarch64/"), out.toString());
        String uring = out.get("io_uring");
        assertTrue(uring.equals("copied 2 files, identical") || uring.startsWith("unavailable: "), out.toString());
        System.out.println("aarch64 under qemu-user, io_uring: " + uring);
    }

    /**
     * The distribution archive carries every platform's library unpacked, and its launcher loads the one
     * for this machine from there: with extraction made impossible (a temporary directory that does not
     * exist), the copy still runs.
     */
    @Test
    void theDistributionArchiveLoadsThisMachinesUnpackedLibrary() throws Exception {
        assumeCrossBuilt();
        String version = System.getProperty("uringsync.version");
        Path archive = Launcher.REPO.resolve("java/target/uring-sync-" + version + ".tar.gz");
        Path dist = Files.createDirectory(tmp.resolve("dist"));
        Launcher.sh(dist, "tar -xzf " + archive);
        Path home = dist.resolve("uring-sync-" + version);
        for (String platform : List.of("linux-x86_64", "linux-aarch64")) {
            assertTrue(Files.isRegularFile(home.resolve("lib/" + platform + "/liburingsync-" + version + ".so")), platform);
        }
        Path src = Files.createDirectories(tmp.resolve("dist-src/d"));
        Files.writeString(src.resolve("f"), "data");
        Launcher.Result r = Launcher.exec(List.of("env", "JAVA_TOOL_OPTIONS=-Duringsync.native.tmpdir=" + tmp.resolve("absent"),
                home.resolve("bin/uring-sync").toString(), tmp.resolve("dist-src").toString(), tmp.resolve("dist-dst").toString()));
        assertEquals(0, r.exit(), r.toString());
        assertEquals("data", Files.readString(tmp.resolve("dist-dst/d/f")));
    }

    /** Skips (saying why) when the build made this host's library alone (mvn -Dnative.cross.skip, or an aarch64 host). */
    static void assumeCrossBuilt() {
        boolean skipped = Boolean.getBoolean("uringsync.cross.skip") || !"amd64".equals(System.getProperty("os.arch"));
        if (skipped) {
            System.out.println("SKIPPED: no cross-compiled linux-aarch64 library in this build (native.cross.skip, or not an x86_64 host)");
        }
        org.junit.jupiter.api.Assumptions.assumeFalse(skipped, "no cross-compiled library");
    }

    /** Runs the smoke program with the library jar and this module's test classes; checks what every platform must show. */
    private Map<String, String> smoke(List<String> java, String name) throws IOException, InterruptedException {
        Path work = Files.createDirectory(tmp.resolve(name));
        String cp = Launcher.libraryJar() + File.pathSeparator + Path.of(PlatformSmoke.class.getProtectionDomain()
                .getCodeSource().getLocation().getPath());
        List<String> cmd = new java.util.ArrayList<>(java);
        cmd.addAll(List.of("-Xshare:auto", "-cp", cp, PlatformSmoke.class.getName(), work.toString()));
        Launcher.Result r = Launcher.exec(cmd);
        System.out.print(r.out());
        assertEquals(0, r.exit(), r.toString());
        Map<String, String> out = new LinkedHashMap<>();
        r.out().lines().forEach(l -> out.put(l.substring(0, l.indexOf(": ")), l.substring(l.indexOf(": ") + 2)));
        assertEquals("No such file or directory (ENOENT)", out.get("errno"), r.toString());
        assertEquals("a,sub", out.get("listing"), r.toString());
        assertTrue(out.get("tls").matches(".*TLS_\\w+.*, echoed hello"), r.toString());
        return out;
    }
}
