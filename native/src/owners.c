/*
 * Owners and groups: user and group names <-> ids (the system's databases, NSS: getpwuid_r and
 * friends) and changing an entry's owner. JNI side of FileOps.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jni_util.h"
#include "org_uringsync_nativeio_FileOps.h"

/* FileOps.chownAtNative(int dir, byte[] name, int uid, int gid): not followed; 0 or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_chownAtNative(JNIEnv *env, jclass cls, jint dir,
		jbyteArray jname, jint uid, jint gid)
{
	(void)cls;
	char *name = usync_path_of(env, jname);
	if (!name)
		return -EINVAL;
	int rc = fchownat(dir, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	free(name);
	return rc;
}

/* FileOps.fchownNative(int fd, int uid, int gid): 0 or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_fchownNative(JNIEnv *env, jclass cls, jint fd, jint uid,
		jint gid)
{
	(void)env;
	(void)cls;
	return fchown(fd, (uid_t)uid, (gid_t)gid) < 0 ? -errno : 0;
}

/* The buffer getpw*_r / getgr*_r want: what sysconf suggests, grown while they say ERANGE. */
#define ID_BUF_MAX (1 << 20)

/* A C string as a new byte[] (NULL with an exception pending when the JVM has no memory). */
static jbyteArray bytes_of(JNIEnv *env, const char *s)
{
	jsize n = (jsize)strlen(s);
	jbyteArray out = (*env)->NewByteArray(env, n);
	if (out)
		(*env)->SetByteArrayRegion(env, out, 0, n, (const jbyte *)s);
	return out;
}

/* FileOps.idNameNative(boolean user, int id): the user's or group's name as bytes, or null. */
JNIEXPORT jbyteArray JNICALL Java_org_uringsync_nativeio_FileOps_idNameNative(JNIEnv *env, jclass cls, jboolean user,
		jint id)
{
	(void)cls;
	jbyteArray out = NULL;
	for (size_t size = 4096; size <= ID_BUF_MAX && !out; size *= 4) {
		char *buf = malloc(size);
		if (!buf)
			break;
		int rc;
		const char *name = NULL;
		if (user) {
			struct passwd pw, *r = NULL;
			rc = getpwuid_r((uid_t)id, &pw, buf, size, &r);
			name = r ? r->pw_name : NULL;
		} else {
			struct group gr, *r = NULL;
			rc = getgrgid_r((gid_t)id, &gr, buf, size, &r);
			name = r ? r->gr_name : NULL;
		}
		if (name)
			out = bytes_of(env, name);
		free(buf);
		if (rc != ERANGE || name)
			break;
	}
	return out;
}

/* FileOps.nameIdNative(boolean user, byte[] name): the user's or group's id, or -1. */
JNIEXPORT jlong JNICALL Java_org_uringsync_nativeio_FileOps_nameIdNative(JNIEnv *env, jclass cls, jboolean user,
		jbyteArray jname)
{
	(void)cls;
	char *name = usync_path_of(env, jname); /* NULL: a NUL inside (no such name), or no memory */
	if (!name)
		return -1;
	jlong id = -1;
	for (size_t size = 4096; size <= ID_BUF_MAX; size *= 4) {
		char *buf = malloc(size);
		if (!buf)
			break;
		int rc;
		if (user) {
			struct passwd pw, *r = NULL;
			rc = getpwnam_r(name, &pw, buf, size, &r);
			if (r)
				id = r->pw_uid;
		} else {
			struct group gr, *r = NULL;
			rc = getgrnam_r(name, &gr, buf, size, &r);
			if (r)
				id = r->gr_gid;
		}
		free(buf);
		if (rc != ERANGE)
			break;
	}
	free(name);
	return id;
}
