package org.uringsync.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * An extra JMH column, {@code MB}: megabytes moved, reported per second (MB/s). At the end of each
 * iteration it also prints the benchmark process's CPU time (all threads: sender, receiver, and the
 * kernel work done on their behalf) per MB moved, which JMH's counters cannot express as a ratio.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Bytes {
    public double MB;
    private long cpu0;

    @Setup(Level.Iteration)
    public void reset() {
        MB = 0;
        cpu0 = cpuNanos();
    }

    @TearDown(Level.Iteration)
    public void report() {
        if (MB > 0) {
            System.out.printf("  [process CPU %.3f ms per MB]%n", (cpuNanos() - cpu0) / 1e6 / MB);
        }
    }

    void add(long bytes) {
        MB += bytes / 1e6;
    }

    static long cpuNanos() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean s ? s.getProcessCpuTime() : 0;
    }
}
