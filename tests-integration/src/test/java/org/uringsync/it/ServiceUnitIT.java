package org.uringsync.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The sample systemd unit (docs/systemd/uring-sync-recv.service) is one systemd accepts, with the launcher as its program. */
class ServiceUnitIT {
    @TempDir
    Path tmp;

    @Test
    void theSampleUnitVerifies() throws Exception {
        boolean have = new ProcessBuilder("bash", "-c", "command -v systemd-analyze").start().waitFor() == 0;
        if (!have) {
            System.out.println("SKIPPED ServiceUnitIT: systemd-analyze is not installed");
        }
        Assumptions.assumeTrue(have, "systemd-analyze is not installed");
        Path unit = Launcher.SCRIPT.getParent().resolve("docs/systemd/uring-sync-recv.service");
        Path copy = tmp.resolve("uring-sync-recv.service");
        Files.writeString(copy, Files.readString(unit).replace("/opt/uring-sync/bin/uring-sync", Launcher.SCRIPT.toString()));
        Process p = new ProcessBuilder("systemd-analyze", "verify", copy.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), out);
        assertEquals("", out.strip(), "no complaint");
    }
}
