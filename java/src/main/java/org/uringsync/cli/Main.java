package org.uringsync.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import org.uringsync.CopyListener;
import org.uringsync.CopyResult;
import org.uringsync.LocalCopy;
import org.uringsync.Sizes;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParseResult;

/**
 * The {@code uring-sync} command line, a thin layer over the library API.
 *
 * <p>The command model is built with picocli's programmatic API (no annotation scanning at start-up).
 * Exit codes, mapped here and only here: 0 success, 1 the run could not be done, 2 bad usage,
 * 23 some entries failed (as rsync's "partial transfer").
 */
public final class Main {
    public static final int OK = 0, FAILED = 1, USAGE = 2, PARTIAL = 23;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command line; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cl = new CommandLine(localSpec());
        cl.setOut(new java.io.PrintWriter(out, true));
        cl.setErr(new java.io.PrintWriter(err, true));
        ParseResult pr;
        try {
            pr = cl.parseArgs(args);
        } catch (CommandLine.ParameterException e) {
            err.println("uring-sync: " + e.getMessage());
            err.println("Try 'uring-sync --help' for more information.");
            return USAGE;
        }
        if (pr.isUsageHelpRequested()) {
            cl.usage(out);
            return OK;
        }
        if (pr.isVersionHelpRequested()) {
            cl.printVersionHelp(out);
            return OK;
        }
        try {
            return runLocal(pr, out, err);
        } catch (IllegalArgumentException e) {
            err.println("uring-sync: " + e.getMessage());
            return USAGE;
        } catch (IOException | IllegalStateException e) {
            err.println("uring-sync: " + e.getMessage());
            return FAILED;
        } catch (UncheckedIOException e) {
            err.println("uring-sync: " + e.getCause().getMessage());
            return FAILED;
        } catch (UnsatisfiedLinkError e) {
            err.println("uring-sync: " + e.getMessage());
            return FAILED;
        }
    }

    private static int runLocal(ParseResult pr, PrintStream out, PrintStream err) throws IOException {
        List<String> paths = pr.matchedPositionalValue(0, List.of());
        if (paths.size() != 2) {
            err.println("uring-sync: expected SOURCE and DEST, got " + paths.size() + " path(s)");
            err.println("Try 'uring-sync --help' for more information.");
            return USAGE;
        }
        boolean verbose = pr.hasMatchedOption("-v");
        LocalCopy.Builder b = LocalCopy.builder()
                .preserve(pr.hasMatchedOption("-p"))
                .failFast(pr.hasMatchedOption("--fail-fast"));
        if (pr.hasMatchedOption("-j")) {
            b.jobs(pr.matchedOptionValue("-j", 0));
        }
        if (pr.hasMatchedOption("-q")) {
            b.queueDepth(pr.matchedOptionValue("-q", 0));
        }
        if (pr.hasMatchedOption("-c")) {
            b.chunkSize(Sizes.parse(pr.matchedOptionValue("-c", "")));
        }
        b.listener(new ConsoleListener(out, err, verbose));
        LocalCopy copy = b.build();
        if (verbose) {
            err.printf("local copy: jobs=%d chunk=%s queue-depth=%d preserve=%s%n", copy.jobs(),
                    Sizes.format(copy.chunkSize()), copy.queueDepth(), copy.preserve());
        }
        CopyResult r = copy.copy(Path.of(paths.get(0)), Path.of(paths.get(1)));
        out.println(r.summary());
        if (!r.succeeded()) {
            err.println("uring-sync: " + r.failures().size() + " entr" + (r.failures().size() == 1 ? "y" : "ies")
                    + " failed; first: " + r.failures().get(0).getMessage());
            return PARTIAL;
        }
        return OK;
    }

    /** Prints failures always, and each copied entry with -v. */
    private static final class ConsoleListener implements CopyListener {
        private final PrintStream out;
        private final PrintStream err;
        private final boolean verbose;

        ConsoleListener(PrintStream out, PrintStream err, boolean verbose) {
            this.out = out;
            this.err = err;
            this.verbose = verbose;
        }

        @Override
        public void copied(String path, long bytes) {
            if (verbose) {
                out.println(path.isEmpty() ? "." : path);
            }
        }

        @Override
        public void failed(String path, IOException cause) {
            err.println("uring-sync: " + cause.getMessage());
        }

        @Override
        public void skipped(String path, String reason) {
            err.println("uring-sync: skipping " + path + ": " + reason);
        }
    }

    static CommandSpec localSpec() {
        CommandSpec spec = CommandSpec.create().name("uring-sync").mixinStandardHelpOptions(true)
                .version("uring-sync " + version());
        spec.usageMessage()
                .description("High-performance file copier using io_uring.",
                        "DEST receives the contents of SOURCE (like rsync -a SOURCE/ DEST/); SOURCE may be a file.")
                .customSynopsis("uring-sync [OPTIONS] <SOURCE> <DEST>")
                .footerHeading("%nExit status:%n")
                .footer("  0  success", "  1  the copy could not run (message says why)", "  2  bad usage",
                        "  23 some entries failed (each is reported; the rest were copied)");
        spec.addOption(OptionSpec.builder("-j", "--jobs").paramLabel("N").type(int.class)
                .description("Worker threads, each with its own ring (default: CPU count)").build());
        spec.addOption(OptionSpec.builder("-c", "--chunk-size").paramLabel("SIZE").type(String.class)
                .description("I/O buffer size, K/M suffixes (default: 128K)").build());
        spec.addOption(OptionSpec.builder("-q", "--queue-depth").paramLabel("N").type(int.class)
                .description("io_uring queue depth (default: 64)").build());
        spec.addOption(OptionSpec.builder("-v", "--verbose").description("Verbose output").build());
        spec.addOption(OptionSpec.builder("-p", "--preserve")
                .description("Keep modification times and, as root, owners (modes are always kept)").build());
        spec.addOption(OptionSpec.builder("--fail-fast").description("Stop at the first failed entry").build());
        spec.addPositional(PositionalParamSpec.builder().index("0..*").paramLabel("PATH").type(List.class).auxiliaryTypes(String.class)
                .description("SOURCE and DEST").build());
        return spec;
    }

    private static String version() {
        Package p = Main.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
