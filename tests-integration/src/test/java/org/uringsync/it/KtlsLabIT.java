package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.uringsync.LocalCopy;
import org.uringsync.it.lab.KtlsLabMain;

/**
 * The kernel TLS tests, run inside the lab (tests-integration/ktls-lab/ktls-lab.sh: User-Mode Linux
 * with tls.ko), because the host kernel has no kTLS. One JVM inside runs every case through the
 * library API ({@link KtlsLabMain}), then the launcher runs as processes (launcher-checks.sh). This
 * test never skips: a lab that cannot start is a failure that prints why.
 */
class KtlsLabIT {
    /** Size of the big file inside the lab (generic kernel crypto runs at 20-55 MB/s there). */
    static final int BIG_MIB = Integer.getInteger("uringsync.lab.bigMiB", 256);

    static final List<String> EXPECTED = List.of(
            "USERSPACE/TLS_AES_128_GCM_SHA256_path", "USERSPACE/TLS_AES_256_GCM_SHA384_path",
            "USERSPACE/TLS_CHACHA20_POLY1305_SHA256_path", "KTLS/TLS_AES_128_GCM_SHA256_path",
            "KTLS/TLS_AES_256_GCM_SHA384_path", "KTLS/TLS_CHACHA20_POLY1305_SHA256_path",
            "KTLS_ZEROCOPY/TLS_AES_128_GCM_SHA256_path", "KTLS_ZEROCOPY/TLS_AES_256_GCM_SHA384_path",
            "KTLS_ZEROCOPY/TLS_CHACHA20_POLY1305_SHA256_path", "KTLS/TLS_AES_128_GCM_SHA256_tls_stat",
            "KTLS_ZEROCOPY/TLS_CHACHA20_POLY1305_SHA256_tls_stat",
            "interop_sender=USERSPACE_receiver=KTLS_ZEROCOPY", "interop_sender=KTLS_ZEROCOPY_receiver=USERSPACE",
            "2000_small_files_KTLS", "2000_small_files_KTLS_ZEROCOPY", "progress_and_bwlimit_KTLS",
            "progress_and_bwlimit_KTLS_ZEROCOPY", "record_layer_kernel_tx+rx",
            "fatal_alert", "close_notify", "alert_mid-file", "big_file_USERSPACE", "big_file_KTLS",
            "big_file_KTLS_ZEROCOPY", "big_file_KTLS_SENDFILE", "launcher_send_--tls-path_auto", "launcher_send_--tls-path_ktls",
            "launcher_send_--tls-path_userspace", "launcher_recv_-v");

    @Test
    void everyTlsPathAndCipherInTheKernelTlsLab() throws Exception {
        Path lab = Launcher.REPO.resolve("tests-integration/ktls-lab");
        String testClasses = Path.of(KtlsLabMain.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        String library = Path.of(LocalCopy.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path data = Path.of("target", "ktls-lab-data").toAbsolutePath();
        KtlsLabMain.prepare(data, BIG_MIB);
        String cmd = java + " -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -cp " + testClasses + ":" + library + " "
                + KtlsLabMain.class.getName() + " " + data + "; rc=$?; bash " + lab.resolve("launcher-checks.sh") + " "
                + Launcher.REPO + "; exit $rc";
        Path log = Path.of("target", "ktls-lab.log").toAbsolutePath();
        ProcessBuilder pb = new ProcessBuilder("bash", lab.resolve("ktls-lab.sh").toString(), cmd)
                .redirectErrorStream(true).redirectOutput(log.toFile()).directory(Launcher.REPO.toFile());
        // The lab sees the host's root read-only but gets a fresh /tmp: the checkout (classes, jar, data)
        // is mounted at its own path, so a clone under /tmp works too.
        pb.environment().put("KTLSVM_RW", Launcher.REPO.toRealPath().toString());
        pb.environment().put("KTLSVM_TIMEOUT", "1500");
        pb.environment().put("KTLSVM_MEM", "3G");
        Process p = pb.start();
        if (!p.waitFor(30, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            fail("the kTLS lab did not finish in 30 minutes; log: " + log);
        }
        String out = Files.readString(log, StandardCharsets.UTF_8);
        System.out.println(out);
        if (p.exitValue() == 125) {
            fail("the kTLS lab could not start (User-Mode Linux boot failed); its log:\n" + tail(out));
        }
        List<String> failed = new ArrayList<>();
        List<String> passed = new ArrayList<>();
        List<String> figures = new ArrayList<>();
        for (String line : out.lines().toList()) {
            String[] f = line.split(" ", 4);
            if (f[0].equals("RESULT") && f.length >= 3) {
                (f[2].equals("PASS") ? passed : failed).add(f[1] + (f.length > 3 ? " " + f[3] : ""));
            } else if (f[0].equals("FIGURE")) {
                figures.add(line);
            }
        }
        Files.write(Path.of("target", "ktls-lab-figures.txt"), figures);
        assertEquals(List.of(), failed, "failed lab cases");
        for (String name : EXPECTED) {
            assertTrue(passed.stream().anyMatch(l -> l.startsWith(name + " ")), "lab case missing: " + name + "\n" + tail(out));
        }
        assertEquals(0, p.exitValue(), tail(out));
        assertEquals(4, figures.size(), "one figure line per TLS path (sendfile beside splice)");
    }

    static String tail(String s) {
        List<String> l = s.lines().toList();
        return String.join("\n", l.subList(Math.max(0, l.size() - 40), l.size()));
    }
}
