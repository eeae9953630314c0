package org.uringsync.bench;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/** Benchmark data sets: {@code 4K}, {@code 1M}, {@code 256M} (one file), {@code 1000x4K} (a batch of small files). */
final class Data {
    private Data() {}

    /** Creates the data set {@code spec} under a new temporary directory; returns that directory. */
    static Path create(String spec) throws IOException {
        Path dir = Files.createTempDirectory("usync-bench-src");
        SplittableRandom r = new SplittableRandom(spec.hashCode());
        if (spec.contains("x")) {
            String[] p = spec.split("x");
            int n = Integer.parseInt(p[0]);
            long size = bytes(p[1]);
            for (int i = 0; i < n; i++) {
                write(dir.resolve("d" + (i / 100) + "/f" + i), size, r);
            }
        } else {
            write(dir.resolve("file"), bytes(spec), r);
        }
        return dir;
    }

    /** @return the total bytes of {@code spec} */
    static long total(String spec) {
        if (spec.contains("x")) {
            String[] p = spec.split("x");
            return Long.parseLong(p[0]) * bytes(p[1]);
        }
        return bytes(spec);
    }

    static long bytes(String s) {
        long m = s.endsWith("K") ? 1L << 10 : s.endsWith("M") ? 1L << 20 : s.endsWith("G") ? 1L << 30 : 1;
        return Long.parseLong(m == 1 ? s : s.substring(0, s.length() - 1)) * m;
    }

    private static void write(Path f, long size, SplittableRandom r) throws IOException {
        Files.createDirectories(f.getParent());
        byte[] buf = new byte[(int) Math.min(size, 1 << 20)];
        try (OutputStream out = Files.newOutputStream(f)) {
            for (long left = size; left > 0; ) {
                int n = (int) Math.min(buf.length, left);
                for (int i = 0; i < n; i += 8) {
                    long v = r.nextLong();
                    for (int k = 0; k < 8 && i + k < n; k++) {
                        buf[i + k] = (byte) (v >>> (8 * k));
                    }
                }
                out.write(buf, 0, n);
                left -= n;
            }
        }
    }

    /** Removes the contents of {@code dir} (and, with {@code self}, dir itself). */
    static void clear(Path dir, boolean self) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                if (self || !p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }
}
