package org.uringsync.transfer;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.uringsync.Cancellation;
import org.uringsync.CopyListener;
import org.uringsync.CopyResult;
import org.uringsync.TransferException;
import org.uringsync.nativeio.Batch;
import org.uringsync.nativeio.Errno;
import org.uringsync.nativeio.Fd;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.Meter;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.Net;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.nativeio.Ring;
import org.uringsync.nativeio.SendBatch;
import org.uringsync.nativeio.TlsContext;
import org.uringsync.nativeio.TlsException;
import org.uringsync.nativeio.TlsSession;
import org.uringsync.path.FilterRules;
import org.uringsync.path.PathRules;
import org.uringsync.protocol.FrameCodec;
import org.uringsync.protocol.Message;
import org.uringsync.protocol.ProtocolException;
import org.uringsync.scan.TreeScanner;

/**
 * The sending side: connect, TLS 1.3, prove the secret (and check the receiver's proof), then stream
 * the tree's regular files in batches (open + readahead through the ring, then one JNI call streams
 * the batch), ALL_DONE, and wait for the receiver's ALL_DONE confirming every file is in place.
 */
public final class NetSender {
    private static final int BATCH = 256;

    private final String host;
    private final int port;
    private final byte[] secret;
    private final String ciphers;
    private final org.uringsync.TlsPath tlsPath;
    private final int chunkSize;
    private final int queueDepth;
    private final int connectTimeoutMs;
    private final int idleTimeoutMs;
    private final CopyListener listener;
    private final Cancellation cancellation;
    private final FilterRules filter;
    private final boolean delete;
    private final boolean deleteExcluded; // --delete-excluded: DELETE carries no rules
    private final boolean checksum; // -c: FILE_LIST_C, each offered file's content hash
    private final boolean dryRun; // -n: the receiver changes nothing and says what it would do
    private final boolean reportChanges; // -n or -i: CHANGES, the receiver's CHANGE reports go to listener.changed
    private long deleted; // deletions the receiver reported
    private long offeredBytes; // sizes of the files offered (version 4): sent or left alone
    private String tlsPathName; // the session's, for the result
    private String tlsCipher;
    private final boolean hardLinks;
    private final boolean owners;
    private final SentAttributes attributes; // OWNER and XATTRS before entries (version 4)
    private final java.util.function.Consumer<String> verbose;

    private final List<IOException> failures = java.util.Collections.synchronizedList(new ArrayList<>()); // size read for progress
    private final Metering metering;
    private final Meter meter; // the ring's: bytes sent, the rate kept to
    private volatile Fd socket; // the connection, for an interrupt to cut
    private volatile long keptBytes; // sizes of the offered files the receiver did not want (progress)
    private volatile long files; // volatile: read for progress (one writer)
    private long bytes;
    private long skipped;
    private volatile long unchanged;
    private long dirs;
    private volatile long symlinks;
    private int version; // asked for first (see send), lower once a receiver refused it
    private Wire wire;

    /** What a send is asked to do: made by {@code Sender.Builder}, checked there. */
    public record Config(String host, int port, byte[] secret, String ciphers, org.uringsync.TlsPath tlsPath, int chunkSize,
            int queueDepth, int connectTimeoutMs, int idleTimeoutMs, CopyListener listener,
            java.util.function.Consumer<String> verbose, Cancellation cancellation, FilterRules filter, boolean delete,
            boolean deleteExcluded, boolean hardLinks, boolean owners, boolean numericIds, boolean xattrs, boolean checksum,
            boolean dryRun, boolean itemize, Metering metering) {}

    public NetSender(Config c) {
        this.host = c.host();
        this.port = c.port();
        this.secret = c.secret().clone();
        this.ciphers = c.ciphers();
        this.tlsPath = c.tlsPath();
        this.chunkSize = c.chunkSize();
        this.queueDepth = c.queueDepth();
        this.connectTimeoutMs = c.connectTimeoutMs();
        this.idleTimeoutMs = c.idleTimeoutMs();
        this.listener = c.listener();
        this.cancellation = c.cancellation();
        this.filter = c.filter();
        this.delete = c.delete();
        this.deleteExcluded = c.deleteExcluded();
        this.checksum = c.checksum();
        this.dryRun = c.dryRun();
        this.reportChanges = c.dryRun() || c.itemize();
        this.hardLinks = c.hardLinks();
        this.owners = c.owners();
        this.attributes = new SentAttributes(c.owners(), c.numericIds(), c.xattrs());
        this.verbose = c.verbose();
        this.metering = c.metering();
        this.meter = new Meter(c.metering().bytesPerSecond());
    }

    public CopyResult send(Path source) throws IOException {
        long t0 = System.nanoTime();
        Ring.ensureAvailable();
        TreeScanner.Root root = TreeScanner.resolveRoot(source);
        byte[] src = root.path();
        if (!root.isDirectory() && !root.isRegularFile()) {
            throw new TransferException.SourceUnreadable("cannot send " + source + ": not a regular file or directory", null);
        }
        TransferWatch watch = new TransferWatch(metering, meter, () -> files + symlinks + unchanged + entryFailures(), () -> keptBytes,
                metering.progress() == null ? null : SourceTotals.of(root, filter), this::cut);
        boolean whole = false;
        // the oldest version that carries what this send sends: 5 only to keep owners or attributes of kept files
        version = attributes.keepsAny() ? Message.VERSION_5 : Message.VERSION_4;
        try {
            for (;;) {
                try {
                    sendOnce(source, root, src);
                    break;
                } catch (OlderReceiver e) { // an older receiver: version 4 (kept files keep their owners and
                    // attributes), or the design's version 2 (whole files, no times)
                    if (stopped()) {
                        throw new java.io.InterruptedIOException("send " + (cancellation.isCancelled() ? "cancelled" : "interrupted"));
                    }
                    version = version > Message.VERSION_4 ? Message.VERSION_4 : Message.VERSION_2;
                }
            }
            whole = !stopped();
        } finally {
            if (stopped() && failures.stream().noneMatch(java.io.InterruptedIOException.class::isInstance)) {
                failures.add(new java.io.InterruptedIOException("send " + (cancellation.isCancelled() ? "cancelled" : "interrupted")
                        + " after " + files + " files"));
            }
            IOException p = watch.finish(whole);
            if (p != null) {
                failures.add(p);
            }
        }
        return new CopyResult(files, dirs, symlinks, bytes, skipped, Duration.ofNanos(System.nanoTime() - t0), failures,
                unchanged, deleted, version >= 4 ? offeredBytes : bytes, tlsPathName, tlsCipher, version);
    }

    /** The receiver refused our protocol version before anything was sent. */
    private static final class OlderReceiver extends IOException {
        private static final long serialVersionUID = 1L;

        OlderReceiver(int version) {
            super("the receiver does not speak protocol version " + version);
        }
    }

    private void sendOnce(Path source, TreeScanner.Root root, byte[] src) throws IOException {
        inodes = new InodeLinks();
        pending.clear();
        try (Fd sock = connect(); TlsContext ctx = TlsContext.client(ciphers);
                AutoCloseable cut = cancellation.onCancel(sock::shutdown);
                AutoCloseable stop = cancellation.onCancel(meter::cancel)) {
            socket = sock;
            sock.setTimeout(connectTimeoutMs);
            try (TlsSession session = handshake(ctx, sock)) {
                Wire wire = new Wire(session);
                this.wire = wire;
                authenticate(session, wire);
                verbose.accept("tls: " + session.path());
                tlsCipher = session.cipher();
                tlsPathName = TlsPaths.name(session);
                if (reportChanges && version >= 4) {
                    wire.send(new Message.ReportChanges(dryRun));
                } else if (dryRun) {
                    throw new TransferException.ProtocolMismatch("--dry-run: the receiver speaks protocol version " + version
                            + ", which cannot tell what it would change; nothing was sent", null);
                }
                sock.setTimeout(idleTimeoutMs); // a receiver that stops reading or answering fails the send
                try (Ring ring = Ring.open(queueDepth, chunkSize).attach(meter)) {
                    if (root.isRegularFile()) {
                        byte[] name = PathBytes.of(source.getFileName());
                        sendBatch(session, ring, src, new byte[][] {name}, null, 1, true);
                    } else {
                        sendTree(session, ring, src);
                    }
                    sendPending(session, ring, src, root.isRegularFile());
                    sendHardLinks(wire);
                    if (delete && root.isDirectory()) {
                        askToDelete(wire);
                    }
                    wire.send(new Message.AllDone());
                    awaitConfirmation(wire);
                } catch (IOException e) {
                    if (stopped()) {
                        failures.add(new java.io.InterruptedIOException("send " + (cancellation.isCancelled()
                                ? "cancelled" : "interrupted") + " after " + files + " files"));
                    } else {
                        throw typed(receiverReason(session, wire, e));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) { // closing the cancellation hook: cannot happen
            throw new IllegalStateException(e);
        }
    }

    /** An interrupt of the sending thread: as a cancel, the connection is cut (what is being sent fails at once). */
    private void cut() {
        Fd s = socket;
        if (s != null) {
            s.shutdown();
        }
    }

    private Fd connect() throws IOException {
        InetAddress[] all;
        try {
            all = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            throw new TransferException.ConnectionFailed("unknown host " + host, e);
        }
        NativeIoException last = null;
        for (InetAddress a : all) {
            try {
                return Net.connect(a, port, connectTimeoutMs);
            } catch (NativeIoException e) {
                last = e;
            }
        }
        throw last.errno() == Errno.ETIMEDOUT ? new TransferException.Timeout(last.getMessage(), true, last)
                : new TransferException.ConnectionFailed(last.getMessage(), last);
    }

    /**
     * The TLS handshake, its failures typed: a peer that answers with something other than TLS 1.3 (not a
     * uring-sync receiver, or no suite in common) is a protocol mismatch; silence past the connect
     * timeout is a connect timeout; a reset, a lost connection.
     */
    private TlsSession handshake(TlsContext ctx, Fd sock) throws IOException {
        try {
            return TlsSession.handshake(ctx, sock, false, tlsPath.nativeMode());
        } catch (TlsException e) {
            throw new TransferException.ProtocolMismatch("no TLS 1.3 session with " + host + ":" + port
                    + " (is it a uring-sync receiver? with a TLS 1.3 suite in common?): " + e.getMessage(), e);
        } catch (NativeIoException e) {
            throw connecting(e);
        }
    }

    /** A failure while connecting, handshaking or authenticating: a timeout there, or a lost connection. */
    private TransferException connecting(NativeIoException e) {
        if (e.errno() == Errno.ETIMEDOUT || e.errno() == Errno.EAGAIN) {
            return new TransferException.Timeout(e.operation() + ": no answer from " + host + ":" + port + " within "
                    + connectTimeoutMs + " ms", true, e);
        }
        return new TransferException.ConnectionFailed(e.getMessage(), e);
    }

    private void authenticate(TlsSession session, Wire wire) throws IOException {
        byte[] proof = Auth.clientProof(session, secret);
        Message reply;
        try {
            wire.send(new Message.Hello(version, proof));
            reply = wire.read();
        } catch (java.io.EOFException e) {
            throw new TransferException.ConnectionFailed("the receiver closed the connection during authentication", e);
        } catch (NativeIoException e) {
            throw connecting(e);
        }
        if (reply instanceof Message.HelloOk ok) {
            if (!Auth.matches(Auth.serverProof(session, secret), ok.proof())) {
                throw new TransferException.AuthenticationFailed("the receiver could not prove it knows the secret (wrong secret on the receiver,"
                        + " or a man-in-the-middle)");
            }
        } else if (reply instanceof Message.HelloFail f) {
            if (f.reason() == Message.HelloFail.VERSION_MISMATCH && version > Message.VERSION_2) {
                throw new OlderReceiver(version);
            }
            if (f.reason() == Message.HelloFail.VERSION_MISMATCH) {
                throw new TransferException.ProtocolMismatch("the receiver does not speak protocol version " + version, null);
            }
            throw new TransferException.AuthenticationFailed(f.reason() == Message.HelloFail.WRONG_SECRET
                    ? "authentication failed: wrong secret" : "authentication failed (reason " + f.reason() + ")");
        } else if (reply instanceof Message.Error e) {
            throw new TransferException.Refused(e.text(), null);
        } else {
            throw new ProtocolException("expected HELLO_OK, got " + FrameCodec.name(reply.type()));
        }
    }

    private void sendTree(TlsSession session, Ring ring, byte[] root) throws IOException {
        TreeSend walk = new TreeSend(session, ring, root);
        TreeScanner.walk(root, filter, version >= 4, walk); // version 4 offers each file with its lstat
        walk.finish();
    }

    /** The tree walk of a send: regular files packed into batches of {@link #BATCH}, sent as they fill. */
    private final class TreeSend implements TreeScanner.Visitor {
        private final TlsSession session;
        private final Ring ring;
        private final byte[] root;
        private final byte[][] rel = new byte[BATCH][];
        private final FileOps.Stat[] stats = new FileOps.Stat[BATCH]; // from the listings (version 4)
        private int n;
        private IOException broken; // the first failure that ends the send: the walk stops descending

        TreeSend(TlsSession session, Ring ring, byte[] root) {
            this.session = session;
            this.ring = ring;
            this.root = root;
        }

        @Override
        public boolean directory(byte[] relative, FileOps.Listing listing) {
            if (broken == null && version >= 4) { // made even when empty; meta at the end (the root's too)
                try {
                    // the DIR first: a path it cannot carry throws before OWNER or XATTRS went out for it
                    byte[] dir = FrameCodec.encode(new Message.Directory(listing.mode() & 07777,
                            listing.mtimeSec() * 1_000_000_000L + listing.mtimeNsec(), relative));
                    sendOwner(listing.uid(), listing.gid());
                    // version 5: an empty XATTRS for a directory with none, whose stale ones the receiver removes
                    byte[] attrs = xattrFrame(-1, PathBytes.join(root, relative), relative, version >= Message.VERSION_5);
                    if (attrs.length > 0) {
                        wire.sendFrames(attrs);
                    }
                    wire.sendFrames(dir);
                    dirs++;
                } catch (IllegalArgumentException e) { // a path the protocol cannot carry
                    unreadable(relative, new NativeIoException("send", PathRules.show(relative), Errno.ENAMETOOLONG));
                    return false;
                } catch (IOException e) {
                    broken = e;
                }
            }
            return broken == null;
        }

        @Override
        public void file(byte[] relative, FileOps.Stat stat) {
            if (broken == null && stopped()) {
                broken = new java.io.InterruptedIOException("stopped");
            }
            if (broken != null) {
                return;
            }
            stats[n] = stat;
            rel[n++] = relative;
            if (n == BATCH) {
                try {
                    sendBatch(session, ring, root, rel, stats, n, false);
                } catch (IOException e) {
                    broken = e;
                }
                n = 0;
            }
        }

        @Override
        public void symlink(byte[] relative) {
            if (version < 4) {
                skip(relative, "symlinks are not sent (the receiver speaks protocol version 2)");
            } else if (sendNode(relative, (path, st, shown) ->
                    Message.Link.symlink(relative, FileOps.readlinkAt(Batch.AT_FDCWD, path, shown), st[2]))) {
                symlinks++;
            }
        }

        @Override
        public void special(byte[] relative, int type) {
            if (!owners || version < 4) {
                skip(relative, "a device, FIFO or socket (sent with -a)");
            } else if (sendNode(relative, (path, st, shown) -> !Message.Special.isSpecial((int) st[0]) ? null // no longer special: not sent
                    : new Message.Special((int) st[0], st[8], st[2], relative))) {
                files++;
            }
        }

        /**
         * A symlink or special node, sent as one message (after its OWNER) built from its lstat (null: not
         * sent); a failure to read it, or a path the protocol cannot carry, is reported. @return whether it was sent
         */
        private boolean sendNode(byte[] relative, NodeMessage build) {
            if (broken != null) {
                return false;
            }
            String shown = PathRules.show(relative);
            try {
                byte[] path = PathBytes.join(root, relative);
                long[] st = FileOps.lstatAt(Batch.AT_FDCWD, path);
                if (st == null) {
                    throw new NativeIoException("lstat", shown, Errno.ENOENT);
                }
                Message m = build.of(path, st, shown); // before its OWNER: a path it cannot carry throws
                if (m == null) {
                    return false;
                }
                sendOwner((int) st[6], (int) st[7]);
                wire.send(m);
                if (!dryRun) {
                    listener.copied(shown, 0);
                }
                return true;
            } catch (IllegalArgumentException e) { // a path, target or type the protocol cannot carry
                unreadable(relative, new NativeIoException("send", shown, Errno.ENAMETOOLONG));
            } catch (NativeIoException e) {
                failures.add(e);
                listener.failed(shown, e);
            } catch (IOException e) {
                broken = e;
            }
            return false;
        }

        @Override
        public void unreadable(byte[] relative, NativeIoException cause) {
            failures.add(cause);
            listener.failed(PathRules.show(relative), cause);
        }

        /** Sends what is left, or throws what ended the walk. */
        void finish() throws IOException {
            if (broken != null) {
                throw broken;
            }
            if (n > 0) {
                sendBatch(session, ring, root, rel, stats, n, false);
            }
        }
    }

    /** Entries that failed (each a NativeIoException naming its path; not the send's own end), for progress. */
    private long entryFailures() {
        synchronized (failures) {
            return failures.stream().filter(NativeIoException.class::isInstance).count();
        }
    }

    /** A cancel, or an interrupt of the sending thread. */
    private boolean stopped() {
        return cancellation.isCancelled() || Thread.currentThread().isInterrupted() || meter.isCancelled();
    }

    private void skip(byte[] relative, String why) {
        skipped++;
        listener.skipped(PathRules.show(relative), why);
    }

    /** Files smaller than this are cheaper read into the coalescing buffer than spliced frame by frame. */
    static final long SPLICE_MIN = 64 * 1024;

    /**
     * Large files the page cache does not hold are read with direct I/O: reading them through the
     * cache would allocate and fill a page per 4 KiB only to copy it out once. Cached ones (or ones the
     * kernel cannot tell about) are read through the cache.
     */
    private static int readFlags(int fd, long size) {
        if (size < Ring.DIRECT_IO_THRESHOLD) {
            return 0;
        }
        int cached = FileOps.cachedPercent(fd, size);
        return cached >= 0 && cached < 50 ? SendBatch.DIRECT : 0;
    }

    /**
     * Sends a batch of the walk: as it is (version 2), or offered first (version 4), with the files'
     * lstats from the listings ({@code stats}; null: looked at here).
     */
    private void sendBatch(TlsSession session, Ring ring, byte[] root, byte[][] rel, FileOps.Stat[] stats, int count,
            boolean single) throws IOException {
        if (version < 4) {
            sendFiles(session, ring, root, rel, count, single);
            return;
        }
        // Pipelined: up to OFFERS_AHEAD batches are offered before the oldest one's WANTs are read,
        // so the receiver's quick check runs beside the sender's (both look at every file, cold)
        // instead of after it, and the sender seldom waits for a WANT.
        Offer next = offer(ring, root, rel, stats != null ? stats : lstat(ring, root, rel, count, single), count, single);
        if (next != null) {
            pending.add(next);
        }
        while (pending.size() > OFFERS_AHEAD) {
            sendOldest(session, ring, root, single);
        }
    }

    /** Version 4: reads the WANTs of every batch offered and sends the files they ask for. */
    private void sendPending(TlsSession session, Ring ring, byte[] root, boolean single) throws IOException {
        while (!pending.isEmpty()) {
            sendOldest(session, ring, root, single);
        }
    }

    /** Version 4: reads the WANTs of the oldest batch offered and sends the files they ask for. */
    private void sendOldest(TlsSession session, Ring ring, byte[] root, boolean single) throws IOException {
        Offer o = pending.poll();
        if (o != null) {
            List<Integer> kept = version >= Message.VERSION_5 && attributes.keepsAny() ? new ArrayList<>() : null;
            byte[][] wanted = wanted(o, kept);
            if (kept != null && !kept.isEmpty()) {
                sendKept(root, o, kept, single);
            }
            if (dryRun) {
                files += wanted.length; // what a real run would send (the receiver names them in its CHANGEs)
            } else if (wanted.length > 0) {
                sendFiles(session, ring, root, wanted, wanted.length, single);
            }
        }
    }

    /**
     * Opens a batch of files through the ring, then streams the ones that opened in one call. Under
     * kernel TLS with splicing, files of at least {@link #SPLICE_MIN} are spliced in frames of at least a
     * pipe-full ({@link Ring#PIPE_SIZE}) whatever the chunk size: every frame costs a send and an
     * io_uring round trip, and the bytes themselves never touch user space.
     */
    private void sendFiles(TlsSession session, Ring ring, byte[] root, byte[][] rel, int count, boolean single)
            throws IOException {
        boolean spliceFiles = session.splicing() && session.kernelTx();
        Batch open = new Batch(count);
        for (int i = 0; i < count; i++) {
            open.addOpenRead(single ? root : PathBytes.join(root, rel[i]));
        }
        try {
            ring.run(open);
        } catch (NativeIoException e) { // the ring failed: close what it opened before that
            for (int i = 0; i < count; i++) {
                if (open.failure(i) == null) {
                    FileOps.close(open.fd(i));
                }
            }
            throw e;
        }
        SendBatch batch = new SendBatch();
        byte[] fileEnd = FrameCodec.encode(new Message.FileEnd()); // the same bytes after every file
        List<byte[]> sent = new ArrayList<>(count);
        List<Long> sizes = new ArrayList<>(count);
        List<Long> data = new ArrayList<>(count); // bytes on the wire: the size, or a sparse file's data
        List<byte[]> entries = new ArrayList<>(count); // the file of each batch entry (a sparse file has several)
        boolean handedOver = false; // from sendFiles on, the C core closes every descriptor of the batch
        try {
            for (int i = 0; i < count; i++) {
                NativeIoException e = open.failure(i);
                if (e != null && e.errno() == Errno.ECANCELED && meter.isCancelled()) {
                    continue; // not opened: the send was stopped (the result says so)
                }
                if (e != null) {
                    failures.add(e);
                    listener.failed(PathRules.show(rel[i]), e);
                    if (hardLinks) {
                        inodes.failed(rel[i]);
                    }
                    continue;
                }
                long size = open.bytes(i);
                int splice = spliceFiles && size >= SPLICE_MIN ? SendBatch.SPLICE : 0;
                long[] ranges = version >= 4 ? holes(open, i) : null;
                if (ranges != null) {
                    long d = addSparse(batch, open, i, rel[i], ranges, fileEnd, spliceFiles);
                    data.add(d);
                    keptBytes += size - d; // the holes: settled without crossing the wire (progress)
                } else {
                    byte[] hdr = FrameCodec.encode(version >= 4
                            ? new Message.FileHeader(size, open.mode(i) & 07777, rel[i], open.mtimeNanos(i))
                            : new Message.FileHeader(size, open.mode(i) & 07777, rel[i]));
                    hdr = concat(before(open, i, rel[i]), hdr);
                    batch.add(open.fd(i), size, open.mtimeNanos(i), hdr, fileEnd, splice | readFlags(open.fd(i), size));
                    data.add(size);
                }
                sent.add(rel[i]);
                sizes.add(size);
                while (entries.size() < batch.size()) {
                    entries.add(rel[i]);
                }
            }
            if (batch.size() == 0) {
                return;
            }
            handedOver = true;
            session.sendFiles(ring, batch, Message.FILE_DATA, chunkSize, Math.max(chunkSize, Ring.PIPE_SIZE));
        } catch (NativeIoException e) {
            throw e.item() >= 0 ? e.withPath(PathRules.show(entries.get(e.item()))) : e;
        } finally {
            if (!handedOver) {
                for (int i = 0; i < count; i++) {
                    if (open.failure(i) == null) {
                        FileOps.close(open.fd(i));
                    }
                }
            }
        }
        for (int i = 0; i < sent.size(); i++) {
            files++;
            bytes += data.get(i);
            listener.copied(PathRules.show(sent.get(i)), sizes.get(i));
        }
    }

    /** Files at least this large with fewer blocks than bytes are looked at for holes. */
    static final long SPARSE_MIN = 64 * 1024;
    /** At most this many data ranges per file; past them the rest is sent whole, holes as zeros. */
    static final int MAX_RANGES = 4096;

    /**
     * A file with holes (version 4): its data ranges, or null to send it whole (small, no holes, or a
     * file system that cannot tell where they are).
     */
    private static long[] holes(Batch open, int i) {
        long size = open.bytes(i);
        if (size < SPARSE_MIN || open.allocated(i) >= size) {
            return null;
        }
        try {
            long[] ranges = FileOps.dataRanges(open.fd(i), size, MAX_RANGES);
            return ranges != null && !(ranges.length == 2 && ranges[0] == 0 && ranges[1] == size) ? ranges : null;
        } catch (NativeIoException e) {
            return null; // sent whole: reading it reports a real I/O error with its path
        }
    }

    /**
     * A sparse file as FILE_HDR_S, then per data range a RANGE and its frames (one batch entry each, all
     * on the one descriptor, the last closing it), then FILE_END; the holes cross the wire as nothing.
     * @return the data bytes it sends
     */
    private long addSparse(SendBatch batch, Batch open, int i, byte[] rel, long[] ranges, byte[] fileEnd,
            boolean spliceFiles) {
        long size = open.bytes(i);
        long mtime = open.mtimeNanos(i);
        byte[] hdr = concat(before(open, i, rel),
                FrameCodec.encode(new Message.FileHeader(size, open.mode(i) & 07777, rel, mtime, true)));
        if (ranges.length == 0) { // all hole
            batch.add(open.fd(i), 0, 0, size, mtime, hdr, fileEnd, 0);
            return 0;
        }
        long data = 0;
        for (int r = 0; r < ranges.length; r += 2) {
            byte[] range = FrameCodec.encode(new Message.Range(ranges[r], ranges[r + 1]));
            boolean last = r + 2 == ranges.length;
            int flags = (spliceFiles && ranges[r + 1] >= SPLICE_MIN ? SendBatch.SPLICE : 0) | (last ? 0 : SendBatch.KEEP_OPEN);
            batch.add(open.fd(i), ranges[r], ranges[r + 1], size, mtime, r == 0 ? concat(hdr, range) : range,
                    last ? fileEnd : new byte[0], flags);
            data += ranges[r + 1];
        }
        return data;
    }

    private static final byte[] NONE = SentAttributes.NONE;

    /**
     * -X: the XATTRS frame for the open file {@code fd} (or, when {@code fd < 0}, the directory at
     * {@code path}); empty when not asked, when there are none (unless {@code always}: an empty XATTRS),
     * or when they cannot be read (reported).
     */
    private byte[] xattrFrame(int fd, byte[] path, byte[] rel, boolean always) {
        if (version < 4) {
            return NONE;
        }
        try {
            return attributes.xattrFrame(fd, path, always);
        } catch (NativeIoException e) {
            NativeIoException named = e.withPath(PathRules.show(rel));
            failures.add(named);
            listener.failed(PathRules.show(rel), named);
            return NONE;
        }
    }

    private void sendOwner(int uid, int gid) throws IOException {
        Message.Owner o = version >= 4 ? attributes.owner(uid, gid) : null;
        if (o != null) {
            wire.send(o);
        }
    }

    /** What goes before an opened file's header: its OWNER and XATTRS frames, as asked (often nothing). */
    private byte[] before(Batch open, int i, byte[] rel) {
        return version < 4 ? NONE : concat(attributes.ownerFrame(open.uid(i), open.gid(i)), xattrFrame(open.fd(i), null, rel, false));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        return SentAttributes.concat(a, b);
    }

    /** Builds a node's message from its path and lstat. */
    private interface NodeMessage {
        Message of(byte[] path, long[] st, String shown) throws NativeIoException;
    }

    /** A batch offered (version 4): its files, and how many each FILE_LIST sent for it holds. */
    private record Offer(List<byte[]> files, List<FileOps.Stat> stats, List<Integer> lists) {}

    /**
     * Batches offered whose WANTs are not read yet, at most this many beyond the one being offered:
     * {@value} × {@link #BATCH} files (their WANTs, 40 bytes a list, never fill a socket buffer).
     */
    static final int OFFERS_AHEAD = 8;

    private final java.util.ArrayDeque<Offer> pending = new java.util.ArrayDeque<>(); // offered, WANTs not read yet

    /**
     * The lstats of files the walk did not look at (a single file sent): in one batch call, not
     * opened; through the ring's statx it was 5% slower here, every statx of a cold inode going to a worker.
     */
    private static FileOps.Stat[] lstat(Ring ring, byte[] root, byte[][] rel, int count, boolean single)
            throws NativeIoException {
        Batch stat = new Batch(count);
        for (int i = 0; i < count; i++) {
            stat.addStat(single ? root : PathBytes.join(root, rel[i]));
        }
        ring.run(stat);
        FileOps.Stat[] stats = new FileOps.Stat[count];
        for (int i = 0; i < count; i++) {
            NativeIoException e = stat.failure(i);
            stats[i] = e != null ? new FileOps.Stat(e.errno(), 0, 0, 0, 0, 0, 0, 0, 0)
                    : new FileOps.Stat(0, stat.mode(i), (int) stat.links(i), stat.uid(i), stat.gid(i), stat.bytes(i),
                            stat.mtimeNanos(i), stat.inode(i), stat.device(i));
        }
        return stats;
    }

    /**
     * Version 4's quick check: the batch's files, as their lstats found them (not opened), are offered
     * in FILE_LISTs of at most {@link Message.FileList#MAX_BYTES}. @return what was offered
     */
    private Offer offer(Ring ring, byte[] root, byte[][] rel, FileOps.Stat[] stats, int count, boolean single)
            throws IOException {
        List<Integer> regular = new ArrayList<>(count); // batch entries to offer
        for (int i = 0; i < count; i++) {
            FileOps.Stat st = stats[i];
            if (st.errno() != 0) {
                NativeIoException e = new NativeIoException("lstat", PathBytes.show(single ? root : PathBytes.join(root, rel[i])),
                        st.errno());
                failures.add(e);
                listener.failed(PathRules.show(rel[i]), e);
            } else if ((st.mode() & 0170000) != 0100000) {
                skip(rel[i], "no longer a regular file");
            } else if (hardLinks && st.links() > 1 && inodes.later(st.device(), st.inode(), rel[i])) {
                continue; // a HARDLINK to the first of its inode, after every file
            } else {
                regular.add(i);
            }
        }
        Ring.Hashes hashes = checksum ? hash(ring, root, rel, stats, regular, single) : null;
        List<Message.FileList.Entry> entries = new ArrayList<>(count);
        List<byte[]> offered = new ArrayList<>(count);
        List<FileOps.Stat> offeredStats = new ArrayList<>(count);
        for (int k = 0; k < regular.size(); k++) {
            int i = regular.get(k);
            if (hashes != null && hashes.failures()[k] != null) {
                NativeIoException e = hashes.failures()[k].withPath(PathRules.show(rel[i]));
                failures.add(e);
                listener.failed(PathRules.show(rel[i]), e);
                continue;
            }
            FileOps.Stat st = stats[i];
            offeredBytes += st.size();
            entries.add(new Message.FileList.Entry(st.size(), st.mtimeNanos(), st.mode() & 07777, rel[i],
                    hashes == null ? null : hashes.of(k)));
            offered.add(rel[i]);
            offeredStats.add(st);
        }
        List<Integer> lists = new ArrayList<>();
        for (int from = 0; from < entries.size();) { // lists of at most FileList.MAX_BYTES
            int to = from;
            for (long bytes = 2; to < entries.size() && bytes + Message.FileList.entryBytes(entries.get(to))
                    <= Message.FileList.MAX_BYTES; to++) {
                bytes += Message.FileList.entryBytes(entries.get(to));
            }
            wire.send(new Message.FileList(entries.subList(from, to)));
            lists.add(to - from);
            from = to;
        }
        return lists.isEmpty() ? null : new Offer(offered, offeredStats, lists);
    }

    /** -c: the content hashes of the batch entries {@code which} (small files read through the ring, many at once; large ones two at a time). */
    private static Ring.Hashes hash(Ring ring, byte[] root, byte[][] rel, FileOps.Stat[] stats, List<Integer> which,
            boolean single) throws NativeIoException {
        int n = which.size();
        int[] dirs = new int[n];
        byte[][] paths = new byte[n][];
        String[] shown = new String[n];
        long[] sizes = new long[n];
        Arrays.fill(dirs, Batch.AT_FDCWD);
        for (int k = 0; k < n; k++) {
            byte[] r = rel[which.get(k)];
            paths[k] = single ? root : PathBytes.join(root, r);
            shown[k] = PathRules.show(r);
            sizes[k] = stats[which.get(k)].size();
        }
        return ring.hash(dirs, paths, shown, sizes);
    }

    private InodeLinks inodes = new InodeLinks(); // -H (version 4)

    /** -H: the queued names, each as a HARDLINK to its first (sent or unchanged by now). */
    private void sendHardLinks(Wire wire) throws IOException {
        for (InodeLinks.Link l : inodes.links()) {
            if (inodes.firstFailed(l)) {
                IOException e = new IOException("hard link " + PathRules.show(l.rel()) + " not made: "
                        + PathRules.show(l.first()) + " could not be sent");
                failures.add(e);
                listener.failed(PathRules.show(l.rel()), e);
                continue;
            }
            wire.send(Message.Link.hard(l.rel(), l.first())); // not counted: the receiver may have it already
        }
    }

    /**
     * Version 5: the OWNER and XATTRS of each offered file the receiver kept ({@code kept}: indexes
     * into {@code o}), then its KEPT, coalesced into writes of about 64 KiB. A file whose attributes
     * cannot be read is reported and goes without its XATTRS (the receiver leaves its attributes
     * alone); one gone meanwhile goes without KEPT.
     */
    private void sendKept(byte[] root, Offer o, List<Integer> kept, boolean single) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int k : kept) {
            byte[] rel = o.files().get(k);
            FileOps.Stat st = o.stats().get(k);
            byte[] attrs;
            try {
                attrs = attributes.keptXattrFrame(single ? root : PathBytes.join(root, rel));
            } catch (NativeIoException e) {
                if (e.errno() == Errno.ENOENT) {
                    continue; // gone since it was offered: nothing to keep
                }
                NativeIoException named = e.withPath(PathRules.show(rel));
                failures.add(named);
                listener.failed(PathRules.show(rel), named);
                attrs = NONE;
            }
            byte[] owner = attributes.ownerFrame(st.uid(), st.gid());
            byte[] entry = FrameCodec.encode(new Message.Kept(attributes.allNamespaces(), rel));
            if (out.size() > 0 && out.size() + owner.length + attrs.length + entry.length > Wire.MAX_WRITE) {
                wire.sendFrames(out.toByteArray());
                out.reset();
            }
            out.writeBytes(owner);
            out.writeBytes(attrs);
            out.writeBytes(entry);
        }
        if (out.size() > 0) {
            wire.sendFrames(out.toByteArray());
        }
    }

    /** Reads the receiver's WANT for each list of {@code o}. @return the files wanted, in order ({@code kept}, unless null, gets the indexes of the others) */
    private byte[][] wanted(Offer o, List<Integer> kept) throws IOException {
        List<byte[]> wanted = new ArrayList<>(o.files().size());
        int at = 0;
        for (int n : o.lists()) {
            Message m = wire.read();
            if (m instanceof Message.Error err) {
                throw new TransferException.Refused(err.text(), null);
            }
            if (!(m instanceof Message.Want w) || w.wanted().length != n) {
                throw new ProtocolException("expected WANT for " + n + " files, got " + FrameCodec.name(m.type()));
            }
            boolean[] want = w.wanted();
            for (int i = 0; i < n; i++) {
                if (want[i]) {
                    wanted.add(o.files().get(at + i));
                } else {
                    keptBytes += o.stats().get(at + i).size();
                    unchanged++;
                    if (kept != null) {
                        kept.add(at + i);
                    }
                }
            }
            at += n;
        }
        return wanted.toArray(new byte[0][]);
    }

    /**
     * --delete: the receiver is to remove what it has and this send did not offer, except what the
     * filter excludes (sent along). Not after a failure to read the source (rsync's rule: an entry
     * that could not be read is not gone), and not to a receiver of protocol version 2.
     */
    private void askToDelete(Wire wire) throws IOException {
        if (version < 4) {
            failures.add(new IOException("--delete: the receiver speaks protocol version 2; nothing was deleted"));
            return;
        }
        if (!failures.isEmpty()) {
            verbose.accept("--delete: some entries could not be read, so nothing is deleted");
            return;
        }
        List<Message.Delete.Rule> rules = new ArrayList<>(); // what they exclude stays, unless --delete-excluded
        for (FilterRules.Given g : deleteExcluded ? List.<FilterRules.Given>of() : filter.given()) {
            rules.add(new Message.Delete.Rule(g.include(), g.pattern()));
        }
        Message.Delete d;
        try {
            d = new Message.Delete(rules);
        } catch (IllegalArgumentException e) {
            failures.add(new IOException("--delete: the filter's rules are too many to send (" + e.getMessage()
                    + "); nothing was deleted"));
            return;
        }
        wire.send(d);
    }

    private void awaitConfirmation(Wire wire) throws IOException {
        Message m;
        while (true) {
            try {
                m = wire.read();
            } catch (java.io.EOFException e) {
                throw new TransferException.ConnectionFailed("the receiver closed the connection without confirming the transfer", e);
            }
            if (!(m instanceof Message.ChangeReport c) || !reportChanges) {
                break;
            }
            CopyListener.Change change; // what the receiver did (or, dry run, would do)
            try {
                change = CopyListener.Change.ofItemize(c.itemize());
            } catch (IllegalArgumentException e) {
                throw new ProtocolException("CHANGE with " + e.getMessage());
            }
            if (change.kind() == CopyListener.Change.Kind.DELETED) {
                deleted++;
            }
            listener.changed(PathRules.show(c.path()), change);
        }
        if (m instanceof Message.Error e) {
            throw new TransferException.Refused(e.text(), null);
        }
        if (!(m instanceof Message.AllDone)) {
            throw new ProtocolException("expected ALL_DONE from the receiver, got " + FrameCodec.name(m.type()));
        }
    }

    /** A failure of the transfer as the cause's type: the protocol broken, or the peer silent too long. */
    private static IOException typed(IOException e) {
        if (e instanceof ProtocolException) {
            return new TransferException.ProtocolMismatch(e.getMessage(), e);
        }
        if (e instanceof NativeIoException n && (n.errno() == Errno.ETIMEDOUT || n.errno() == Errno.EAGAIN)) {
            return new TransferException.Timeout(e.getMessage(), false, e);
        }
        return e;
    }

    /** When a send fails, the receiver has often said why in an ERROR frame: prefer its words. */
    private static IOException receiverReason(TlsSession session, Wire wire, IOException e) {
        if (e instanceof TransferException.Refused) {
            return e;
        }
        try {
            session.setTimeout(2000);
            // the WANTs of the lists still in flight (up to OFFERS_AHEAD batches) may come first
            for (int i = 0; i < 4096 && wire.next(); i++) {
                if (wire.type() == Message.ERROR) {
                    return new TransferException.Refused(((Message.Error) wire.payload()).text(), e);
                }
                if (wire.type() != Message.WANT && wire.type() != Message.CHANGE) {
                    break;
                }
                wire.payload();
            }
        } catch (IOException | RuntimeException ignored) {
            // nothing more to learn
        }
        return e;
    }
}
