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

    @Test
    void fixedRoundsHalfUpLikeFormat() {
        assertEquals("0.85", Sizes.fixed(0.845001, 2));
        assertEquals("0.05", Sizes.fixed(0.05, 2));
        assertEquals("12.00", Sizes.fixed(11.999, 2));
        assertEquals("1023.9", Sizes.fixed(1023.94, 1));
        assertEquals("-1.50", Sizes.fixed(-1.5, 2));
        assertEquals("0.00", Sizes.fixed(-0.001, 2));
        assertEquals("7", Sizes.fixed(7.2, 0));
        for (double v = 0; v < 50; v += 0.0137) {
            assertEquals(String.format(java.util.Locale.ROOT, "%.2f", v), Sizes.fixed(v, 2), "at " + v);
        }
    }
}
