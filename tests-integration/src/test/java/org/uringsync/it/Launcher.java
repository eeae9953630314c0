package org.uringsync.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the repository's {@code uring-sync} launcher, or a shell command, as a real process. */
final class Launcher {
    static final Path REPO = Path.of(System.getProperty("uringsync.repo", "..")).toAbsolutePath().normalize();
    static final Path SCRIPT = REPO.resolve("uring-sync");

    record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\nstdout:\n" + out + "\nstderr:\n" + err;
        }
    }

    private Launcher() {}

    /**
     * The library jar as a dependent project gets it: the one {@code mvn install} put into the local
     * repository, or, when only {@code mvn verify} ran, the one the build just packaged.
     */
    static Path libraryJar() {
        String version = System.getProperty("uringsync.version");
        Path installed = Path.of(System.getProperty("uringsync.localRepository", ""),
                "org/uringsync/uring-sync", version, "uring-sync-" + version + ".jar");
        return Files.exists(installed) ? installed : REPO.resolve("java/target/uring-sync-" + version + ".jar");
    }

    static Result run(List<String> prefix, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.add(SCRIPT.toString());
        cmd.addAll(List.of(args));
        return exec(cmd);
    }

    static Result run(String... args) throws IOException, InterruptedException {
        return run(List.of(), args);
    }

    static Result exec(List<String> cmd) throws IOException, InterruptedException {
        Path out = Files.createTempFile("it-out", ".txt");
        Path err = Files.createTempFile("it-err", ".txt");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + cmd);
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1),
                    Files.readString(err, StandardCharsets.ISO_8859_1));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** Runs {@code bash -c script} in {@code dir}; returns stdout, throws on a non-zero exit. */
    static String sh(Path dir, String script) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", "-c", script).directory(dir.toFile()).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        if (p.waitFor() != 0) {
            throw new IOException("bash -c failed: " + script + "\n" + text);
        }
        return text;
    }

    /** Every entry of a tree: name, type, mode, size (not of directories), link target, and mtime if asked. */
    static String listing(Path root, boolean times) throws IOException, InterruptedException {
        String t = times ? "|%T@" : "";
        return sh(root, "find . \\( -type d -printf '%P|d|%m" + t + "\\0' \\) -o -printf '%P|%y|%m|%s|%l" + t
                + "\\0' | sort -z | tr '\\0' '\\n'");
    }
}
