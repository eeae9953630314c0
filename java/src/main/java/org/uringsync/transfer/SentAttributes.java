package org.uringsync.transfer;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.uringsync.nativeio.Batch;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.protocol.FrameCodec;
import org.uringsync.protocol.Message;

/**
 * What goes before an entry's own message on the sending side (version 4): its OWNER ({@code send -a};
 * names looked up once per id, or the ids alone with {@code --numeric-ids}) and its XATTRS ({@code -X};
 * the "user." ones, as root all but "system.").
 */
final class SentAttributes {
    static final byte[] NONE = new byte[0];

    private final boolean owners;
    private final boolean numericIds;
    private final boolean xattrs;
    private final boolean asRoot = FileOps.geteuid() == 0;
    private final Map<Integer, byte[]> userNames = new HashMap<>();
    private final Map<Integer, byte[]> groupNames = new HashMap<>();

    SentAttributes(boolean owners, boolean numericIds, boolean xattrs) {
        this.owners = owners;
        this.numericIds = numericIds;
        this.xattrs = xattrs;
    }

    /** @return the OWNER of an entry of owner {@code uid} and group {@code gid}; null when owners are not kept */
    Message.Owner owner(int uid, int gid) {
        if (!owners) {
            return null;
        }
        if (numericIds) {
            return new Message.Owner(true, uid, gid, NONE, NONE);
        }
        byte[] user = userNames.computeIfAbsent(uid, id -> nameOrNone(FileOps.userName(id)));
        byte[] group = groupNames.computeIfAbsent(gid, id -> nameOrNone(FileOps.groupName(id)));
        return new Message.Owner(false, uid, gid, user, group);
    }

    /** @return the OWNER frame of {@link #owner}; empty when owners are not kept */
    byte[] ownerFrame(int uid, int gid) {
        Message.Owner o = owner(uid, gid);
        return o == null ? NONE : FrameCodec.encode(o);
    }

    /**
     * @return the XATTRS frame of the open file {@code fd} (or, when {@code fd < 0}, of the directory at
     * {@code path}); empty when not asked, or when it has none unless {@code always} (then an empty
     * XATTRS, for the receiver to take away what it has)
     */
    byte[] xattrFrame(int fd, byte[] path, boolean always) throws NativeIoException {
        if (!xattrs) {
            return NONE;
        }
        return frame(FileOps.xattrs(fd, Batch.AT_FDCWD, path, asRoot), always);
    }

    private static byte[] frame(byte[] packed, boolean always) {
        if (packed == null) {
            return always ? FrameCodec.header(Message.XATTRS, 0) : NONE;
        }
        return concat(FrameCodec.header(Message.XATTRS, packed.length), packed);
    }

    /** Whether extended attributes of every namespace but "system." are read (running as root), not "user." ones alone. */
    boolean allNamespaces() {
        return asRoot;
    }

    /** Whether anything goes before entries: owners or extended attributes are kept. */
    boolean keepsAny() {
        return owners || xattrs;
    }

    /**
     * @return the XATTRS frame of a file the receiver kept, read by path (not followed, not opened): an
     * empty one when it has none, for the receiver to take away what it has; empty when not asked
     */
    byte[] keptXattrFrame(byte[] path) throws NativeIoException {
        if (!xattrs) {
            return NONE;
        }
        return frame(FileOps.xattrsAtPath(path, asRoot), true);
    }

    static byte[] concat(byte[] a, byte[] b) {
        if (a.length == 0) {
            return b;
        }
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static byte[] nameOrNone(byte[] name) {
        return name == null || name.length > Message.Owner.MAX_NAME ? NONE : name;
    }
}
