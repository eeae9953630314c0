package org.uringsync.transfer;

import java.nio.charset.StandardCharsets;

/**
 * The receiver's temporary names: {@code .usync-<pid>-<connection>-<n>.tmp}, in the directory of
 * the file being received, renamed over the final name once the file is complete. The name says
 * which process and connection own it, so that temporaries left by a receiver that died (SIGKILL,
 * power loss) can be told from live ones and removed. Senders may not use names of this shape.
 */
final class TempNames {
    static final String PREFIX = ".usync-";
    static final String SUFFIX = ".tmp";

    private TempNames() {}

    /** Who owns a temporary file. */
    record Owner(long pid, long connection) {}

    static byte[] name(long pid, long connection, long n) {
        return (PREFIX + pid + "-" + connection + "-" + n + SUFFIX).getBytes(StandardCharsets.US_ASCII);
    }

    /** @return true when {@code name} has the shape of a temporary name (whoever made it) */
    static boolean isTemp(byte[] name) {
        return startsWith(name, PREFIX) && endsWith(name, SUFFIX);
    }

    /** @return the owner a temporary name records, or null when {@code name} is not one of ours */
    static Owner owner(byte[] name) {
        if (!isTemp(name)) {
            return null;
        }
        long[] parts = new long[3];
        int p = 0;
        long v = -1;
        for (int i = PREFIX.length(); i < name.length - SUFFIX.length(); i++) {
            byte b = name[i];
            if (b >= '0' && b <= '9' && v < Long.MAX_VALUE / 10 - 9) {
                v = (v < 0 ? 0 : v * 10) + (b - '0');
            } else if (b == '-' && v >= 0 && p < 2) {
                parts[p++] = v;
                v = -1;
            } else {
                return null;
            }
        }
        if (p != 2 || v < 0) {
            return null;
        }
        return new Owner(parts[0], parts[1]);
    }

    private static boolean startsWith(byte[] b, String s) {
        if (b.length < s.length()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (b[i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean endsWith(byte[] b, String s) {
        int off = b.length - s.length();
        if (off < 0) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (b[off + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
