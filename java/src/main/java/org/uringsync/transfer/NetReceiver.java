package org.uringsync.transfer;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.uringsync.CopyListener;
import org.uringsync.nativeio.Errno;
import org.uringsync.nativeio.Fd;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.Net;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.PathBytes;
import org.uringsync.nativeio.Ring;
import org.uringsync.nativeio.TlsContext;
import org.uringsync.nativeio.TlsSession;
import org.uringsync.path.PathRules;
import org.uringsync.protocol.Message;
import org.uringsync.protocol.ProtocolException;

/**
 * The receiving side: accepts connections, authenticates each sender (HELLO proof bound to the TLS
 * session), and writes its files beneath the destination. Each file is written to a temporary name
 * in its directory and renamed into place only after FILE_END with exactly its size; on any error
 * the temporary file is removed, an ERROR goes back, that connection ends, and the others go on.
 *
 * <p>Until HELLO_OK a connection is hostile and cheap: it holds a thread, a socket and an OpenSSL
 * session, nothing else (the ring and its buffers come after authentication). At most
 * {@link #MAX_UNAUTHENTICATED} wait to authenticate at once, {@link #MAX_UNAUTHENTICATED_PER_ADDRESS}
 * of them from one source (an IPv4 address, an IPv6 /64; more from it are refused at once); when the
 * total is reached, the oldest waiting connection of the source holding most slots is dropped for
 * the newcomer, so idle or trickling peers from a few sources cannot keep senders out. Handshake plus HELLO must finish within the handshake timeout, a wall-clock deadline. At most
 * {@link #MAX_CONNECTIONS} authenticated transfers run at once.
 */
public final class NetReceiver implements AutoCloseable {
    /** Largest FILE_DATA frame accepted (the sender's -c may go up to 64M). */
    static final int MAX_FRAME = 64 << 20;
    /** Authenticated transfers at once. */
    static final int MAX_CONNECTIONS = 64;
    /** Connections waiting to authenticate, in all and from one source address. */
    static final int MAX_UNAUTHENTICATED = 256;
    static final int MAX_UNAUTHENTICATED_PER_ADDRESS = 64; // as many as may transfer at once: a NAT full of senders
    /** Ids of the connections of every receiver in this process (temporaries are named after them). */
    private static final Set<Long> LIVE_IDS = ConcurrentHashMap.newKeySet();
    private static final AtomicLong CONNECTIONS = new AtomicLong();
    private static final long PID = ProcessHandle.current().pid();

    private final Path dest;
    private final InetAddress bind;
    private final int requestedPort;
    private final byte[] secret;
    private final Path certificate;
    private final Path key;
    private final String ciphers;
    private final org.uringsync.TlsPath tlsPath;
    private final int chunkSize;
    private final boolean directWrites;
    private final int queueDepth;
    private final int handshakeTimeoutMs;
    private final int idleTimeoutMs;
    private final CopyListener listener;
    private final Consumer<String> log;
    private final Consumer<String> verbose;

    private final byte[] destBytes;
    private TlsContext ctx;
    private Fd listen;
    private int port;
    private Thread acceptor;
    private ScheduledThreadPoolExecutor timer;
    private volatile boolean closed;
    /** Every connection whose thread runs, by id. */
    private final Map<Long, Connection> live = new ConcurrentHashMap<>();
    private final AtomicLong files = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final Backoff backoff = new Backoff();

    // admission state, guarded by `admission`
    private final Object admission = new Object();
    private final ArrayDeque<Connection> waiting = new ArrayDeque<>();
    private final Map<InetAddress, Integer> waitingFrom = new HashMap<>(); // by source(): address, or IPv6 /64
    /** Directories this receiver has swept for stale temporaries (relative paths), at most 65,536. */
    private final Set<String> swept = ConcurrentHashMap.newKeySet();
    private int transfers;
    private long refusedSinceLog;
    private long lastRefusalLog;

    /** What a receiver is asked to be: made by {@code Receiver.Builder}, checked there. */
    public record Config(Path dest, InetAddress bind, int port, byte[] secret, Path certificate, Path key, String ciphers,
            org.uringsync.TlsPath tlsPath, int chunkSize, int queueDepth, boolean directWrites, int handshakeTimeoutMs,
            int idleTimeoutMs, CopyListener listener, Consumer<String> log, Consumer<String> verbose) {}

    public NetReceiver(Config c) {
        this.dest = c.dest();
        this.destBytes = PathBytes.of(dest.toAbsolutePath());
        this.bind = c.bind();
        this.requestedPort = c.port();
        this.secret = c.secret().clone();
        this.certificate = c.certificate();
        this.key = c.key();
        this.ciphers = c.ciphers();
        this.tlsPath = c.tlsPath();
        this.chunkSize = c.chunkSize();
        this.queueDepth = c.queueDepth();
        this.directWrites = c.directWrites();
        this.handshakeTimeoutMs = c.handshakeTimeoutMs();
        this.idleTimeoutMs = c.idleTimeoutMs();
        this.listener = c.listener();
        this.log = c.log();
        this.verbose = c.verbose();
    }

    /** Opens the destination and the listening socket, then accepts in a background thread. */
    public synchronized void start() throws IOException {
        if (acceptor != null) {
            throw new IllegalStateException("already started");
        }
        Ring.ensureAvailable();
        try {
            int root = FileOps.openRoot(destBytes, true); // create it, and fail early if we cannot
            try {
                sweepTemps(root, new byte[0]);
            } finally {
                FileOps.close(root);
            }
            ctx = TlsContext.server(certificate, key, ciphers);
            listen = Net.listen(bind, requestedPort);
            port = listen.localPort();
        } catch (IOException | RuntimeException e) {
            releaseResources();
            throw e;
        }
        timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "uring-sync-deadlines-" + port);
            t.setDaemon(true);
            return t;
        });
        timer.setRemoveOnCancelPolicy(true);
        acceptor = new Thread(this::acceptLoop, "uring-sync-accept-" + port);
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return port;
    }

    /** Files fully received and renamed into place, over all connections so far. */
    public long filesReceived() {
        return files.get();
    }

    public long bytesReceived() {
        return bytes.get();
    }

    /** Connections whose threads run now, authenticating or transferring. */
    public int connections() {
        return live.size();
    }

    private void acceptLoop() {
        while (!closed) {
            Fd sock;
            try {
                sock = Net.accept(listen);
            } catch (NativeIoException | IllegalStateException e) {
                if (!closed) {
                    log.accept("accept failed: " + e.getMessage());
                    sleepQuietly(100);
                }
                continue;
            }
            admit(sock);
        }
    }

    /** Starts a connection, or refuses it at once (closed, or too many waiting from its source). */
    private void admit(Fd sock) {
        InetAddress peer = sock.peerAddress();
        InetAddress from = source(peer);
        Connection evicted = null;
        Connection c;
        synchronized (admission) {
            if (closed) {
                sock.close();
                return;
            }
            if (waitingFrom.getOrDefault(from, 0) >= MAX_UNAUTHENTICATED_PER_ADDRESS) {
                sock.close();
                refused(peer);
                return;
            }
            if (waiting.size() >= MAX_UNAUTHENTICATED) {
                evicted = oldestOfBusiestSource();
                stopWaiting(evicted);
            }
            c = new Connection(sock, peer, from, CONNECTIONS.incrementAndGet());
            waiting.addLast(c);
            waitingFrom.merge(from, 1, Integer::sum);
            c.waiting = true;
            live.put(c.id, c);
            LIVE_IDS.add(c.id);
        }
        if (evicted != null) {
            evicted.drop(MAX_UNAUTHENTICATED + " connections were waiting to authenticate; the oldest from the busiest"
                    + " source was dropped");
        }
        try {
            c.deadline = timer.schedule(c::deadlinePassed, handshakeTimeoutMs, TimeUnit.MILLISECONDS);
            Thread t = new Thread(c, "uring-sync-recv-" + c.id);
            t.setDaemon(true);
            c.thread = t;
            t.start();
        } catch (OutOfMemoryError | RuntimeException e) { // no thread to be had (a pids limit under a flood)
            c.cleanUp();
            log.accept("connection " + c.id + " from " + show(peer) + ": not started: " + e);
            sleepQuietly(100);
        }
    }

    /** The source caps count per: an IPv4 address, or an IPv6 address's /64 (one host's whole range). */
    private static InetAddress source(InetAddress a) {
        if (!(a instanceof java.net.Inet6Address)) {
            return a;
        }
        byte[] b = a.getAddress();
        java.util.Arrays.fill(b, 8, 16, (byte) 0);
        try {
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            return a; // 16 bytes: cannot happen
        }
    }

    /** The oldest waiting connection of the source that holds most waiting slots. Under {@code admission}. */
    private Connection oldestOfBusiestSource() {
        InetAddress busiest = null;
        int most = -1;
        for (Map.Entry<InetAddress, Integer> e : waitingFrom.entrySet()) {
            if (e.getValue() > most) {
                most = e.getValue();
                busiest = e.getKey();
            }
        }
        for (Connection c : waiting) {
            if (java.util.Objects.equals(c.from, busiest)) {
                return c;
            }
        }
        return waiting.peekFirst();
    }

    /** Logs refusals at most once a second, with how many there were. Under {@code admission}. */
    private void refused(InetAddress peer) {
        refusedSinceLog++;
        long now = System.nanoTime();
        if (now - lastRefusalLog >= 1_000_000_000L || lastRefusalLog == 0) {
            log.accept("refused " + refusedSinceLog + " connection(s), latest from " + show(peer) + ": "
                    + MAX_UNAUTHENTICATED_PER_ADDRESS + " from that address are already waiting to authenticate");
            refusedSinceLog = 0;
            lastRefusalLog = now;
        }
    }

    /** Under {@code admission}. */
    private void stopWaiting(Connection c) {
        if (c.waiting) {
            c.waiting = false;
            waiting.remove(c);
            waitingFrom.computeIfPresent(c.from, (k, n) -> n > 1 ? n - 1 : null);
        }
    }

    /** Stops accepting, ends every connection (their temporary files are removed) and frees everything. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            synchronized (admission) {
                closed = true;
            }
        }
        if (listen != null) {
            listen.shutdown();
        }
        if (acceptor != null) {
            joinQuietly(acceptor);
        }
        for (Connection c : live.values()) {
            c.drop(null);
        }
        for (Connection c : live.values()) {
            Thread t = c.thread;
            if (t != null) {
                joinQuietly(t);
            }
        }
        if (timer != null) {
            timer.shutdownNow();
        }
        releaseResources();
    }

    private synchronized void releaseResources() {
        if (listen != null) {
            listen.close();
        }
        if (ctx != null) {
            ctx.close(); // a handshake still running keeps it until it returns
        }
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
            TempNames.Owner o = e.type() == FileOps.TYPE_REG ? TempNames.owner(e.name()) : null;
            if (o == null) {
                continue;
            }
            boolean stale = o.pid() == PID ? !LIVE_IDS.contains(o.connection())
                    : ProcessHandle.of(o.pid()).map(p -> !p.isAlive()).orElse(true);
            if (stale && FileOps.unlinkAt(dirFd, e.name()) == 0) {
                byte[] shown = rel.length == 0 ? e.name() : PathBytes.join(rel, e.name());
                log.accept("removed " + PathRules.show(shown) + ": a temporary file left by a receiver that ended"
                        + " before the file was complete");
            }
        }
    }

    /** One sender's connection: handshake, HELLO, then files until ALL_DONE. */
    private final class Connection implements Runnable {
        final Fd sock;
        final InetAddress peer;
        final InetAddress from; // peer's source for the caps (see source())
        final long id;
        volatile Thread thread;
        volatile ScheduledFuture<?> deadline;
        boolean waiting;           // under `admission`: counted among those waiting to authenticate
        boolean transferring;      // under `admission`: counted among the authenticated transfers
        private volatile String dropped; // why the receiver ended this connection, when it did
        private TlsSession session;
        private final Map<String, Integer> dirs = new LinkedHashMap<>(16, 0.75f, true);
        private int rootFd = -1;
        private int tempDir = -1;
        private byte[] tempName;
        private long counter;
        private final int umask = FileOps.umask();

        Connection(Fd sock, InetAddress peer, InetAddress from, long id) {
            this.sock = sock;
            this.peer = peer;
            this.from = from;
            this.id = id;
        }

        /** Ends this connection from another thread: its blocked call returns, its thread cleans up. */
        void drop(String why) {
            if (why != null && dropped == null) {
                dropped = why;
            }
            sock.shutdown();
            Thread t = thread;
            if (t != null) {
                t.interrupt(); // e.g. waiting out a wrong secret's delay
            }
        }

        void deadlinePassed() {
            synchronized (admission) {
                if (!waiting) {
                    return;
                }
                stopWaiting(this);
            }
            drop("no authentication within " + handshakeTimeoutMs + " ms");
        }

        @Override
        public void run() {
            Wire wire = null;
            try {
                sock.setTimeout(handshakeTimeoutMs);
                session = TlsSession.handshake(ctx, sock, true, tlsPath.nativeMode());
                verbose.accept("connection " + id + ": tls: " + session.path());
                wire = new Wire(session);
                if (!authenticate(wire)) {
                    return;
                }
                sock.setTimeout(idleTimeoutMs);
                rootFd = FileOps.openRoot(destBytes, false); // each connection sees DEST as it is now
                try (Ring ring = Ring.open(queueDepth, chunkSize)) { // nothing heavy before HELLO_OK
                    receive(wire, ring);
                }
            } catch (ProtocolException | TlsSession.ProtocolViolation e) {
                fail(wire, Message.Error.PROTOCOL, "protocol error: " + e.getMessage());
            } catch (PathRefused e) {
                fail(wire, Message.Error.PATH, e.getMessage());
            } catch (IOException e) {
                fail(wire, Message.Error.IO, e.getMessage());
            } catch (RuntimeException e) {
                fail(wire, Message.Error.INTERNAL, "internal error: " + e);
            } finally {
                cleanUp();
            }
        }

        /** Frees what the connection holds; nothing here throws, so no earlier error is hidden. */
        private void cleanUp() {
            removeTemp();
            for (int d : dirs.values()) {
                FileOps.close(d);
            }
            dirs.clear();
            if (rootFd >= 0) {
                FileOps.close(rootFd);
                rootFd = -1;
            }
            if (session != null) {
                session.close();
            }
            sock.close();
            ScheduledFuture<?> d = deadline;
            if (d != null) {
                d.cancel(false);
            }
            synchronized (admission) {
                stopWaiting(this);
                if (transferring) {
                    transferring = false;
                    transfers--;
                }
            }
            live.remove(id);
            LIVE_IDS.remove(id);
        }

        private void fail(Wire wire, int code, String message) {
            if (closed) {
                return;
            }
            String why = dropped;
            log.accept("connection " + id + " from " + show(peer) + ": " + (why != null ? "dropped: " + why : message));
            if (wire != null && why == null) {
                try {
                    wire.send(new Message.Error(code, truncate(message)));
                } catch (IOException | RuntimeException ignored) {
                    // the peer may be gone; the connection ends either way
                }
            }
        }

        private boolean authenticate(Wire wire) throws IOException {
            if (!wire.next()) {
                throw new ProtocolException("connection closed before HELLO");
            }
            if (wire.type() != Message.HELLO) {
                throw new ProtocolException("expected HELLO, got " + org.uringsync.protocol.FrameCodec.name(wire.type()));
            }
            Message.Hello hello = (Message.Hello) wire.payload();
            if (hello.version() != Message.VERSION) {
                log.accept("connection " + id + ": refused protocol version " + hello.version() + " (this receiver speaks "
                        + Message.VERSION + ")");
                wire.send(new Message.HelloFail(Message.HelloFail.VERSION_MISMATCH));
                return false;
            }
            byte[] expected = Auth.clientProof(session, secret);
            if (!Auth.matches(expected, hello.secret())) {
                Backoff.Delay d = backoff.failure(peer, System.nanoTime());
                log.accept("connection " + id + " from " + show(peer) + ": refused: wrong secret (failure " + d.failures()
                        + " from that address; answering in " + d.nanos() / 1_000_000 + " ms)");
                try {
                    TimeUnit.NANOSECONDS.sleep(d.nanos()); // slows down guessing from that address
                } catch (InterruptedException e) {
                    return false; // dropped meanwhile
                }
                wire.send(new Message.HelloFail(Message.HelloFail.WRONG_SECRET));
                return false;
            }
            synchronized (admission) {
                if (!waiting) {
                    return false; // dropped (deadline, or room for a newcomer) while authenticating
                }
                stopWaiting(this);
                if (transfers >= MAX_CONNECTIONS) {
                    throw new IOException("receiver busy: " + MAX_CONNECTIONS + " transfers are running; try again later");
                }
                transfers++;
                transferring = true;
            }
            ScheduledFuture<?> d = deadline;
            if (d != null) {
                d.cancel(false);
            }
            wire.send(new Message.HelloOk(Auth.serverProof(session, secret)));
            return true;
        }

        private void receive(Wire wire, Ring ring) throws IOException {
            long n = 0, b = 0;
            while (true) {
                if (!wire.next()) {
                    throw new ProtocolException("connection closed before ALL_DONE (" + n + " files received)");
                }
                int type = wire.type();
                if (type == Message.FILE_HDR) {
                    Message.FileHeader h = (Message.FileHeader) wire.payload();
                    receiveFile(h, ring);
                    n++;
                    b += h.size();
                } else if (type == Message.ALL_DONE) {
                    wire.payload();
                    wire.send(new Message.AllDone());
                    log.accept("connection " + id + ": received " + n + " files, " + org.uringsync.Sizes.format(b));
                    return;
                } else if (type == Message.ERROR) {
                    Message.Error e = (Message.Error) wire.payload();
                    log.accept("connection " + id + ": sender reported: " + e.text());
                    return;
                } else {
                    throw new ProtocolException("unexpected " + org.uringsync.protocol.FrameCodec.name(type)
                            + " (expected FILE_HDR or ALL_DONE)");
                }
            }
        }

        private void receiveFile(Message.FileHeader h, Ring ring) throws IOException {
            byte[] path = h.path();
            PathRules.check(path);
            int slash = lastSlash(path);
            byte[] dirRel = slash < 0 ? new byte[0] : Arrays.copyOf(path, slash);
            byte[] name = Arrays.copyOfRange(path, slash + 1, path.length);
            if (TempNames.isTemp(name)) {
                throw new PathRefused("refused " + PathRules.show(path) + ": names beginning " + TempNames.PREFIX
                        + " and ending " + TempNames.SUFFIX + " are the receiver's temporary files");
            }
            int dir = directory(dirRel, path);
            byte[] tmp = TempNames.name(PID, id, counter++);
            // Created with its final mode when the umask leaves that whole (0644, 0755 under 022): no
            // fchmod. The temporary name is then as readable as the finished file will be, no more.
            int mode = h.mode() & 0777;
            boolean exact = (mode & umask) == 0;
            int fd = FileOps.createBeneath(dir, tmp, exact ? mode : 0600);
            if (fd < 0) {
                throw new NativeIoException("openat2", PathRules.show(path), -fd);
            }
            tempDir = dir;
            tempName = tmp;
            boolean written = false;
            try {
                session.receiveFileData(ring, fd, h.size(), Message.FILE_DATA, Message.FILE_END, MAX_FRAME,
                        directWrites && h.size() >= Ring.DIRECT_IO_THRESHOLD);
                int rc = exact ? 0 : FileOps.fchmod(fd, mode);
                if (rc < 0) {
                    throw new NativeIoException("fchmod", PathRules.show(path), -rc);
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
            int rc = FileOps.renameAt(dir, tmp, name);
            if (rc < 0) {
                throw new PathRefused("cannot place " + PathRules.show(path) + ": " + Errno.describe(-rc));
            }
            tempName = null;
            files.incrementAndGet();
            bytes.addAndGet(h.size());
            listener.copied(PathRules.show(path), h.size());
        }

        /**
         * The directory of a file, created beneath the root if needed; a few are kept open. The first
         * time this receiver writes into a directory, temporaries left there by dead receivers go.
         */
        private int directory(byte[] rel, byte[] path) throws PathRefused {
            String k = new String(rel, StandardCharsets.ISO_8859_1);
            Integer fd = dirs.get(k);
            if (fd != null) {
                return fd;
            }
            int d = FileOps.openDirBeneath(rootFd, rel);
            if (d < 0) {
                String why = d == -Errno.EXDEV ? "it would leave the destination (a symlink points outside)"
                        : Errno.describe(-d);
                throw new PathRefused("refused " + PathRules.show(path) + ": " + why);
            }
            if (swept.size() < 65536 && swept.add(k)) {
                sweepTemps(d, rel);
            }
            if (dirs.size() >= 32) {
                Map.Entry<String, Integer> eldest = dirs.entrySet().iterator().next();
                if (eldest.getValue() != tempDir) {
                    FileOps.close(eldest.getValue());
                    dirs.remove(eldest.getKey());
                }
            }
            dirs.put(k, d);
            return d;
        }

        private void removeTemp() {
            if (tempName != null) {
                FileOps.unlinkAt(tempDir, tempName);
                tempName = null;
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

    private static int lastSlash(byte[] p) {
        for (int i = p.length - 1; i >= 0; i--) {
            if (p[i] == '/') {
                return i;
            }
        }
        return -1;
    }

    private static String show(InetAddress a) {
        return a == null ? "an unknown address" : a.getHostAddress();
    }

    private static String truncate(String s) {
        return s.length() > 2000 ? s.substring(0, 2000) + "..." : s;
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
