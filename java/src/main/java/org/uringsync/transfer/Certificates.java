package org.uringsync.transfer;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.uringsync.nativeio.TlsContext;

/** The receiver's auto-generated certificate: {@code DIR/server.key} (0600) and {@code DIR/server.crt} (0644), DIR 0700. */
public final class Certificates {
    /** How long a receiver waits for the certificate of a pair another process is placing. */
    static final long PLACING_WAIT_MS = 10_000;

    private Certificates() {}

    /** @return the default directory, {@code ~/.uring-sync} ({@code $HOME} first, as a shell user expects) */
    public static Path defaultDirectory() {
        String home = System.getenv("HOME");
        return Path.of(home != null && !home.isEmpty() ? home : System.getProperty("user.home"), ".uring-sync");
    }

    /**
     * Makes sure {@code dir} holds a key and certificate, generating them (RSA 2048, self-signed,
     * ten years) on first use. Safe when several processes start at once: each generates under
     * temporary names, the first to link its key into place places its certificate too, and the
     * others use that pair.
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
        if (!Files.exists(key) && !Files.exists(cert)) {
            generate(dir, key, cert);
        }
        awaitCertificate(key, cert);
        if (!Files.exists(key)) {
            throw new IOException("incomplete certificate in " + dir + ": " + key + " is missing; remove " + cert
                    + " to generate a new pair");
        }
        return new Path[] {cert, key};
    }

    private static void generate(Path dir, Path key, Path cert) throws IOException {
        String tag = "." + ProcessHandle.current().pid() + "-" + Thread.currentThread().getId() + "-" + System.nanoTime() + ".tmp";
        Path tmpKey = dir.resolve("server.key" + tag);
        Path tmpCert = dir.resolve("server.crt" + tag);
        try {
            TlsContext.generateSelfSigned(tmpKey, tmpCert, "uring-sync");
            try {
                Files.createLink(key, tmpKey); // the one atomic step: whoever places the key places the pair
            } catch (FileAlreadyExistsException lost) {
                return; // another process won; awaitCertificate waits for its certificate
            }
            Files.createLink(cert, tmpCert);
        } finally {
            Files.deleteIfExists(tmpKey);
            Files.deleteIfExists(tmpCert);
        }
    }

    /** A key without its certificate is a pair being placed by another process: wait for it, for a while. */
    private static void awaitCertificate(Path key, Path cert) throws IOException {
        long end = System.nanoTime() + PLACING_WAIT_MS * 1_000_000L;
        while (Files.exists(key) && !Files.exists(cert)) {
            boolean recent = Files.getLastModifiedTime(key).toMillis() > System.currentTimeMillis() - 2 * PLACING_WAIT_MS;
            if (!recent || System.nanoTime() > end) {
                throw new IOException("incomplete certificate in " + key.getParent() + ": " + cert + " is missing; remove "
                        + key + " to generate a new pair");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + cert);
            }
        }
    }
}
