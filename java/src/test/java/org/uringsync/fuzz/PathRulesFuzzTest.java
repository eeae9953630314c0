package org.uringsync.fuzz;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.uringsync.path.PathRules;
import org.uringsync.protocol.ProtocolException;

/**
 * Any bytes as a FILE_HDR path through {@link PathRules#check}, the receiver's only look at a path
 * before it creates anything for it.
 *
 * <p>Findings: anything but {@link ProtocolException} (with a one-line reason); a verdict that differs
 * from the rules of docs/PROTOCOL.md, written out again below; an accepted path that, resolved
 * lexically component by component beneath a root ({@code .} and {@code ..} as POSIX has them), is
 * absolute, holds a NUL, an empty, {@code .} or {@code ..} component, leaves the root, or does not
 * name something strictly beneath it, by hand or by {@code Path.of("/dest").resolve(path).normalize()}.
 */
class PathRulesFuzzTest {
    static final Path DEST = Path.of("/dest");

    @FuzzTest(maxDuration = "5m")
    void checkPath(byte[] path) {
        byte[] copy = path.clone();
        boolean accepted = verdict(path);
        assertArrayEquals(copy, path, "check changed the path");
        assertEquals(allowedByTheRules(path), accepted, () -> (accepted ? "accepted " : "refused ") + PathRules.show(path));
        if (accepted) {
            staysBeneathTheRoot(path);
        }
    }

    /** @return whether {@link PathRules#check} accepts {@code path}; a refusal must be a one-line ProtocolException */
    static boolean verdict(byte[] path) {
        try {
            PathRules.check(path);
            return true;
        } catch (ProtocolException e) {
            String reason = e.getMessage();
            assertNotNull(reason, "refusal without a reason");
            assertFalse(reason.isEmpty() || reason.indexOf('\n') >= 0 || reason.indexOf('\r') >= 0,
                    () -> "reason not a single line: " + reason);
            return false;
        }
    }

    /** docs/PROTOCOL.md: refused are empty and absolute paths, empty, . and .. components, NUL, over 4096 bytes, components over 255. */
    static boolean allowedByTheRules(byte[] path) {
        if (path.length == 0 || path.length > 4096) {
            return false;
        }
        for (byte b : path) {
            if (b == 0) {
                return false;
            }
        }
        for (String c : components(path)) { // an absolute path starts with an empty component
            if (c.isEmpty() || c.equals(".") || c.equals("..") || c.length() > 255) {
                return false;
            }
        }
        return true;
    }

    static void staysBeneathTheRoot(byte[] path) {
        assertTrue(path.length > 0, "empty path accepted");
        assertTrue(path[0] != '/', "absolute path accepted");
        for (byte b : path) {
            assertTrue(b != 0, "NUL accepted");
        }
        List<String> components = components(path);

        // Lexical resolution beneath a root, as POSIX has it: "" and "." stay where they are, ".." goes
        // up one level. It must never climb above the root, and must end beneath it.
        List<String> at = new ArrayList<>();
        for (String c : components) {
            if (c.equals("..")) {
                assertFalse(at.isEmpty(), () -> "climbs above the root: " + PathRules.show(path));
                at.remove(at.size() - 1);
            } else if (!c.isEmpty() && !c.equals(".")) {
                at.add(c);
            }
        }
        assertFalse(at.isEmpty(), () -> "names the root itself: " + PathRules.show(path));

        // Stricter, as PathRules promises: nothing that resolution would have to fold away.
        for (String c : components) {
            assertFalse(c.isEmpty(), "empty component accepted");
            assertFalse(c.equals("."), "'.' component accepted");
            assertFalse(c.equals(".."), "'..' component accepted");
            assertTrue(c.length() <= PathRules.MAX_COMPONENT, "component of " + c.length() + " bytes accepted");
        }
        assertTrue(path.length <= PathRules.MAX_PATH, "path of " + path.length + " bytes accepted");
        assertEquals(components.size(), at.size(), "every component names one level beneath the root");

        Path resolved = resolveBeneathDest(path);
        assertTrue(resolved.startsWith(DEST), () -> "leaves " + DEST + ": " + resolved);
        assertEquals(DEST.getNameCount() + components.size(), resolved.getNameCount(),
                () -> "does not name one level per component: " + resolved);
    }

    /**
     * {@code Path.of("/dest").resolve(path).normalize()}, the path's bytes as ISO-8859-1 characters (one
     * per byte). Where the platform cannot encode characters over 0x7f in a file name (C/POSIX locale:
     * sun.jnu.encoding is ASCII), those become '_': this keeps every '/' and '.', so every component and
     * whether it is "." or "..".
     */
    static Path resolveBeneathDest(byte[] path) {
        String s = new String(path, StandardCharsets.ISO_8859_1);
        try {
            return DEST.resolve(s).normalize();
        } catch (InvalidPathException e) {
            StringBuilder ascii = new StringBuilder(s.length());
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                ascii.append(c < 0x80 ? c : '_');
            }
            return DEST.resolve(ascii.toString()).normalize();
        }
    }

    /** The path split at every '/', one char per byte; "a//b/" gives "a", "", "b", "". */
    static List<String> components(byte[] path) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= path.length; i++) {
            if (i == path.length || path[i] == '/') {
                out.add(new String(path, start, i - start, StandardCharsets.ISO_8859_1));
                start = i + 1;
            }
        }
        return out;
    }
}
