package org.uringsync.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.Receiver;
import org.uringsync.nativeio.NativeTestSupport;

/** {@code --stats json}: one JSON object on the last line of standard output, its numbers the run's. */
class StatsTest {
    static final String SECRET = "stats-test-secret-0123456789";
    @TempDir
    Path tmp;
    Path src;
    long sizes;

    @BeforeEach
    void tree() throws IOException {
        NativeTestSupport.assumeRing();
        src = tmp.resolve("src");
        for (int d = 0; d < 3; d++) {
            Files.createDirectories(src.resolve("d" + d));
            for (int f = 0; f < 30; f++) {
                String text = "file " + d + "/" + f + "\n".repeat(f * 7);
                Files.writeString(src.resolve("d" + d + "/f" + f), text);
                sizes += text.length();
            }
        }
    }

    /** Runs the command line; @return its exit code and the JSON object of its last line of output. */
    private record Run(int exit, JsonObject stats, String out) {}

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        String last = lines.isEmpty() ? "" : lines.get(lines.size() - 1);
        assertTrue(last.startsWith("{") && last.endsWith("}"), "the last line is the object: " + out + err);
        return new Run(rc, JsonParser.parseString(last).getAsJsonObject(), out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aLocalCopyAndItsSecondRunAreCounted() {
        Path dst = tmp.resolve("dst");
        Run first = run("-p", "--stats", "json", src.toString(), dst.toString());
        assertEquals(0, first.exit());
        JsonObject s = first.stats();
        assertEquals(90, s.get("files_total").getAsLong());
        assertEquals(90, s.get("files_sent").getAsLong());
        assertEquals(0, s.get("files_skipped").getAsLong());
        assertEquals(0, s.get("files_failed").getAsLong());
        assertEquals(sizes, s.get("bytes_sent").getAsLong());
        assertEquals(sizes, s.get("bytes_total").getAsLong());
        assertEquals(0, s.get("bytes_matched").getAsLong());
        assertTrue(s.get("tls_path").isJsonNull() && s.get("tls_cipher").isJsonNull() && s.get("protocol").isJsonNull());
        assertTrue(s.get("seconds").getAsDouble() > 0);
        assertEquals(0, s.getAsJsonArray("errors").size());
        JsonObject second = run("-p", "--stats", "json", src.toString(), dst.toString()).stats();
        assertEquals(90, second.get("files_total").getAsLong());
        assertEquals(0, second.get("files_sent").getAsLong());
        assertEquals(90, second.get("files_skipped").getAsLong());
        assertEquals(0, second.get("bytes_sent").getAsLong());
        assertEquals(sizes, second.get("bytes_total").getAsLong(), "the files left alone count in the total");
    }

    @Test
    void aFailedEntryIsListedWithItsPath() throws IOException {
        Path dst = tmp.resolve("dst");
        Files.createDirectories(dst.resolve("d1/f3")); // a directory where the file must go
        Run r = run("-p", "--stats", "json", src.toString(), dst.toString());
        assertEquals(Main.PARTIAL, r.exit());
        JsonObject s = r.stats();
        assertEquals(1, s.get("files_failed").getAsLong());
        assertEquals(89, s.get("files_sent").getAsLong());
        JsonObject e = s.getAsJsonArray("errors").get(0).getAsJsonObject();
        assertTrue(e.get("path").getAsString().endsWith("d1/f3"), e.toString());
        assertTrue(e.get("error").getAsString().contains("d1/f3"), e.toString());
    }

    @Test
    void aSendReportsItsTlsPathCipherAndProtocol() throws IOException {
        Path dst = tmp.resolve("dst");
        try (Receiver r = Receiver.builder(dst).bind(InetAddress.getLoopbackAddress()).port(0).secret(SECRET)
                .stateDirectory(tmp.resolve("state")).build().start()) {
            String to = "127.0.0.1:" + r.port();
            Run first = run("send", src.toString(), to, "--secret", SECRET, "--stats", "json");
            assertEquals(0, first.exit(), first.out());
            JsonObject s = first.stats();
            assertEquals(90, s.get("files_sent").getAsLong());
            assertEquals(sizes, s.get("bytes_sent").getAsLong());
            assertEquals(sizes, s.get("bytes_total").getAsLong());
            assertEquals(4, s.get("protocol").getAsInt());
            assertTrue(List.of("userspace", "ktls", "ktls+splice").contains(s.get("tls_path").getAsString()), s.toString());
            assertTrue(s.get("tls_cipher").getAsString().startsWith("TLS_"), s.toString());
            JsonObject second = run("send", src.toString(), to, "--secret", SECRET, "--stats", "json").stats();
            assertEquals(0, second.get("bytes_sent").getAsLong());
            assertEquals(90, second.get("files_skipped").getAsLong());
            assertEquals(sizes, second.get("bytes_total").getAsLong());
        }
    }

    @Test
    void stringsAreEscapedAsJson() {
        String nasty = "a\"b\\c\nd\te\u0001f\u007fg\u00e9h\ud83d\ude00i\ud800j";
        StringBuilder b = new StringBuilder();
        Stats.quote(b, nasty);
        String back = JsonParser.parseString(b.toString()).getAsString();
        assertEquals(nasty.replace("\ud800", "\ufffd").length(), back.length());
        assertEquals(nasty.substring(0, nasty.length() - 2), back.substring(0, back.length() - 2));
        assertEquals(-1, b.indexOf("\n"), "one line");
    }

    @Test
    void anotherFormatIsBadUsage() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8);
        assertEquals(Main.USAGE, Main.run(new String[] {"--stats", "xml", src.toString(), tmp.resolve("d").toString()}, ps, ps));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--stats takes json, not 'xml'"), err.toString());
    }
}
