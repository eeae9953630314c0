/* JNI side of org.uringsync.nativeio.Errno. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "org_uringsync_nativeio_Errno.h"

/* Errno's constants are this platform's values: checked when this compiles. */
_Static_assert(org_uringsync_nativeio_Errno_EPERM == EPERM, "Errno.EPERM");
_Static_assert(org_uringsync_nativeio_Errno_ENOENT == ENOENT, "Errno.ENOENT");
_Static_assert(org_uringsync_nativeio_Errno_EINTR == EINTR, "Errno.EINTR");
_Static_assert(org_uringsync_nativeio_Errno_EIO == EIO, "Errno.EIO");
_Static_assert(org_uringsync_nativeio_Errno_EAGAIN == EAGAIN, "Errno.EAGAIN");
_Static_assert(org_uringsync_nativeio_Errno_ENOMEM == ENOMEM, "Errno.ENOMEM");
_Static_assert(org_uringsync_nativeio_Errno_EBUSY == EBUSY, "Errno.EBUSY");
_Static_assert(org_uringsync_nativeio_Errno_EACCES == EACCES, "Errno.EACCES");
_Static_assert(org_uringsync_nativeio_Errno_EEXIST == EEXIST, "Errno.EEXIST");
_Static_assert(org_uringsync_nativeio_Errno_ENOTDIR == ENOTDIR, "Errno.ENOTDIR");
_Static_assert(org_uringsync_nativeio_Errno_EISDIR == EISDIR, "Errno.EISDIR");
_Static_assert(org_uringsync_nativeio_Errno_EINVAL == EINVAL, "Errno.EINVAL");
_Static_assert(org_uringsync_nativeio_Errno_ENOSPC == ENOSPC, "Errno.ENOSPC");
_Static_assert(org_uringsync_nativeio_Errno_ENAMETOOLONG == ENAMETOOLONG, "Errno.ENAMETOOLONG");
_Static_assert(org_uringsync_nativeio_Errno_ENOSYS == ENOSYS, "Errno.ENOSYS");
_Static_assert(org_uringsync_nativeio_Errno_ELOOP == ELOOP, "Errno.ELOOP");
_Static_assert(org_uringsync_nativeio_Errno_EPROTO == EPROTO, "Errno.EPROTO");
_Static_assert(org_uringsync_nativeio_Errno_EXDEV == EXDEV, "Errno.EXDEV");
_Static_assert(org_uringsync_nativeio_Errno_ECONNRESET == ECONNRESET, "Errno.ECONNRESET");
_Static_assert(org_uringsync_nativeio_Errno_ETIMEDOUT == ETIMEDOUT, "Errno.ETIMEDOUT");
_Static_assert(org_uringsync_nativeio_Errno_ECONNREFUSED == ECONNREFUSED, "Errno.ECONNREFUSED");
_Static_assert(org_uringsync_nativeio_Errno_ECANCELED == ECANCELED, "Errno.ECANCELED");

/* The symbolic name of an errno value (strerrorname_np would raise the glibc floor to 2.32). */
static const char *errno_name(int err)
{
#define E(x) \
	case x:  \
		return #x;
	switch (err) {
		E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
		E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV) E(ENOTDIR)
		E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC) E(ESPIPE)
		E(EROFS) E(EMLINK) E(EPIPE) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOLCK) E(ENOSYS)
		E(ENOTEMPTY) E(ELOOP) E(ENODATA) E(ETIME) E(EPROTO) E(EBADMSG) E(EOVERFLOW) E(EILSEQ)
		E(EUSERS) E(ENOTSOCK) E(EMSGSIZE) E(EPROTONOSUPPORT) E(EOPNOTSUPP) E(EAFNOSUPPORT)
		E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETDOWN) E(ENETUNREACH) E(ECONNABORTED) E(ECONNRESET)
		E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ETIMEDOUT) E(ECONNREFUSED) E(EHOSTUNREACH) E(EALREADY)
		E(EINPROGRESS) E(ESTALE) E(EDQUOT) E(ECANCELED) E(EKEYREJECTED)
	default:
		return "?";
	}
#undef E
}

/* Errno.describeNative(int): "No such file or directory (ENOENT)" */
JNIEXPORT jstring JNICALL Java_org_uringsync_nativeio_Errno_describeNative(JNIEnv *env, jclass cls, jint err)
{
	(void)cls;
	char buf[256];
	snprintf(buf, sizeof buf, "%s (%s)", strerror(err), errno_name(err));
	return (*env)->NewStringUTF(env, buf);
}
