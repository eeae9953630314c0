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

/* Errno.describeNative(int): "No such file or directory (ENOENT)" */
JNIEXPORT jstring JNICALL Java_org_uringsync_nativeio_Errno_describeNative(JNIEnv *env, jclass cls, jint err)
{
	(void)cls;
	char buf[256];
	const char *name = strerrorname_np(err);
	snprintf(buf, sizeof buf, "%s (%s)", strerror(err), name ? name : "?");
	return (*env)->NewStringUTF(env, buf);
}
