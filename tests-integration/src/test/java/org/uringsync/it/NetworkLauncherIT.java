package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.uringsync.it.Launcher.sh;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** uring-sync recv and uring-sync send as real processes on loopback. */
class NetworkLauncherIT {
    @TempDir
    static Path tmp;
    static Path home;
    static Process receiver;
    static Path receiverOut;
    static int port;

    /** A receiver process with its own HOME (so its certificate lands in a temporary ~/.uring-sync). */
    static Process startReceiver(Path dest, Path out, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Launcher.SCRIPT.toString(), "recv", dest.toString(), "-l", "0"));
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("HOME", home.toString());
        pb.environment().remove("URING_SYNC_SECRET");
        return pb.start();
    }

    static int awaitPort(Process p, Path out) throws Exception {
        Pattern listening = Pattern.compile("Listening on \\S+:(\\d+)");
        for (int i = 0; i < 300; i++) {
            Matcher m = listening.matcher(Files.readString(out, StandardCharsets.ISO_8859_1));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            if (!p.isAlive()) {
                break;
            }
            Thread.sleep(50);
        }
        throw new IOException("receiver did not start:\n" + Files.readString(out));
    }

    @BeforeAll
    static void start() throws Exception {
        home = Files.createDirectory(tmp.resolve("home"));
        receiverOut = tmp.resolve("recv.out");
        receiver = startReceiver(tmp.resolve("recv"), receiverOut, "--secret", "test-secret-0123456789");
        port = awaitPort(receiver, receiverOut);
    }

    @AfterAll
    static void stop() throws Exception {
        receiver.destroy(); // SIGTERM: the receiver closes its connections and exits
        assertTrue(receiver.waitFor(20, TimeUnit.SECONDS));
    }

    static Launcher.Result send(String src, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("send", src, "localhost:" + port));
        args.addAll(List.of(extra));
        return Launcher.run(args.toArray(String[]::new));
    }

    /** The design document's test, with its own receiver so that DEST holds exactly what was sent. */
    @Test
    void theDesignsIntegrationTestAsWritten() throws Exception {
        Path out = tmp.resolve("design.out");
        Process p = startReceiver(tmp.resolve("design-recv"), out, "--secret", "test-secret-0123456789");
        try {
            int designPort = awaitPort(p, out);
            Path send = Files.createDirectory(tmp.resolve("design-send"));
            sh(send, "seq 1 100 | xargs -I{} touch " + send + "/file_{}");
            Launcher.Result r = Launcher.run("send", send.toString(), "localhost:" + designPort, "--secret", "test-secret-0123456789");
            assertEquals(0, r.exit(), r.toString());
            sh(tmp, "diff -r design-send design-recv");
            sh(send, "dd if=/dev/urandom of=" + send + "/large.bin bs=1M count=100 2>/dev/null");
            r = Launcher.run("send", send.toString(), "localhost:" + designPort, "--secret", "test-secret-0123456789");
            assertEquals(0, r.exit(), r.toString());
            sh(tmp, "diff -r design-send design-recv");
            // the design expected all 101 files again; since protocol version 4 only the new one travels
            assertTrue(r.out().contains("1 files, 1 dirs, 0 symlinks, 100.0 MiB") && r.out().contains("100 unchanged"), r.out());
        } finally {
            p.destroy();
            p.waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void nestedTreeWithOddNamesAndFilesFromZeroBytesToOneGiB() throws Exception {
        Path src = Files.createDirectory(tmp.resolve("odd"));
        sh(src, String.join("\n", "set -e",
                "mkdir -p 'odd/a b/c' \"odd/$(printf 'bad\\377dir')\" odd/deep/er/and/deeper",
                "touch odd/zero \"odd/$(printf 'new\\nline')\" \"odd/$(printf 'bad\\377dir/x\\200y')\" 'odd/a..b'",
                "printf 1 > 'odd/a b/c/one'; head -c 4096 /dev/urandom > odd/deep/er/and/deeper/4k",
                "head -c 131073 /dev/urandom > odd/chunk-plus-one; head -c 10485761 /dev/urandom > odd/ten-mib-plus-one",
                "head -c 1073741824 /dev/urandom > odd/one-gib",
                "chmod 600 odd/zero; chmod 755 'odd/a b/c/one'"));
        Launcher.Result r = send(src.toString(), "--secret", "test-secret-0123456789", "-v");
        assertEquals(0, r.exit(), r.toString());
        // On a kernel without kTLS the fallback is automatic and says why; with kTLS, -v names the kernel path.
        assertTrue(r.err().matches("(?s).*tls: (userspace \\(OpenSSL record layer; kernel TLS unavailable: .+\\)"
                + "|kernel tx\\+rx), TLS_\\w+.*"), r.err());
        sh(tmp, "diff -r odd/odd recv/odd && cmp odd/odd/one-gib recv/odd/one-gib");
        assertEquals(sh(src.resolve("odd"), "find . -type f -printf '%P|%m|%s\\0' | sort -z | tr '\\0' '\\n'"),
                sh(tmp.resolve("recv/odd"), "find . -type f -printf '%P|%m|%s\\0' | sort -z | tr '\\0' '\\n'"));
        Files.delete(src.resolve("odd/one-gib"));
        Files.delete(tmp.resolve("recv/odd/one-gib"));
    }

    @Test
    void twoSendersAtOnce() throws Exception {
        Path a = Files.createDirectories(tmp.resolve("two-a/two-a"));
        Path b = Files.createDirectories(tmp.resolve("two-b/two-b"));
        sh(tmp, "for i in $(seq 1 300); do head -c $((i * 13)) /dev/urandom > two-a/two-a/f$i; done;"
                + " head -c 50000000 /dev/urandom > two-b/two-b/big; for i in $(seq 1 50); do printf $i > two-b/two-b/s$i; done");
        List<String> base = List.of(Launcher.SCRIPT.toString(), "send");
        Process pa = new ProcessBuilder(cmd(base, tmp.resolve("two-a").toString())).redirectErrorStream(true).start();
        Process pb = new ProcessBuilder(cmd(base, tmp.resolve("two-b").toString())).redirectErrorStream(true).start();
        String oa = new String(pa.getInputStream().readAllBytes());
        String ob = new String(pb.getInputStream().readAllBytes());
        assertEquals(0, pa.waitFor(), oa);
        assertEquals(0, pb.waitFor(), ob);
        sh(tmp, "diff -r two-a/two-a recv/two-a && diff -r two-b/two-b recv/two-b");
    }

    static List<String> cmd(List<String> base, String src) {
        List<String> c = new ArrayList<>(base);
        c.addAll(List.of(src, "127.0.0.1:" + port, "--secret", "test-secret-0123456789"));
        return c;
    }

    @Test
    void wrongSecretRefusedConnectionsAndBadUsageExitWithRsyncsCodesAndTheReason() throws Exception {
        Launcher.Result r = send(tmp.resolve("home").toString(), "--secret", "nope-not-the-secret");
        assertEquals(5, r.exit(), r.toString()); // authentication failed (rsync's code for a refused daemon login)
        assertEquals("uring-sync: authentication failed: wrong secret", r.err().strip());
        r = Launcher.run("send", tmp.toString(), "127.0.0.1:1", "--secret", "x-secret-0123456789");
        assertEquals(10, r.exit(), r.toString()); // socket I/O
        assertEquals("uring-sync: connect 127.0.0.1:1: Connection refused (ECONNREFUSED)", r.err().strip());
        r = Launcher.run("send", tmp.resolve("no-such-source").toString(), "127.0.0.1:1", "--secret", "x-secret-0123456789");
        assertEquals(3, r.exit(), r.toString()); // SOURCE unreadable: nothing connects
        r = Launcher.run("send", tmp.toString(), "127.0.0.1", "--secret", "x-secret-0123456789");
        assertEquals(1, r.exit(), r.toString()); // usage
        assertEquals("uring-sync: expected HOST:PORT, got '127.0.0.1'", r.err().lines().findFirst().orElseThrow());
        r = Launcher.run("send", tmp.toString(), "127.0.0.1:9");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().startsWith("uring-sync: no secret given: use --secret, --secret-file or URING_SYNC_SECRET"), r.err());
    }

    /**
     * recv --once serves one transfer and exits with its status: 0 after a good send (a port scan and
     * a wrong secret before it do not count), 23 after a transfer the receiver refused. Each completed
     * transfer gets its one log line.
     */
    @Test
    void recvOnceExitsWithTheStatusOfItsOneTransfer() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("once-src/sub"));
        Files.writeString(src.resolve("f"), "once");
        Path dest = tmp.resolve("once-dest");
        Path logFile = tmp.resolve("once-recv.log");
        try (ReceiverProcess r = ReceiverProcess.start(dest, tmp.resolve("once-home"), "once-secret-0123456789", "--once",
                "--log-file", logFile.toString())) {
            new java.net.Socket("127.0.0.1", r.port).close(); // a port scanner
            Launcher.Result wrong = Launcher.run("send", src.getParent().toString(), "127.0.0.1:" + r.port, "--secret",
                    "not-the-secret-0123456789");
            assertEquals(5, wrong.exit(), wrong.toString());
            assertTrue(r.process.isAlive(), "failed attempts are not the transfer");
            Launcher.Result good = Launcher.run("send", src.getParent().toString(), "127.0.0.1:" + r.port, "--secret",
                    "once-secret-0123456789");
            assertEquals(0, good.exit(), good.toString());
            assertTrue(r.process.waitFor(20, TimeUnit.SECONDS), "it exits after the transfer");
            assertEquals(0, r.process.exitValue(), r.log());
            assertEquals("once", Files.readString(dest.resolve("sub/f")));
            String logged = Files.readString(logFile); // --log-file: each line with its time
            assertTrue(logged.lines().anyMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d.* connection \\d+ from "
                    + "127\\.0\\.0\\.1: completed, 1 files, 4 B in .* s, tls .*")), logged);
            assertTrue(logged.contains("refused: wrong secret"), logged);
            assertEquals("rw-r-----", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(logFile)));
        }
        Files.delete(dest.resolve("sub/f"));
        Files.delete(dest.resolve("sub"));
        Files.writeString(dest.resolve("sub"), "a file where the source has a directory: the receiver refuses");
        try (ReceiverProcess r = ReceiverProcess.start(dest, tmp.resolve("once-home"), "once-secret-0123456789", "--once")) {
            Launcher.Result refused = Launcher.run("send", src.getParent().toString(), "127.0.0.1:" + r.port, "--secret",
                    "once-secret-0123456789");
            assertEquals(23, refused.exit(), refused.toString());
            assertTrue(r.process.waitFor(20, TimeUnit.SECONDS));
            assertEquals(23, r.process.exitValue(), r.log());
        }
    }

    @Test
    void firstRunCreatesThePrivateCertificateDirectory() throws Exception {
        Path dir = home.resolve(".uring-sync");
        assertEquals("700", sh(dir, "stat -c %a .").strip());
        assertEquals("600", sh(dir, "stat -c %a server.key").strip());
        assertEquals("644", sh(dir, "stat -c %a server.crt").strip());
        String text = sh(dir, "openssl x509 -in server.crt -noout -subject -enddate; openssl rsa -in server.key -noout -text | head -1");
        assertTrue(text.contains("CN = uring-sync") && text.contains("2048 bit"), text);
    }

    @Test
    void aGeneratedSecretIsPrintedAndWorks() throws Exception {
        Path out = tmp.resolve("gen.out");
        Process p = startReceiver(tmp.resolve("gen-recv"), out);
        try {
            int genPort = awaitPort(p, out);
            Matcher m = Pattern.compile("Secret: (\\S+)").matcher(Files.readString(out));
            assertTrue(m.find(), Files.readString(out));
            assertTrue(m.group(1).length() >= 22, "at least 128 bits");
            Path src = Files.createDirectories(tmp.resolve("gen-src"));
            Files.writeString(src.resolve("f"), "generated");
            Launcher.Result r = Launcher.run("send", src.toString(), "localhost:" + genPort, "--secret", m.group(1));
            assertEquals(0, r.exit(), r.toString());
            assertEquals("generated", Files.readString(tmp.resolve("gen-recv/f")));
        } finally {
            p.destroy();
            p.waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void aSecretFileReadableByOthersIsRefused() throws Exception {
        Path f = tmp.resolve("secret.txt");
        Files.writeString(f, "test-secret-0123456789\n");
        sh(tmp, "chmod 644 secret.txt");
        Launcher.Result r = Launcher.run("send", tmp.toString(), "127.0.0.1:" + port, "--secret-file", f.toString());
        assertEquals(1, r.exit(), r.toString()); // usage: the invocation names a secret file that must not be used
        assertEquals("uring-sync: secret file " + f + " is readable by group or others (mode rw-r--r--); run: chmod 600 " + f,
                r.err().lines().findFirst().orElseThrow());
        sh(tmp, "chmod 600 secret.txt");
        Path src = Files.createDirectories(tmp.resolve("sf-src"));
        Files.writeString(src.resolve("sf"), "via secret file");
        r = Launcher.run("send", src.toString(), "127.0.0.1:" + port, "--secret-file", f.toString());
        assertEquals(0, r.exit(), r.toString());
    }
}
