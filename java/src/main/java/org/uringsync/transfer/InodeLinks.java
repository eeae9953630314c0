package org.uringsync.transfer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * -H, for the local copy and send alike: the first name met of each inode with several links (its
 * data is copied or sent), the later names (made links to the first's copy once every file is
 * through), and the firsts that failed (their links are not made). Safe for the local copy's workers.
 */
final class InodeLinks {
    /** A later name {@code rel} of the inode whose first name met was {@code first}. */
    record Link(byte[] rel, byte[] first) {}

    private final ConcurrentHashMap<String, byte[]> firstOfInode = new ConcurrentHashMap<>();
    private final List<Link> later = Collections.synchronizedList(new ArrayList<>());
    private final Set<String> failed = ConcurrentHashMap.newKeySet();

    /**
     * Records the name {@code rel} of inode ({@code dev}, {@code ino}). @return false when it is the
     * first met (its data goes), true when it is a later name (queued as a link to the first)
     */
    boolean later(long dev, long ino, byte[] rel) {
        byte[] first = firstOfInode.putIfAbsent(dev + ":" + ino, rel);
        if (first == null) {
            return false;
        }
        later.add(new Link(rel, first));
        return true;
    }

    /** Notes that the entry {@code rel} could not be copied or sent: if it is a first, its links are not made. */
    void failed(byte[] rel) {
        failed.add(Pruner.key(rel));
    }

    /** Whether the first name of {@code l} could not be copied or sent. */
    boolean firstFailed(Link l) {
        return failed.contains(Pruner.key(l.first()));
    }

    /** The later names, in the order met (read once every file is through). */
    List<Link> links() {
        return later;
    }
}
