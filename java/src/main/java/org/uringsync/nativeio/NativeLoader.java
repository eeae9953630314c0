package org.uringsync.nativeio;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/**
 * Loads the uring-sync C core exactly once.
 *
 * <p>Order: the system property {@code uringsync.native.path} names a pre-installed library and wins
 * with no fallback; otherwise the library bundled in the jar at
 * {@code META-INF/native/<platform>/liburingsync-<version>.so} is copied to a private temporary file
 * (directory: {@code uringsync.native.tmpdir}, else {@code java.io.tmpdir}), loaded and deleted. The
 * platform comes from {@code os.name}, {@code os.arch} and the C library the JVM runs on; the jar carries
 * {@link #SUPPORTED}, each built against glibc. A failure is recorded once and reported by
 * {@link #ensureLoaded()} every time, never at class init.
 */
public final class NativeLoader {
    /** System property naming a pre-installed library file. */
    public static final String PATH_PROPERTY = "uringsync.native.path";
    /** System property naming the directory for the extracted library. */
    public static final String TMPDIR_PROPERTY = "uringsync.native.tmpdir";

    /** The platforms whose library the jar carries. */
    public static final List<String> SUPPORTED = List.of("linux-x86_64", "linux-aarch64");

    private static volatile String source; // no initializer: load() below sets it during class init
    private static final Throwable FAILURE = load();

    private NativeLoader() {}

    /** @return true when the C core is loaded and callable. */
    public static boolean isLoaded() {
        return FAILURE == null;
    }

    /** @return why the C core could not be loaded, or null. */
    public static Throwable failure() {
        return FAILURE;
    }

    /**
     * @return what was loaded: the bundled resource (e.g. {@code META-INF/native/linux-aarch64/liburingsync-0.1.0.so})
     *     or the file named by {@value #PATH_PROPERTY}; null when nothing was
     */
    public static String source() {
        return source;
    }

    /** Throws an {@link UnsatisfiedLinkError} naming the cause when the C core could not be loaded. */
    public static void ensureLoaded() {
        if (FAILURE != null) {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError("uring-sync native library: " + FAILURE.getMessage());
            e.initCause(FAILURE);
            throw e;
        }
    }

    /**
     * The resource path of the bundled library for a platform, e.g.
     * {@code META-INF/native/linux-x86_64/liburingsync-0.1.0.so}.
     */
    public static String bundledResource(String platform) {
        return "META-INF/native/" + platform + "/liburingsync-" + buildProperties().getProperty("version") + ".so";
    }

    /**
     * The jar's platform name for a JVM's {@code os.name} and {@code os.arch}, on glibc or on musl.
     *
     * @throws UnsatisfiedLinkError one line naming the platform and the supported ones, when the jar
     *     has no library for it
     */
    public static String platform(String osName, String osArch, boolean musl) {
        String arch = switch (osArch) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> osArch;
        };
        String os = "Linux".equals(osName) ? "linux" : osName.toLowerCase(Locale.ROOT).replace(' ', '_');
        String platform = os + "-" + arch;
        if (!SUPPORTED.contains(platform) || musl) {
            throw new UnsatisfiedLinkError("no native library for " + platform + (musl ? " (musl libc)" : "")
                    + "; supported: " + String.join(", ", SUPPORTED) + " (glibc)");
        }
        return platform;
    }

    /**
     * Whether this JVM runs on musl libc (Alpine): its maps name musl's loader ({@code /lib/ld-musl-<arch>.so.1})
     * or libc ({@code libc.musl-<arch>.so.1}); glibc's never do. Only those file names count (a user or a
     * JDK path may contain "musl").
     */
    static boolean onMusl(String maps) {
        return java.util.regex.Pattern.compile("/(ld-musl-[^/\\s]+\\.so\\.1|libc\\.musl-[^/\\s]+\\.so\\.1)$",
                java.util.regex.Pattern.MULTILINE).matcher(maps).find();
    }

    private static boolean onMusl() {
        try {
            return onMusl(new String(Files.readAllBytes(Path.of("/proc/self/maps")), StandardCharsets.ISO_8859_1));
        } catch (IOException | RuntimeException e) {
            return false; // no /proc: the load itself reports what is wrong
        }
    }

    private static Properties buildProperties() {
        Properties p = new Properties();
        try (InputStream in = NativeLoader.class.getResourceAsStream("native.properties")) {
            if (in == null) {
                throw new IllegalStateException("native.properties missing from the jar");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    private static Throwable load() {
        try {
            String explicit = System.getProperty(PATH_PROPERTY);
            if (explicit != null) {
                String file = Path.of(explicit).toAbsolutePath().toString();
                System.load(file);
                source = file;
                return null;
            }
            String osName = System.getProperty("os.name");
            String platform = platform(osName, System.getProperty("os.arch"), "Linux".equals(osName) && onMusl());
            String resource = bundledResource(platform);
            try (InputStream in = NativeLoader.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    return new UnsatisfiedLinkError("this jar was built without " + resource
                            + "; build it for " + platform + " or set -D" + PATH_PROPERTY + "=/path/to/liburingsync.so");
                }
                String dir = System.getProperty(TMPDIR_PROPERTY, System.getProperty("java.io.tmpdir"));
                Path tmp;
                try {
                    tmp = Files.createTempFile(Path.of(dir), "liburingsync-", ".so"); // mode 0600
                } catch (IOException e) {
                    return new UnsatisfiedLinkError("cannot extract the library into " + dir + " (" + e
                            + "); set -D" + TMPDIR_PROPERTY + " to a writable directory");
                }
                try {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    System.load(tmp.toString());
                    source = resource;
                } finally {
                    Files.deleteIfExists(tmp); // the mapping stays valid after unlink
                }
            }
            return null;
        } catch (Throwable t) {
            return t;
        }
    }
}
