package org.uringsync.nativeio;

import java.lang.annotation.Native;

/** Turns errno values from the C core into readable text. Each constant is checked against the platform's value when native/src/errno.c compiles. */
public final class Errno {
    @Native public static final int EPERM = 1;
    @Native public static final int ENOENT = 2;
    @Native public static final int EINTR = 4;
    @Native public static final int EIO = 5;
    @Native public static final int EAGAIN = 11;
    @Native public static final int ENOMEM = 12;
    @Native public static final int EBUSY = 16;
    @Native public static final int EACCES = 13;
    @Native public static final int EEXIST = 17;
    @Native public static final int ENOTDIR = 20;
    @Native public static final int EISDIR = 21;
    @Native public static final int EINVAL = 22;
    @Native public static final int ENOSPC = 28;
    @Native public static final int ENAMETOOLONG = 36;
    @Native public static final int ENOSYS = 38;
    @Native public static final int ELOOP = 40;
    @Native public static final int EPROTO = 71;
    @Native public static final int EXDEV = 18;
    @Native public static final int ECONNRESET = 104;
    @Native public static final int ETIMEDOUT = 110;
    @Native public static final int ECONNREFUSED = 111;
    @Native public static final int ECANCELED = 125;

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
