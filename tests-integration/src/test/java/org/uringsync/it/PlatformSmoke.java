package org.uringsync.it;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.uringsync.CopyResult;
import org.uringsync.LocalCopy;
import org.uringsync.nativeio.Errno;
import org.uringsync.nativeio.Fd;
import org.uringsync.nativeio.FileOps;
import org.uringsync.nativeio.NativeLoader;
import org.uringsync.nativeio.Net;
import org.uringsync.nativeio.Ring;
import org.uringsync.nativeio.TlsContext;
import org.uringsync.nativeio.TlsSession;

/**
 * The jar's native library exercised on whatever JVM runs this: loaded for the JVM's platform, its
 * C code called (errno text, a directory listing), OpenSSL used (a key and certificate made, a TLS 1.3
 * handshake and a record each way over loopback), and io_uring either used for a real copy or its
 * unavailability reported in one line. One {@code name: value} line per check on standard output;
 * exit status 1 at the first failure. {@link PlatformSmokeIT} runs it on this machine's JVM and on an
 * arm64 JVM under qemu-user.
 */
public final class PlatformSmoke {
    private PlatformSmoke() {}

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        line("arch", System.getProperty("os.arch"));
        if (!NativeLoader.isLoaded()) {
            line("load", "FAILED " + NativeLoader.failure());
            System.exit(1);
        }
        line("library", NativeLoader.source());
        line("errno", Errno.describe(Errno.ENOENT));

        Path src = Files.createDirectories(work.resolve("src/sub"));
        Files.writeString(src.resolve("../a"), "alpha");
        Files.writeString(src.resolve("b"), "beta");
        line("listing", FileOps.listDirectory(work.resolve("src").toString().getBytes(StandardCharsets.UTF_8), false)
                .entries().stream().map(e -> new String(e.name(), StandardCharsets.UTF_8)).sorted()
                .collect(Collectors.joining(",")));

        Path key = work.resolve("key.pem");
        Path cert = work.resolve("cert.pem");
        TlsContext.generateSelfSigned(key, cert, "smoke");
        try (TlsContext server = TlsContext.server(cert, key, null);
                TlsContext client = TlsContext.client(null);
                Fd listen = Net.listen(InetAddress.getLoopbackAddress(), 0)) {
            int port = listen.localPort();
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> {
                try (Fd conn = Net.accept(listen); TlsSession s = TlsSession.handshake(server, conn, true)) {
                    ByteBuffer buf = ByteBuffer.allocateDirect(5);
                    s.readFully(buf, 0, 5);
                    s.write(buf, 0, 5);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try (Fd conn = Net.connect(InetAddress.getLoopbackAddress(), port, 30_000);
                    TlsSession s = TlsSession.handshake(client, conn, false)) {
                ByteBuffer buf = ByteBuffer.allocateDirect(5).put("hello".getBytes(StandardCharsets.US_ASCII));
                s.write(buf, 0, 5);
                ByteBuffer back = ByteBuffer.allocateDirect(5);
                s.readFully(back, 0, 5);
                byte[] echoed = new byte[5];
                back.get(0, echoed);
                served.get();
                line("tls", s.path() + ", echoed " + new String(echoed, StandardCharsets.US_ASCII));
            }
        }

        if (!Ring.isAvailable()) {
            line("io_uring", "unavailable: " + Ring.unavailabilityCause());
            return;
        }
        Path dst = work.resolve("dst");
        CopyResult r = LocalCopy.builder().build().copy(work.resolve("src"), dst);
        boolean same = r.succeeded() && Arrays.equals(Files.readAllBytes(work.resolve("src/a")), Files.readAllBytes(dst.resolve("a")))
                && Arrays.equals(Files.readAllBytes(src.resolve("b")), Files.readAllBytes(dst.resolve("sub/b")));
        line("io_uring", "copied " + r.files() + " files, " + (same ? "identical" : "DIFFERENT " + r.failures()));
        if (!same) {
            System.exit(1);
        }
    }

    private static void line(String name, String value) {
        System.out.println(name + ": " + value);
    }
}
