package org.uringsync.transfer;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.uringsync.CopyListener;
import org.uringsync.nativeio.Fd;
import org.uringsync.nativeio.Net;
import org.uringsync.nativeio.NativeIoException;
import org.uringsync.nativeio.Ring;
import org.uringsync.nativeio.TlsContext;
import org.uringsync.nativeio.TlsSession;
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
 *
 * <p>This class accepts, admits, times out and stops; {@link ReceiverHandshake} authenticates each
 * connection and {@link DestWriter} writes its files.
 */
public final class NetReceiver implements AutoCloseable {
    /** Largest FILE_DATA frame accepted (the sender's -c may go up to 64M). */
    static final int MAX_FRAME = 64 << 20;
    /** Authenticated transfers at once. */
    static final int MAX_CONNECTIONS = 64;
    /** Connections waiting to authenticate, in all and from one source address. */
    static final int MAX_UNAUTHENTICATED = 256;
    static final int MAX_UNAUTHENTICATED_PER_ADDRESS = 64; // as many as may transfer at once: a NAT full of senders

    private final InetAddress bind;
    private final int requestedPort;
    private final Path certificate;
    private final Path key;
    private final Path stateDirectory; // where the pair is made when none is given
    private final String ciphers;
    private final int handshakeTimeoutMs;
    private final int idleTimeoutMs;
    private final Consumer<String> log;
    private final org.uringsync.Receiver.Events events;

    private final DestWriter writer;
    private final ReceiverHandshake handshake;
    private TlsContext ctx;
    private Fd listen;
    private int port;
    private Thread acceptor;
    private ScheduledThreadPoolExecutor timer;
    private volatile boolean closed;
    /** Every connection whose thread runs, by id. */
    private final Map<Long, Connection> live = new ConcurrentHashMap<>();
    private final Backoff backoff = new Backoff();

    // admission state, guarded by `admission`
    private final Object admission = new Object();
    private final ArrayDeque<Connection> waiting = new ArrayDeque<>();
    private final Map<InetAddress, Integer> waitingFrom = new HashMap<>(); // by source(): address, or IPv6 /64
    private int transfers;
    private long refusedSinceLog;
    private long lastRefusalLog;

    /** What a receiver is asked to be: made by {@code Receiver.Builder}, checked there. */
    /** {@code certificate} and {@code key} null: the pair in {@code stateDirectory}, made there on first use. */
    public record Config(Path dest, InetAddress bind, int port, byte[] secret, Path certificate, Path key, Path stateDirectory,
            String ciphers,
            org.uringsync.TlsPath tlsPath, int chunkSize, int queueDepth, boolean directWrites, int handshakeTimeoutMs,
            int idleTimeoutMs, CopyListener listener, Consumer<String> log, Consumer<String> verbose,
            org.uringsync.Receiver.Events events) {}

    public NetReceiver(Config c) {
        this.writer = new DestWriter(c);
        this.bind = c.bind();
        this.requestedPort = c.port();
        this.handshake = new ReceiverHandshake(c);
        this.certificate = c.certificate();
        this.key = c.key();
        this.stateDirectory = c.stateDirectory();
        this.ciphers = c.ciphers();
        this.handshakeTimeoutMs = c.handshakeTimeoutMs();
        this.idleTimeoutMs = c.idleTimeoutMs();
        this.log = c.log();
        this.events = c.events();
    }

    /** Opens the destination and the listening socket, then accepts in a background thread. */
    public synchronized void start() throws IOException {
        if (acceptor != null) {
            throw new IllegalStateException("already started");
        }
        Ring.ensureAvailable();
        try {
            writer.prepare();
            Path cert = certificate, k = key;
            if (cert == null) {
                boolean had = java.nio.file.Files.exists(stateDirectory.resolve("server.key"));
                Path[] pair = Certificates.ensure(stateDirectory);
                cert = pair[0];
                k = pair[1];
                if (!had) {
                    log.accept("made a key and self-signed certificate: " + cert + " (" + k + " is the key)");
                }
            }
            ctx = TlsContext.server(cert, k, ciphers);
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
        return writer.filesWritten();
    }

    public long bytesReceived() {
        return writer.bytesWritten();
    }

    public long bytesArrived() {
        return writer.bytesArrived();
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
            c = new Connection(sock, peer, from, TempNames.newOwner());
            waiting.addLast(c);
            waitingFrom.merge(from, 1, Integer::sum);
            c.waiting = true;
            live.put(c.id, c);
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

    /** One sender's connection: handshake, HELLO, then files until ALL_DONE. */
    private final class Connection implements Runnable, ReceiverHandshake.Gate {
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
        private final DestWriter.Files files;

        Connection(Fd sock, InetAddress peer, InetAddress from, long id) {
            this.sock = sock;
            this.peer = peer;
            this.from = from;
            this.id = id;
            this.files = writer.files(id);
        }

        /** Ends this connection from another thread: its blocked call returns, its thread cleans up. */
        void drop(String why) {
            if (why != null && dropped == null) {
                dropped = why;
            }
            sock.abort(); // a reset: a sender in the middle of a file learns at once
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
            long t0 = System.nanoTime();
            boolean authenticated = false;
            String tls = null;
            String error = null;
            tell(() -> events.connected(id, peer));
            try {
                sock.setTimeout(handshakeTimeoutMs);
                session = handshake.tls(ctx, sock);
                tls = TlsPaths.name(session);
                wire = new Wire(session);
                int version = handshake.authenticate(session, wire, id, this);
                if (version == 0) {
                    error = dropped != null ? dropped : "not authenticated";
                    return;
                }
                authenticated = true;
                String path = tls;
                tell(() -> events.authenticated(id, version, path));
                sock.setTimeout(idleTimeoutMs);
                error = files.receive(session, wire, version);
            } catch (ProtocolException | TlsSession.ProtocolViolation e) {
                error = fail(wire, Message.Error.PROTOCOL, "protocol error: " + e.getMessage());
            } catch (DestWriter.PathRefused e) {
                error = fail(wire, Message.Error.PATH, e.getMessage());
            } catch (IOException e) {
                error = fail(wire, Message.Error.IO, e.getMessage());
            } catch (RuntimeException e) {
                error = fail(wire, Message.Error.INTERNAL, "internal error: " + e);
            } finally {
                cleanUp();
                org.uringsync.Receiver.Transfer t = new org.uringsync.Receiver.Transfer(peer, authenticated, error == null,
                        files.filesReceived(), files.bytesReceived(), java.time.Duration.ofNanos(System.nanoTime() - t0), tls,
                        error);
                if (authenticated) { // one line per transfer (refusals before it have their own line)
                    log.accept("connection " + id + " from " + show(peer) + ": " + (t.completed() ? "completed" : "failed")
                            + ", " + t.files() + " files, " + org.uringsync.Sizes.format(t.bytes()) + " in "
                            + org.uringsync.Sizes.fixed(t.duration().toNanos() / 1e9, 2) + " s, tls " + tls);
                }
                tell(() -> events.finished(id, t));
            }
        }

        /** Runs an event call whose failure must not end the connection's cleanup. */
        private void tell(Runnable call) {
            try {
                call.run();
            } catch (RuntimeException e) {
                log.accept("connection " + id + ": event listener failed: " + e);
            }
        }

        @Override
        public boolean waitAfterWrongSecret() {
            Backoff.Delay d = backoff.failure(peer, System.nanoTime());
            log.accept("connection " + id + " from " + show(peer) + ": refused: wrong secret (failure " + d.failures()
                    + " from that address; answering in " + d.nanos() / 1_000_000 + " ms)");
            try {
                TimeUnit.NANOSECONDS.sleep(d.nanos()); // slows down guessing from that address
            } catch (InterruptedException e) {
                return false; // dropped meanwhile
            }
            return true;
        }

        @Override
        public boolean startTransfer() throws IOException {
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
            cancelDeadline();
            return true;
        }

        private void cancelDeadline() {
            ScheduledFuture<?> d = deadline;
            if (d != null) {
                d.cancel(false);
            }
        }

        /** Frees what the connection holds; nothing here throws, so no earlier error is hidden. */
        private void cleanUp() {
            files.close();
            if (session != null) {
                session.close();
            }
            sock.close();
            cancelDeadline();
            synchronized (admission) {
                stopWaiting(this);
                if (transferring) {
                    transferring = false;
                    transfers--;
                }
            }
            live.remove(id);
        }

        /** @return what went wrong, as the transfer's outcome tells it */
        private String fail(Wire wire, int code, String message) {
            if (closed) {
                return "the receiver closed: " + message;
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
            return why != null ? "dropped: " + why : message;
        }
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
