package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** Test helper: sparse files made with holes where nothing was written, and what a file occupies on disk. */
final class SparseFiles {
    private SparseFiles() {}

    /**
     * A file of {@code size} bytes holding random data at each {offset, length} pair of {@code data}, holes
     * elsewhere (a trailing hole too when the last range ends before {@code size}).
     */
    static void make(Path file, long size, long... data) throws IOException {
        Random random = new Random(size ^ data.length);
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.setLength(size); // all hole
            FileChannel ch = f.getChannel();
            for (int i = 0; i < data.length; i += 2) {
                byte[] bytes = new byte[(int) data[i + 1]];
                random.nextBytes(bytes);
                ByteBuffer b = ByteBuffer.wrap(bytes);
                for (long at = data[i]; b.hasRemaining();) {
                    at += ch.write(b, at);
                }
            }
        }
    }

    /** The files {@link #makeSet} makes, relative to its root. */
    static final List<String> SET = List.of("sparse", "all-hole", "d0/hole-first");

    /**
     * Beneath {@code root} (which has a directory d0): {@code sparse}, 256 MiB holding 3 MiB + 123 bytes in
     * three ranges (the first at 0, a trailing hole); {@code all-hole}, 64 MiB of hole; {@code d0/hole-first},
     * 32 MiB whose last MiB alone is data.
     */
    static void makeSet(Path root) throws IOException {
        long mib = 1 << 20;
        make(root.resolve("sparse"), 256 * mib, 0, mib, 100 * mib + 4096, mib, 200 * mib, mib + 123);
        make(root.resolve("all-hole"), 64 * mib);
        make(root.resolve("d0/hole-first"), 32 * mib, 31 * mib, mib);
    }

    /** The {@link #SET} arrived: same bytes, size and mtime, and at most 1 MiB more on disk than the source's. */
    static void assertArrivedSparse(Path src, Path dst) throws IOException {
        for (String f : SET) {
            assertEquals(-1, Files.mismatch(src.resolve(f), dst.resolve(f)), f);
            assertEquals(Files.size(src.resolve(f)), Files.size(dst.resolve(f)), f);
            assertEquals(Files.getLastModifiedTime(src.resolve(f)), Files.getLastModifiedTime(dst.resolve(f)), f);
            assertTrue(allocated(dst.resolve(f)) <= allocated(src.resolve(f)) + (1 << 20),
                    f + " occupies " + allocated(dst.resolve(f)) + " bytes, the source " + allocated(src.resolve(f)));
        }
    }

    /** The bytes {@code file} occupies on disk ({@code st_blocks * 512}). */
    static long allocated(Path file) throws IOException {
        return Long.parseLong(Listings.sh(file.getParent(), "stat -c %b '" + file.getFileName() + "'").trim()) * 512;
    }
}
