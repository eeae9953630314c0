/*
 * JNI side of org.uringsync.nativeio.FileOps, one entry inside a directory descriptor (or one open
 * descriptor): rename, unlink and rmdir, fchmod, close, lstat, futimens, readlink, symlink, and a
 * directory's mode and mtime. Directories and listings: file_ops.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "jni_util.h"
#include "org_uringsync_nativeio_FileOps.h"
#include "syscalls.h"

/* FileOps.renameAtNative(int dir, byte[] from, byte[] to): 0 or -errno (both names in `dir`). */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_renameAtNative(JNIEnv *env, jclass cls, jint dir,
		jbyteArray jfrom, jbyteArray jto)
{
	(void)cls;
	char *from = usync_path_of(env, jfrom), *to = usync_path_of(env, jto);
	int rc = !from || !to ? -EINVAL : renameat(dir, from, dir, to) < 0 ? -errno : 0;
	free(from);
	free(to);
	return rc;
}

/* FileOps.unlinkAtNative(int dir, byte[] name, boolean directory): 0 or -errno (directory: an empty one). */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_unlinkAtNative(JNIEnv *env, jclass cls, jint dir,
		jbyteArray jname, jboolean directory)
{
	(void)cls;
	char *name = usync_path_of(env, jname);
	int rc = !name ? -EINVAL : unlinkat(dir, name, directory ? AT_REMOVEDIR : 0) < 0 ? -errno : 0;
	free(name);
	return rc;
}

/* FileOps.fchmodNative(int fd, int mode): 0 or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_fchmodNative(JNIEnv *env, jclass cls, jint fd, jint mode)
{
	(void)env;
	(void)cls;
	return fchmod(fd, (mode_t)mode) < 0 ? -errno : 0;
}

/*
 * FileOps.linkAtNative(int fromDir, byte[] from, int toDir, byte[] to): a hard link `to` in toDir to the
 * entry `from` in fromDir (a symlink is linked itself, never followed); 0 or -errno.
 */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_linkAtNative(JNIEnv *env, jclass cls, jint from_dir,
		jbyteArray jfrom, jint to_dir, jbyteArray jto)
{
	(void)cls;
	char *from = usync_path_of(env, jfrom);
	char *to = from ? usync_path_of(env, jto) : NULL;
	int rc = from && to ? (linkat(from_dir, from, to_dir, to, 0) < 0 ? -errno : 0) : -EINVAL;
	free(from);
	free(to);
	return rc;
}

/*
 * FileOps.mknodAtNative(int dir, byte[] name, int mode, long rdev): a device, FIFO or socket node `name`
 * in dir with exactly mode's permissions (the umask cut back by fchmodat on the node just made); 0 or
 * -errno.
 */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_mknodAtNative(JNIEnv *env, jclass cls, jint dir,
		jbyteArray jname, jint mode, jlong rdev)
{
	(void)cls;
	char *name = usync_path_of(env, jname);
	if (!name)
		return -EINVAL;
	int rc = usync_mknodat(dir, name, (mode_t)mode, (dev_t)rdev) < 0 ? -errno : 0;
	if (rc == 0 && fchmodat(dir, name, (mode_t)mode & 07777, 0) < 0) {
		rc = -errno;
		unlinkat(dir, name, 0);
	}
	free(name);
	return rc;
}

/* FileOps.closeNative(int fd): 0 or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_closeNative(JNIEnv *env, jclass cls, jint fd)
{
	(void)env;
	(void)cls;
	return close(fd) < 0 ? -errno : 0;
}

/* FileOps.lstatAtNative(int dir, byte[] name, long[] out): out = {st_mode, size, mtime ns, ino, dev, nlink, uid, gid, rdev}; 0, or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_lstatAtNative(JNIEnv *env, jclass cls, jint dir,
		jbyteArray jname, jlongArray out)
{
	(void)cls;
	char *name = usync_path_of(env, jname);
	if (!name)
		return -EINVAL;
	struct stat st;
	/* an empty name: the descriptor itself (fstat) */
	int rc = usync_fstatat(dir, name, &st, name[0] ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) < 0 ? -errno : 0;
	free(name);
	if (rc == 0) {
		jlong v[9] = { st.st_mode, st.st_size, (jlong)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
			       (jlong)st.st_ino, (jlong)st.st_dev, (jlong)st.st_nlink, st.st_uid, st.st_gid, (jlong)st.st_rdev };
		(*env)->SetLongArrayRegion(env, out, 0, 9, v);
	}
	return rc;
}

/* A modification time in ns since the epoch as a timespec (negative times included). */
static struct timespec mtime_of(jlong ns)
{
	jlong sec = ns / 1000000000, nsec = ns % 1000000000;
	if (nsec < 0) {
		nsec += 1000000000;
		sec--;
	}
	return (struct timespec){ .tv_sec = sec, .tv_nsec = nsec };
}

/* FileOps.futimensNative(int fd, long mtimeNanos): the file's mtime (atime left alone); 0 or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_futimensNative(JNIEnv *env, jclass cls, jint fd,
		jlong mtime_ns)
{
	(void)env;
	(void)cls;
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, mtime_of(mtime_ns) };
	return futimens(fd, ts) < 0 ? -errno : 0;
}

/* FileOps.linkTimeAtNative(int dir, byte[] name, long mtimeNanos): the entry's mtime, not followed; 0 or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_linkTimeAtNative(JNIEnv *env, jclass cls, jint dir,
		jbyteArray jname, jlong mtime_ns)
{
	(void)cls;
	char *name = usync_path_of(env, jname);
	if (!name)
		return -EINVAL;
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, mtime_of(mtime_ns) };
	int rc = utimensat(dir, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	free(name);
	return rc;
}

/*
 * FileOps.fileMetaAtNative(int dir, byte[] name, int mode, int uid, int gid, boolean owner): the regular
 * file `name` in dir (never followed: opened O_PATH | O_NOFOLLOW, then changed through that descriptor)
 * gets the owner (when asked) and then the mode; 0 or -errno (-EINVAL: not a regular file).
 */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_fileMetaAtNative(JNIEnv *env, jclass cls, jint dir,
		jbyteArray jname, jint mode, jint uid, jint gid, jboolean owner)
{
	(void)cls;
	char *name = usync_path_of(env, jname);
	if (!name)
		return -EINVAL;
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	free(name);
	if (fd < 0)
		return -errno;
	struct stat st;
	int rc = usync_fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
	if (rc == 0 && owner && fchownat(fd, "", (uid_t)uid, (gid_t)gid, AT_EMPTY_PATH) < 0)
		rc = -errno;
	if (rc == 0) { /* chmod of an O_PATH descriptor: through its /proc link, which names the file itself */
		char proc[40];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
		if (chmod(proc, (mode_t)mode & 07777) < 0)
			rc = -errno;
	}
	close(fd);
	return rc;
}

/* FileOps.readlinkAtNative(int dir, byte[] name, byte[] buf): the target's length in buf, or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_readlinkAtNative(JNIEnv *env, jclass cls, jint dir,
		jbyteArray jname, jbyteArray jbuf)
{
	(void)cls;
	char *name = usync_path_of(env, jname);
	if (!name)
		return -EINVAL;
	char target[4096];
	ssize_t n = readlinkat(dir, name, target, sizeof target);
	int rc = n < 0 ? -errno : n >= (ssize_t)sizeof target ? -ENAMETOOLONG : (int)n;
	free(name);
	if (rc > 0)
		(*env)->SetByteArrayRegion(env, jbuf, 0, rc, (const jbyte *)target);
	return rc;
}

/* FileOps.symlinkAtNative(byte[] target, int dir, byte[] name): a new symlink name in dir; 0 or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_symlinkAtNative(JNIEnv *env, jclass cls, jbyteArray jtarget,
		jint dir, jbyteArray jname)
{
	(void)cls;
	char *target = usync_path_of(env, jtarget);
	char *name = target ? usync_path_of(env, jname) : NULL;
	int rc = !name ? -EINVAL : symlinkat(target, dir, name) < 0 ? -errno : 0;
	free(target);
	free(name);
	return rc;
}

/*
 * FileOps.setDirMetaAtNative(int dir, byte[] name, int mode, long mtimeNs): mode and mtime of the
 * directory name in dir, opened without following a symlink; 0 or -errno.
 */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_setDirMetaAtNative(JNIEnv *env, jclass cls, jint dir,
		jbyteArray jname, jint mode, jlong mtime_ns)
{
	(void)cls;
	char *name = usync_path_of(env, jname);
	if (!name)
		return -EINVAL;
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(name);
	if (fd < 0)
		return -errno;
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, mtime_of(mtime_ns) };
	struct stat st;
	int rc = usync_fstat(fd, &st) < 0 ? -errno : 0; /* a setgid bit the directory has stays (group directories) */
	if (rc == 0 && (fchmod(fd, (st.st_mode & S_ISGID) | ((mode_t)mode & 0777)) < 0 || futimens(fd, ts) < 0))
		rc = -errno;
	close(fd);
	return rc;
}
