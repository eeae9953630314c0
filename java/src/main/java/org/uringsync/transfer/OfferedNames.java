package org.uringsync.transfer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.uringsync.CopyListener;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.path.FilterRules;
import org.uringsync.path.PathRules;
import org.uringsync.protocol.ProtocolException;

/**
 * Version 4's DELETE on the receiving side: the names a sender offered in each directory (as a file,
 * DIR, SYMLINK, HARDLINK or SPECIAL), and at ALL_DONE the removal of what it did not offer. What one
 * connection keeps is bounded: past {@link #MAX_KEPT_BYTES} DELETE is refused rather than the
 * receiver's memory spent.
 */
final class OfferedNames {
    /** The most directories one transfer may name (their metadata waits for ALL_DONE too). */
    static final int MAX_DIRECTORIES = 1 << 20;
    /** About the most bytes of names one connection keeps for DELETE and directory metadata. */
    static final long MAX_KEPT_BYTES = 256L << 20;

    private final Map<String, Set<String>> offered = new HashMap<>(); // key: a directory's path
    private long kept; // bytes (about) of names and directories kept for the end of the transfer

    /** Counts {@code bytes} kept for the end of the transfer elsewhere (a directory's metadata). */
    void budget(int bytes) {
        kept += bytes + 48;
    }

    /** Notes an offered entry under its directory ({@code slash}: the path's last slash, or -1). */
    void entry(byte[] path, int slash) throws ProtocolException {
        if (offered.size() >= MAX_DIRECTORIES) {
            throw new ProtocolException("more than " + MAX_DIRECTORIES + " directories in one transfer");
        }
        budget(path.length - slash);
        if (kept > MAX_KEPT_BYTES) {
            offered.clear(); // DELETE will be refused: stop spending memory on names
            return;
        }
        offered.computeIfAbsent(Pruner.key(slash < 0 ? new byte[0] : Arrays.copyOf(path, slash)),
                k -> new HashSet<>()).add(Pruner.key(Arrays.copyOfRange(path, slash + 1, path.length)));
    }

    /** Notes an offered directory: an entry of its parent, and a directory whose own entries are offered. */
    void directory(byte[] path, int slash) throws ProtocolException {
        entry(path, slash);
        if (kept <= MAX_KEPT_BYTES) {
            offered.computeIfAbsent(Pruner.key(path), k -> new HashSet<>());
        }
    }

    /**
     * DELETE, at ALL_DONE: in DEST ({@code rootFd}, at {@code destBytes}) and in every directory the
     * sender offered, what was not offered goes (see {@link Pruner}; what {@code keeping} excludes and
     * temporary files stay; a dry run removes nothing). Each removal goes to {@code report} (as a
     * DELETED change) with its path. Every directory is tried. @return the first failure (and how many more), or null
     */
    IOException prune(int rootFd, byte[] destBytes, FilterRules keeping, boolean dryRun, CopyListener listener,
            java.util.function.BiConsumer<CopyListener.Change, byte[]> report) {
        if (kept > MAX_KEPT_BYTES) {
            return new IOException("delete: the transfer has more entries than this receiver keeps in mind"
                    + " for --delete (" + (MAX_KEPT_BYTES >> 20) + " MiB of names); nothing was deleted");
        }
        List<NativeIoException> failed = new ArrayList<>();
        Pruner pruner = new Pruner(keeping, dryRun, destBytes, new Pruner.Report() {
            @Override
            public void removed(byte[] rel) {
                report.accept(ChangeReports.DELETED, rel);
                if (!dryRun) {
                    listener.deleted(PathRules.show(rel));
                }
            }

            @Override
            public void failed(byte[] rel, NativeIoException e) {
                failed.add(e);
            }
        });
        offered.computeIfAbsent("", k -> new HashSet<>());
        for (Map.Entry<String, Set<String>> d : offered.entrySet()) {
            byte[] rel = d.getKey().getBytes(StandardCharsets.ISO_8859_1);
            int fd = rel.length == 0 ? rootFd : FileOps.openDirNoFollow(rootFd, rel);
            if (fd < 0) {
                continue; // not a directory here (the transfer refused it), or gone: nothing to prune
            }
            try {
                pruner.prune(fd, rel, d.getValue());
            } catch (NativeIoException e) {
                failed.add(e);
            } finally {
                if (fd != rootFd) {
                    FileOps.close(fd);
                }
            }
        }
        return failed.isEmpty() ? null : new IOException("delete: " + failed.get(0).getMessage()
                + (failed.size() > 1 ? " (and " + (failed.size() - 1) + " more)" : ""));
    }
}
