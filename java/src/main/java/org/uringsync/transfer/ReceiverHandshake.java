package org.uringsync.transfer;

import java.io.IOException;
import java.util.function.Consumer;
import org.uringsync.nativeio.Fd;
import org.uringsync.nativeio.TlsContext;
import org.uringsync.nativeio.TlsSession;
import org.uringsync.protocol.Message;
import org.uringsync.protocol.ProtocolException;

/**
 * Authenticates a sender on the receiving side. {@link NetReceiver} makes one per receiver; each
 * connection's thread calls {@link #tls} and then {@link #authenticate}, and hands the session and
 * its {@link Wire} on to {@link DestWriter} when it returns true. Owned here: the server side of
 * the TLS handshake, the HELLO that must come first, and the answer to it: HELLO_FAIL for another
 * protocol version or a wrong proof, HELLO_OK with the receiver's own proof ({@link Auth} computes
 * both proofs). What follows a proof is the receiver's say, asked through {@link Gate}: how long a
 * wrong secret waits ({@link Backoff}), and whether a right one may start a transfer now.
 */
final class ReceiverHandshake {
    /** The receiver's decisions between a sender's proof and the answer to it. */
    interface Gate {
        /**
         * A wrong secret: waits as long as the receiver makes that source wait.
         *
         * @return false when the connection was dropped meanwhile, and gets no answer
         */
        boolean waitAfterWrongSecret();

        /**
         * A right secret: the connection stops waiting to authenticate and counts among the transfers.
         *
         * @return false when it was dropped meanwhile, and gets no answer
         * @throws IOException when the receiver runs as many transfers as it may
         */
        boolean startTransfer() throws IOException;
    }

    private final byte[] secret;
    private final org.uringsync.TlsPath tlsPath;
    private final Consumer<String> log;
    private final Consumer<String> verbose;

    ReceiverHandshake(NetReceiver.Config c) {
        this.secret = c.secret().clone();
        this.tlsPath = c.tlsPath();
        this.log = c.log();
        this.verbose = c.verbose();
    }

    /** The server side of the TLS handshake on an accepted socket; the session is the caller's to close. */
    TlsSession tls(TlsContext ctx, Fd sock) throws IOException {
        return TlsSession.handshake(ctx, sock, true, tlsPath.nativeMode());
    }

    /** The newest version receivers of this process accept; tests lower it to play an older receiver. */
    static volatile int newestVersion = Message.VERSION;

    /**
     * Reads connection {@code id}'s HELLO and answers it.
     *
     * @return the protocol version agreed (2, 4 or 5) when HELLO_OK went back; 0 when the sender was
     *         refused, or dropped meanwhile
     */
    int authenticate(TlsSession session, Wire wire, long id, Gate gate) throws IOException {
        verbose.accept("connection " + id + ": tls: " + session.path());
        if (!wire.next()) {
            throw new ProtocolException("connection closed before HELLO");
        }
        if (wire.type() != Message.HELLO) {
            throw new ProtocolException("expected HELLO, got " + org.uringsync.protocol.FrameCodec.name(wire.type()));
        }
        Message.Hello hello = (Message.Hello) wire.payload();
        int newest = newestVersion;
        int v = hello.version();
        if (v != Message.VERSION_2 && (v < Message.VERSION_4 || v > newest)) { // 3, a development version, too
            log.accept("connection " + id + ": refused protocol version " + v + " (this receiver speaks "
                    + Message.VERSION_2 + (newest > Message.VERSION_4 ? ", " + Message.VERSION_4 + " and " + newest
                            : newest == Message.VERSION_4 ? " and " + newest : "") + ")");
            wire.send(new Message.HelloFail(Message.HelloFail.VERSION_MISMATCH));
            return 0;
        }
        byte[] expected = Auth.clientProof(session, secret);
        if (!Auth.matches(expected, hello.secret())) {
            if (gate.waitAfterWrongSecret()) {
                wire.send(new Message.HelloFail(Message.HelloFail.WRONG_SECRET));
            }
            return 0;
        }
        if (!gate.startTransfer()) {
            return 0;
        }
        wire.send(new Message.HelloOk(Auth.serverProof(session, secret)));
        return hello.version();
    }
}
