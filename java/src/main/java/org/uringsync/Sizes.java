package org.uringsync;

import java.util.Locale;

/** Byte sizes as people write them: {@code 128K}, {@code 4M}, {@code 1G}. */
public final class Sizes {
    private Sizes() {}

    /**
     * Parses {@code 131072}, {@code 128K}, {@code 128k}, {@code 4M}, {@code 1G} (binary units; an optional
     * trailing {@code B} or {@code iB} is accepted).
     *
     * @throws IllegalArgumentException naming the text when it is not a size
     */
    public static long parse(String text) {
        String t = text.trim().toUpperCase(Locale.ROOT);
        if (t.endsWith("IB")) {
            t = t.substring(0, t.length() - 2);
        } else if (t.endsWith("B") && t.length() > 1 && !Character.isDigit(t.charAt(t.length() - 2))) {
            t = t.substring(0, t.length() - 1);
        }
        long mult = 1;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K' -> mult = 1L << 10;
                case 'M' -> mult = 1L << 20;
                case 'G' -> mult = 1L << 30;
                default -> mult = 1;
            }
        }
        String digits = mult == 1 ? t : t.substring(0, t.length() - 1);
        try {
            long v = Long.parseLong(digits);
            if (v < 0) {
                throw new NumberFormatException();
            }
            return Math.multiplyExact(v, mult);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("not a size: '" + text + "' (examples: 131072, 128K, 4M)");
        }
    }

    /**
     * Parses a rate as rsync's --bwlimit does: {@code 50M}, {@code 1G}, {@code 512K} per second, and a bare
     * number in KiB per second ({@code 100} is 100 KiB/s); {@code 0} is no limit.
     *
     * @return bytes per second
     * @throws IllegalArgumentException naming the text when it is not a rate
     */
    public static long parseRate(String text) {
        String t = text.trim();
        boolean bare = !t.isEmpty() && Character.isDigit(t.charAt(t.length() - 1));
        try {
            return checkRate(bare ? Math.multiplyExact(parse(t), 1024L) : parse(t));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new IllegalArgumentException("not a rate: '" + text + "' (examples: 50M, 1G, 512K; a bare number is KiB/s)");
        }
    }

    /** A rate limit in bytes per second: 0 (none) or at least 1 KiB/s. */
    static long checkRate(long bytesPerSecond) {
        if (bytesPerSecond != 0 && (bytesPerSecond < 1024 || bytesPerSecond > (1L << 50))) {
            throw new IllegalArgumentException("rate must be 0 (no limit) or 1K..1P bytes per second: " + bytesPerSecond);
        }
        return bytesPerSecond;
    }

    /** A progress interval: at least 10 ms. */
    static java.time.Duration checkInterval(java.time.Duration interval) {
        if (interval.toMillis() < 10) {
            throw new IllegalArgumentException("progress interval must be at least 10 ms: " + interval);
        }
        return interval;
    }

    /** @return e.g. {@code "40.0 MiB"}. */
    public static String format(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return fixed(v, 1) + " " + units[u];
    }

    /**
     * {@code v} rounded half-up to {@code digits} decimals, e.g. {@code fixed(0.845, 2)} is "0.85".
     * Start-up matters to a command line tool: this avoids java.util.Formatter (regex, locale data),
     * about 20 ms of class loading on the first String.format.
     */
    public static String fixed(double v, int digits) {
        long scale = 1;
        for (int i = 0; i < digits; i++) {
            scale *= 10;
        }
        long n = Math.round(Math.abs(v) * scale);
        StringBuilder b = new StringBuilder(v < 0 && n != 0 ? "-" : "").append(n / scale);
        if (digits > 0) {
            String frac = Long.toString(n % scale + scale);
            b.append('.').append(frac, 1, frac.length());
        }
        return b.toString();
    }
}
