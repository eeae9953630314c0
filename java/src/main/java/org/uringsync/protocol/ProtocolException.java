package org.uringsync.protocol;

import java.io.IOException;

/** The peer broke the wire protocol; the message says how, in one line. */
public class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }
}
