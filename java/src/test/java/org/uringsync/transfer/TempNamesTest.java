package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The one temporary-name scheme: names, their owners, and when a leftover is stale. */
class TempNamesTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void aNamerNumbersItsNamesAndTheyParseBackToItsOwner() {
        long owner = TempNames.newOwner();
        try (TempNames.Namer n = new TempNames.Namer(owner)) {
            byte[] first = n.next();
            byte[] second = n.next();
            assertEquals(".usync-" + TempNames.PID + "-" + owner + "-0.tmp", new String(first, StandardCharsets.US_ASCII));
            assertEquals(".usync-" + TempNames.PID + "-" + owner + "-1.tmp", new String(second, StandardCharsets.US_ASCII));
            assertTrue(TempNames.isTemp(first));
            assertEquals(new TempNames.Owner(TempNames.PID, owner), TempNames.owner(first));
        }
    }

    @Test
    void ownersAreUniqueInTheProcess() {
        assertNotEquals(TempNames.newOwner(), TempNames.newOwner());
    }

    @Test
    void anOwnersLeftoversAreStaleOnlyOnceItIsClosed() {
        long owner = TempNames.newOwner();
        TempNames.Owner o = new TempNames.Owner(TempNames.PID, owner);
        assertTrue(TempNames.isStale(o), "never opened: stale");
        TempNames.Namer n = new TempNames.Namer(owner);
        assertFalse(TempNames.isStale(o), "live while its namer is open");
        n.close();
        assertTrue(TempNames.isStale(o), "stale once closed");
    }

    @Test
    void leftoversOfAProcessThatIsGoneAreStaleAndOfALiveOneAreNot() throws Exception {
        Process p = new ProcessBuilder("true").start();
        long gone = p.pid();
        p.waitFor();
        assertTrue(TempNames.isStale(new TempNames.Owner(gone, 1)));
        long parent = ProcessHandle.current().parent().orElseThrow().pid();
        assertFalse(TempNames.isStale(new TempNames.Owner(parent, 1)));
    }

    @Test
    void namesOfAnotherShapeHaveNoOwner() {
        assertNull(TempNames.owner(b(".usync-12-3.tmp")));        // two numbers
        assertNull(TempNames.owner(b(".usync-1-2-3.tmpx")));      // suffix
        assertNull(TempNames.owner(b(".usync-1-x-3.tmp")));       // not a number
        assertNull(TempNames.owner(b("a.usync-1-2-3.tmp")));      // prefix
        assertFalse(TempNames.isTemp(b("x.tmp")));
    }
}
