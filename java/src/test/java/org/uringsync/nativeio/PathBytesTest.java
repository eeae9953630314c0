package org.uringsync.nativeio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PathBytesTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void joinsWithOneSlash() {
        assertArrayEquals(b("/a/b"), PathBytes.join(b("/a"), b("b")));
        assertArrayEquals(b("/a/b"), PathBytes.join(b("/a/"), b("b")));
        assertArrayEquals(b("/b"), PathBytes.join(b("/"), b("b")));
        assertArrayEquals(b("b"), PathBytes.join(new byte[0], b("b")));
    }

    @Test
    void keepsBytesThatAreNotUtf8() {
        byte[] name = {'x', (byte) 0xff, (byte) 0xfe, 'y'};
        byte[] joined = PathBytes.join(b("/d"), name);
        assertArrayEquals(new byte[] {'/', 'd', '/', 'x', (byte) 0xff, (byte) 0xfe, 'y'}, joined);
    }
}
