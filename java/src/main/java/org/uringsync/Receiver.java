package org.uringsync;

import org.uringsync.nativeio.Ring;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;
import org.uringsync.transfer.Certificates;
import org.uringsync.transfer.NetReceiver;

/**
 * Receives file trees from {@link Sender}s into a destination directory, serving many connections
 * at once until {@link #close()}.
 *
 * <pre>{@code
 * try (Receiver r = Receiver.builder(Path.of("/backup")).port(8443).secret("s3cret").build()) {
 *     r.start();
 *     ...
 * }
 * }</pre>
 *
 * Paths from the network are checked ({@code ..}, absolute, empty or over-long components, NUL) and
 * every file is opened beneath the destination (RESOLVE_BENEATH), written to a temporary name and
 * renamed into place only when complete. A connection that breaks the rules gets an ERROR and is
 * closed; the others go on.
 */
public final class Receiver implements AutoCloseable {
    private final NetReceiver impl;

    private Receiver(NetReceiver impl) {
        this.impl = impl;
    }

    public static Builder builder(Path destination) {
        return new Builder(destination);
    }

    /**
     * Opens (creates) the destination, makes the key and self-signed certificate in the state directory
     * if there are none (logged), and starts listening. Building the receiver did no I/O.
     */
    public Receiver start() throws IOException {
        impl.start();
        return this;
    }

    /** @return the port listened on (useful with port 0) */
    public int port() {
        return impl.port();
    }

    /** @return files received and renamed into place so far, over all connections */
    public long filesReceived() {
        return impl.filesReceived();
    }

    /** @return file data bytes of the files received and renamed into place so far, over all connections */
    public long bytesReceived() {
        return impl.bytesReceived();
    }

    /**
     * @return file data bytes written so far as they arrive, over all connections, files still arriving
     *         included (a progress display's count; {@link #bytesReceived} counts placed files only)
     */
    public long bytesArrived() {
        return impl.bytesArrived();
    }

    /**
     * @return connections open now, authenticating or transferring (bounded: at most 256 waiting to
     *         authenticate, 64 of them from one source, and 64 transfers)
     */
    public int connections() {
        return impl.connections();
    }

    /**
     * What happens to each sender's connection, for a program that follows transfers. Called on the
     * connection's own thread, in this order (a connection refused before authenticating gets only
     * {@code connected} and {@code finished}); implementations must be quick and thread-safe. Files
     * received go to the {@link CopyListener} as before.
     */
    public interface Events {
        /** A connection was accepted from {@code peer}; {@code id} names it in every later call and log line. */
        default void connected(long id, InetAddress peer) {}

        /** The sender proved the secret and the transfer begins, on {@code protocol} over {@code tlsPath}. */
        default void authenticated(long id, int protocol, String tlsPath) {}

        /**
         * A regular file of {@code size} bytes was received and put in place under {@code path} (relative
         * to DEST).
         */
        default void fileReceived(long id, String path, long size) {}

        /** The connection ended; {@code t} says how. */
        default void finished(long id, Transfer t) {}
    }

    /**
     * One sender's connection as it ended.
     *
     * @param peer the sender's address
     * @param authenticated whether it proved the secret
     * @param completed whether the transfer ended with the sender's ALL_DONE and this receiver's
     *        confirmation (every file in place)
     * @param files files placed by this connection
     * @param bytes file data bytes it wrote
     * @param duration from accept to the end
     * @param tlsPath the TLS path ({@code userspace}, {@code ktls}, ...), null before the handshake ended
     * @param error why it did not complete (null when it did)
     */
    public record Transfer(InetAddress peer, boolean authenticated, boolean completed, long files, long bytes,
            java.time.Duration duration, String tlsPath, String error) {}

    /** Stops listening and ends open connections (their partial files are removed). Idempotent. */
    @Override
    public void close() {
        impl.close();
    }

    public static final class Builder {
        private final Path destination;
        private InetAddress bind;
        private int port = 8443;
        private String secret;
        private Path certificate;
        private Path key;
        private Path stateDirectory = Certificates.defaultDirectory();
        private String ciphers;
        private TlsPath tlsPath = TlsPath.AUTO;
        private int chunkSize = 128 * 1024;
        private int queueDepth = 64;
        private int handshakeTimeoutMs = 10_000;
        private int idleTimeoutMs = 300_000;
        private boolean directWrites;
        private CopyListener listener = CopyListener.NONE;
        private Consumer<String> log = s -> {};
        private Consumer<String> verbose = s -> {};
        private Events events = new Events() {};

        private Builder(Path destination) {
            this.destination = Objects.requireNonNull(destination, "destination");
        }

        /** Follows each sender's connection (see {@link Events}; default: nothing). */
        public Builder events(Events events) {
            this.events = Objects.requireNonNull(events, "events");
            return this;
        }

        /** Address to listen on (default: all, IPv6 and IPv4). */
        public Builder bind(InetAddress address) {
            this.bind = address;
            return this;
        }

        /** Port (default 8443; 0 picks a free one, see {@link Receiver#port()}). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535: " + port);
            }
            this.port = port;
            return this;
        }

        /** The pre-shared secret (required). */
        public Builder secret(String secret) {
            Secrets.check(secret);
            this.secret = secret;
            return this;
        }

        /** Certificate and key (PEM) to present instead of the auto-generated pair. */
        public Builder certificate(Path certificate, Path key) {
            this.certificate = Objects.requireNonNull(certificate, "certificate");
            this.key = Objects.requireNonNull(key, "key");
            return this;
        }

        /** Where the auto-generated pair lives (default {@code ~/.uring-sync}). */
        public Builder stateDirectory(Path dir) {
            this.stateDirectory = Objects.requireNonNull(dir, "dir");
            return this;
        }

        public Builder ciphers(String ciphers) {
            this.ciphers = ciphers;
            return this;
        }

        /** Kernel TLS and splicing, or user-space TLS (default {@link TlsPath#AUTO}). */
        public Builder tlsPath(TlsPath path) {
            this.tlsPath = Objects.requireNonNull(path, "path");
            return this;
        }

        /** Receives one line per connection on its TLS path (kernel or user space, suite, splice). */
        public Builder verbose(Consumer<String> verbose) {
            this.verbose = Objects.requireNonNull(verbose, "verbose");
            return this;
        }

        public Builder chunkSize(long chunkSize) {
            this.chunkSize = Ring.checkChunkSize(chunkSize);
            return this;
        }

        public Builder queueDepth(int queueDepth) {
            this.queueDepth = Ring.checkQueueDepth(queueDepth);
            return this;
        }

        /**
         * Writes files of 8 MiB and more with direct I/O where the filesystem allows (default off): the
         * data goes from the ring's buffers to the device without filling the page cache, which saves
         * a page allocation and a memcpy per 4 KiB (a fifth of the receiver's CPU for a 1 GiB file on
         * the benchmark machine). A file then counts as received once it is on the device, so a disk
         * slower than the network makes the transfer slower than with the cache in between.
         */
        public Builder directWrites(boolean direct) {
            this.directWrites = direct;
            return this;
        }

        /** Time allowed for the TLS handshake plus HELLO (default 10 s). */
        public Builder handshakeTimeout(java.time.Duration t) {
            this.handshakeTimeoutMs = (int) Math.max(1, t.toMillis());
            return this;
        }

        /** A connection silent for this long is dropped (default 5 min). */
        public Builder idleTimeout(java.time.Duration t) {
            this.idleTimeoutMs = (int) Math.max(1, t.toMillis());
            return this;
        }

        /** Hears about every file placed (from connection threads). */
        public Builder listener(CopyListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Receives one line per notable event (refused connection, violation, finished transfer). */
        public Builder log(Consumer<String> log) {
            this.log = Objects.requireNonNull(log, "log");
            return this;
        }

        /** Builds the receiver, generating the certificate pair on first use when none was given. */
        public Receiver build() throws IOException {
            if (secret == null) {
                throw new IllegalStateException("a secret is required");
            }
            // no I/O here: the destination, the key and certificate (made on first use) and the socket in start()
            return new Receiver(new NetReceiver(new NetReceiver.Config(destination, bind, port, Secrets.check(secret),
                    certificate, key, stateDirectory, ciphers, tlsPath, chunkSize, queueDepth, directWrites, handshakeTimeoutMs,
                    idleTimeoutMs, listener, log, verbose, events)));
        }
    }
}
