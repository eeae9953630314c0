package org.uringsync;

import java.io.IOException;

/**
 * Why a copy or transfer could not be done, as a type: callers tell the causes apart with
 * {@code instanceof} (or {@code catch}), never by reading the message, which is for people. The
 * subclasses are the causes; the command line maps each to its exit code (see the README).
 */
public abstract class TransferException extends IOException {
    private static final long serialVersionUID = 1L;

    protected TransferException(String message, Throwable cause) {
        super(message, cause);
    }

    /** The shared secret did not match: the receiver refused the sender's proof, or could not give its own. */
    public static final class AuthenticationFailed extends TransferException {
        private static final long serialVersionUID = 1L;

        public AuthenticationFailed(String message) {
            super(message, null);
        }
    }

    /** The receiver could not be reached (unknown host, refused, unreachable), or the connection was lost. */
    public static final class ConnectionFailed extends TransferException {
        private static final long serialVersionUID = 1L;

        public ConnectionFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The two sides speak no common protocol version, or the peer broke the protocol. */
    public static final class ProtocolMismatch extends TransferException {
        private static final long serialVersionUID = 1L;

        public ProtocolMismatch(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The receiver refused the transfer and said why (an ERROR frame): {@link #reason()} is its text. */
    public static final class Refused extends TransferException {
        private static final long serialVersionUID = 1L;
        private final String reason;

        public Refused(String reason, Throwable cause) {
            super("receiver error: " + reason, cause);
            this.reason = reason;
        }

        /** The receiver's own words (a refused path is named in them). */
        public String reason() {
            return reason;
        }
    }

    /** The peer went silent for longer than the idle timeout, or did not answer the connection in time. */
    public static final class Timeout extends TransferException {
        private static final long serialVersionUID = 1L;
        private final boolean connecting;

        public Timeout(String message, boolean connecting, Throwable cause) {
            super(message, cause);
            this.connecting = connecting;
        }

        /** Whether it ran out while connecting (rather than during the transfer). */
        public boolean connecting() {
            return connecting;
        }
    }

    /** SOURCE itself could not be read (missing, unreadable, not a file or directory): nothing was copied or sent. */
    public static final class SourceUnreadable extends TransferException {
        private static final long serialVersionUID = 1L;

        public SourceUnreadable(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
