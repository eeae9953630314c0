package org.uringsync.nativeio;

import java.io.IOException;

/**
 * An operation of the C core failed: the message reads
 * {@code "openat /dst/a: No such file or directory (ENOENT)"}.
 */
public class NativeIoException extends IOException {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final String path;
    private final int errno;

    /**
     * @param operation the system call or step, e.g. {@code "openat"}
     * @param path the path it acted on, or null
     * @param errno positive errno (a negative value is accepted and flipped)
     */
    public NativeIoException(String operation, String path, int errno) {
        super(operation + (path == null ? "" : " " + path) + ": " + Errno.describe(errno));
        this.operation = operation;
        this.path = path;
        this.errno = Math.abs(errno);
    }

    public String operation() {
        return operation;
    }

    /** @return the path the failed operation acted on, or null. */
    public String path() {
        return path;
    }

    /** @return the positive errno value. */
    public int errno() {
        return errno;
    }
}
