package org.uringsync.path;

import org.uringsync.protocol.ProtocolException;

/**
 * What a path from the network may look like before anything is created for it: relative, made of
 * non-empty components that are neither {@code .} nor {@code ..}, no NUL bytes, at most
 * {@link #MAX_PATH} bytes in all and {@link #MAX_COMPONENT} per component. Names such as
 * {@code a..b} or {@code ...} are legal. (Symlinks already inside the destination are handled when
 * opening: every open is resolved beneath the destination.)
 */
public final class PathRules {
    public static final int MAX_PATH = 4096;
    public static final int MAX_COMPONENT = 255;

    private PathRules() {}

    /** @throws ProtocolException with a one-line reason when {@code path} is not acceptable */
    public static void check(byte[] path) throws ProtocolException {
        if (path.length == 0) {
            throw new ProtocolException("empty path");
        }
        if (path.length > MAX_PATH) {
            throw new ProtocolException("path longer than " + MAX_PATH + " bytes");
        }
        if (path[0] == '/') {
            throw new ProtocolException("absolute path refused: " + show(path));
        }
        int start = 0;
        for (int i = 0; i <= path.length; i++) {
            if (i < path.length && path[i] == 0) {
                throw new ProtocolException("NUL byte in path: " + show(path));
            }
            if (i == path.length || path[i] == '/') {
                int len = i - start;
                if (len == 0) {
                    throw new ProtocolException("empty path component: " + show(path));
                }
                if (len == 1 && path[start] == '.') {
                    throw new ProtocolException("'.' component refused: " + show(path));
                }
                if (len == 2 && path[start] == '.' && path[start + 1] == '.') {
                    throw new ProtocolException("'..' component refused (path traversal): " + show(path));
                }
                if (len > MAX_COMPONENT) {
                    throw new ProtocolException("path component longer than " + MAX_COMPONENT + " bytes");
                }
                start = i + 1;
            }
        }
    }

    /** @return the path for a message: UTF-8 where valid, control characters escaped */
    public static String show(byte[] path) {
        String s = new String(path, java.nio.charset.StandardCharsets.UTF_8);
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
