package org.uringsync.nativeio;

/** Turns errno values from the C core into readable text. */
public final class Errno {
    public static final int EPERM = 1;
    public static final int ENOENT = 2;
    public static final int EINTR = 4;
    public static final int EIO = 5;
    public static final int EAGAIN = 11;
    public static final int ENOMEM = 12;
    public static final int EBUSY = 16;
    public static final int EACCES = 13;
    public static final int EEXIST = 17;
    public static final int ENOTDIR = 20;
    public static final int EISDIR = 21;
    public static final int EINVAL = 22;
    public static final int ENOSPC = 28;
    public static final int ENAMETOOLONG = 36;
    public static final int ENOSYS = 38;
    public static final int ELOOP = 40;
    public static final int EPROTO = 71;
    public static final int EXDEV = 18;
    public static final int ECONNRESET = 104;
    public static final int ETIMEDOUT = 110;
    public static final int ECONNREFUSED = 111;

    private Errno() {}

    /** @return e.g. {@code "No such file or directory (ENOENT)"}; errno is positive. */
    public static String describe(int errno) {
        if (NativeLoader.isLoaded()) {
            return describeNative(Math.abs(errno));
        }
        return "errno " + Math.abs(errno);
    }

    private static native String describeNative(int errno);
}
