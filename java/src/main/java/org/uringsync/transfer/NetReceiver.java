package org.uringsync.transfer;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.uringsync.CopyListener;
import org.uringsync.nativeio.Errno;
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
 */
public final class NetReceiver implements AutoCloseable {
    /** Largest FILE_DATA frame accepted (the sender's -c may go up to 64M). */
    static final int MAX_FRAME = 64 << 20;
    private static final int MAX_CONNECTIONS = 64;
    private static final AtomicLong CONNECTIONS = new AtomicLong();

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
    private int listenFd = -1;
    private int port;
    private Thread acceptor;
    private volatile boolean closed;
    private final Set<Connection> active = ConcurrentHashMap.newKeySet();
    private final AtomicLong files = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();

    public NetReceiver(Path dest, InetAddress bind, int port, byte[] secret, Path certificate, Path key, String ciphers,
            org.uringsync.TlsPath tlsPath, int chunkSize, int queueDepth, boolean directWrites, int handshakeTimeoutMs,
            int idleTimeoutMs, CopyListener listener, Consumer<String> log, Consumer<String> verbose) {
        this.dest = dest;
        this.destBytes = PathBytes.of(dest.toAbsolutePath());
        this.bind = bind;
        this.requestedPort = port;
        this.secret = secret.clone();
        this.certificate = certificate;
        this.key = key;
        this.ciphers = ciphers;
        this.tlsPath = tlsPath;
        this.chunkSize = chunkSize;
        this.queueDepth = queueDepth;
        this.directWrites = directWrites;
        this.handshakeTimeoutMs = handshakeTimeoutMs;
        this.idleTimeoutMs = idleTimeoutMs;
        this.listener = listener;
        this.log = log;
        this.verbose = verbose;
    }

    /** Opens the destination and the listening socket, then accepts in a background thread. */
    public synchronized void start() throws IOException {
        if (acceptor != null) {
            throw new IllegalStateException("already started");
        }
        Ring.ensureAvailable();
        try {
            FileOps.close(FileOps.openRoot(destBytes, true)); // create it, and fail early if we cannot
            ctx = TlsContext.server(certificate, key, ciphers);
            listenFd = Net.listen(bind, requestedPort);
            port = Net.localPort(listenFd);
        } catch (IOException | RuntimeException e) {
            releaseResources();
            throw e;
        }
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

    private void acceptLoop() {
        while (!closed) {
            int fd;
            try {
                fd = Net.accept(listenFd);
            } catch (NativeIoException e) {
                if (!closed) {
                    log.accept("accept failed: " + e.getMessage());
                    sleepQuietly(100);
                }
                continue;
            }
            if (closed || active.size() >= MAX_CONNECTIONS) {
                if (!closed) {
                    log.accept("refusing a connection: " + MAX_CONNECTIONS + " already active");
                }
                Net.close(fd);
                continue;
            }
            Connection c = new Connection(fd, CONNECTIONS.incrementAndGet());
            active.add(c);
            Thread t = new Thread(c, "uring-sync-recv-" + c.id);
            t.setDaemon(true);
            c.thread = t;
            t.start();
        }
    }

    /** Stops accepting, ends every connection (their temporary files are removed) and frees everything. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        if (listenFd >= 0) {
            Net.shutdown(listenFd);
        }
        if (acceptor != null) {
            joinQuietly(acceptor);
        }
        for (Connection c : active) {
            c.abort();
        }
        for (Connection c : active) {
            if (c.thread != null) {
                joinQuietly(c.thread);
            }
        }
        releaseResources();
    }

    private synchronized void releaseResources() {
        if (listenFd >= 0) {
            Net.close(listenFd);
            listenFd = -1;
        }
        if (ctx != null) {
            ctx.close();
            ctx = null;
        }
    }

    /** One sender's connection: handshake, HELLO, then files until ALL_DONE. */
    private final class Connection implements Runnable {
        final int fd;
        final long id;
        volatile Thread thread;
        volatile TlsSession session;
        private final Map<String, Integer> dirs = new LinkedHashMap<>(16, 0.75f, true);
        private int rootFd = -1;
        private int tempDir = -1;
        private byte[] tempName;
        private long counter;
        private String peer = "connection";
        private final String tempPrefix;
        private final int umask = FileOps.umask();

        Connection(int fd, long id) {
            this.fd = fd;
            this.id = id;
            this.tempPrefix = ".usync-" + ProcessHandle.current().pid() + "-" + id + "-";
        }

        void abort() {
            TlsSession s = session;
            if (s != null) {
                s.abort();
            } else {
                Net.shutdown(fd);
            }
        }

        @Override
        public void run() {
            Wire wire = null;
            try (Ring ring = Ring.open(queueDepth, chunkSize)) {
                Net.setTimeout(fd, handshakeTimeoutMs);
                session = TlsSession.handshake(ctx, fd, true, tlsPath.nativeMode());
                verbose.accept("connection " + id + ": tls: " + session.path());
                if (closed) {
                    return;
                }
                wire = new Wire(session);
                if (!authenticate(wire)) {
                    return;
                }
                Net.setTimeout(fd, idleTimeoutMs);
                rootFd = FileOps.openRoot(destBytes, false); // each connection sees DEST as it is now
                receive(wire, ring);
            } catch (ProtocolException | TlsSession.ProtocolViolation e) {
                fail(wire, Message.Error.PROTOCOL, "protocol error: " + e.getMessage());
            } catch (PathRefused e) {
                fail(wire, Message.Error.PATH, e.getMessage());
            } catch (IOException e) {
                fail(wire, Message.Error.IO, e.getMessage());
            } catch (RuntimeException e) {
                fail(wire, Message.Error.INTERNAL, "internal error: " + e);
            } finally {
                removeTemp();
                for (int d : dirs.values()) {
                    FileOps.close(d);
                }
                dirs.clear();
                if (rootFd >= 0) {
                    FileOps.close(rootFd);
                }
                if (session != null) {
                    session.close();
                } else {
                    Net.close(fd);
                }
                active.remove(this);
            }
        }

        private void fail(Wire wire, int code, String message) {
            if (closed) {
                return;
            }
            log.accept("connection " + id + ": " + message);
            if (wire != null) {
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
                sleepQuietly(300); // slows down guessing
                log.accept("connection " + id + ": refused: wrong secret");
                wire.send(new Message.HelloFail(Message.HelloFail.WRONG_SECRET));
                return false;
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
            int dir = directory(dirRel, path);
            byte[] tmp = (tempPrefix + (counter++) + ".tmp").getBytes(StandardCharsets.US_ASCII);
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
            try {
                session.receiveFileData(ring, fd, h.size(), Message.FILE_DATA, Message.FILE_END, MAX_FRAME,
                        directWrites && h.size() >= Ring.DIRECT_IO_THRESHOLD);
                int rc = exact ? 0 : FileOps.fchmod(fd, mode);
                if (rc < 0) {
                    throw new NativeIoException("fchmod", PathRules.show(path), -rc);
                }
            } catch (NativeIoException e) {
                throw e.path() == null ? new NativeIoException(e.operation(), PathRules.show(path), e.errno()) : e;
            } finally {
                int rc = FileOps.close(fd);
                if (rc < 0 && tempName != null) {
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

        /** The directory of a file, created beneath the root if needed; a few are kept open. */
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
