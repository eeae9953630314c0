package org.uringsync;

import org.uringsync.nativeio.Ring;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;
import org.uringsync.transfer.Metering;
import org.uringsync.transfer.NetSender;

/**
 * Sends a file tree to a {@link Receiver} over TLS 1.3, authenticated by a pre-shared secret that
 * never crosses the wire.
 *
 * <pre>{@code
 * CopyResult r = Sender.builder("backup.example", 8443).secret("s3cret").build().send(Path.of("/data"));
 * }</pre>
 *
 * {@link #send} returns only when the receiver confirmed that every file is in place; otherwise it
 * throws an {@code IOException} with a one-line reason (wrong secret, connection refused, the
 * receiver's error text, ...). Regular files are sent (directories are implied by their paths);
 * symlinks and special files are skipped and counted. Immutable; each {@code send} uses its own
 * connection.
 */
public final class Sender {
    private final Builder b;

    private Sender(Builder b) {
        this.b = b.copy();
    }

    public static Builder builder(String host, int port) {
        return new Builder(host, port);
    }

    /** Sends {@code source} (a directory's contents, or one file). */
    public CopyResult send(Path source) throws IOException {
        return new NetSender(new NetSender.Config(b.host, b.port, Secrets.check(b.secret), b.ciphers, b.tlsPath, b.chunkSize,
                b.queueDepth, b.connectTimeoutMs, b.idleTimeoutMs, b.listener, b.verbose, b.cancellation, b.filter.rules(),
                b.delete || b.deleteExcluded, b.deleteExcluded, b.hardLinks, b.owners, b.numericIds, b.xattrs, b.checksum, b.dryRun,
                b.itemizeChanges, new Metering(b.progress, b.progressInterval, b.bandwidthLimit)))
                .send(source);
    }

    public static final class Builder {
        private final String host;
        private final int port;
        private String secret;
        private String ciphers;
        private TlsPath tlsPath = TlsPath.AUTO;
        private int chunkSize = 128 * 1024;
        private int queueDepth = 64;
        private int connectTimeoutMs = 10_000;
        private int idleTimeoutMs = 300_000;
        private CopyListener listener = CopyListener.NONE;
        private Cancellation cancellation = Cancellation.NONE;
        private Consumer<String> verbose = s -> {};
        private Filter filter = Filter.none();
        private boolean delete;
        private boolean hardLinks;
        private boolean owners;
        private boolean numericIds;
        private boolean xattrs;
        private boolean deleteExcluded;
        private boolean checksum;
        private boolean dryRun;
        private boolean itemizeChanges;
        private ProgressListener progress;
        private java.time.Duration progressInterval = Metering.NONE.interval();
        private long bandwidthLimit;

        private Builder(String host, int port) {
            this.host = Objects.requireNonNull(host, "host");
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException("port must be 1..65535: " + port);
            }
            this.port = port;
        }

        private Builder copy() {
            Builder c = new Builder(host, port);
            c.secret = secret;
            c.ciphers = ciphers;
            c.tlsPath = tlsPath;
            c.chunkSize = chunkSize;
            c.queueDepth = queueDepth;
            c.connectTimeoutMs = connectTimeoutMs;
            c.idleTimeoutMs = idleTimeoutMs;
            c.listener = listener;
            c.cancellation = cancellation;
            c.verbose = verbose;
            c.filter = filter;
            c.delete = delete;
            c.hardLinks = hardLinks;
            c.owners = owners;
            c.numericIds = numericIds;
            c.xattrs = xattrs;
            c.deleteExcluded = deleteExcluded;
            c.checksum = checksum;
            c.dryRun = dryRun;
            c.itemizeChanges = itemizeChanges;
            c.progress = progress;
            c.progressInterval = progressInterval;
            c.bandwidthLimit = bandwidthLimit;
            return c;
        }

        /**
         * Reports progress to {@code listener} about every 250 ms and once at the end (see {@link
         * ProgressListener}); the totals come from a walk of the source of its own, run only for this.
         */
        public Builder progress(ProgressListener listener) {
            return progress(listener, Metering.NONE.interval());
        }

        /** As {@link #progress(ProgressListener)}, every {@code interval} (at least 10 ms). */
        public Builder progress(ProgressListener listener, java.time.Duration interval) {
            this.progress = Objects.requireNonNull(listener, "listener");
            this.progressInterval = Sizes.checkInterval(interval);
            return this;
        }

        /**
         * Sends at most {@code bytesPerSecond} of file data per second (rsync's --bwlimit): paced over
         * windows of a tenth of a second by sleeping; 0 (the default): no limit.
         */
        public Builder bandwidthLimit(long bytesPerSecond) {
            this.bandwidthLimit = Sizes.checkRate(bytesPerSecond);
            return this;
        }

        /** Leaves out of a directory send what {@code filter} excludes (see {@link Filter}; default: nothing). */
        public Builder filter(Filter filter) {
            this.filter = Objects.requireNonNull(filter, "filter");
            return this;
        }

        /**
         * Have the receiver remove what DEST has and the source lacks (as rsync's --delete), once
         * everything else arrived and only when every source entry could be read; entries the filter
         * excludes are kept. Needs a receiver of protocol version 4.
         */
        public Builder delete(boolean delete) {
            this.delete = delete;
            return this;
        }

        /**
         * Keep hard links (rsync's -H): of source files that share an inode, the first met is sent and
         * the others become hard links to it on the receiver (HARDLINK). Needs a receiver of protocol
         * version 4; with an older one each name is sent as a file of its own.
         */
        public Builder hardLinks(boolean hardLinks) {
            this.hardLinks = hardLinks;
            return this;
        }

        /**
         * Keep owners and groups (rsync's -o -g, part of -a): each entry's owner and group travel by name
         * (OWNER); a receiver running as root gives the entry the ids those names have there (the ids
         * themselves for names it lacks), any other receiver ignores them. Needs protocol version 4.
         */
        public Builder owners(boolean owners) {
            this.owners = owners;
            return this;
        }

        /** With {@link #owners}: the receiver uses the sender's numeric ids, not names (rsync's --numeric-ids). */
        public Builder numericIds(boolean numericIds) {
            this.numericIds = numericIds;
            return this;
        }

        /**
         * Send extended attributes (rsync's -X) of files and directories: "user." ones, or, sending as root,
         * every namespace but "system."; a receiver not running as root applies the "user." ones alone.
         * Needs protocol version 4.
         */
        public Builder xattrs(boolean xattrs) {
            this.xattrs = xattrs;
            return this;
        }

        /** As {@link #delete}, and what the filter excludes goes too (rsync's --delete-excluded). */
        public Builder deleteExcluded(boolean deleteExcluded) {
            this.deleteExcluded = deleteExcluded;
            return this;
        }

        /**
         * Compare files by content (rsync's -c): the sender hashes every file it offers (XXH128, in the C
         * core, many files at once) and the receiver sends for a file unless it has one of the same size
         * whose content hashes the same; a match whose time differs gets the sender's time. Needs
         * protocol version 4 (an older receiver gets the files sent whole).
         */
        public Builder checksum(boolean checksum) {
            this.checksum = checksum;
            return this;
        }

        /**
         * Change nothing (rsync's -n): the receiver looks at DEST and reports, through {@link
         * CopyListener#changed}, each change a real send would make (files, directories, links,
         * deletions); no file data is sent. The result counts the files a real send would send (its byte
         * count stays 0) and the deletions. Needs protocol version 4: an older receiver fails the send
         * before anything is sent.
         */
        public Builder dryRun(boolean dryRun) {
            this.dryRun = dryRun;
            return this;
        }

        /**
         * Have the receiver report each change it makes (rsync's -i) to {@link CopyListener#changed}, after
         * the last file and before it confirms; the result then counts its deletions too. Needs
         * protocol version 4 (an older receiver reports nothing).
         */
        public Builder itemizeChanges(boolean itemizeChanges) {
            this.itemizeChanges = itemizeChanges;
            return this;
        }

        /** The pre-shared secret (required). */
        public Builder secret(String secret) {
            Secrets.check(secret);
            this.secret = secret;
            return this;
        }

        /** TLS 1.3 suites to offer, OpenSSL syntax (e.g. {@code TLS_CHACHA20_POLY1305_SHA256}); default: OpenSSL's. */
        public Builder ciphers(String ciphers) {
            this.ciphers = ciphers;
            return this;
        }

        /** Kernel TLS and splicing, or user-space TLS (default {@link TlsPath#AUTO}). */
        public Builder tlsPath(TlsPath path) {
            this.tlsPath = Objects.requireNonNull(path, "path");
            return this;
        }

        /** FILE_DATA frame size and read size (default 128 KiB; 4 KiB..64 MiB). */
        public Builder chunkSize(long chunkSize) {
            this.chunkSize = Ring.checkChunkSize(chunkSize);
            return this;
        }

        public Builder queueDepth(int queueDepth) {
            this.queueDepth = Ring.checkQueueDepth(queueDepth);
            return this;
        }

        /** Timeout for connecting, the TLS handshake and authentication (default 10 s). */
        public Builder connectTimeout(java.time.Duration timeout) {
            this.connectTimeoutMs = (int) Math.max(1, timeout.toMillis());
            return this;
        }

        /** A receiver that takes nothing and says nothing for this long fails the send (default 5 min). */
        public Builder idleTimeout(java.time.Duration timeout) {
            this.idleTimeoutMs = (int) Math.max(1, timeout.toMillis());
            return this;
        }

        /**
         * Lets another thread stop the send (see {@link Cancellation}): the connection is cut, and the
         * send returns with what was sent and an {@link java.io.InterruptedIOException} among the
         * failures; an interrupt of the sending thread does the same between files.
         */
        public Builder cancellation(Cancellation cancellation) {
            this.cancellation = Objects.requireNonNull(cancellation, "cancellation");
            return this;
        }

        public Builder listener(CopyListener listener) {
            this.listener = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** Receives one-line notes on the connection (TLS path and suite). */
        public Builder verbose(Consumer<String> verbose) {
            this.verbose = Objects.requireNonNull(verbose, "verbose");
            return this;
        }

        public Sender build() {
            if (secret == null) {
                throw new IllegalStateException("a secret is required");
            }
            return new Sender(this);
        }
    }
}
