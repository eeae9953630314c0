package org.uringsync.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLoaderTest {
    @Test
    void picksTheLibraryByArchitecture() {
        assertEquals("linux-x86_64", NativeLoader.platform("Linux", "amd64", false));
        assertEquals("linux-x86_64", NativeLoader.platform("Linux", "x86_64", false));
        assertEquals("linux-aarch64", NativeLoader.platform("Linux", "aarch64", false));
        assertEquals("META-INF/native/linux-aarch64/liburingsync-" + version() + ".so",
                NativeLoader.bundledResource("linux-aarch64"));
    }

    @Test
    void unsupportedPlatformsAreNamedInOneLine() {
        assertEquals("no native library for linux-riscv64; supported: linux-x86_64, linux-aarch64 (glibc)",
                assertThrows(UnsatisfiedLinkError.class, () -> NativeLoader.platform("Linux", "riscv64", false)).getMessage());
        assertEquals("no native library for linux-x86_64 (musl libc); supported: linux-x86_64, linux-aarch64 (glibc)",
                assertThrows(UnsatisfiedLinkError.class, () -> NativeLoader.platform("Linux", "amd64", true)).getMessage());
        assertEquals("no native library for mac_os_x-aarch64; supported: linux-x86_64, linux-aarch64 (glibc)",
                assertThrows(UnsatisfiedLinkError.class, () -> NativeLoader.platform("Mac OS X", "aarch64", false)).getMessage());
    }

    @Test
    void muslIsToldByItsLoadersFileNameOnly() {
        String glibc = "7f0000-7f1000 r-xp 00000000 08:01 123 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
                + "7f2000-7f3000 r--p 00000000 08:01 124 /home/muslim/jdk-musl-build/lib/server/libjvm.so\n"
                + "7f4000-7f5000 rw-s 00000000 08:01 125 /tmp/hsperfdata_muslim/4242\n";
        assertEquals(false, NativeLoader.onMusl(glibc));
        assertEquals(true, NativeLoader.onMusl(glibc + "7f6000-7f7000 r-xp 00000000 08:01 126 /lib/ld-musl-x86_64.so.1\n"));
        assertEquals(true, NativeLoader.onMusl("7f6000-7f7000 r-xp 00000000 08:01 126 /usr/lib/libc.musl-aarch64.so.1"));
    }

    @Test
    void theJarCarriesEverySupportedLibrary() {
        NativeFloorTest.assumeCrossBuilt();
        for (String platform : NativeLoader.SUPPORTED) {
            assertNotEquals(null, NativeLoader.class.getClassLoader().getResource(NativeLoader.bundledResource(platform)), platform);
        }
    }

    /** A JVM that reports another architecture: the command fails with one line and exit status 1, nothing is written. */
    @Test
    void aFakedArchitectureFailsTheCommandWithOneLine(@TempDir Path tmp) throws IOException, InterruptedException {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("a"), "a");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-Dos.arch=riscv64", "-cp", System.getProperty("java.class.path"),
                "org.uringsync.cli.Main", src.toString(), tmp.resolve("dst").toString())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(org.uringsync.cli.Main.FAILED, p.exitValue(), err);
        List<String> lines = err.lines().toList();
        assertEquals(1, lines.size(), err);
        assertTrue(lines.get(0).contains("no native library for linux-riscv64; supported: linux-x86_64, linux-aarch64 (glibc)"), err);
        assertTrue(Files.notExists(tmp.resolve("dst")));
    }

    private static String version() {
        try (var in = NativeLoader.class.getResourceAsStream("native.properties")) {
            var p = new java.util.Properties();
            p.load(in);
            return p.getProperty("version");
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
