package org.uringsync;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

/**
 * What a copy or transfer did.
 *
 * @param files regular files written
 * @param directories directories created or updated
 * @param symlinks symlinks written
 * @param bytes file bytes written
 * @param skipped entries left out on purpose (devices, FIFOs, sockets)
 * @param duration wall time
 * @param failures one exception per failed entry, naming the operation and the path
 * @param unchanged files not copied because their copy in the destination has the same size and
 *        modification time (rsync's quick check)
 * @param deleted entries removed from the destination because the source has none (delete)
 * @param bytesTotal the sizes of every regular file the run looked at: those written and those it
 *        left alone (their bytes are not in {@code bytes})
 * @param tlsPath a network transfer's TLS path ({@code userspace}, {@code ktls}, {@code ktls+splice}),
 *        else null
 * @param tlsCipher a network transfer's TLS 1.3 suite, else null
 * @param protocol a network transfer's protocol version, else 0
 */
public record CopyResult(long files, long directories, long symlinks, long bytes, long skipped, Duration duration,
        List<IOException> failures, long unchanged, long deleted, long bytesTotal, String tlsPath, String tlsCipher,
        int protocol) {

    public CopyResult {
        failures = List.copyOf(failures);
    }

    /** A local result: every file looked at was written ({@code bytesTotal} = {@code bytes}), no TLS. */
    public CopyResult(long files, long directories, long symlinks, long bytes, long skipped, Duration duration,
            List<IOException> failures, long unchanged, long deleted) {
        this(files, directories, symlinks, bytes, skipped, duration, failures, unchanged, deleted, bytes, null, null, 0);
    }

    /** A result with nothing unchanged and nothing deleted. */
    public CopyResult(long files, long directories, long symlinks, long bytes, long skipped, Duration duration,
            List<IOException> failures) {
        this(files, directories, symlinks, bytes, skipped, duration, failures, 0, 0, bytes, null, null, 0);
    }

    /** @return true when every entry was copied. */
    public boolean succeeded() {
        return failures.isEmpty();
    }

    /** @return bytes per second over the whole run. */
    public double bytesPerSecond() {
        double s = duration.toNanos() / 1e9;
        return s > 0 ? bytes / s : 0;
    }

    /** @return e.g. {@code "10000 files, 100 dirs, 0 symlinks, 40.0 MiB in 0.84 s (47.6 MiB/s)"}. */
    public String summary() {
        return files + " files, " + directories + " dirs, " + symlinks + " symlinks, " + Sizes.format(bytes) + " in "
                + Sizes.fixed(duration.toNanos() / 1e9, 2) + " s (" + Sizes.format((long) bytesPerSecond()) + "/s)"
                + (unchanged == 0 ? "" : ", " + unchanged + " unchanged") + (deleted == 0 ? "" : ", " + deleted + " deleted")
                + (failures.isEmpty() ? "" : ", " + failures.size() + " failed");
    }
}
