package org.uringsync.transfer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.uringsync.CopyListener.Change;
import org.uringsync.CopyListener;
import org.uringsync.nativeio.Errno;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.Meter;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.nativeio.Ring;
import org.uringsync.nativeio.TlsSession;
import org.uringsync.path.FilterRules;
import org.uringsync.path.PathRules;
import org.uringsync.protocol.Message;
import org.uringsync.protocol.ProtocolException;

/**
 * Writes a receiver's files beneath DEST. {@link NetReceiver} makes one per receiver, calls
 * {@link #prepare} when it starts, and gives each connection it admits a {@link Files}, whose
 * thread calls {@link Files#receive} once HELLO_OK has gone back and {@link Files#close} when the
 * connection ends. Owned here: FILE_HDR to ALL_DONE, the path check ({@link PathRules}, and no name
 * of {@link TempNames}' shape), the directories a connection keeps open beneath DEST, each file
 * created under a temporary name (or under its own when nothing was there at the quick check), its
 * data written by the native session, the rename into place,
 * and the sweep of stale temporaries: DEST when the receiver starts, and each directory (DEST again
 * among them) the first time one of this receiver's connections writes into it.
 */
final class DestWriter {
    private static final int S_IFMT = 0170000, S_IFREG = 0100000, S_IFLNK = 0120000, S_IFDIR = 0040000;
    /** The most filter rules a DELETE may carry. */
    static final int MAX_DELETE_RULES = 4096;
    private final Path dest;
    private final byte[] destBytes;
    private final int chunkSize;
    private final boolean directWrites;
    private final int queueDepth;
    private final CopyListener listener;
    private final Consumer<String> log;

    /** Directories this receiver has swept for stale temporaries (relative paths), at most 65,536. */
    private final Set<String> swept = ConcurrentHashMap.newKeySet();
    private final AtomicLong filesWritten = new AtomicLong();
    private final AtomicLong bytesWritten = new AtomicLong();
    private final Meter meter = new Meter(); // every connection's ring: file data as it arrives
    private final org.uringsync.Receiver.Events events;

    DestWriter(NetReceiver.Config c) {
        this.dest = c.dest();
        this.destBytes = PathBytes.of(dest.toAbsolutePath());
        this.chunkSize = c.chunkSize();
        this.queueDepth = c.queueDepth();
        this.directWrites = c.directWrites();
        this.listener = c.listener();
        this.log = c.log();
        this.events = c.events();
    }

    /** Creates DEST if it is missing, so that a receiver that cannot write there fails at start, and sweeps it. */
    void prepare() throws NativeIoException {
        int root = FileOps.openRoot(destBytes, true); // create it, and fail early if we cannot
        try {
            sweepTemps(root, new byte[0]);
        } finally {
            FileOps.close(root);
        }
    }

    /** Files renamed into place, over all connections so far. */
    long filesWritten() {
        return filesWritten.get();
    }

    long bytesWritten() {
        return bytesWritten.get();
    }

    /** File data bytes written as they arrived, over all connections, files in progress included. */
    long bytesArrived() {
        return meter.bytes();
    }

    /** Checks a file's path (PathRules, and not one of our temporary names). @return its last slash, or -1 */
    static int checkedSlash(byte[] path) throws IOException {
        PathRules.check(path);
        int slash = PathBytes.lastSlash(path);
        if (TempNames.isTemp(Arrays.copyOfRange(path, slash + 1, path.length))) {
            throw new PathRefused("refused " + PathRules.show(path) + ": names beginning " + TempNames.PREFIX
                    + " and ending " + TempNames.SUFFIX + " are the receiver's temporary files");
        }
        return slash;
    }

    /** The files of connection {@code id}: from now until {@link Files#close}, its temporaries are live. */
    Files files(long id) {
        return new Files(id);
    }

    /**
     * Removes the temporary files in a directory that no live connection owns: ones left by a
     * receiver process that is gone, or by a connection of this process that has ended.
     */
    private void sweepTemps(int dirFd, byte[] rel) {
        FileOps.Listing listing;
        try {
            listing = FileOps.listDirectoryAt(dirFd, rel.length == 0 ? dest.toString() : PathRules.show(rel));
        } catch (NativeIoException e) {
            return; // nothing we can list, nothing we could remove
        }
        for (FileOps.Entry e : listing.entries()) {
            TempNames.Owner o = e.type() == FileOps.TYPE_REG || e.type() == FileOps.TYPE_LNK ? TempNames.owner(e.name()) : null;
            if (o == null) {
                continue;
            }
            if (TempNames.isStale(o) && FileOps.unlinkAt(dirFd, e.name()) == 0) {
                byte[] shown = rel.length == 0 ? e.name() : PathBytes.join(rel, e.name());
                log.accept("removed " + PathRules.show(shown) + ": a temporary file left by a receiver (or copy) that"
                        + " ended before the file was complete");
            }
        }
    }

    /**
     * One connection's files: the directories it keeps open, its temporary file, the number naming
     * the next. Made when the receiver admits the connection; it opens nothing before {@link #receive}.
     */
    final class Files {
        private final long id;
        private DestDirs dirs; // open from receive() on
        private int rootFd = -1;
        private int tempDir = -1;
        private byte[] tempName;
        private long[] tempIdentity; // a file written under its own name: {inode, device}, else null
        private final TempNames.Namer temps;
        private final List<Message.Directory> dirMeta = new ArrayList<>(); // applied at ALL_DONE
        private final OfferedNames offered = new OfferedNames(); // version 4: for DELETE
        private FilterRules deleteKeeping; // set by DELETE: remove the rest, except what these exclude
        private final int umask = FileOps.umask();
        private final ReceivedAttributes attributes = new ReceivedAttributes(); // OWNER and XATTRS for the next entry
        private final boolean root = attributes.root();
        /** Directories this connection made (keys): nothing of the transfer's can be in them before it writes there. */
        private final Set<String> made = new java.util.HashSet<>();
        private volatile long received; // files placed, and their data bytes
        private volatile long receivedBytes;
        /** CHANGES: the changes made (or, dry run, that would be), sent before ALL_DONE; null when not asked. */
        private ChangeReports reports;
        private boolean dryRun; // CHANGES with dry_run: nothing is changed
        private final QuickCheck quickCheck; // FILE_LIST's answers

        private Files(long id) {
            this.id = id;
            this.temps = new TempNames.Namer(id);
            this.quickCheck = new QuickCheck(id, log, offered, made);
        }

        /**
         * Receives files until ALL_DONE or the sender's ERROR, on a session whose sender is authenticated.
         * @return null when the transfer completed (confirmed), else why not (the sender's ERROR)
         */
        String receive(TlsSession session, Wire wire, int version) throws IOException {
            rootFd = FileOps.openRoot(destBytes, false); // each connection sees DEST as it is now
            // the first time this receiver writes into a directory, temporaries left there by dead receivers go
            dirs = new DestDirs(rootFd, (fd, rel, key) -> {
                if (swept.size() < 65536 && swept.add(key)) {
                    sweepTemps(fd, rel);
                }
            });
            quickCheck.open(rootFd, dirs);
            if (version >= Message.VERSION_5) {
                quickCheck.trackKept();
            }
            try (Ring ring = Ring.open(queueDepth, chunkSize).attach(meter)) { // nothing heavy before HELLO_OK
                return receive(session, wire, ring, version);
            }
        }

        /** Files this connection placed so far. */
        long filesReceived() {
            return received;
        }

        /** File data bytes this connection wrote so far. */
        long bytesReceived() {
            return receivedBytes;
        }

        /** Frees what the connection holds beneath DEST; nothing here throws, so no earlier error is hidden. */
        void close() {
            closeKeptDir();
            removeTemp();
            if (dirs != null) {
                dirs.close();
            }
            if (rootFd >= 0) {
                FileOps.close(rootFd);
                rootFd = -1;
            }
            temps.close();
        }

        private String receive(TlsSession session, Wire wire, Ring ring, int version) throws IOException {
            boolean first = true;
            while (true) {
                if (!wire.next()) {
                    throw new ProtocolException("connection closed before ALL_DONE (" + received + " files received)");
                }
                int type = wire.type();
                if (type == Message.CHANGES && version >= 4 && first) { // only as the first message
                    first = false;
                    dryRun = ((Message.ReportChanges) wire.payload()).dryRun();
                    reports = new ChangeReports(dryRun, line -> log.accept("connection " + id + ": " + line));
                    quickCheck.reporting(reports, dryRun);
                    continue;
                }
                first = false;
                if (type != Message.KEPT && type != Message.OWNER && type != Message.XATTRS) {
                    closeKeptDir(); // anything else may change directories: looked up again
                }
                boolean entry = type == Message.FILE_HDR_T || type == Message.FILE_HDR_S || type == Message.DIR
                        || (type == Message.KEPT && version >= Message.VERSION_5);
                if (attributes.xattrsHeld() && !entry) {
                    throw new ProtocolException("XATTRS followed by " + org.uringsync.protocol.FrameCodec.name(type)
                            + " (expected FILE_HDR_T, FILE_HDR_S" + (version >= Message.VERSION_5 ? ", DIR or KEPT)" : " or DIR)"));
                }
                if (attributes.ownerHeld() && !entry && type != Message.SYMLINK && type != Message.SPECIAL && type != Message.XATTRS) {
                    throw new ProtocolException("OWNER followed by " + org.uringsync.protocol.FrameCodec.name(type)
                            + " (expected FILE_HDR_T, FILE_HDR_S, DIR, SYMLINK" + (version >= Message.VERSION_5 ? ", SPECIAL or KEPT)" : " or SPECIAL)"));
                }
                if (type == Message.OWNER && version >= 4) {
                    attributes.owner((Message.Owner) wire.payload());
                    continue;
                }
                if (type == Message.XATTRS && version >= 4) {
                    attributes.xattrs((Message.Xattrs) wire.payload());
                    continue;
                }
                if (type == Message.FILE_HDR || ((type == Message.FILE_HDR_T || type == Message.FILE_HDR_S) && version >= 4)) {
                    if (dryRun) {
                        throw new ProtocolException(org.uringsync.protocol.FrameCodec.name(type) + " in a dry run");
                    }
                    Message.FileHeader h = (Message.FileHeader) wire.payload();
                    receivedBytes += receiveFile(session, wire, h, ring);
                    received++;
                } else if ((type == Message.FILE_LIST || type == Message.FILE_LIST_C) && version >= 4) {
                    wire.send(quickCheck.answer((Message.FileList) wire.payload(), ring));
                } else if (type == Message.DIR && version >= 4) {
                    makeDirectory((Message.Directory) wire.payload());
                } else if (type == Message.KEPT && version >= Message.VERSION_5) {
                    kept((Message.Kept) wire.payload());
                } else if (type == Message.SYMLINK && version >= 4) {
                    symlink((Message.Link) wire.payload());
                } else if (type == Message.SPECIAL && version >= 4) {
                    special((Message.Special) wire.payload());
                } else if (type == Message.HARDLINK && version >= 4) {
                    hardLink((Message.Link) wire.payload());
                } else if (type == Message.DELETE && version >= 4) {
                    Message.Delete d = (Message.Delete) wire.payload();
                    if (d.rules().size() > MAX_DELETE_RULES) {
                        throw new ProtocolException("DELETE with " + d.rules().size() + " rules (at most " + MAX_DELETE_RULES + ")");
                    }
                    FilterRules keep = FilterRules.NONE;
                    for (Message.Delete.Rule r : d.rules()) {
                        keep = keep.and(r.include(), r.pattern());
                    }
                    deleteKeeping = keep;
                } else if (type == Message.ALL_DONE) {
                    wire.payload();
                    IOException deleting = deleteKeeping == null ? null
                            : offered.prune(rootFd, destBytes, deleteKeeping, dryRun, listener, this::report);
                    IOException meta = dryRun ? null : applyDirectoryMeta(); // after deleting, which changes directories' times
                    if (deleting != null || meta != null) {
                        throw deleting != null ? deleting : meta;
                    }
                    if (reports != null) {
                        reports.send(wire);
                    }
                    wire.send(new Message.AllDone());
                    if (dryRun) {
                        log.accept("connection " + id + ": dry run, " + reports.size() + " changes reported");
                    }
                    return null;
                } else if (type == Message.ERROR) {
                    Message.Error e = (Message.Error) wire.payload();
                    log.accept("connection " + id + ": sender reported: " + e.text());
                    return "the sender reported: " + e.text();
                } else {
                    throw new ProtocolException("unexpected " + org.uringsync.protocol.FrameCodec.name(type)
                            + (version >= 4 ? " (expected CHANGES first, FILE_LIST, FILE_LIST_C, FILE_HDR_T, FILE_HDR_S, DIR, SYMLINK, SPECIAL, HARDLINK, OWNER, XATTRS, "
                                    + (version >= Message.VERSION_5 ? "KEPT, " : "") + "DELETE or ALL_DONE)"
                                    : " (expected FILE_HDR or ALL_DONE)"));
                }
            }
        }

        /**
         * KEPT (version 5): a file this connection's quick check kept gets the owner (as root) and
         * extended attributes that came before it, as a file written would; only what differs is changed
         * (in a dry run only reported), in place, never followed. A KEPT for any other path, a file no
         * longer there or no longer a regular file, and a file with other names (its link count above 1:
         * changing it in place would change them too) are left alone; a change refused is logged, the
         * file kept as it is (as a kept file's chmod).
         */
        private void kept(Message.Kept k) throws IOException {
            byte[] path = k.path();
            int[] own = attributes.takeOwner();
            byte[] xattrs = attributes.takeXattrs();
            int slash = checkedSlash(path);
            boolean ours = quickCheck.takeKept(path); // forgotten in any case: the set stays as small as the lists in flight
            if ((own == null && xattrs == null) || !ours) {
                return;
            }
            byte[] rel = slash < 0 ? new byte[0] : Arrays.copyOf(path, slash);
            String key = Pruner.key(rel);
            if (!key.equals(keptDirKey)) { // KEPTs come a directory at a time: its descriptor is kept for the next
                closeKeptDir();
                keptDirFd = FileOps.findDirBeneath(rootFd, rel);
                keptDirKey = key;
            }
            int dir = keptDirFd;
            if (dir < 0) {
                return; // gone since the WANT
            }
            byte[] name = Arrays.copyOfRange(path, slash + 1, path.length);
            long[] st;
            try {
                st = FileOps.lstatAt(dir, name);
            } catch (NativeIoException e) {
                refused("lstat", path, e.errno());
                return;
            }
            if (st == null || (st[0] & S_IFMT) != S_IFREG || st[5] > 1) {
                return;
            }
            boolean owner = own != null && !ReceivedAttributes.ownedBy(st, own);
            if (owner && !dryRun) { // through an O_PATH descriptor of the regular file: nothing swapped in is changed
                int rc = FileOps.fileMetaAt(dir, name, (int) st[0] & 0777, own[0], own[1], true);
                if (rc < 0) {
                    refused("chown", path, -rc);
                    owner = false;
                }
            }
            int rc = xattrs == null ? 0 : FileOps.syncXattrsTo(xattrs, dir, name, root && k.all(), root && k.all(), !dryRun);
            if (rc < 0) {
                refused("extended attributes of", path, -rc);
            }
            if (owner || rc > 0) {
                report(new Change(Change.Kind.ATTRIBUTES, false, false, false, false, owner, rc > 0), path);
            }
        }

        /** Logs a change of {@code path}'s metadata that the file system refused ({@code what}: the step); the entry stays as it is. */
        private void refused(String what, byte[] path, int errno) {
            log.accept("connection " + id + ": " + what + " " + PathRules.show(path) + ": " + Errno.describe(errno));
        }

        private String keptDirKey; // the directory of the last KEPT, open as keptDirFd (-errno when it could not be)
        private int keptDirFd = -1;

        private void closeKeptDir() {
            if (keptDirFd >= 0) {
                FileOps.close(keptDirFd);
            }
            keptDirFd = -1;
            keptDirKey = null;
        }

        /** DIR: the directory is made now (with its parents); its mode and mtime at ALL_DONE, after its contents. */
        private void makeDirectory(Message.Directory d) throws IOException {
            byte[] path = d.path();
            if (dirMeta.size() >= OfferedNames.MAX_DIRECTORIES) {
                throw new ProtocolException("more than " + OfferedNames.MAX_DIRECTORIES + " directories in one transfer");
            }
            int[] own = attributes.takeOwner();
            byte[] xattrs = attributes.takeXattrs();
            if (path.length == 0 && dryRun) {
                return;
            }
            if (path.length == 0) { // the transfer's root: DEST itself, which exists; its mode and time at the end
                directoryAttributes(rootFd, new byte[] {'.'}, path, own, xattrs, false);
                dirMeta.add(d);
                return;
            }
            int slash = checkedSlash(path);
            offered.budget(path.length); // its metadata, kept for ALL_DONE
            offered.directory(path, slash);
            if (dryRun) { // looks, makes nothing
                int fd = FileOps.findDirBeneath(rootFd, path);
                if (fd >= 0) {
                    FileOps.close(fd);
                } else {
                    report(ChangeReports.NEW_DIRECTORY, path);
                }
                return;
            }
            // The source has a directory here: a symlink in its place goes (following an old link would
            // write this directory's files, or a deletion, elsewhere beneath DEST); a file stays, refused
            // (it may be all the user has of it).
            int rc = FileOps.mkdirNoFollow(rootFd, path, 0755);
            if (rc == -Errno.ENOTDIR) {
                int parent = FileOps.openDirNoFollow(rootFd, slash < 0 ? new byte[0] : Arrays.copyOf(path, slash));
                if (parent >= 0) {
                    try {
                        byte[] name = Arrays.copyOfRange(path, slash + 1, path.length);
                        long[] st = FileOps.lstatAt(parent, name);
                        if (st != null && (st[0] & S_IFMT) == S_IFLNK && FileOps.unlinkAt(parent, name) == 0) {
                            dirs.forget(path); // descriptors cached through the link are stale
                        }
                    } finally {
                        FileOps.close(parent);
                    }
                }
                rc = FileOps.mkdirNoFollow(rootFd, path, 0755);
            }
            if (rc < 0) {
                throw DestDirs.refused(path, rc);
            }
            if (rc == 0 && made.size() < OfferedNames.MAX_DIRECTORIES) {
                made.add(Pruner.key(path));
            }
            if (rc == 0) {
                report(ChangeReports.NEW_DIRECTORY, path);
            }
            dirs.of(path, path);
            directoryAttributes(dirs.parent(path, slash), Arrays.copyOfRange(path, slash + 1, path.length), path, own, xattrs, rc == 0);
            dirMeta.add(d);
        }

        /**
         * A directory's OWNER (as root) and XATTRS, on a descriptor of it opened through no symlink
         * (nothing swapped in by name is changed). One just {@code made} gets XATTRS set, as a new file
         * does (a failure ends the transfer, as a file's). One that was there gets its attributes made
         * those of XATTRS, as KEPT makes a kept file's: differing values set in "user." (as root in every
         * namespace but "system." and "security."), names XATTRS lacks removed in "user." alone (a DIR,
         * unlike KEPT, does not say which namespaces the sender read); a refusal is logged and the
         * directory kept as it is. No XATTRS (the directory had none in version 4, or the sender could
         * not read them): its attributes are left as they are.
         */
        private void directoryAttributes(int parent, byte[] name, byte[] path, int[] own, byte[] xattrs, boolean made)
                throws IOException {
            if (own == null && xattrs == null) {
                return;
            }
            int fd = FileOps.openDirectoryAt(parent, name);
            if (fd < 0 && made) {
                throw new NativeIoException("open (directory owner and attributes)", PathRules.show(path), -fd);
            }
            if (fd < 0) {
                log.accept("connection " + id + ": owner and attributes of " + PathRules.show(path) + ": open: " + Errno.describe(-fd));
                return;
            }
            try {
                if (made) {
                    ReceivedAttributes.fchown(fd, path, own); // before the attributes: an owner change drops security.capability
                    ReceivedAttributes.set(fd, -1, null, path, xattrs);
                    return;
                }
                int rc = own == null ? 0 : FileOps.fchown(fd, own[0], own[1]);
                if (rc < 0) {
                    refused("chown", path, -rc);
                }
                rc = xattrs == null ? 0 : FileOps.syncXattrsTo(xattrs, fd, new byte[0], root, false, true);
                if (rc < 0) {
                    refused("extended attributes of", path, -rc);
                }
            } finally {
                FileOps.close(fd);
            }
        }

        /**
         * Directory modes ({@code & 0777}, a setgid bit DEST has is kept) and mtimes, deepest first (a
         * parent's new mode cannot bar the way to its children), each directory opened through no
         * symlink; every directory is tried. @return the first failure, or null
         */
        private IOException applyDirectoryMeta() {
            IOException first = null;
            dirMeta.sort((a, b) -> Integer.compare(b.path().length, a.path().length));
            for (Message.Directory d : dirMeta) {
                byte[] path = d.path();
                int slash = PathBytes.lastSlash(path);
                int parent = FileOps.openDirNoFollow(rootFd, slash < 0 ? new byte[0] : Arrays.copyOf(path, slash));
                byte[] name = path.length == 0 ? new byte[] {'.'} : Arrays.copyOfRange(path, slash + 1, path.length);
                int rc = parent < 0 ? parent : FileOps.setDirMetaAt(parent, name, d.mode(), d.mtimeNanos());
                if (parent >= 0) {
                    FileOps.close(parent);
                }
                if (rc < 0 && first == null) {
                    first = new NativeIoException("directory mode and time", PathRules.show(path), -rc);
                }
            }
            dirMeta.clear();
            return first;
        }

        /**
         * SYMLINK: made as a temporary name and renamed over the target name (never followed: later
         * opens beneath DEST refuse a link that leads out of it); left alone when the same link is there.
         */
        private void symlink(Message.Link l) throws IOException {
            byte[] path = l.path();
            byte[] target = l.target();
            for (byte b : target) {
                if (b == 0) {
                    throw new ProtocolException("symlink " + PathRules.show(path) + ": a NUL byte in its target");
                }
            }
            int slash = checkedSlash(path);
            int[] own = attributes.takeOwner();
            offered.entry(path, slash);
            byte[] name = Arrays.copyOfRange(path, slash + 1, path.length);
            if (dryRun) {
                int dir = peekParent(path, slash);
                try {
                    long[] st = dir < 0 ? null : FileOps.lstatAt(dir, name);
                    if (st == null || (st[0] & S_IFMT) != S_IFLNK
                            || !Arrays.equals(FileOps.readlinkAt(dir, name, PathRules.show(path)), target)) {
                        report(ChangeReports.SYMLINK, path);
                    }
                } finally {
                    if (dir >= 0) {
                        FileOps.close(dir);
                    }
                }
                return;
            }
            int dir = dirs.parent(path, slash);
            long[] st = FileOps.lstatAt(dir, name);
            if (st != null && (st[0] & S_IFMT) == S_IFLNK
                    && Arrays.equals(FileOps.readlinkAt(dir, name, PathRules.show(path)), target)) {
                if (st[2] != l.mtimeNanos()) { // the same link: only its time and owner, if they differ
                    FileOps.linkTimeAt(dir, name, l.mtimeNanos()); // best effort: a link not ours may refuse (EPERM)
                }
                if (own != null && !ReceivedAttributes.ownedBy(st, own)) {
                    ReceivedAttributes.chown(dir, name, path, own);
                }
                return;
            }
            byte[] tmp = temps.next();
            int rc = FileOps.symlinkAt(target, dir, tmp);
            if (rc < 0) {
                throw new NativeIoException("symlinkat", PathRules.show(path), -rc);
            }
            try {
                ReceivedAttributes.chown(dir, tmp, path, own);
                linkTime(dir, tmp, path, l.mtimeNanos());
            } catch (NativeIoException e) {
                FileOps.unlinkAt(dir, tmp);
                throw e;
            }
            rc = FileOps.renameAt(dir, tmp, name);
            if (rc < 0) {
                FileOps.unlinkAt(dir, tmp);
                throw new PathRefused("cannot place " + PathRules.show(path) + ": " + Errno.describe(-rc));
            }
            report(ChangeReports.SYMLINK, path);
            listener.copied(PathRules.show(path), 0);
        }

        /** A dry run's look at the directory of {@code path}: opened through no symlink, nothing created; -1 when there is none. */
        private int peekParent(byte[] path, int slash) {
            int fd = FileOps.findDirBeneath(rootFd, slash < 0 ? new byte[0] : Arrays.copyOf(path, slash));
            return fd < 0 ? -1 : fd;
        }

        /** A dry run's lstat of {@code path} (see {@link #peekParent}); null when there is nothing there. */
        private long[] peekLstat(byte[] path, int slash) throws NativeIoException {
            int dir = peekParent(path, slash);
            if (dir < 0) {
                return null;
            }
            try {
                return FileOps.lstatAt(dir, Arrays.copyOfRange(path, slash + 1, path.length));
            } finally {
                FileOps.close(dir);
            }
        }

        /**
         * SPECIAL: as root, the device, FIFO or socket is made (see {@link Specials}); any other receiver
         * skips it, saying so in its log. Its path is checked as FILE_HDR's and counts as offered.
         */
        private void special(Message.Special sp) throws IOException {
            byte[] path = sp.path();
            int slash = checkedSlash(path);
            int[] own = attributes.takeOwner();
            offered.entry(path, slash);
            if (!root) {
                log.accept("connection " + id + ": skipped " + PathRules.show(path) + ": a device, FIFO or socket (made only as root)");
                return;
            }
            int mode = (sp.mode() & Specials.S_IFMT) | (sp.mode() & 0777); // as files: no setuid, setgid, sticky
            byte[] name = Arrays.copyOfRange(path, slash + 1, path.length);
            if (dryRun) {
                if (!Specials.same(peekLstat(path, slash), mode, sp.rdev(), sp.mtimeNanos(), own)) {
                    report(ChangeReports.SPECIAL, path);
                }
                return;
            }
            int dir = dirs.parent(path, slash);
            if (Specials.make(dir, name, PathRules.show(path), mode, sp.rdev(), sp.mtimeNanos(), own, temps)) {
                report(ChangeReports.SPECIAL, path);
                listener.copied(PathRules.show(path), 0);
            }
        }

        /** Gives the symlink {@code name} in {@code dir} (never followed) the modification time {@code mtimeNanos}. */
        private void linkTime(int dir, byte[] name, byte[] path, long mtimeNanos) throws NativeIoException {
            int rc = FileOps.linkTimeAt(dir, name, mtimeNanos);
            if (rc < 0) {
                throw new NativeIoException("utimensat", PathRules.show(path), -rc);
            }
        }

        /**
         * HARDLINK: {@code path} becomes a hard link to the regular file {@code target}, both beneath DEST
         * (checked as FILE_HDR's paths, reached through no symlink); made under a temporary name and
         * renamed over what was there (never a directory); a name that already is that link is left alone.
         */
        private void hardLink(Message.Link l) throws IOException {
            byte[] path = l.path();
            byte[] target = l.target();
            int slash = checkedSlash(path);
            int tslash = checkedSlash(target);
            offered.entry(path, slash);
            if (dryRun) {
                long[] st = peekLstat(path, slash), t = peekLstat(target, tslash);
                if (st == null || t == null || st[3] != t[3] || st[4] != t[4]) {
                    report(ChangeReports.HARD_LINK, path);
                }
                return;
            }
            int dir = dirs.parent(path, slash);
            dirs.pin(dir); // the target's directory lookup must not close it
            try {
                linkTo(path, slash, target, tslash, dir);
            } finally {
                dirs.pin(-1);
            }
        }

        private void linkTo(byte[] path, int slash, byte[] target, int tslash, int dir) throws IOException {
            int tdir = dirs.parent(target, tslash);
            byte[] tname = Arrays.copyOfRange(target, tslash + 1, target.length);
            long[] t = FileOps.lstatAt(tdir, tname);
            if (t == null || (t[0] & S_IFMT) != S_IFREG) {
                throw new PathRefused("refused " + PathRules.show(path) + ": hard link target " + PathRules.show(target)
                        + (t == null ? " does not exist" : " is not a regular file"));
            }
            byte[] name = Arrays.copyOfRange(path, slash + 1, path.length);
            long[] st = FileOps.lstatAt(dir, name);
            if (st != null && st[3] == t[3] && st[4] == t[4]) {
                return; // already that link: unchanged
            }
            if (st != null && (st[0] & S_IFMT) == S_IFDIR) {
                throw new PathRefused("refused " + PathRules.show(path) + ": a directory is in the way of the hard link");
            }
            byte[] tmp = temps.next();
            int rc = FileOps.linkAt(tdir, tname, dir, tmp);
            if (rc < 0) {
                throw new NativeIoException("linkat", PathRules.show(path), -rc);
            }
            rc = FileOps.renameAt(dir, tmp, name);
            if (rc < 0) {
                FileOps.unlinkAt(dir, tmp);
                throw new PathRefused("cannot place " + PathRules.show(path) + ": " + Errno.describe(-rc));
            }
            report(ChangeReports.HARD_LINK, path);
            listener.copied(PathRules.show(path), 0);
        }

        /** CHANGES: notes a change made, or in a dry run one that would be. */
        private void report(Change change, byte[] path) {
            if (reports != null) {
                reports.report(change, path);
            }
        }

        /** @return the data bytes received (a sparse file's holes are not) */
        private long receiveFile(TlsSession session, Wire wire, Message.FileHeader h, Ring ring) throws IOException {
            byte[] path = h.path();
            int slash = checkedSlash(path);
            byte[] name = Arrays.copyOfRange(path, slash + 1, path.length);
            int dir = dirs.parent(path, slash);
            // Created with its final mode when the umask leaves that whole (0644, 0755 under 022): no
            // fchmod. The temporary name is then as readable as the finished file will be, no more.
            // With attributes to set it stays 0600 until they are: "user." ones need write permission.
            int[] own = attributes.takeOwner();
            byte[] xattrs = attributes.takeXattrs();
            int mode = h.mode() & 0777;
            boolean exact = (mode & umask) == 0 && (xattrs == null || xattrs.length == 0);
            boolean direct = quickCheck.takeAbsent(path, h.size());
            byte[] tmp = direct ? name : temps.next();
            int fd = FileOps.createBeneath(dir, tmp, exact ? mode : 0600);
            if (fd == -Errno.EEXIST && direct) { // something appeared at the name since the WANT
                direct = false;
                tmp = temps.next();
                fd = FileOps.createBeneath(dir, tmp, exact ? mode : 0600);
            }
            if (fd < 0) {
                throw new NativeIoException("openat2", PathRules.show(path), -fd);
            }
            tempDir = dir;
            dirs.pin(dir);
            tempName = tmp; // removed if the file does not complete
            tempIdentity = direct ? identity(fd) : null; // under its own name: removed only while it is still ours
            boolean written = false;
            long data = h.size();
            try {
                if (h.sparse()) {
                    data = receiveRanges(session, wire, h, ring, fd);
                } else {
                    session.receiveFileData(ring, fd, h.size(), Message.FILE_DATA, Message.FILE_END, NetReceiver.MAX_FRAME,
                            directWrites && h.size() >= Ring.DIRECT_IO_THRESHOLD, session.splicing());
                }
                ReceivedAttributes.fchown(fd, path, own);
                ReceivedAttributes.set(fd, -1, null, path, xattrs); // after the owner (its change drops security.capability)
                int rc = exact ? 0 : FileOps.fchmod(fd, mode); // and before the mode
                if (rc < 0) {
                    throw new NativeIoException("fchmod", PathRules.show(path), -rc);
                }
                rc = h.timed() ? FileOps.futimens(fd, h.mtimeNanos()) : 0;
                if (rc < 0) {
                    throw new NativeIoException("futimens", PathRules.show(path), -rc);
                }
                written = true;
            } catch (NativeIoException e) {
                throw e.path() == null ? new NativeIoException(e.operation(), PathRules.show(path), e.errno()) : e;
            } finally {
                int rc = FileOps.close(fd);
                if (rc < 0 && written) { // only when nothing failed before: never hide the first error
                    throw new NativeIoException("close", PathRules.show(path), -rc);
                }
            }
            int rc = direct ? 0 : FileOps.renameAt(dir, tmp, name);
            if (rc < 0) {
                throw new PathRefused("cannot place " + PathRules.show(path) + ": " + Errno.describe(-rc));
            }
            tempName = null;
            tempDir = -1;
            dirs.pin(-1);
            if (reports != null) {
                reports.placed(path);
            }
            filesWritten.incrementAndGet();
            bytesWritten.addAndGet(data);
            listener.copied(PathRules.show(path), h.size());
            try {
                events.fileReceived(id, PathRules.show(path), h.size());
            } catch (RuntimeException e) { // the program's: reported, never the transfer's end
                log.accept("connection " + id + ": the event listener failed: " + e);
            }
            return data;
        }

        /**
         * A sparse file's data (FILE_HDR_S): the file gets its size first, which leaves it all hole; each
         * RANGE's bytes are written where it says; FILE_END ends it. Ranges must be in order, apart and
         * within the size. @return the data bytes
         */
        private long receiveRanges(TlsSession session, Wire wire, Message.FileHeader h, Ring ring, int fd)
                throws IOException {
            int rc = FileOps.truncate(fd, h.size());
            if (rc < 0) {
                throw new NativeIoException("ftruncate", PathRules.show(h.path()), -rc);
            }
            long end = 0, data = 0;
            while (true) {
                if (!wire.next()) {
                    throw new ProtocolException("connection closed in sparse file " + PathRules.show(h.path()));
                }
                if (wire.type() == Message.FILE_END) {
                    wire.payload();
                    return data;
                }
                if (wire.type() != Message.RANGE) {
                    throw new ProtocolException("unexpected " + org.uringsync.protocol.FrameCodec.name(wire.type())
                            + " in sparse file " + PathRules.show(h.path()) + " (expected RANGE or FILE_END)");
                }
                Message.Range r = (Message.Range) wire.payload();
                if (r.offset() < end || r.length() > h.size() - r.offset()) {
                    throw new ProtocolException("RANGE " + r.offset() + "+" + r.length() + " of " + PathRules.show(h.path())
                            + " is out of order or beyond its size " + h.size());
                }
                session.receiveFileData(ring, fd, r.offset(), r.length(), Message.FILE_DATA, -1, NetReceiver.MAX_FRAME,
                        false, session.splicing());
                end = r.offset() + r.length();
                data += r.length();
            }
        }

        private void removeTemp() {
            if (tempName != null && (tempIdentity == null || Arrays.equals(tempIdentity, identityAt(tempDir, tempName)))) {
                FileOps.unlinkAt(tempDir, tempName);
            }
            tempName = null;
        }

        /** {inode, device} of the open file {@code fd}; null when it cannot be had (then nothing is removed by name). */
        private static long[] identity(int fd) {
            return identityAt(fd, new byte[0]);
        }

        private static long[] identityAt(int dir, byte[] name) {
            try {
                long[] st = FileOps.lstatAt(dir, name);
                return st == null ? null : new long[] {st[3], st[4]};
            } catch (NativeIoException e) {
                return null;
            }
        }
    }

    /** A path the receiver will not write. */
    static final class PathRefused extends IOException {
        private static final long serialVersionUID = 1L;

        PathRefused(String message) {
            super(message);
        }
    }

}
