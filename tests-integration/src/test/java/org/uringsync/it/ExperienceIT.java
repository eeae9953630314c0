package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.uringsync.it.Launcher.sh;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher as people meet it: the progress line on a terminal (a pseudo-terminal from
 * {@code script}) and never in a pipe, --bwlimit on a 200 MiB transfer, and the exit codes of a peer
 * that is not a uring-sync receiver, one that never answers, and one that stops reading.
 */
class ExperienceIT {
    static final String SECRET = "experience-secret-0123456789";
    static final String ERASE = "\r\033[K";

    @TempDir
    static Path tmp;
    static Path src;

    @BeforeAll
    static void tree() throws Exception {
        src = Files.createDirectory(tmp.resolve("src"));
        sh(src, "mkdir -p a/b; for i in $(seq 1 100); do head -c $((i * 500)) /dev/urandom > a/f$i; done;"
                + " head -c 20000000 /dev/urandom > a/b/big");
    }

    /** Runs the launcher on a pseudo-terminal (script(1)); what the terminal got, exactly. */
    static Launcher.Result onTerminal(String... args) throws Exception {
        return onTerminalAfter("", args);
    }

    /** As {@link #onTerminal}, after the shell command {@code before} (e.g. stty) on that terminal. */
    static Launcher.Result onTerminalAfter(String before, String... args) throws Exception {
        StringBuilder cmd = new StringBuilder(before).append(Launcher.SCRIPT.toString());
        for (String a : args) {
            cmd.append(" '").append(a).append('\'');
        }
        return Launcher.exec(List.of("script", "-qfec", cmd.toString(), "/dev/null"));
    }

    /** The progress lines drawn: each text between an erase and the next. */
    static List<String> drawn(String terminal) {
        List<String> lines = new ArrayList<>();
        for (String part : terminal.split(Pattern.quote(ERASE), -1)) {
            int end = part.indexOf('\n');
            String text = end < 0 ? part : part.substring(0, end);
            if (text.startsWith("  ") && text.endsWith(" files")) { // not the summary: "101 files, ..."
                lines.add(text);
            }
        }
        return lines;
    }

    @Test
    void theLocalProgressLineIsOnATerminalAndNeverInAPipe() throws Exception {
        Launcher.Result tty = onTerminal("--bwlimit", "16M", "--stats", "json", src.toString(), tmp.resolve("out-tty").toString());
        assertEquals(0, tty.exit(), tty.toString());
        List<String> lines = drawn(tty.out());
        assertTrue(lines.size() >= 3, "a live line, redrawn: " + tty.out());
        Pattern shape = Pattern.compile("  [\\d.]+ (B|KiB|MiB) / [\\d.]+ (B|KiB|MiB)\\+?( +\\d+%)?  [\\d.]+ (B|KiB|MiB)/s"
                + "  ETA (\\d+:\\d\\d:\\d\\d|-:--:--)  [\\d,]+/[\\d,]+\\+? files");
        for (String l : lines) {
            assertTrue(shape.matcher(l).matches(), "'" + l + "'");
        }
        assertTrue(lines.get(lines.size() - 1).contains("101/101 files"), lines.toString());
        // cleared at the end: the summary starts a clean line right after an erase, the JSON is the last line
        String tail = tty.out().substring(tty.out().lastIndexOf(ERASE) + ERASE.length());
        List<String> after = tail.lines().map(String::strip).filter(s -> !s.isEmpty()).toList();
        assertEquals(2, after.size(), tail);
        assertTrue(after.get(0).startsWith("101 files, 3 dirs"), after.get(0));
        assertTrue(after.get(1).startsWith("{\"files_total\":101,"), after.get(1));

        Launcher.Result pipe = Launcher.run("--bwlimit", "16M", src.toString(), tmp.resolve("out-pipe").toString());
        assertEquals(0, pipe.exit(), pipe.toString());
        assertFalse(pipe.out().contains("\r") || pipe.out().contains("\033") || pipe.err().contains("\033"), pipe.toString());
        assertEquals(1, pipe.out().lines().count(), pipe.out());

        Launcher.Result forced = Launcher.run("--progress", src.toString(), tmp.resolve("out-forced").toString());
        assertEquals(0, forced.exit(), forced.toString());
        assertTrue(forced.out().contains(ERASE) && !drawn(forced.out()).isEmpty(), forced.toString());
        Launcher.Result off = onTerminal("--no-progress", src.toString(), tmp.resolve("out-off").toString());
        assertFalse(off.out().contains("\033"), off.toString());

        // a narrow terminal: the line is cut to its width (TIOCGWINSZ), never wrapped
        Launcher.Result narrow = onTerminalAfter("stty cols 40; ", "--bwlimit", "16M", src.toString(),
                tmp.resolve("out-narrow").toString());
        assertEquals(0, narrow.exit(), narrow.toString());
        List<String> cut = new ArrayList<>();
        for (String part : narrow.out().split(Pattern.quote(ERASE), -1)) {
            if (part.startsWith("  ") && !part.contains("\n")) {
                cut.add(part);
            }
        }
        assertTrue(cut.size() >= 3 && cut.stream().allMatch(l -> l.length() == 39), cut.toString());
    }

    @Test
    void sendAndRecvDrawTheirLinesOnATerminalOnly() throws Exception {
        Path dest = tmp.resolve("recv-progress");
        Path recvOut = tmp.resolve("recv-tty.out");
        Files.createDirectories(tmp.resolve("home"));
        // the receiver on a terminal too: its line counts connections, files and bytes
        String recv = Launcher.SCRIPT + " recv " + dest + " -l 0 --bind 127.0.0.1 --secret " + SECRET + " --once";
        ProcessBuilder pb = new ProcessBuilder("script", "-qfec", recv, "/dev/null").redirectErrorStream(true)
                .redirectOutput(recvOut.toFile());
        pb.environment().put("HOME", tmp.resolve("home").toString());
        Process receiver = pb.start();
        int port = NetworkLauncherIT.awaitPort(receiver, recvOut);
        Launcher.Result tty = onTerminal("send", "--bwlimit", "16M", src.toString(), "127.0.0.1:" + port, "--secret", SECRET);
        assertEquals(0, tty.exit(), tty.toString());
        assertTrue(drawn(tty.out()).size() >= 3, tty.out());
        assertTrue(drawn(tty.out()).get(drawn(tty.out()).size() - 1).contains("101/101 files"), tty.out());
        assertTrue(receiver.waitFor(20, TimeUnit.SECONDS));
        String got = Files.readString(recvOut, StandardCharsets.ISO_8859_1);
        assertTrue(Pattern.compile(Pattern.quote(ERASE) + "  1 connection  [\\d,]+ files  [\\d.]+ (B|KiB|MiB)  [\\d.]+ (B|KiB|MiB)/s")
                .matcher(got).find(), got);
        sh(tmp, "diff -r src recv-progress");

        try (ReceiverProcess r = ReceiverProcess.start(tmp.resolve("recv-pipe"), tmp.resolve("home"), SECRET, "--once",
                "--stats", "json")) {
            Launcher.Result pipe = Launcher.run("send", src.toString(), "127.0.0.1:" + r.port, "--secret", SECRET);
            assertEquals(0, pipe.exit(), pipe.toString());
            assertFalse(pipe.out().contains("\033"), pipe.toString());
            assertTrue(r.process.waitFor(20, TimeUnit.SECONDS));
            assertFalse(r.log().contains("\033"), r.log());
            // recv --once --stats json: the one transfer, alone on the last line
            List<String> lines = r.log().lines().toList();
            String json = lines.get(lines.size() - 1);
            long bytes = 500L * 5050 + 20_000_000; // a/f1..a/f100 and a/b/big
            assertTrue(json.startsWith("{\"files_total\":101,\"files_sent\":101,") && json.contains("\"bytes_sent\":" + bytes + ",")
                    && json.contains("\"files_failed\":0,") && json.contains("\"protocol\":4,") && json.endsWith("\"errors\":[]}"), json);
        }
    }

    static final Pattern AVERAGE = Pattern.compile("200\\.0 MiB in [\\d.]+ s \\(([\\d.]+) MiB/s\\)");

    /** The average over the transfer, from the summary line; within 5% of 20 MiB/s, 200 MiB in at least 9.5 s. */
    static void assertKeptTo20M(Launcher.Result r, long nanos) {
        assertEquals(0, r.exit(), r.toString());
        assertTrue(nanos >= 9_500_000_000L, "200 MiB at 20M took " + nanos / 1_000_000 + " ms");
        Matcher m = AVERAGE.matcher(r.out());
        assertTrue(m.find(), r.out());
        double avg = Double.parseDouble(m.group(1));
        assertTrue(Math.abs(avg - 20) <= 20 * 0.05, "reported average " + avg + " MiB/s");
    }

    @Test
    void bwlimit20MKeeps200MiBToTheRateLocallyAndOverTheNetwork() throws Exception {
        Path big = Files.createDirectory(tmp.resolve("bw"));
        sh(big, "head -c 104857600 /dev/urandom > one; for i in $(seq 1 100); do head -c 1048576 /dev/urandom > m$i; done");
        long t0 = System.nanoTime();
        Launcher.Result local = Launcher.run("--bwlimit", "20M", big.toString(), tmp.resolve("bw-out").toString());
        assertKeptTo20M(local, System.nanoTime() - t0);
        assertTrue(local.out().contains("200.0 MiB"), local.out());
        sh(tmp, "diff -r bw bw-out");
        try (ReceiverProcess r = ReceiverProcess.start(tmp.resolve("bw-recv"), tmp.resolve("home"), SECRET, "--once")) {
            t0 = System.nanoTime();
            Launcher.Result send = Launcher.run("send", "--bwlimit", "20M", big.toString(), "127.0.0.1:" + r.port, "--secret", SECRET);
            assertKeptTo20M(send, System.nanoTime() - t0);
            assertTrue(r.process.waitFor(20, TimeUnit.SECONDS));
        }
        sh(tmp, "diff -r bw bw-recv");
        Launcher.Result bad = Launcher.run("--bwlimit", "fast", big.toString(), tmp.resolve("bw-bad").toString());
        assertEquals(1, bad.exit(), bad.toString());
        assertTrue(bad.err().startsWith("uring-sync: not a rate: 'fast'"), bad.err());
    }

    /** A peer on loopback that answers the way a server of another protocol would. */
    static Thread serve(ServerSocket s, byte[] greeting, long holdMs) {
        Thread t = new Thread(() -> {
            try (Socket c = s.accept()) {
                c.getOutputStream().write(greeting);
                c.getOutputStream().flush();
                Thread.sleep(holdMs);
            } catch (IOException | InterruptedException ignored) {
                // the test is over
            }
        });
        t.start();
        return t;
    }

    @Test
    void aPeerOfAnotherProtocolExits2AndOneThatNeverAnswersExits35() throws Exception {
        try (ServerSocket ssh = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Thread t = serve(ssh, "SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n".getBytes(StandardCharsets.US_ASCII), 2000);
            Launcher.Result r = Launcher.run("send", src.toString(), "127.0.0.1:" + ssh.getLocalPort(), "--secret", SECRET);
            assertEquals(2, r.exit(), r.toString());
            assertTrue(r.err().startsWith("uring-sync: no TLS 1.3 session with 127.0.0.1:" + ssh.getLocalPort()
                    + " (is it a uring-sync receiver?"), r.err());
            t.join();
        }
        try (ServerSocket silent = new ServerSocket(0, 5, InetAddress.getLoopbackAddress())) {
            Thread t = serve(silent, new byte[0], 5000);
            long t0 = System.nanoTime();
            Launcher.Result r = Launcher.run("send", src.toString(), "127.0.0.1:" + silent.getLocalPort(), "--secret", SECRET,
                    "--contimeout", "2");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(35, r.exit(), r.toString());
            assertEquals("uring-sync: TLS handshake: no answer from 127.0.0.1:" + silent.getLocalPort() + " within 2000 ms",
                    r.err().strip());
            assertTrue(ms >= 2000 && ms < 4500, ms + " ms");
            t.interrupt();
            t.join();
        }
    }

    /** A receiver that stops reading mid-transfer (stopped with SIGSTOP): the send exits 30 after --timeout. */
    @Test
    void aReceiverThatStopsReadingMidTransferExits30() throws Exception {
        Path big = Files.createDirectory(tmp.resolve("stall"));
        sh(big, "head -c 268435456 /dev/urandom > big");
        try (ReceiverProcess r = ReceiverProcess.start(tmp.resolve("stall-recv"), tmp.resolve("home"), SECRET)) {
            Process send = new ProcessBuilder(Launcher.SCRIPT.toString(), "send", big.toString(), "127.0.0.1:" + r.port,
                    "--secret", SECRET, "--timeout", "2", "--bwlimit", "64M").redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("stall.out").toFile()).start();
            Path temp = tmp.resolve("stall-recv");
            long end = System.nanoTime() + 20_000_000_000L;
            while (sh(temp.getParent(), "find stall-recv -type f -size +4M 2>/dev/null | head -1").isBlank()
                    && System.nanoTime() < end) {
                Thread.sleep(20);
            }
            sh(tmp, "kill -STOP " + r.process.pid());
            try {
                assertTrue(send.waitFor(30, TimeUnit.SECONDS), "the send gave up");
                String out = Files.readString(tmp.resolve("stall.out"));
                assertEquals(30, send.exitValue(), out);
            } finally {
                sh(tmp, "kill -CONT " + r.process.pid());
            }
        }
    }
}
