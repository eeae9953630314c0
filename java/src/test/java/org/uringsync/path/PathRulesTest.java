package org.uringsync.path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.uringsync.protocol.ProtocolException;

class PathRulesTest {
    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String refusal(String path) {
        return assertThrows(ProtocolException.class, () -> PathRules.check(b(path)), path).getMessage();
    }

    @Test
    void acceptsOrdinaryAndOddButHarmlessNames() {
        for (String ok : new String[] {"a", "a/b/c.txt", "a..b", "...", "..a", "a..", ".hidden", "sp ace/new\nline",
            "x/.../y", "ü/名前"}) {
            assertDoesNotThrow(() -> PathRules.check(b(ok)), ok);
        }
        assertDoesNotThrow(() -> PathRules.check(new byte[] {'a', (byte) 0xff}));
        assertDoesNotThrow(() -> PathRules.check(b("x".repeat(255) + "/" + "y".repeat(255))));
    }

    @Test
    void refusesTraversalAbsoluteEmptyAndDotComponents() {
        assertEquals("'..' component refused (path traversal): ..", refusal(".."));
        assertEquals("'..' component refused (path traversal): a/../b", refusal("a/../b"));
        assertEquals("'..' component refused (path traversal): a/..", refusal("a/.."));
        assertEquals("absolute path refused: /etc/passwd", refusal("/etc/passwd"));
        assertEquals("empty path", refusal(""));
        assertEquals("empty path component: a//b", refusal("a//b"));
        assertEquals("empty path component: a/", refusal("a/"));
        assertEquals("'.' component refused: ./a", refusal("./a"));
        assertEquals("'.' component refused: a/./b", refusal("a/./b"));
    }

    @Test
    void refusesNulAndOverLongPaths() {
        assertEquals("NUL byte in path: a\\x00b", assertThrows(ProtocolException.class,
                () -> PathRules.check(new byte[] {'a', 0, 'b'})).getMessage());
        assertEquals("path component longer than 255 bytes", refusal("a/" + "x".repeat(256)));
        assertEquals("path longer than 4096 bytes", refusal("d/".repeat(2048) + "x"));
    }
}
