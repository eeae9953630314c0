package org.uringsync.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.uringsync.CopyListener;
import org.uringsync.CopyListener.Change;
import org.uringsync.CopyResult;
import org.uringsync.Filter;
import org.uringsync.LocalCopy;
import org.uringsync.Sizes;
import org.uringsync.TransferException;
import org.uringsync.cli.Args.Option;
import org.uringsync.cli.Args.Parsed;
import org.uringsync.cli.Args.UsageException;

/**
 * The {@code uring-sync} command line, a thin layer over the library API.
 *
 * <p>Exit codes, rsync's where they map, mapped here and only here from the library's types (never
 * from message text): 0 success, 1 bad usage, 2 no common protocol (or a broken one), 3 SOURCE could
 * not be read, 5 authentication failed, 10 the receiver could not be reached or the connection was
 * lost, 11 any other failure of the run (file I/O, io_uring unavailable), 23 some entries failed or
 * the receiver refused the transfer (rsync's "partial transfer"), 30 the peer went silent, 35 no
 * answer to the connection in time.
 */
public final class Main {
    public static final int OK = 0, USAGE = 1, PROTOCOL = 2, SOURCE = 3, AUTHENTICATION = 5, CONNECTION = 10, FAILED = 11,
            PARTIAL = 23, TIMEOUT = 30, CONNECT_TIMEOUT = 35;

    static final Args LOCAL = new Args(List.of(
            new Option("-j", "--jobs", "N", "Worker threads, each with its own ring (default: CPU count)"),
            new Option(null, "--chunk-size", "SIZE", "I/O buffer size, K/M suffixes (default: 128K)"),
            new Option("-q", "--queue-depth", "N", "io_uring queue depth (default: 64)"),
            new Option("-p", "--preserve", null, "Keep modification times and, as root, owners (modes always kept)"),
            new Option("-a", "--archive", null, "As rsync -a: recursive, symlinks, modes, times, owners as root (= -p)"),
            new Option("-H", "--hard-links", null, "Keep hard links: files sharing an inode in SOURCE share one in DEST"),
            new Option("-X", "--xattrs", null, "Keep extended attributes (user.*; as root all but system.*)"),
            new Option(null, "--fail-fast", null, "Stop at the first failed entry"),
            new Option(null, "--delete", null, "Remove entries in DEST that SOURCE does not have (after a copy without failures)"),
            new Option(null, "--delete-excluded", null, "As --delete, and remove what the filter excludes too"),
            new Option("-c", "--checksum", null, "Compare same-size files by content (XXH128), not by time"),
            new Option("-n", "--dry-run", null, "Change nothing; with -i or -v, show what a real run would do"),
            new Option("-i", "--itemize-changes", null, "One line per change, as rsync -i (>f+++++++++ new file, ...)"),
            new Option(null, "--stats", "FORMAT", "json: what the run did as one JSON object, the last line of output"),
            new Option(null, "--bwlimit", "RATE", "Copy at most RATE of file data per second (50M, 1G; a bare number is KiB/s)"),
            new Option(null, "--progress", null, "Show the live progress line even when output is not a terminal"),
            new Option(null, "--no-progress", null, "Never draw the progress line (drawn by default when output is a terminal)"),
            new Option(null, "--exclude", "PATTERN", "Leave out entries matching PATTERN (rsync rules; repeatable)"),
            new Option(null, "--include", "PATTERN", "Keep entries matching PATTERN (first matching rule wins)"),
            new Option(null, "--exclude-from", "FILE", "Exclude patterns from FILE, one per line"),
            new Option(null, "--include-from", "FILE", "Include patterns from FILE, one per line"),
            new Option("-v", "--verbose", null, "Verbose output"),
            new Option("-h", "--help", null, "Show help"),
            new Option("-V", "--version", null, "Show the version, the C core loaded, io_uring and kernel TLS here")));

    static final Args SEND = new Args(List.of(
            new Option(null, "--secret", "S", "Shared secret (or --secret-file, or env URING_SYNC_SECRET)"),
            new Option(null, "--secret-file", "F", "Read the secret from F (must not be group/other-readable)"),
            new Option(null, "--chunk-size", "SIZE", "FILE_DATA frame and read size (default: 128K)"),
            new Option("-q", "--queue-depth", "N", "io_uring queue depth (default: 64)"),
            new Option(null, "--no-ktls", null, "Keep TLS in user space (same as --tls-path userspace)"),
            new Option(null, "--tls-path", "PATH", "auto | userspace | ktls | ktls-zerocopy | ktls-sendfile (default: auto)"),
            new Option(null, "--tls-ciphers", "LIST", "TLS 1.3 suites to offer, OpenSSL syntax"),
            new Option(null, "--delete", null, "Have the receiver remove entries SOURCE does not have"),
            new Option(null, "--delete-excluded", null, "As --delete, and remove what the filter excludes too"),
            new Option("-c", "--checksum", null, "Compare same-size files by content (XXH128), not by time"),
            new Option("-n", "--dry-run", null, "Change nothing; with -i or -v, show what a real send would do"),
            new Option("-i", "--itemize-changes", null, "One line per change the receiver makes, as rsync -i"),
            new Option(null, "--stats", "FORMAT", "json: what the send did as one JSON object, the last line of output"),
            new Option(null, "--bwlimit", "RATE", "Send at most RATE of file data per second (50M, 1G; a bare number is KiB/s)"),
            new Option(null, "--progress", null, "Show the live progress line even when output is not a terminal"),
            new Option(null, "--no-progress", null, "Never draw the progress line (drawn by default when output is a terminal)"),
            new Option(null, "--timeout", "SECS", "Fail when the receiver takes nothing and says nothing for SECS (default: 300)"),
            new Option(null, "--contimeout", "SECS", "Time allowed to connect, handshake and authenticate (default: 10)"),
            new Option("-a", "--archive", null, "As rsync -a: owners and groups too (applied by a receiver running as root)"),
            new Option(null, "--numeric-ids", null, "With -a: owners and groups by id, not by name"),
            new Option("-X", "--xattrs", null, "Send extended attributes (user.*; as root all but system.*)"),
            new Option("-H", "--hard-links", null, "Keep hard links: files sharing an inode in SOURCE share one in DEST"),
            new Option(null, "--exclude", "PATTERN", "Leave out entries matching PATTERN (rsync rules; repeatable)"),
            new Option(null, "--include", "PATTERN", "Keep entries matching PATTERN (first matching rule wins)"),
            new Option(null, "--exclude-from", "FILE", "Exclude patterns from FILE, one per line"),
            new Option(null, "--include-from", "FILE", "Include patterns from FILE, one per line"),
            new Option("-v", "--verbose", null, "Verbose output"),
            new Option("-h", "--help", null, "Show help")));

    static final Args RECV = new Args(List.of(
            new Option("-l", "--listen", "PORT", "Port to listen on (default: 8443)"),
            new Option(null, "--bind", "ADDR", "Address to listen on (default: all, IPv4 and IPv6)"),
            new Option(null, "--secret", "S", "Shared secret (or --secret-file, or env URING_SYNC_SECRET; default: generate)"),
            new Option(null, "--secret-file", "F", "Read the secret from F (must not be group/other-readable)"),
            new Option(null, "--cert", "FILE", "Certificate (PEM) instead of ~/.uring-sync/server.crt"),
            new Option(null, "--key", "FILE", "Private key (PEM) instead of ~/.uring-sync/server.key"),
            new Option(null, "--chunk-size", "SIZE", "Write size (default: 128K)"),
            new Option("-q", "--queue-depth", "N", "io_uring queue depth (default: 64)"),
            new Option(null, "--no-ktls", null, "Keep TLS in user space (same as --tls-path userspace)"),
            new Option(null, "--tls-path", "PATH", "auto | userspace | ktls | ktls-zerocopy (default: auto)"),
            new Option(null, "--tls-ciphers", "LIST", "TLS 1.3 suites to accept, OpenSSL syntax"),
            new Option(null, "--direct-io", null, "Write files of 8 MiB+ past the page cache (less CPU; disk-bound)"),
            new Option(null, "--timeout", "SECS", "Drop a connection silent for SECS seconds (default: 300)"),
            new Option(null, "--handshake-timeout", "SECS", "Time allowed for TLS handshake plus authentication (default: 10)"),
            new Option(null, "--once", null, "Serve one transfer, then exit with its status (0, or 23 if it failed)"),
            new Option(null, "--stats", "FORMAT", "json: with --once, the transfer as one JSON object, the last line of output"),
            new Option(null, "--log-file", "FILE", "Append log lines, each with its time, to FILE instead of standard error"),
            new Option(null, "--progress", null, "Show the live line (connections, files, bytes, rate) even when not a terminal"),
            new Option(null, "--no-progress", null, "Never draw the live line (drawn by default when output is a terminal)"),
            new Option("-v", "--verbose", null, "Verbose output: every file received"),
            new Option("-h", "--help", null, "Show help")));

    private Main() {}

    public static void main(String[] args) {
        int rc = run(args, System.out, System.err);
        System.out.flush();
        System.exit(rc);
    }

    /** Runs the command line; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length > 0 && args[0].equals("send")) {
                return Network.send(SEND.parse(rest(args)), out, err);
            }
            if (args.length > 0 && args[0].equals("recv")) {
                return Network.recv(RECV.parse(rest(args)), out, err);
            }
            return local(LOCAL.parse(args), out, err);
        } catch (UsageException | IllegalArgumentException e) {
            err.println("uring-sync: " + e.getMessage());
            err.println("Try 'uring-sync --help' for more information.");
            return USAGE;
        } catch (IOException | IllegalStateException e) {
            err.println("uring-sync: " + e.getMessage());
            return exitCode(e);
        } catch (UncheckedIOException e) {
            err.println("uring-sync: " + e.getCause().getMessage());
            return exitCode(e.getCause());
        } catch (UnsatisfiedLinkError e) {
            err.println("uring-sync: " + e.getMessage());
            return FAILED;
        }
    }

    /** The exit code of a run that failed with {@code e}: by its type (see the class comment). */
    static int exitCode(Throwable e) {
        if (e instanceof TransferException.AuthenticationFailed) {
            return AUTHENTICATION;
        } else if (e instanceof TransferException.Timeout t) {
            return t.connecting() ? CONNECT_TIMEOUT : TIMEOUT;
        } else if (e instanceof TransferException.ConnectionFailed) {
            return CONNECTION;
        } else if (e instanceof TransferException.ProtocolMismatch) {
            return PROTOCOL;
        } else if (e instanceof TransferException.SourceUnreadable) {
            return SOURCE;
        } else if (e instanceof TransferException.Refused) {
            return PARTIAL;
        }
        return FAILED;
    }

    private static int local(Parsed p, PrintStream out, PrintStream err) throws IOException, UsageException {
        if (p.has("--help")) {
            out.print(help());
            return OK;
        }
        if (p.has("--version")) {
            out.print(versionReport());
            return OK;
        }
        if (p.positionals().size() != 2) {
            throw new UsageException("expected SOURCE and DEST, got " + p.positionals().size() + " path(s)");
        }
        boolean verbose = p.has("--verbose");
        boolean dryRun = p.has("--dry-run");
        boolean json = statsJson(p);
        LocalCopy.Builder b = LocalCopy.builder().preserve(p.has("--preserve") || p.has("--archive"))
                .failFast(p.has("--fail-fast"))
                .delete(p.has("--delete")).deleteExcluded(p.has("--delete-excluded")).checksum(p.has("--checksum"))
                .dryRun(dryRun).hardLinks(p.has("--hard-links")).xattrs(p.has("--xattrs"));
        if (p.has("--jobs")) {
            b.jobs(Args.intValue(p, "--jobs", 1, 256));
        }
        if (p.has("--queue-depth")) {
            b.queueDepth(Args.intValue(p, "--queue-depth", 1, 4096));
        }
        if (p.has("--chunk-size")) {
            b.chunkSize(Sizes.parse(p.get("--chunk-size")));
        }
        ProgressLine line = progressLine(p, out);
        if (line != null) {
            b.progress(line);
        }
        if (p.has("--bwlimit")) {
            b.bandwidthLimit(Sizes.parseRate(p.get("--bwlimit")));
        }
        b.listener(new ConsoleListener(out, err, verbose, p.has("--itemize-changes"), dryRun, line)).filter(filter(p));
        LocalCopy copy = b.build();
        if (verbose) {
            err.printf("local copy: jobs=%d chunk=%s queue-depth=%d preserve=%s%n", copy.jobs(),
                    Sizes.format(copy.chunkSize()), copy.queueDepth(), copy.preserve());
        }
        CopyResult r;
        try {
            r = copy.copy(Path.of(p.positionals().get(0)), Path.of(p.positionals().get(1)));
        } finally {
            if (line != null) {
                line.clear();
            }
        }
        out.println(r.summary() + (dryRun ? " (dry run: nothing changed)" : ""));
        if (json) {
            out.println(Stats.json(r, dryRun));
        }
        if (!r.succeeded()) {
            err.println("uring-sync: " + r.failures().size() + " entr" + (r.failures().size() == 1 ? "y" : "ies")
                    + " failed; first: " + r.failures().get(0).getMessage());
            return PARTIAL;
        }
        return OK;
    }

    /**
     * The progress line, on standard output: with --progress, or by default when standard output is a
     * terminal (never in a pipe or a log); null with --no-progress.
     */
    static ProgressLine progressLine(Parsed p, PrintStream out) throws UsageException {
        if (p.has("--progress") && p.has("--no-progress")) {
            throw new UsageException("--progress contradicts --no-progress");
        }
        boolean on = p.has("--progress") || (!p.has("--no-progress") && out == System.out
                && org.uringsync.nativeio.FileOps.isTerminal(1));
        return on ? new ProgressLine(out, org.uringsync.nativeio.FileOps.terminalColumns(1)) : null;
    }

    /** Whether --stats asks for JSON (the one format there is). */
    static boolean statsJson(Parsed p) throws UsageException {
        if (p.has("--stats") && !p.get("--stats").equals("json")) {
            throw new UsageException("--stats takes json, not '" + p.get("--stats") + "'");
        }
        return p.has("--stats");
    }

    /** The --exclude / --include / --exclude-from / --include-from rules, in command-line order. */
    static Filter filter(Parsed p) throws UsageException {
        Filter f = Filter.none();
        for (Args.Given g : p.given()) {
            try {
                f = switch (g.key()) {
                    case "--exclude" -> f.exclude(g.value());
                    case "--include" -> f.include(g.value());
                    case "--exclude-from" -> f.excludeFrom(Path.of(g.value()));
                    case "--include-from" -> f.includeFrom(Path.of(g.value()));
                    default -> f;
                };
            } catch (IOException e) {
                throw new UsageException("cannot read " + g.key() + " " + g.value() + ": " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw new UsageException(g.key() + ": " + e.getMessage());
            }
        }
        return f;
    }

    private static String[] rest(String[] args) {
        return java.util.Arrays.copyOfRange(args, 1, args.length);
    }

    static String help() {
        return String.join("\n",
                "uring-sync - high-performance file copier using io_uring",
                "",
                "USAGE:",
                "    uring-sync [OPTIONS] <SOURCE> <DEST>             Local copy",
                "    uring-sync send [OPTIONS] <SOURCE> <HOST:PORT>   Send to a receiver (see: uring-sync send --help)",
                "    uring-sync recv [OPTIONS] <DEST> -l <PORT>       Receive (see: uring-sync recv --help)",
                "",
                "DEST receives the contents of SOURCE (like rsync -a SOURCE/ DEST/); SOURCE may be a single file.",
                "Modes are always kept; symlinks are copied as links; an existing file in DEST is replaced atomically.",
                "",
                "OPTIONS:",
                LOCAL.optionHelp(),
                "EXIT STATUS (rsync's where they map; the message says why):",
                "    0  success",
                "    1  bad usage",
                "    3  SOURCE could not be read",
                "    11 the copy could not run (destination, io_uring, ...)",
                "    23 some entries failed (each is reported; the rest were copied)",
                "");
    }

    /** Prints failures always, and each copied entry with -v. */
    static final class ConsoleListener implements CopyListener {
        private final PrintStream out;
        private final PrintStream err;
        private final boolean verbose;
        private final boolean itemize;
        private final boolean dryRun;
        private final ProgressLine line; // null: none on screen

        ConsoleListener(PrintStream out, PrintStream err, boolean verbose, ProgressLine line) {
            this(out, err, verbose, false, false, line);
        }

        ConsoleListener(PrintStream out, PrintStream err, boolean verbose, boolean itemize, boolean dryRun, ProgressLine line) {
            this.out = out;
            this.err = err;
            this.verbose = verbose;
            this.itemize = itemize;
            this.dryRun = dryRun;
            this.line = line;
        }

        /** Prints one line above the progress line, if there is one. */
        private void print(PrintStream to, String text) {
            if (line == null) {
                to.println(text);
            } else {
                line.above(() -> {
                    to.println(text);
                    to.flush();
                });
            }
        }

        @Override
        public void copied(String path, long bytes) {
            if (verbose && !itemize) {
                print(out, path.isEmpty() ? "." : path);
            }
        }

        @Override
        public void changed(String path, Change change) {
            boolean dir = change.kind() == Change.Kind.NEW_DIRECTORY;
            String shown = path.isEmpty() ? "./" : dir ? path + "/" : path;
            if (itemize) {
                print(out, change.itemize() + " " + shown);
            } else if (dryRun && verbose) {
                print(out, change.kind() == Change.Kind.DELETED ? "deleting " + shown : shown);
            }
        }

        @Override
        public void failed(String path, IOException cause) {
            print(err, "uring-sync: " + cause.getMessage());
        }

        @Override
        public void deleted(String path) {
            if (verbose && !itemize) {
                print(out, "deleting " + path);
            }
        }

        @Override
        public void skipped(String path, String reason) {
            print(err, "uring-sync: skipping " + path + ": " + reason);
        }
    }

    /** --version: this build, its C core, and what this machine's kernel offers it, in one place. */
    static String versionReport() {
        String io = org.uringsync.nativeio.Ring.isAvailable() ? "available (every operation uring-sync uses: Linux 5.7 or later)"
                : "not available: " + org.uringsync.nativeio.Ring.unavailabilityCause();
        String lib = org.uringsync.nativeio.NativeLoader.isLoaded() ? org.uringsync.nativeio.NativeLoader.source()
                : "not loaded: " + org.uringsync.nativeio.NativeLoader.failure().getMessage();
        return "uring-sync " + version() + "\n"
                + "native library: " + lib + "\n"
                + "io_uring: " + io + "\n"
                + "kernel TLS: " + kernelTls() + "\n"
                + "java: " + System.getProperty("java.version") + " (" + System.getProperty("java.home") + ")\n";
    }

    /** Whether this kernel can take TLS keys (kTLS): the tls ULP registered, or its module there to load. */
    static String kernelTls() {
        try {
            Path ulp = Path.of("/proc/sys/net/ipv4/tcp_available_ulp");
            if (java.nio.file.Files.isReadable(ulp) && List.of(java.nio.file.Files.readString(ulp).trim().split("\\s+")).contains("tls")) {
                return "available (the tls module is loaded)";
            }
            String release = java.nio.file.Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
            Path mods = Path.of("/lib/modules", release, "kernel/net/tls");
            if (java.nio.file.Files.isDirectory(mods)) {
                return "available as a module (" + mods + "; loaded on first use as root, or modprobe tls)";
            }
            return "not available in this kernel (" + release + ": no tls module; CONFIG_TLS): TLS stays in user space";
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    static String version() {
        Package p = Main.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
