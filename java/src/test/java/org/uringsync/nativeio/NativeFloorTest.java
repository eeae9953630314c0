package org.uringsync.nativeio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * What the built libraries need from the machine that loads them, read off the ELF files with
 * {@code readelf} (binutils reads either architecture), held to the README's requirements table: the
 * highest glibc symbol version, the OpenSSL libraries. Also: every {@code native} method of the Java
 * code has its JNI symbol exported by every library, and no library exports a stale one.
 */
class NativeFloorTest {
    private static final Path CLASSES = classesDir();
    private static final Path README = Path.of("..", "README.md");

    /** Skips (saying why) when the build left out the cross-compiled library: mvn -Dnative.cross.skip, or an aarch64 host. */
    static void assumeCrossBuilt() {
        boolean skipped = Boolean.getBoolean("uringsync.cross.skip");
        if (skipped) {
            System.out.println("SKIPPED: the cross-compiled library was not built (native.cross.skip): only this host's is checked");
        }
        org.junit.jupiter.api.Assumptions.assumeFalse(skipped, "native.cross.skip");
    }

    /** The platforms this build made a library for. */
    static List<String> built() {
        return Boolean.getBoolean("uringsync.cross.skip") ? List.of(NativeLoader.platform("Linux", System.getProperty("os.arch"), false))
                : NativeLoader.SUPPORTED;
    }

    @Test
    void glibcAndOpenSslFloorsMatchTheReadme() throws Exception {
        assumeCrossBuilt();
        Map<String, String> table = readmeRequirements();
        List<String> glibc = new ArrayList<>();
        List<String> openssl = new ArrayList<>();
        for (String platform : NativeLoader.SUPPORTED) {
            Path so = library(platform);
            glibc.add(highestGlibc(readelf("--dyn-syms", so)));
            openssl.add(readelf("-d", so).lines().map(l -> extract(l, "Shared library: \\[(lib(?:ssl|crypto)\\.so\\.\\d+)]"))
                    .filter(s -> s != null).collect(Collectors.joining(", ")));
        }
        assertEquals(String.join(" | ", glibc), table.get("glibc (highest symbol version)"), "README requirements: glibc");
        assertEquals(String.join(" | ", openssl), table.get("OpenSSL (libraries)"), "README requirements: OpenSSL");
    }

    @Test
    void everyNativeMethodHasItsSymbolInEveryLibrary() throws Exception {
        Set<String> expected = new TreeSet<>();
        try (Stream<Path> files = Files.walk(CLASSES.resolve("org"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".class")).toList()) {
                String name = CLASSES.relativize(f).toString().replace('/', '.').replaceAll("\\.class$", "");
                for (Method m : Class.forName(name, false, getClass().getClassLoader()).getDeclaredMethods()) {
                    if (Modifier.isNative(m.getModifiers())) {
                        expected.add("Java_" + mangle(name) + "_" + mangle(m.getName()));
                    }
                }
            }
        }
        assertTrue(expected.contains("Java_org_uringsync_nativeio_Ring_probeNative"), expected.toString());
        for (String platform : built()) {
            Set<String> exported = readelf("--dyn-syms", library(platform)).lines()
                    .filter(l -> !l.contains(" UND ")).map(l -> extract(l, "\\s(Java_\\w+)$"))
                    .filter(s -> s != null).collect(Collectors.toCollection(TreeSet::new));
            assertEquals(expected, exported, platform);
        }
    }

    /** JNI's short-name mangling of a class or method name. */
    private static String mangle(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (c == '.') {
                b.append('_');
            } else if (c == '_') {
                b.append("_1");
            } else if (c < 128 && Character.isLetterOrDigit(c)) {
                b.append(c);
            } else {
                b.append(String.format("_0%04x", (int) c));
            }
        }
        return b.toString();
    }

    private static String highestGlibc(String dynsyms) {
        return dynsyms.lines().map(l -> extract(l, "@GLIBC_([0-9.]+)")).filter(s -> s != null)
                .max(Comparator.comparing(NativeFloorTest::versionKey)).orElseThrow();
    }

    /** 2.17 -> 2_017_000, 2.2.5 -> 2_002_005. */
    private static int versionKey(String v) {
        int key = 0;
        String[] parts = (v + ".0.0").split("\\.");
        for (int i = 0; i < 3; i++) {
            key = key * 1000 + Integer.parseInt(parts[i]);
        }
        return key;
    }

    /** The README's requirements table: first cell -> the other cells joined by " | ". */
    private static Map<String, String> readmeRequirements() throws IOException {
        String text = Files.readString(README);
        int start = text.indexOf("## Requirements");
        assertTrue(start >= 0, "README has a Requirements section");
        Map<String, String> rows = new TreeMap<>();
        text.substring(start).lines().skip(1).takeWhile(l -> !l.startsWith("## ")).filter(l -> l.startsWith("| "))
                .forEach(l -> {
                    String[] cells = l.substring(2, l.length() - 2).split(" \\| ");
                    rows.put(cells[0].trim(), Stream.of(cells).skip(1).map(String::trim).collect(Collectors.joining(" | ")));
                });
        return rows;
    }

    private static Path library(String platform) {
        Path so = CLASSES.resolve(NativeLoader.bundledResource(platform));
        assertTrue(Files.isRegularFile(so), so + " was not built");
        return so;
    }

    private static String readelf(String what, Path so) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("readelf", "-W", what, so.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0, "readelf " + what + " " + so + ": " + out);
        return out;
    }

    private static String extract(String line, String regex) {
        Matcher m = Pattern.compile(regex).matcher(line);
        return m.find() ? m.group(1) : null;
    }

    private static Path classesDir() {
        try {
            return Path.of(NativeLoader.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }
}
