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
    private final int item;

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
        this.item = -1;
    }

    /**
     * A failure of item {@code item} of a batch the C core was given (e.g. the file at that index of a
     * {@link SendBatch}), whose path the caller knows: {@link #withPath} names it.
     */
    public NativeIoException(String operation, int item, int errno) {
        super(operation + " #" + item + ": " + Errno.describe(errno));
        this.operation = operation;
        this.path = null;
        this.errno = Math.abs(errno);
        this.item = item;
    }

    /** @return the index of the batch item that failed, or -1 when the failure is not an item's */
    public int item() {
        return item;
    }

    /** @return the same failure naming {@code path} */
    public NativeIoException withPath(String path) {
        NativeIoException e = new NativeIoException(operation, path, errno);
        e.setStackTrace(getStackTrace());
        return e;
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
