package org.uringsync.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
import org.uringsync.LocalCopy;

/** The library's local copy against its baseline, {@code Files.copy} file by file, on the same data (warm cache). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
public class LocalCopyBenchmark {
    @Param({"4K", "1M", "256M", "1000x4K"})
    public String data;

    @Param({"uring-sync", "files-copy"})
    public String tool;

    private Path src;
    private Path dst;
    private List<Path> files;
    private final LocalCopy copy = LocalCopy.builder().build();

    @Setup(Level.Trial)
    public void setup() throws IOException {
        src = Data.create(data);
        dst = Files.createTempDirectory("usync-bench-dst");
        try (Stream<Path> s = Files.walk(src)) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        Data.clear(src, true);
        Data.clear(dst, true);
    }

    @Setup(Level.Invocation)
    public void emptyDestination() throws IOException {
        Data.clear(dst, false);
    }

    @Benchmark
    public long copy(Bytes bytes) throws IOException {
        long n = 0;
        if (tool.equals("uring-sync")) {
            n = copy.copy(src, dst).bytes();
        } else {
            for (Path f : files) {
                Path t = dst.resolve(src.relativize(f));
                Files.createDirectories(t.getParent());
                Files.copy(f, t, StandardCopyOption.COPY_ATTRIBUTES);
                n += Files.size(t);
            }
        }
        bytes.add(n);
        return n;
    }
}
