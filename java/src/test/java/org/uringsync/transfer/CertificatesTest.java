package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.uringsync.nativeio.NativeTestSupport;
import org.uringsync.nativeio.TlsContext;

class CertificatesTest {
    @TempDir
    Path tmp;

    /**
     * Receivers started at the same moment with no state directory yet: every one gets the same
     * matching pair (one used to fail with "write key .../server.key: File exists (EEXIST)").
     */
    @Test
    void receiversStartingTogetherShareOnePair() throws Exception {
        NativeTestSupport.assumeRing();
        int n = 4;
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            for (int round = 0; round < 3; round++) {
                Path dir = tmp.resolve("state" + round);
                CyclicBarrier start = new CyclicBarrier(n);
                List<Future<Path[]>> all = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    all.add(pool.submit(() -> {
                        start.await();
                        return Certificates.ensure(dir);
                    }));
                }
                for (Future<Path[]> f : all) {
                    Path[] pair = f.get();
                    assertEquals(dir.resolve("server.crt"), pair[0]);
                    assertEquals(dir.resolve("server.key"), pair[1]);
                }
                try (TlsContext ctx = TlsContext.server(dir.resolve("server.crt"), dir.resolve("server.key"), null)) {
                    // OpenSSL checked that the key belongs to the certificate
                }
                try (Stream<Path> s = Files.list(dir)) {
                    assertEquals(List.of("server.crt", "server.key"), s.map(p -> p.getFileName().toString()).sorted().toList(),
                            "no temporary file left");
                }
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("server.key"))));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anOldKeyWithoutItsCertificateIsAClearErrorAtOnce() throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("state"));
        Path key = Files.writeString(dir.resolve("server.key"), "x");
        Files.setLastModifiedTime(key, FileTime.fromMillis(System.currentTimeMillis() - 3600_000));
        long t0 = System.nanoTime();
        IOException e = assertThrows(IOException.class, () -> Certificates.ensure(dir));
        assertTrue((System.nanoTime() - t0) < Certificates.PLACING_WAIT_MS * 1_000_000L, "no wait for an old key");
        assertEquals("incomplete certificate in " + dir + ": " + dir.resolve("server.crt") + " is missing; remove " + key
                + " to generate a new pair", e.getMessage());
    }
}
