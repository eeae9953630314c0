package org.uringsync.transfer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.path.PathRules;
import org.uringsync.protocol.FrameCodec;
import org.uringsync.protocol.Message;

/**
 * A connection's OWNER and XATTRS on the receiving side: each is held for the entry that comes next
 * and applied to it. Owners are applied only by a receiver running as root (as rsync's), mapped by
 * name through this machine's user and group databases (the sender's ids when it asked for numeric
 * ids, or for a name that is empty or unknown here); extended attributes are the "user." ones, or as
 * root all but "system." and never security.capability (the receiver grants no privilege, as it
 * drops setuid and setgid bits).
 */
final class ReceivedAttributes {
    private static final int[] IGNORED = new int[0]; // an OWNER this receiver (not root) ignores
    private static final int MAX_NAMES = 4096; // user and group names cached per connection

    private final boolean root = FileOps.geteuid() == 0;
    private final Map<String, Long> userIds = new java.util.HashMap<>();
    private final Map<String, Long> groupIds = new java.util.HashMap<>();
    private int[] owner; // OWNER's ids for the entry that comes next, resolved here; null when none
    private byte[] attrs; // XATTRS for the entry that comes next, those this receiver may set, packed; null when none

    /** Whether this receiver runs as root (makes devices, applies owners). */
    boolean root() {
        return root;
    }

    /** OWNER: held for the next entry; names are looked up only by a receiver that uses them. */
    void owner(Message.Owner o) {
        owner = root ? localIds(o) : IGNORED;
    }

    /** XATTRS: those this receiver may set, held (packed) for the next entry. */
    void xattrs(Message.Xattrs x) {
        attrs = settable(x);
    }

    boolean ownerHeld() {
        return owner != null;
    }

    boolean xattrsHeld() {
        return attrs != null;
    }

    /** @return the OWNER ids for the entry being made (null: none, or not root), and forgets them */
    int[] takeOwner() {
        int[] o = owner;
        owner = null;
        return root && o != IGNORED ? o : null;
    }

    /** @return the XATTRS for the entry being made (null: none; empty: none this receiver may set), and forgets them */
    byte[] takeXattrs() {
        byte[] a = attrs;
        attrs = null;
        return a;
    }

    /** Whether the lstat {@code st} (see FileOps.lstatAt) has the owner and group {@code o} (ids as unsigned). */
    static boolean ownedBy(long[] st, int[] o) {
        return st[6] == (o[0] & 0xffffffffL) && st[7] == (o[1] & 0xffffffffL);
    }

    /** Gives the entry {@code name} in {@code dir} (not followed) the owner {@code o} took, if any. */
    static void chown(int dir, byte[] name, byte[] path, int[] o) throws NativeIoException {
        int rc = o == null ? 0 : FileOps.chownAt(dir, name, o[0], o[1]);
        if (rc < 0) {
            throw new NativeIoException("fchownat", PathRules.show(path), -rc);
        }
    }

    /** Gives the open file {@code fd} the owner {@code o} took, if any. */
    static void fchown(int fd, byte[] path, int[] o) throws NativeIoException {
        int rc = o == null ? 0 : FileOps.fchown(fd, o[0], o[1]);
        if (rc < 0) {
            throw new NativeIoException("fchown", PathRules.show(path), -rc);
        }
    }

    /** Sets the XATTRS taken for the entry ({@code fd}, or {@code name} inside {@code dir}, never followed). */
    static void set(int fd, int dir, byte[] name, byte[] path, byte[] packed) throws NativeIoException {
        int rc = packed == null || packed.length == 0 ? 0 : FileOps.setXattrs(fd, dir, name, packed);
        if (rc < 0) {
            throw new NativeIoException("setxattr", PathRules.show(path), -rc);
        }
    }

    private int[] localIds(Message.Owner o) {
        int uid = o.uid(), gid = o.gid();
        if (!o.numeric()) {
            uid = (int) idOf(userIds, o.user(), true, uid);
            gid = (int) idOf(groupIds, o.group(), false, gid);
        }
        return new int[] {uid, gid};
    }

    private static long idOf(Map<String, Long> cache, byte[] name, boolean user, int fallback) {
        if (name.length == 0) {
            return fallback;
        }
        if (cache.size() >= MAX_NAMES) {
            cache.clear(); // a sender naming ever new users: bounded memory, looked up again
        }
        long id = cache.computeIfAbsent(Pruner.key(name), k -> user ? FileOps.userId(name) : FileOps.groupId(name));
        return id < 0 ? fallback : id;
    }

    private byte[] settable(Message.Xattrs x) {
        List<byte[][]> kept = new ArrayList<>();
        for (byte[][] a : x.attributes()) {
            String name = new String(a[0], StandardCharsets.ISO_8859_1);
            if (root ? !name.startsWith("system.") && !name.equals("security.capability") : name.startsWith("user.")) {
                kept.add(a);
            }
        }
        byte[] frame = FrameCodec.encode(new Message.Xattrs(kept)); // the packed list is its payload
        return Arrays.copyOfRange(frame, FrameCodec.HEADER, frame.length);
    }
}
