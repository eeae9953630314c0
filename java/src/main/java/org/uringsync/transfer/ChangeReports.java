package org.uringsync.transfer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.uringsync.CopyListener.Change;
import org.uringsync.protocol.Message;

/**
 * A receiving connection's CHANGES (version 4, {@code -n}/{@code -i}): the changes it makes, or in a
 * dry run would make, as rsync's itemize codes, kept until ALL_DONE and sent just before it. Bounded:
 * about {@link #MAX_REPORT_BYTES} of names (past them one log line, and no more reports), and the
 * codes of files WANTed but not yet placed by {@link #MAX_PENDING_BYTES}.
 */
final class ChangeReports {
    /** About the most bytes of CHANGE reports one connection keeps for the end of the transfer. */
    static final long MAX_REPORT_BYTES = 64L << 20;
    /** About the most bytes of names of WANTed files whose codes wait for the file. */
    static final long MAX_PENDING_BYTES = 16L << 20;
    /** And the most such codes (more than a sender has in flight). */
    static final int MAX_PENDING = 1 << 16;

    private final boolean dryRun;
    private final Consumer<String> log;
    private final List<Message.ChangeReport> reports = new ArrayList<>();
    private final Map<String, Change> pending = new HashMap<>(); // a WANTed file's change, reported once it is placed
    private long reportBytes;
    private long pendingBytes;

    /** @param log where the one line about reports beyond the bound goes */
    ChangeReports(boolean dryRun, Consumer<String> log) {
        this.dryRun = dryRun;
        this.log = log;
    }

    boolean dryRun() {
        return dryRun;
    }

    int size() {
        return reports.size();
    }

    // the changes that carry nothing more than their kind
    static final Change NEW_FILE = new Change(Change.Kind.NEW_FILE, false, false);
    static final Change NEW_DIRECTORY = new Change(Change.Kind.NEW_DIRECTORY, false, false);
    static final Change SYMLINK = new Change(Change.Kind.SYMLINK, false, false);
    static final Change HARD_LINK = new Change(Change.Kind.HARD_LINK, false, false);
    static final Change SPECIAL = new Change(Change.Kind.SPECIAL, false, false);
    static final Change DELETED = new Change(Change.Kind.DELETED, false, false);

    /** A change made, or in a dry run one that would be (sent as its itemize code). */
    void report(Change change, byte[] path) {
        if (path.length > Message.FileHeader.MAX_PATH) {
            return; // (a path deeper than the protocol carries, met while deleting: not reported)
        }
        if (reportBytes + path.length + 64 > MAX_REPORT_BYTES) {
            if (reportBytes <= MAX_REPORT_BYTES) {
                log.accept("more changes than one connection reports (" + (MAX_REPORT_BYTES >> 20)
                        + " MiB of names); the rest are not reported");
                reportBytes = MAX_REPORT_BYTES + 1;
            }
            return;
        }
        reportBytes += path.length + 64;
        reports.add(new Message.ChangeReport(change.itemize(), path));
    }

    /** The change a WANTed file makes: reported now in a dry run, else once {@link #placed} says it is in place. */
    void wanted(byte[] path, Change change) {
        if (dryRun) {
            report(change, path);
        } else if (pending.size() < MAX_PENDING && pendingBytes + path.length <= MAX_PENDING_BYTES
                && pending.put(Pruner.key(path), change) == null) {
            pendingBytes += path.length;
        }
    }

    /** A file is in place: its change as WANTed (a new file when it was not, as a version 2 sender's). */
    void placed(byte[] path) {
        Change change = pending.remove(Pruner.key(path));
        if (change != null) {
            pendingBytes -= path.length;
        }
        report(change == null ? NEW_FILE : change, path);
    }

    /** Sends every report (before the receiver's ALL_DONE). */
    void send(Wire wire) throws IOException {
        for (Message.ChangeReport r : reports) {
            wire.send(r);
        }
    }
}
