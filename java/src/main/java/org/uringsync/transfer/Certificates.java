package org.uringsync.transfer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.uringsync.nativeio.TlsContext;

/** The receiver's auto-generated certificate: {@code DIR/server.key} (0600) and {@code DIR/server.crt} (0644), DIR 0700. */
public final class Certificates {
    private Certificates() {}

    /** @return the default directory, {@code ~/.uring-sync} ({@code $HOME} first, as a shell user expects) */
    public static Path defaultDirectory() {
        String home = System.getenv("HOME");
        return Path.of(home != null && !home.isEmpty() ? home : System.getProperty("user.home"), ".uring-sync");
    }

    /**
     * Makes sure {@code dir} holds a key and certificate, generating them (RSA 2048, self-signed,
     * ten years) on first use.
     *
     * @return {certificate, key}
     */
    public static Path[] ensure(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
        Path key = dir.resolve("server.key");
        Path cert = dir.resolve("server.crt");
        boolean hasKey = Files.exists(key);
        boolean hasCert = Files.exists(cert);
        if (hasKey != hasCert) {
            throw new IOException("incomplete certificate in " + dir + ": " + (hasKey ? cert : key)
                    + " is missing; remove " + (hasKey ? key : cert) + " to generate a new pair");
        }
        if (!hasKey) {
            TlsContext.generateSelfSigned(key, cert, "uring-sync");
        }
        return new Path[] {cert, key};
    }
}
