package org.uringsync.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** A {@code uring-sync recv} process for fault and load tests: its port, its log, and what it holds. */
final class ReceiverProcess implements AutoCloseable {
    final Process process;
    final Path log;
    final int port;

    private ReceiverProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** Starts {@code uring-sync recv DEST -l 0 --bind 127.0.0.1 --secret SECRET EXTRA...} with HOME = {@code home}. */
    static ReceiverProcess start(Path dest, Path home, String secret, String... extra) throws Exception {
        Files.createDirectories(home);
        Path log = Files.createTempFile(home, "recv", ".log");
        List<String> cmd = new ArrayList<>(List.of(Launcher.SCRIPT.toString(), "recv", dest.toString(), "-l", "0", "--bind",
                "127.0.0.1", "--secret", secret));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("HOME", home.toString());
        pb.environment().remove("URING_SYNC_SECRET");
        Process p = pb.start();
        return new ReceiverProcess(p, log, NetworkLauncherIT.awaitPort(p, log));
    }

    String log() throws IOException {
        return Files.readString(log, StandardCharsets.ISO_8859_1);
    }

    /**
     * What a connection could leak: descriptors (not the JVM's own jars and modules), rings among them,
     * connection threads (named uring-sync-recv-N), all threads, RSS.
     */
    record Usage(long fds, long rings, long connectionThreads, long threads, long rssKb) {}

    Usage usage() throws IOException {
        long pid = process.pid();
        long fds = 0, rings = 0;
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path p : s.toList()) {
                String target;
                try {
                    target = Files.readSymbolicLink(p).toString();
                } catch (IOException gone) {
                    continue; // closed while we looked
                }
                if (target.endsWith(".jar") || target.endsWith("/lib/modules") || target.endsWith(".jsa")) {
                    continue;
                }
                fds++;
                if (target.contains("io_uring")) {
                    rings++;
                }
            }
        }
        long connections = 0;
        try (Stream<Path> s = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : s.toList()) {
                try {
                    if (Files.readString(t.resolve("comm")).startsWith("uring-sync-recv")) {
                        connections++;
                    }
                } catch (IOException gone) {
                    // ended while we looked
                }
            }
        }
        long threads = 0, rss = 0;
        for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
            if (line.startsWith("Threads:")) {
                threads = Long.parseLong(line.substring(8).trim());
            } else if (line.startsWith("VmRSS:")) {
                rss = Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
            }
        }
        return new Usage(fds, rings, connections, threads, rss);
    }

    /** Waits (at most 15 s) until the receiver holds no more descriptors than {@code base} and no connection thread. */
    Usage awaitBack(Usage base) throws Exception {
        long end = System.nanoTime() + 15_000_000_000L;
        Usage u = usage();
        while ((u.fds() > base.fds() || u.connectionThreads() > 0) && System.nanoTime() < end) {
            Thread.sleep(50);
            u = usage();
        }
        return u;
    }

    /** Its descriptors, one per line, for messages. */
    String fdList() throws IOException, InterruptedException {
        return Launcher.sh(Path.of("/"), "ls -l /proc/" + process.pid() + "/fd | tail -n +2");
    }

    void kill() throws InterruptedException {
        process.destroyForcibly(); // SIGKILL
        process.waitFor(20, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy(); // SIGTERM: the receiver ends its connections and exits
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
