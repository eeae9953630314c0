package org.uringsync.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.uringsync.Receiver;

/**
 * The launcher's training run for its class cache (AppCDS, or the AOT cache on Java 25+): the
 * commands as a user runs them, on a tiny tree in {@code args[0]} — a local copy, then a send to a
 * receiver in this process on loopback — so that the classes of both load from the cache.
 */
public final class Training {
    private Training() {}

    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        Path src = Files.createDirectories(dir.resolve("src/d"));
        Files.writeString(src.resolve("f"), "training\n");
        Files.createSymbolicLink(src.resolve("l"), Path.of("f"));
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        // --progress: the classes of the progress line (and its source walk) load from the cache too
        int rc = Main.run(new String[] {"-p", "--progress", dir.resolve("src").toString(), dir.resolve("copy").toString()}, quiet,
                quiet);
        Files.delete(src.resolve("l")); // the send below trains the file path (a receiver of version 2 skips links)
        String secret = "training-secret-" + ProcessHandle.current().pid();
        try (Receiver r = Receiver.builder(dir.resolve("received")).bind(java.net.InetAddress.getByName("127.0.0.1"))
                .port(0).secret(secret).stateDirectory(dir.resolve("state")).build().start()) {
            rc |= Main.run(new String[] {"send", "--progress", dir.resolve("src").toString(), "127.0.0.1:" + r.port(), "--secret", secret},
                    quiet, quiet);
        }
        System.exit(rc);
    }
}
