package org.uringsync.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.uringsync.Receiver;
import org.uringsync.Sender;
import org.uringsync.TlsPath;
import org.uringsync.transfer.Certificates;

/**
 * Loopback transfer of the same data on each path: plain TCP with sendfile (no TLS: the ceiling),
 * JDK SSLSocket (what a Java developer would otherwise write), and the library's sender/receiver on
 * user-space TLS, kernel TLS and kernel TLS with splice. A path the running kernel cannot do fails
 * its trial with "unavailable: <reason>" (JMH prints it) rather than being dropped.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class TransferBenchmark {
    @Param({"4K", "1M", "256M", "1000x4K"})
    public String data;

    @Param({"plain-tcp", "jsse", "userspace", "ktls", "ktls-zerocopy"})
    public String path;

    private Path src;
    private Path dst;
    private Path state;
    private Receiver receiver;
    private Sender sender;
    private PlainServer plain;
    private JsseServer jsse;
    private List<Path> files;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        src = Data.create(data);
        dst = Files.createTempDirectory("usync-bench-dst");
        state = Files.createTempDirectory("usync-bench-state");
        try (Stream<Path> s = Files.walk(src)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        switch (path) {
            case "plain-tcp" -> plain = new PlainServer(dst);
            case "jsse" -> jsse = new JsseServer(dst, Certificates.ensure(state));
            default -> {
                TlsPath p = TlsPath.parse(path);
                List<String> seen = new ArrayList<>();
                receiver = Receiver.builder(dst).port(0).bind(InetAddress.getLoopbackAddress()).secret("bench-secret-0123456789")
                        .stateDirectory(state).tlsPath(p).build().start();
                sender = Sender.builder("127.0.0.1", receiver.port()).secret("bench-secret-0123456789").tlsPath(p).verbose(seen::add).build();
                sender.send(src);
                if (p != TlsPath.USERSPACE && seen.stream().anyMatch(l -> l.startsWith("tls: userspace"))) {
                    throw new IllegalStateException("unavailable on this kernel: " + seen);
                }
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (receiver != null) {
            receiver.close();
        }
        if (plain != null) {
            plain.close();
        }
        if (jsse != null) {
            jsse.close();
        }
        Data.clear(src, true);
        Data.clear(dst, true);
        Data.clear(state, true);
    }

    @Setup(Level.Invocation)
    public void emptyDestination() throws IOException {
        Data.clear(dst, false);
    }

    @Benchmark
    public long transfer(Bytes bytes) throws Exception {
        long n = switch (path) {
            case "plain-tcp" -> plain.send(files, src);
            case "jsse" -> jsse.send(files, src);
            default -> sender.send(src).bytes();
        };
        bytes.add(n);
        return n;
    }

    // ---- the baselines: a length-prefixed stream of files, over plain TCP or JSSE ---------------------

    /** Plain TCP: the client sendfile()s each file (FileChannel.transferTo), the server transferFrom()s it. */
    static final class PlainServer implements AutoCloseable {
        final ServerSocketChannel ss;
        final Thread t;
        final Path dst;

        PlainServer(Path dst) throws IOException {
            this.dst = dst;
            ss = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            t = new Thread(this::serve, "plain-server");
            t.setDaemon(true);
            t.start();
        }

        void serve() {
            while (ss.isOpen()) {
                try (SocketChannel c = ss.accept()) {
                    ByteBuffer hdr = ByteBuffer.allocate(16);
                    while (true) {
                        hdr.clear();
                        while (hdr.hasRemaining() && c.read(hdr) >= 0) {
                            // fill
                        }
                        if (hdr.hasRemaining()) {
                            break;
                        }
                        long size = hdr.getLong(0);
                        int idx = (int) hdr.getLong(8);
                        if (size < 0) {
                            c.write(ByteBuffer.wrap(new byte[] {1}));
                            continue;
                        }
                        Path f = dst.resolve("f" + idx);
                        try (FileChannel out = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                                StandardOpenOption.TRUNCATE_EXISTING)) {
                            for (long got = 0; got < size; ) {
                                got += out.transferFrom(c, got, size - got);
                            }
                        }
                    }
                } catch (IOException e) {
                    // next connection
                }
            }
        }

        long send(List<Path> files, Path root) throws IOException {
            long total = 0;
            try (SocketChannel c = SocketChannel.open(ss.getLocalAddress())) {
                int i = 0;
                for (Path f : files) {
                    try (FileChannel in = FileChannel.open(f)) {
                        long size = in.size();
                        c.write(ByteBuffer.allocate(16).putLong(size).putLong(i++).flip());
                        for (long sent = 0; sent < size; ) {
                            sent += in.transferTo(sent, size - sent, c);
                        }
                        total += size;
                    }
                }
                c.write(ByteBuffer.allocate(16).putLong(-1).putLong(0).flip()); // done: wait for the ack
                c.read(ByteBuffer.allocate(1));
            }
            return total;
        }

        @Override
        public void close() throws IOException {
            ss.close();
        }
    }

    /** JSSE, TLS 1.3: the same stream through SSLSocket streams. */
    static final class JsseServer implements AutoCloseable {
        final SSLServerSocket ss;
        final SSLContext client;
        final Thread t;
        final Path dst;

        JsseServer(Path dst, Path[] certAndKey) throws Exception {
            this.dst = dst;
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            X509Certificate cert;
            try (InputStream in = Files.newInputStream(certAndKey[0])) {
                cert = (X509Certificate) cf.generateCertificate(in);
            }
            String pem = Files.readString(certAndKey[1]).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            var key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem)));
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("k", key, new char[0], new Certificate[] {cert});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, new char[0]);
            SSLContext server = SSLContext.getInstance("TLSv1.3");
            server.init(kmf.getKeyManagers(), null, null);
            client = SSLContext.getInstance("TLSv1.3");
            client.init(null, new TrustManager[] {new X509TrustManager() {
                public void checkClientTrusted(X509Certificate[] c, String a) {}

                public void checkServerTrusted(X509Certificate[] c, String a) {}

                public X509Certificate[] getAcceptedIssuers() {
                    return new X509Certificate[0];
                }
            }}, null);
            ss = (SSLServerSocket) server.getServerSocketFactory().createServerSocket(0, 50, InetAddress.getLoopbackAddress());
            t = new Thread(this::serve, "jsse-server");
            t.setDaemon(true);
            t.start();
        }

        void serve() {
            byte[] buf = new byte[1 << 16];
            while (!ss.isClosed()) {
                try (SSLSocket c = (SSLSocket) ss.accept();
                        var in = new java.io.DataInputStream(new java.io.BufferedInputStream(c.getInputStream(), 1 << 16))) {
                    while (true) {
                        long size = in.readLong();
                        long idx = in.readLong();
                        if (size < 0) {
                            c.getOutputStream().write(1);
                            c.getOutputStream().flush();
                            break;
                        }
                        try (OutputStream out = Files.newOutputStream(dst.resolve("f" + idx))) {
                            for (long left = size; left > 0; ) {
                                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                                if (n < 0) {
                                    throw new IOException("truncated");
                                }
                                out.write(buf, 0, n);
                                left -= n;
                            }
                        }
                    }
                } catch (IOException e) {
                    // next connection
                }
            }
        }

        long send(List<Path> files, Path root) throws IOException {
            long total = 0;
            byte[] buf = new byte[1 << 16];
            try (SSLSocket c = (SSLSocket) client.getSocketFactory().createSocket(InetAddress.getLoopbackAddress(), ss.getLocalPort());
                    var out = new java.io.DataOutputStream(new java.io.BufferedOutputStream(c.getOutputStream(), 1 << 16))) {
                int i = 0;
                for (Path f : files) {
                    long size = Files.size(f);
                    out.writeLong(size);
                    out.writeLong(i++);
                    try (InputStream in = Files.newInputStream(f)) {
                        for (int n; (n = in.read(buf)) > 0; ) {
                            out.write(buf, 0, n);
                        }
                    }
                    total += size;
                }
                out.writeLong(-1);
                out.writeLong(0);
                out.flush();
                c.getInputStream().read();
            }
            return total;
        }

        @Override
        public void close() throws IOException {
            ss.close();
        }
    }
}
