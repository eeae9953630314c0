/* JNI side of org.uringsync.nativeio.Errno. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "org_uringsync_nativeio_Errno.h"

/* Errno.describeNative(int): "No such file or directory (ENOENT)" */
JNIEXPORT jstring JNICALL Java_org_uringsync_nativeio_Errno_describeNative(JNIEnv *env, jclass cls, jint err)
{
	(void)cls;
	char buf[256];
	const char *name = strerrorname_np(err);
	snprintf(buf, sizeof buf, "%s (%s)", strerror(err), name ? name : "?");
	return (*env)->NewStringUTF(env, buf);
}
