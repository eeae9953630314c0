package org.uringsync.nativeio;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Shared checks for tests that need the C core and io_uring. */
public final class NativeTestSupport {
    private NativeTestSupport() {}

    /** Skips the test, printing why, when this process cannot use io_uring. */
    public static void assumeRing() {
        if (!Ring.isAvailable()) {
            System.out.println("SKIPPED (io_uring unavailable): " + Ring.unavailabilityCause());
        }
        assumeTrue(Ring.isAvailable(), () -> "io_uring unavailable: " + Ring.unavailabilityCause());
    }

    /** Skips the calling test, printing why, unless it runs as root. */
    public static void assumeRoot(String test) {
        boolean root = FileOps.geteuid() == 0;
        if (!root) {
            System.out.println("SKIPPED " + test + ": not running as root");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(root, "root");
    }

    /** Runs {@code bash -c script} in {@code dir} and fails on a non-zero exit. */
    public static String sh(Path dir, String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", script).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException("bash -c '" + script + "' failed: " + out);
        }
        return out;
    }

    /** Writes {@code size} pseudo-random bytes (seeded) to a file. */
    public static void randomFile(Path file, long size, long seed) throws IOException {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        byte[] buf = new byte[1 << 20];
        try (var out = Files.newOutputStream(file)) {
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
}
