package org.uringsync;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Set;

/** The pre-shared secret: generating one, and reading one from a file that only its owner can read. */
public final class Secrets {
    private Secrets() {}

    /** Made on first use: the security providers take ~20 ms to set up, which a sender never needs. */
    private static final class Random {
        static final SecureRandom INSTANCE = new SecureRandom();
    }

    /** @return 128 random bits as 22 URL-safe base64 characters */
    public static String generate() {
        byte[] b = new byte[16];
        Random.INSTANCE.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /**
     * Reads the secret from the first line of {@code file}.
     *
     * @throws IOException when the file is readable by group or others (the message says how to fix
     *         it), missing, or empty
     */
    public static String readFile(Path file) throws IOException {
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
        if (perms.contains(PosixFilePermission.GROUP_READ) || perms.contains(PosixFilePermission.OTHERS_READ)) {
            throw new IOException("secret file " + file + " is readable by group or others (mode "
                    + PosixFilePermissions.toString(perms) + "); run: chmod 600 " + file);
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int nl = text.indexOf('\n');
        String line = (nl < 0 ? text : text.substring(0, nl)).replace("\r", "");
        if (line.isEmpty()) {
            throw new IOException("secret file " + file + " is empty");
        }
        return line;
    }

    /** Fewest bytes a secret may have: a short one falls to guessing in parallel (a generated one has 22). */
    public static final int MIN_BYTES = 16;

    /** @throws IllegalArgumentException for a secret shorter than {@link #MIN_BYTES} or longer than 1024 bytes */
    public static byte[] check(String secret) {
        byte[] b = secret.getBytes(StandardCharsets.UTF_8);
        if (b.length < MIN_BYTES) {
            throw new IllegalArgumentException("the secret must be at least " + MIN_BYTES + " bytes (it has " + b.length
                    + "): a short secret can be guessed; let recv generate one, or use e.g. openssl rand -base64 16");
        }
        if (b.length > 1024) {
            throw new IllegalArgumentException("the secret must be at most 1024 bytes");
        }
        return b;
    }
}
