package org.uringsync;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SizesTest {
    @Test
    void parsesPlainAndSuffixedSizes() {
        assertEquals(131072, Sizes.parse("131072"));
        assertEquals(128 * 1024, Sizes.parse("128K"));
        assertEquals(128 * 1024, Sizes.parse("128k"));
        assertEquals(4L << 20, Sizes.parse("4M"));
        assertEquals(4L << 20, Sizes.parse("4MiB"));
        assertEquals(1L << 30, Sizes.parse("1G"));
        assertEquals(64 * 1024, Sizes.parse("64KB"));
    }

    @Test
    void rejectsTextThatIsNotASize() {
        for (String bad : new String[] {"", "K", "12Q", "-4K", "1.5M", "99999999999999G"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse(bad), bad);
            assertEquals("not a size: '" + bad + "' (examples: 131072, 128K, 4M)", e.getMessage());
        }
    }

    @Test
    void formatsInBinaryUnits() {
        assertEquals("512 B", Sizes.format(512));
        assertEquals("1.0 KiB", Sizes.format(1024));
        assertEquals("40.0 MiB", Sizes.format(40L << 20));
        assertEquals("1.5 GiB", Sizes.format(3L << 29));
    }
}
