package org.uringsync.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.uringsync.CopyResult;
import org.uringsync.Receiver;
import org.uringsync.Secrets;
import org.uringsync.Sender;
import org.uringsync.Sizes;
import org.uringsync.cli.Args.Parsed;
import org.uringsync.cli.Args.UsageException;

/** The {@code send} and {@code recv} commands. */
final class Network {
    static final String SECRET_ENV = "URING_SYNC_SECRET";

    private Network() {}

    static int send(Parsed p, PrintStream out, PrintStream err) throws IOException, UsageException {
        if (p.has("--help")) {
            out.print(help("uring-sync send [OPTIONS] <SOURCE> <HOST:PORT>",
                    "Sends SOURCE (a directory's contents, or a file) to a receiver; exits 0 only when the receiver"
                            + " confirmed every file.", Main.SEND));
            return Main.OK;
        }
        if (p.positionals().size() != 2) {
            throw new UsageException("expected SOURCE and HOST:PORT, got " + p.positionals().size() + " argument(s)");
        }
        String[] hp = hostPort(p.positionals().get(1));
        String secret = secret(p);
        if (secret == null) {
            throw new UsageException("no secret given: use --secret, --secret-file or " + SECRET_ENV);
        }
        boolean verbose = p.has("--verbose");
        boolean dryRun = p.has("--dry-run");
        boolean itemize = p.has("--itemize-changes");
        boolean json = Main.statsJson(p);
        ProgressLine line = Main.progressLine(p, out);
        Sender.Builder b = Sender.builder(hp[0], Integer.parseInt(hp[1])).secret(secret)
                .listener(new Main.ConsoleListener(out, err, verbose, itemize, dryRun, line)).filter(Main.filter(p))
                .delete(p.has("--delete")).dryRun(dryRun).itemizeChanges(itemize || (verbose && dryRun))
                .deleteExcluded(p.has("--delete-excluded")).checksum(p.has("--checksum"))
                .hardLinks(p.has("--hard-links")).owners(p.has("--archive")).numericIds(p.has("--numeric-ids"))
                .xattrs(p.has("--xattrs"));
        common(p, b::chunkSize, b::queueDepth);
        if (p.has("--tls-ciphers")) {
            b.ciphers(p.get("--tls-ciphers"));
        }
        b.tlsPath(tlsPath(p));
        if (verbose) {
            b.verbose(text -> above(line, () -> err.println(text)));
        }
        if (line != null) {
            b.progress(line);
        }
        if (p.has("--bwlimit")) {
            b.bandwidthLimit(Sizes.parseRate(p.get("--bwlimit")));
        }
        if (p.has("--timeout")) {
            b.idleTimeout(java.time.Duration.ofSeconds(Args.intValue(p, "--timeout", 1, 86_400)));
        }
        if (p.has("--contimeout")) {
            b.connectTimeout(java.time.Duration.ofSeconds(Args.intValue(p, "--contimeout", 1, 3_600)));
        }
        CopyResult r;
        try {
            r = b.build().send(Path.of(p.positionals().get(0)));
        } finally {
            if (line != null) {
                line.clear();
            }
        }
        out.println(r.summary().replace(", 0 dirs, 0 symlinks", "") + (dryRun ? " (dry run: nothing changed) for " : " sent to ")
                + p.positionals().get(1));
        if (json) {
            out.println(Stats.json(r, dryRun));
        }
        if (!r.succeeded()) {
            err.println("uring-sync: " + r.failures().size() + " file(s) could not be sent; first: "
                    + r.failures().get(0).getMessage());
            return Main.PARTIAL;
        }
        return Main.OK;
    }

    static int recv(Parsed p, PrintStream out, PrintStream err) throws IOException, UsageException {
        if (p.has("--help")) {
            out.print(help("uring-sync recv [OPTIONS] <DEST> -l <PORT>",
                    "Receives into DEST from any number of senders until stopped (Ctrl-C).", Main.RECV));
            return Main.OK;
        }
        if (p.positionals().size() != 1) {
            throw new UsageException("expected DEST, got " + p.positionals().size() + " argument(s)");
        }
        int port = p.has("--listen") ? Args.intValue(p, "--listen", 0, 65535) : 8443;
        InetAddress bind = null;
        if (p.has("--bind")) {
            try {
                bind = InetAddress.getByName(p.get("--bind"));
            } catch (UnknownHostException e) {
                throw new UsageException("cannot resolve --bind " + p.get("--bind"));
            }
        }
        String secret = secret(p);
        boolean generated = secret == null;
        if (generated) {
            secret = Secrets.generate();
        }
        if (p.has("--cert") != p.has("--key")) {
            throw new UsageException("--cert and --key go together");
        }
        boolean verbose = p.has("--verbose");
        ProgressLine line = Main.progressLine(p, out);
        java.util.function.Consumer<String> log = logTo(p, err);
        Receiver.Builder b = Receiver.builder(Path.of(p.positionals().get(0))).port(port).bind(bind).secret(secret)
                .listener(new Main.ConsoleListener(out, err, verbose, line))
                .log(text -> above(line, () -> log.accept(text)));
        common(p, b::chunkSize, b::queueDepth);
        if (p.has("--cert")) {
            b.certificate(Path.of(p.get("--cert")), Path.of(p.get("--key")));
        }
        if (p.has("--tls-ciphers")) {
            b.ciphers(p.get("--tls-ciphers"));
        }
        b.tlsPath(tlsPath(p));
        b.directWrites(p.has("--direct-io"));
        if (p.has("--timeout")) {
            b.idleTimeout(java.time.Duration.ofSeconds(Args.intValue(p, "--timeout", 1, 86_400)));
        }
        if (p.has("--handshake-timeout")) {
            b.handshakeTimeout(java.time.Duration.ofSeconds(Args.intValue(p, "--handshake-timeout", 1, 3_600)));
        }
        if (verbose) {
            b.verbose(text -> above(line, () -> err.println("uring-sync: " + text)));
        }
        CountDownLatch stopped = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger status = new java.util.concurrent.atomic.AtomicInteger(Main.OK);
        boolean json = Main.statsJson(p);
        if (json && !p.has("--once")) {
            throw new UsageException("recv --stats json needs --once (one transfer, one result)");
        }
        java.util.concurrent.atomic.AtomicReference<String> stats = new java.util.concurrent.atomic.AtomicReference<>();
        if (p.has("--once")) { // the first authenticated transfer's end ends the receiver, with its status
            b.events(new Receiver.Events() {
                private final java.util.Map<Long, Integer> protocols = new java.util.concurrent.ConcurrentHashMap<>();

                @Override
                public void authenticated(long id, int protocol, String tlsPath) {
                    protocols.put(id, protocol);
                }

                @Override
                public void finished(long id, Receiver.Transfer t) {
                    Integer protocol = protocols.remove(id);
                    if (t.authenticated() && stopped.getCount() > 0) {
                        status.set(t.completed() ? Main.OK : Main.PARTIAL);
                        stats.set(Stats.json(new CopyResult(t.files(), 0, 0, t.bytes(), 0, t.duration(),
                                t.error() == null ? java.util.List.of() : java.util.List.of(new IOException(t.error())), 0, 0,
                                t.bytes(), t.tlsPath(), null, protocol == null ? 0 : protocol), false));
                        stopped.countDown();
                    }
                }
            });
        }
        Receiver r = b.build().start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            r.close();
            stopped.countDown();
        }, "uring-sync-stop"));
        String where = bind == null ? "[::]" : bind.getHostAddress().contains(":") ? "[" + bind.getHostAddress() + "]"
                : bind.getHostAddress();
        if (generated) {
            out.println("Secret: " + secret);
        }
        out.println("Listening on " + where + ":" + r.port() + (bind == null ? " (all addresses, IPv4 and IPv6)" : ""));
        out.flush();
        try {
            if (line == null) {
                stopped.await();
            } else { // the live line: connections, files and bytes so far, rate
                while (!stopped.await(250, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    line.receiving(r.connections(), r.filesReceived(), r.bytesArrived(), System.nanoTime());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (line != null) {
                line.clear();
            }
        }
        if (p.has("--once")) {
            r.close();
            if (json && stats.get() != null) {
                out.println(stats.get());
            }
            return status.get();
        }
        return Main.OK;
    }

    /** Runs {@code print} above the progress line, when there is one. */
    private static void above(ProgressLine line, Runnable print) {
        if (line == null) {
            print.run();
        } else {
            line.above(print);
        }
    }

    /**
     * Where recv's log lines go: standard error, or with --log-file that file (appended to, created
     * 0640, each line with its time), written and flushed line by line from any thread.
     */
    private static java.util.function.Consumer<String> logTo(Parsed p, PrintStream err) throws UsageException {
        if (!p.has("--log-file")) {
            return line -> err.println("uring-sync: " + line);
        }
        Path file = Path.of(p.get("--log-file"));
        PrintStream log;
        try {
            java.nio.file.Files.newOutputStream(file, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND).close();
            if (java.nio.file.Files.size(file) == 0) {
                java.nio.file.Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
            }
            log = new PrintStream(new java.io.FileOutputStream(file.toFile(), true), true, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UsageException("--log-file " + file + ": " + e.getMessage());
        }
        return line -> {
            synchronized (log) {
                log.println(java.time.OffsetDateTime.now().withNano(0) + " " + line);
            }
        };
    }

    private static org.uringsync.TlsPath tlsPath(Parsed p) throws UsageException {
        if (p.has("--no-ktls") && p.has("--tls-path") && !p.get("--tls-path").equals("userspace")) {
            throw new UsageException("--no-ktls contradicts --tls-path " + p.get("--tls-path"));
        }
        if (p.has("--no-ktls")) {
            return org.uringsync.TlsPath.USERSPACE;
        }
        return p.has("--tls-path") ? org.uringsync.TlsPath.parse(p.get("--tls-path")) : org.uringsync.TlsPath.AUTO;
    }

    private interface SizeSetter {
        void set(long v);
    }

    private interface IntSetter {
        void set(int v);
    }

    private static void common(Parsed p, SizeSetter chunk, IntSetter depth) throws UsageException {
        if (p.has("--chunk-size")) {
            chunk.set(Sizes.parse(p.get("--chunk-size")));
        }
        if (p.has("--queue-depth")) {
            depth.set(Args.intValue(p, "--queue-depth", 1, 4096));
        }
    }

    /** --secret, else --secret-file, else the environment; null when none is given. */
    private static String secret(Parsed p) throws IOException, UsageException {
        if (p.has("--secret") && p.has("--secret-file")) {
            throw new UsageException("give either --secret or --secret-file, not both");
        }
        if (p.has("--secret")) {
            return p.get("--secret");
        }
        if (p.has("--secret-file")) {
            try {
                return Secrets.readFile(Path.of(p.get("--secret-file")));
            } catch (IOException e) { // a secret file that cannot be used is the invocation's fault
                throw new UsageException(e.getMessage());
            }
        }
        String env = System.getenv(SECRET_ENV);
        return env == null || env.isEmpty() ? null : env;
    }

    /** Splits {@code host:port} or {@code [v6]:port}. */
    static String[] hostPort(String s) throws UsageException {
        String host;
        String port;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0 || close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new UsageException("expected [ADDRESS]:PORT, got '" + s + "'");
            }
            host = s.substring(1, close);
            port = s.substring(close + 2);
        } else {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || s.indexOf(':') != colon) {
                throw new UsageException("expected HOST:PORT, got '" + s + "'");
            }
            host = s.substring(0, colon);
            port = s.substring(colon + 1);
        }
        try {
            int n = Integer.parseInt(port);
            if (n < 1 || n > 65535) {
                throw new NumberFormatException();
            }
            return new String[] {host, Integer.toString(n)};
        } catch (NumberFormatException e) {
            throw new UsageException("port must be 1..65535 in '" + s + "'");
        }
    }

    private static String help(String usage, String what, Args args) {
        return "USAGE:\n    " + usage + "\n\n" + what + "\n\nOPTIONS:\n" + args.optionHelp()
                + "\nEXIT STATUS (rsync's where they map; one line says why): 0 success, 1 bad usage, 2 no common protocol,"
                + "\n    3 SOURCE unreadable, 5 authentication failed, 10 connection failed or lost, 11 other failure,"
                + "\n    23 some files could not be sent or the receiver refused, 30 timeout, 35 connect timeout\n";
    }
}
