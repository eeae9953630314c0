package org.uringsync.transfer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.uringsync.protocol.FrameCodec;
import org.uringsync.protocol.Message;
import org.uringsync.protocol.ProtocolException;

/**
 * The one frame a receiver reads before the sender is authenticated: a HELLO with any payload, taken
 * as {@code ReceiverHandshake.authenticate} takes it. {@link Wire#payload} checks the length against
 * {@code maxPayload(HELLO)} before reading, {@link FrameCodec#decode} builds the {@link Message.Hello},
 * then the version is compared and the proof checked with {@link Auth#matches}.
 *
 * <p>Findings: anything but {@link ProtocolException} out of decode; a HELLO accepted unless its payload
 * is exactly 66 bytes with {@code secret_len <= 64}, or refused although it is; a version or secret that
 * is not what the payload says, or a secret over 64 bytes; a re-encoding that differs from the payload
 * (padding aside: decode ignores it, encode writes zeros); a proof that matches without being equal.
 */
class HelloFuzzTest {
    /** Stands for the receiver's expected proof, HMAC-SHA256 over the TLS exporter: 32 bytes. */
    static final byte[] EXPECTED_PROOF = new byte[32];

    static {
        for (int i = 0; i < EXPECTED_PROOF.length; i++) {
            EXPECTED_PROOF[i] = (byte) (0xa5 ^ (i * 37));
        }
    }

    @FuzzTest(maxDuration = "5m")
    void helloPayload(byte[] payload) {
        long max = FrameCodec.maxPayload(Message.HELLO, 0);
        assertEquals(FrameCodec.HELLO_SIZE, max, "HELLO's limit");
        // Wire refuses a longer payload from its header, before reading it; decode must refuse it too.
        boolean wellFormed = payload.length == FrameCodec.HELLO_SIZE && (payload[1] & 0xff) <= 64;

        Message m;
        try {
            m = FrameCodec.decode(Message.HELLO, ByteBuffer.wrap(payload).asReadOnlyBuffer());
        } catch (ProtocolException e) {
            assertFalse(wellFormed, () -> "well-formed HELLO refused: " + e.getMessage());
            String reason = e.getMessage();
            assertNotNull(reason);
            assertFalse(reason.isEmpty() || reason.indexOf('\n') >= 0 || reason.indexOf('\r') >= 0,
                    () -> "reason not a single line: " + reason);
            return;
        }
        Message.Hello hello = assertInstanceOf(Message.Hello.class, m);
        assertTrue(wellFormed, () -> "HELLO of " + payload.length + " bytes accepted: " + hello);

        assertTrue(hello.version() >= 0 && hello.version() <= 255, "version " + hello.version());
        assertEquals(payload[0] & 0xff, hello.version());
        byte[] secret = hello.secret();
        assertTrue(secret.length <= 64, "secret of " + secret.length + " bytes");
        assertEquals(payload[1] & 0xff, secret.length);
        assertArrayEquals(Arrays.copyOfRange(payload, 2, 2 + secret.length), secret);
        if (secret.length > 0) {
            secret[0] ^= 1; // the caller's copy: the message must not change with it
            assertArrayEquals(Arrays.copyOfRange(payload, 2, 2 + secret.length), hello.secret(), "Hello shares its secret");
        }

        // Re-encoded: the same 71 bytes, except that the padding after the secret becomes zeros.
        byte[] expected = new byte[FrameCodec.HEADER + FrameCodec.HELLO_SIZE];
        expected[0] = Message.HELLO;
        expected[1] = (byte) FrameCodec.HELLO_SIZE;
        System.arraycopy(payload, 0, expected, FrameCodec.HEADER, 2 + hello.secret().length);
        assertArrayEquals(expected, FrameCodec.encode(hello));

        // authenticate(): a version other than 2 or 3 gets HELLO_FAIL 2; otherwise the proof decides.
        if (hello.version() == Message.VERSION) {
            boolean ok = Auth.matches(EXPECTED_PROOF, hello.secret());
            assertEquals(Arrays.equals(EXPECTED_PROOF, hello.secret()), ok, "Auth.matches");
        }
    }
}
