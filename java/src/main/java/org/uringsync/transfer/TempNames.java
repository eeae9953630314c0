package org.uringsync.transfer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one temporary-name scheme, for the receiver and the local copy alike:
 * {@code .usync-<pid>-<owner>-<n>.tmp}, in the directory of the file being written, renamed over the
 * final name once the file is complete. The owner is a receiver's connection or one local copy run,
 * numbered once per process ({@link #newOwner}); the name says which process and owner made it, so that
 * temporaries left by a process that died (SIGKILL, power loss) or an owner that ended can be told
 * from live ones and removed ({@link #isStale}). Senders may not use names of this shape. (The C core
 * names nothing: it writes to the name it is given.)
 */
final class TempNames {
    static final String PREFIX = ".usync-";
    static final String SUFFIX = ".tmp";
    static final long PID = ProcessHandle.current().pid();

    private static final AtomicLong OWNERS = new AtomicLong();
    private static final Set<Long> LIVE = ConcurrentHashMap.newKeySet();

    private TempNames() {}

    /** Who owns a temporary file. */
    record Owner(long pid, long owner) {}

    /** @return a new owner number, unique in this process (a receiver's connection, a local copy run) */
    static long newOwner() {
        return OWNERS.incrementAndGet();
    }

    /** @return true when the owner of a temporary has ended (this process's) or its process is gone */
    static boolean isStale(Owner o) {
        return o.pid() == PID ? !LIVE.contains(o.owner())
                : ProcessHandle.of(o.pid()).map(p -> !p.isAlive()).orElse(true);
    }

    /**
     * The temporary names of one owner, numbered from 0; thread-safe. The owner is live from here to
     * {@link #close}: until then a sweep leaves its temporaries alone.
     */
    static final class Namer implements AutoCloseable {
        private final long owner;
        private final byte[] prefix;
        private final AtomicLong next = new AtomicLong();

        Namer(long owner) {
            this.owner = owner;
            this.prefix = (PREFIX + PID + "-" + owner + "-").getBytes(StandardCharsets.US_ASCII);
            LIVE.add(owner);
        }

        /** Ends the owner: its temporaries left behind are stale from now on. */
        @Override
        public void close() {
            LIVE.remove(owner);
        }

        /** @return the next name: {@code .usync-<pid>-<owner>-<n>.tmp} */
        byte[] next() {
            String n = Long.toString(next.getAndIncrement());
            byte[] b = Arrays.copyOf(prefix, prefix.length + n.length() + SUFFIX.length());
            for (int i = 0; i < n.length(); i++) {
                b[prefix.length + i] = (byte) n.charAt(i);
            }
            for (int i = 0; i < SUFFIX.length(); i++) {
                b[prefix.length + n.length() + i] = (byte) SUFFIX.charAt(i);
            }
            return b;
        }
    }

    /** @return true when {@code name} has the shape of a temporary name (whoever made it) */
    static boolean isTemp(byte[] name) {
        return startsWith(name, PREFIX) && endsWith(name, SUFFIX);
    }

    /** @return the owner a temporary name records, or null when {@code name} is not one of ours */
    static Owner owner(byte[] name) {
        if (!isTemp(name)) {
            return null;
        }
        long[] parts = new long[3];
        int p = 0;
        long v = -1;
        for (int i = PREFIX.length(); i < name.length - SUFFIX.length(); i++) {
            byte b = name[i];
            if (b >= '0' && b <= '9' && v < Long.MAX_VALUE / 10 - 9) {
                v = (v < 0 ? 0 : v * 10) + (b - '0');
            } else if (b == '-' && v >= 0 && p < 2) {
                parts[p++] = v;
                v = -1;
            } else {
                return null;
            }
        }
        if (p != 2 || v < 0) {
            return null;
        }
        return new Owner(parts[0], parts[1]);
    }

    private static boolean startsWith(byte[] b, String s) {
        if (b.length < s.length()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (b[i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static boolean endsWith(byte[] b, String s) {
        int off = b.length - s.length();
        if (off < 0) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (b[off + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
