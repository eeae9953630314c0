package org.uringsync.nativeio;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Path bytes as the C core sees them, and their display form. */
public final class PathBytes {
    /** The charset the JVM uses for file names (sun.jnu.encoding), so a Path's bytes round-trip. */
    private static final Charset FS = fsCharset();

    private PathBytes() {}

    private static Charset fsCharset() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }

    /** @return the bytes the kernel sees for {@code path}. */
    /** @return the charset of file names in this JVM (sun.jnu.encoding) */
    public static Charset charset() {
        return FS;
    }

    public static byte[] of(Path path) {
        return path.toString().getBytes(FS);
    }

    /** @return the path bytes as text for messages; bytes that are not UTF-8 show as U+FFFD. */
    public static String show(byte[] path) {
        return new String(path, StandardCharsets.UTF_8);
    }

    /** @return the index of the last {@code '/'} in {@code path}, or -1 */
    public static int lastSlash(byte[] path) {
        for (int i = path.length - 1; i >= 0; i--) {
            if (path[i] == '/') {
                return i;
            }
        }
        return -1;
    }

    /** @return {@code dir + "/" + name} as bytes (no slash doubled when dir ends with one). */
    public static byte[] join(byte[] dir, byte[] name) {
        if (dir.length == 0) {
            return name.clone();
        }
        boolean slash = dir[dir.length - 1] == '/';
        byte[] out = new byte[dir.length + (slash ? 0 : 1) + name.length];
        System.arraycopy(dir, 0, out, 0, dir.length);
        int at = dir.length;
        if (!slash) {
            out[at++] = '/';
        }
        System.arraycopy(name, 0, out, at, name.length);
        return out;
    }
}
