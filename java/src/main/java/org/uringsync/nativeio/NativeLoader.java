package org.uringsync.nativeio;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Properties;

/**
 * Loads the uring-sync C core exactly once.
 *
 * <p>Order: the system property {@code uringsync.native.path} names a pre-installed library and wins
 * with no fallback; otherwise the library bundled in the jar at
 * {@code META-INF/native/linux-<arch>/liburingsync-<version>.so} is copied to a private temporary file
 * (directory: {@code uringsync.native.tmpdir}, else {@code java.io.tmpdir}), loaded and deleted.
 * A failure is recorded once and reported by {@link #ensureLoaded()} every time, never at class init.
 */
public final class NativeLoader {
    /** System property naming a pre-installed library file. */
    public static final String PATH_PROPERTY = "uringsync.native.path";
    /** System property naming the directory for the extracted library. */
    public static final String TMPDIR_PROPERTY = "uringsync.native.tmpdir";

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

    /** Throws an {@link UnsatisfiedLinkError} naming the cause when the C core could not be loaded. */
    public static void ensureLoaded() {
        if (FAILURE != null) {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError("uring-sync native library: " + FAILURE.getMessage());
            e.initCause(FAILURE);
            throw e;
        }
    }

    /** The resource path of the bundled library, e.g. {@code META-INF/native/linux-x86_64/liburingsync-0.1.0.so}. */
    public static String bundledResource() {
        Properties p = buildProperties();
        return "META-INF/native/" + p.getProperty("platform") + "/liburingsync-" + p.getProperty("version") + ".so";
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
                System.load(Path.of(explicit).toAbsolutePath().toString());
                return null;
            }
            String resource = bundledResource();
            String arch = System.getProperty("os.arch");
            if (!"Linux".equals(System.getProperty("os.name"))) {
                return new UnsatisfiedLinkError("uring-sync runs on Linux only (os.name=" + System.getProperty("os.name") + ")");
            }
            try (InputStream in = NativeLoader.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    return new UnsatisfiedLinkError("no bundled library " + resource + " for os.arch=" + arch
                            + "; build it for this platform or set -D" + PATH_PROPERTY + "=/path/to/liburingsync.so");
                }
                String dir = System.getProperty(TMPDIR_PROPERTY, System.getProperty("java.io.tmpdir"));
                Path tmp = Files.createTempFile(Path.of(dir), "liburingsync-", ".so"); // mode 0600
                try {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    System.load(tmp.toString());
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
