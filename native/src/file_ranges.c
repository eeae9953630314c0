/*
 * Sparse files, for the sender and the receiver: where an open file's data lies (SEEK_DATA and
 * SEEK_HOLE), and setting a file's size (the holes a receiver leaves). JNI side of FileOps.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "jni_util.h"
#include "org_uringsync_nativeio_FileOps.h"

/*
 * FileOps.dataRangesNative(int fd, long size, int max): the data ranges of [0, size) as {offset,
 * length} pairs, in order; at most max of them, the last running to size when there are more. NULL
 * when the file system cannot tell (no SEEK_DATA). An exception for any other failure.
 */
JNIEXPORT jlongArray JNICALL Java_org_uringsync_nativeio_FileOps_dataRangesNative(JNIEnv *env, jclass cls, jint fd,
		jlong size, jint max)
{
	(void)cls;
	if (max < 1)
		max = 1;
	jlong *r = malloc(sizeof *r * 2 * (size_t)max);
	if (!r) {
		usync_throw_errno(env, "malloc", NULL, ENOMEM);
		return NULL;
	}
	int n = 0;
	off_t pos = 0;
	while (pos < size) {
		off_t data = lseek(fd, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* a hole to the end */
		off_t hole = data < 0 ? -1 : lseek(fd, data, SEEK_HOLE);
		if (data < 0 || hole < 0) {
			int err = errno;
			free(r);
			if (err != EINVAL && err != EOPNOTSUPP)
				usync_throw_errno(env, "lseek(SEEK_DATA)", NULL, err);
			return NULL;
		}
		if (data >= size)
			break;
		if (hole > size || n == max - 1)
			hole = size;
		r[2 * n] = data;
		r[2 * n + 1] = hole - data;
		n++;
		pos = hole;
	}
	jlongArray out = (*env)->NewLongArray(env, 2 * n);
	if (out)
		(*env)->SetLongArrayRegion(env, out, 0, 2 * n, r);
	free(r);
	return out;
}

/* FileOps.truncateNative(int fd, long size): 0 or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_truncateNative(JNIEnv *env, jclass cls, jint fd, jlong size)
{
	(void)env;
	(void)cls;
	return ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
}
