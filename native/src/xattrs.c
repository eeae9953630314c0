/* Extended attributes (see xattrs.h), and their JNI entry points in FileOps. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "jni_util.h"
#include "org_uringsync_nativeio_FileOps.h"
#include "syscalls.h"
#include "xattrs.h"

/* Whether the attribute name (len bytes, not NUL-terminated) is in scope. */
static int in_scope_n(const char *name, size_t len, int scope)
{
	if (scope == USYNC_XATTR_USER)
		return len >= 5 && memcmp(name, "user.", 5) == 0;
	if (scope == USYNC_XATTR_RECEIVED && len >= 9 && memcmp(name, "security.", 9) == 0)
		return 0;
	return len < 7 || memcmp(name, "system.", 7) != 0;
}

static int in_scope(const char *name, int scope)
{
	return in_scope_n(name, strlen(name), scope);
}

/* One xattr call on fd, or when path is set on path, not followed (l*xattr). */
static ssize_t xattr_call(int fd, const char *path, const char *name, char *buf, size_t size)
{
	if (path)
		return name ? lgetxattr(path, name, buf, size) : llistxattr(path, buf, size);
	return name ? fgetxattr(fd, name, buf, size) : flistxattr(fd, buf, size);
}

/* A name list or a value, read into a buffer grown while the attribute changes under us (ERANGE). */
static ssize_t read_grown(int fd, const char *path, const char *name, char **buf)
{
	for (int tries = 0; tries < 8; tries++) {
		ssize_t n = xattr_call(fd, path, name, NULL, 0);
		if (n <= 0)
			return n;
		char *b = realloc(*buf, (size_t)n);
		if (!b)
			return -1; /* errno ENOMEM */
		*buf = b;
		ssize_t got = xattr_call(fd, path, name, b, (size_t)n);
		if (got >= 0 || errno != ERANGE)
			return got;
	}
	errno = ERANGE;
	return -1;
}

/* As usync_xattrs_get, of fd or (path set) of path, not followed. */
static int get_packed(int fd, const char *path, int scope, uint8_t **out, size_t *len)
{
	char *names = NULL, *value = NULL;
	uint8_t *packed = NULL;
	size_t used = 0;
	int rc = 0;
	*out = NULL;
	*len = 0;
	ssize_t n = read_grown(fd, path, NULL, &names);
	if (n < 0) {
		rc = errno == ENOTSUP ? 0 : -errno;
		goto out;
	}
	for (ssize_t at = 0; at < n; at += (ssize_t)strlen(names + at) + 1) {
		const char *name = names + at;
		size_t nl = strlen(name);
		if (!in_scope(name, scope) || nl == 0 || nl > 255)
			continue;
		ssize_t vl = read_grown(fd, path, name, &value);
		if (vl < 0) {
			if (errno == ENODATA)
				continue; /* removed meanwhile */
			rc = -errno;
			goto out;
		}
		size_t need = used + 1 + nl + 4 + (size_t)vl;
		if (need > USYNC_XATTRS_MAX) {
			rc = -E2BIG;
			goto out;
		}
		uint8_t *p = realloc(packed, need);
		if (!p) {
			rc = -ENOMEM;
			goto out;
		}
		packed = p;
		p += used;
		*p++ = (uint8_t)nl;
		memcpy(p, name, nl);
		p += nl;
		uint32_t v = (uint32_t)vl;
		p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
		if (vl > 0)
			memcpy(p + 4, value, (size_t)vl);
		used = need;
	}
	if (used > 0) {
		*out = packed;
		*len = used;
		packed = NULL;
	}
out:
	free(names);
	free(value);
	free(packed);
	return rc;
}

int usync_xattrs_get(int fd, int scope, uint8_t **out, size_t *len)
{
	return get_packed(fd, NULL, scope, out, len);
}

/* One attribute of a packed list: its name (not NUL-terminated), value and the offset after it; false at the end. */
struct xattr_at {
	const uint8_t *name, *value;
	size_t name_len, value_len;
};

/*
 * The attribute at *at of a packed list, *at moved past it; false at the end, or where the list is cut
 * short (*at then stays before it, short of len).
 */
static bool next_xattr(const uint8_t *p, size_t len, size_t *at, struct xattr_at *x)
{
	size_t i = *at;
	if (i + 1 > len || i + 1 + p[i] + 4 > len)
		return false;
	x->name_len = p[i++];
	x->name = p + i;
	i += x->name_len;
	x->value_len = (size_t)p[i] | (size_t)p[i + 1] << 8 | (size_t)p[i + 2] << 16 | (size_t)p[i + 3] << 24;
	i += 4;
	if (x->value_len > len - i)
		return false;
	x->value = p + i;
	*at = i + x->value_len;
	return true;
}

/* One attribute set on fd; -EINVAL for an empty name or one holding a NUL. */
static int set_one(int fd, const struct xattr_at *x)
{
	char name[256];
	if (x->name_len == 0 || memchr(x->name, 0, x->name_len))
		return -EINVAL;
	memcpy(name, x->name, x->name_len);
	name[x->name_len] = 0;
	return fsetxattr(fd, name, x->value, x->value_len, 0) < 0 ? -errno : 0;
}

int usync_xattrs_set(int fd, const uint8_t *p, size_t len)
{
	struct xattr_at x;
	size_t at = 0;
	while (next_xattr(p, len, &at, &x)) {
		int rc = set_one(fd, &x);
		if (rc < 0)
			return rc;
	}
	return at == len ? 0 : -EINVAL; /* a list cut short is malformed */
}

int usync_xattrs_copy(int from, int to, int scope)
{
	uint8_t *p;
	size_t len;
	int rc = usync_xattrs_get(from, scope, &p, &len);
	if (rc == 0 && len > 0)
		rc = usync_xattrs_set(to, p, len);
	free(p);
	return rc;
}

/* The value of `name` in a packed list (made by usync_xattrs_get: well formed), or false when absent. */
static bool find_xattr(const uint8_t *p, size_t len, const struct xattr_at *want, struct xattr_at *found)
{
	size_t at = 0;
	while (next_xattr(p, len, &at, found))
		if (found->name_len == want->name_len && memcmp(found->name, want->name, want->name_len) == 0)
			return true;
	return false;
}

/* Whether the packed list p has x's name with x's value. */
static bool has_same(const uint8_t *p, size_t len, const struct xattr_at *x)
{
	struct xattr_at y;
	return find_xattr(p, len, x, &y) && y.value_len == x->value_len && memcmp(x->value, y.value, x->value_len) == 0;
}

/*
 * usync_xattrs_sync against the packed list a (alen bytes, well formed), to's list read from fd to, or
 * from to_path (not followed) when that is set; names a lacks are removed only when in rscope (scope,
 * or "user." alone for a list whose other namespaces the sender may not have read).
 */
static int sync_to_list(const uint8_t *a, size_t alen, int to, const char *to_path, int scope, int rscope, bool apply)
{
	uint8_t *b = NULL;
	size_t blen;
	int rc = get_packed(to, to_path, scope, &b, &blen);
	if (rc < 0)
		goto out;
	struct xattr_at x, y;
	size_t at = 0;
	bool differ = false;
	while (!differ && next_xattr(a, alen, &at, &x)) /* each of from's in scope, the same in to */
		differ = in_scope_n((const char *)x.name, x.name_len, scope) && !has_same(b, blen, &x);
	for (at = 0; !differ && next_xattr(b, blen, &at, &y);) /* none of to's that from lacks (and may be removed) */
		differ = in_scope_n((const char *)y.name, y.name_len, rscope) && !find_xattr(a, alen, &y, &x);
	rc = differ ? 1 : 0;
	if (!differ || !apply)
		goto out;
	char name[256];
	for (at = 0; next_xattr(b, blen, &at, &y);) {
		if (!in_scope_n((const char *)y.name, y.name_len, rscope) || find_xattr(a, alen, &y, &x))
			continue;
		memcpy(name, y.name, y.name_len);
		name[y.name_len] = 0;
		if (fremovexattr(to, name) < 0 && errno != ENODATA) {
			rc = -errno;
			goto out;
		}
	}
	for (at = 0; next_xattr(a, alen, &at, &x);) { /* only what differs: an unchanged security.* stays untouched */
		if (!in_scope_n((const char *)x.name, x.name_len, scope) || has_same(b, blen, &x))
			continue;
		rc = set_one(to, &x);
		if (rc < 0)
			goto out;
		rc = 1;
	}
out:
	free(b);
	return rc;
}

/* usync_xattrs_sync, the lists read from fds, or from paths (not followed) when those are set. */
static int sync_lists(int from, const char *from_path, int to, const char *to_path, int scope, bool apply)
{
	uint8_t *a = NULL;
	size_t alen;
	int rc = get_packed(from, from_path, scope, &a, &alen);
	if (rc == 0)
		rc = sync_to_list(a, alen, to, to_path, scope, scope, apply);
	free(a);
	return rc;
}

int usync_xattrs_sync(int from, int to, int scope, bool apply)
{
	return sync_lists(from, NULL, to, NULL, scope, apply);
}

/*
 * The regular file `name` in dir (AT_FDCWD: a path), never followed, opened read-only for its
 * attributes: looked at through an O_PATH descriptor, then reopened through /proc (the same inode,
 * nothing resolved again). The fd, or -errno (-EINVAL: not a regular file).
 */
static int reopen_regular(int dir, const char *name)
{
	int p = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (p < 0)
		return -errno;
	struct stat st;
	int fd = -EINVAL;
	if (usync_fstat(p, &st) < 0) {
		fd = -errno;
	} else if (S_ISREG(st.st_mode)) {
		char self[64];
		snprintf(self, sizeof self, "/proc/self/fd/%d", p);
		fd = open(self, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	close(p);
	return fd;
}

/*
 * FileOps.syncXattrsNative(byte[] src, byte[] packed, int dir, byte[] name, boolean all, boolean removeAll,
 * boolean apply): the regular file `name` in dir made to have the attributes of the regular file src (a
 * path), or when src is null those of the packed list (a receiver's: with all, everything but "system."
 * and "security."; names the list lacks removed in those namespaces with removeAll, else in "user."
 * alone); neither file followed; see usync_xattrs_sync. An empty name: dir itself is
 * the target (an open descriptor of any type, not O_PATH). 0, 1 or -errno (-EINVAL: not a regular file).
 */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_syncXattrsNative(JNIEnv *env, jclass cls, jbyteArray jsrc,
		jbyteArray jpacked, jint dir, jbyteArray jname, jboolean all, jboolean removeAll, jboolean apply)
{
	(void)cls;
	char *src = jsrc ? usync_path_of(env, jsrc) : NULL;
	char *name = usync_path_of(env, jname);
	uint8_t *packed = NULL;
	size_t plen = 0;
	int rc = -EINVAL, from = -1, to = -1;
	if ((!src && !jpacked) || !name)
		goto out;
	if (!src) {
		plen = (size_t)(*env)->GetArrayLength(env, jpacked);
		packed = malloc(plen ? plen : 1);
		if (!packed) {
			rc = -ENOMEM;
			goto out;
		}
		(*env)->GetByteArrayRegion(env, jpacked, 0, (jsize)plen, (jbyte *)packed);
	}
	int scope = !all ? USYNC_XATTR_USER : src ? USYNC_XATTR_ALL : USYNC_XATTR_RECEIVED;
	int rscope = removeAll ? scope : USYNC_XATTR_USER;
	char target[64 + 256];
	if (!apply && name[0] && !strchr(name, '/') && snprintf(target, sizeof target, "/proc/self/fd/%d/%s", dir, name) < (int)sizeof target) {
		/* Only looking: by path, not followed, nothing opened (two system calls a file fewer on a
		 * no-change run); the target through its directory's descriptor, never a path re-resolved
		 * from the root. A lookup that fails goes the way below, which names the reason. */
		rc = src ? sync_lists(-1, src, -1, target, scope, false) : sync_to_list(packed, plen, -1, target, scope, rscope, false);
		if (rc >= 0)
			goto out;
	}
	/* Both looked at through O_PATH first (opening a device swapped in could have side effects), then,
	 * regular files alone, reopened for their attributes through that same inode. */
	if (src && (from = reopen_regular(AT_FDCWD, src)) < 0) { /* a list as the source: nothing to open */
		rc = from;
		goto out;
	}
	if (!name[0]) { /* the open descriptor dir itself (a directory the caller opened): borrowed, not closed */
		to = dir;
	} else if ((to = reopen_regular(dir, name)) < 0) {
		rc = to;
		goto out;
	}
	struct stat ts;
	if (usync_fstat(to, &ts) < 0) {
		rc = -errno;
		goto out;
	}
	/* "user." attributes need write permission, even for the owner: a read-only file kept by a user
	 * other than root gets it for the change, then its mode back (the caller sets the final one) */
	bool lend = apply && geteuid() != 0 && !(ts.st_mode & S_IWUSR) && ts.st_uid == geteuid();
	if (lend && fchmod(to, (ts.st_mode & 07777) | S_IWUSR) < 0) {
		rc = -errno;
		goto out;
	}
	rc = src ? usync_xattrs_sync(from, to, scope, apply) : sync_to_list(packed, plen, to, NULL, scope, rscope, apply);
	if (lend && fchmod(to, ts.st_mode & 07777) < 0 && rc >= 0)
		rc = -errno;
out:
	if (from >= 0)
		close(from);
	if (to >= 0 && to != dir)
		close(to);
	free(src);
	free(name);
	free(packed);
	return rc;
}

/*
 * A packed list read (rc 0: p, len bytes, freed here) as a Java byte[], null when empty; rc < 0: an
 * exception naming the failure, and null.
 */
static jbyteArray packed_to_java(JNIEnv *env, int rc, uint8_t *p, size_t len)
{
	if (rc < 0) {
		usync_throw_errno(env, rc == -E2BIG ? "listxattr (more than 64 KiB of attributes)" : "getxattr", NULL, -rc);
		return NULL;
	}
	jbyteArray out = NULL;
	if (len > 0 && (out = (*env)->NewByteArray(env, (jsize)len)))
		(*env)->SetByteArrayRegion(env, out, 0, (jsize)len, (const jbyte *)p);
	free(p);
	return out;
}

/*
 * FileOps.xattrsAtPathNative(byte[] path, boolean all): the packed attributes of the entry at path, not
 * followed and not opened ("user." ones alone unless all); null when none. An exception names the failure.
 */
JNIEXPORT jbyteArray JNICALL Java_org_uringsync_nativeio_FileOps_xattrsAtPathNative(JNIEnv *env, jclass cls,
		jbyteArray jpath, jboolean all)
{
	(void)cls;
	char *path = usync_path_of(env, jpath);
	if (!path) {
		usync_throw_errno(env, "getxattr", NULL, EINVAL);
		return NULL;
	}
	uint8_t *p;
	size_t len;
	int rc = get_packed(-1, path, all ? USYNC_XATTR_ALL : USYNC_XATTR_USER, &p, &len);
	free(path);
	return packed_to_java(env, rc, p, len);
}

/*
 * The directory `name` in dir opened for its attributes, never followed (anything else swapped in is
 * refused: -ENOTDIR, -ELOOP for a symlink). -errno on failure.
 */
static int open_entry(int dir, jbyteArray jname, JNIEnv *env)
{
	char *name = usync_path_of(env, jname);
	if (!name)
		return -EINVAL;
	int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(name);
	return fd < 0 ? -errno : fd;
}

/* FileOps.openDirectoryAtNative(int dir, byte[] name): see open_entry; fd or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_openDirectoryAtNative(JNIEnv *env, jclass cls, jint dir,
		jbyteArray jname)
{
	(void)cls;
	return open_entry(dir, jname, env);
}

/*
 * FileOps.xattrsNative(int fd, int dir, byte[] name, boolean all): the packed attributes of fd (or,
 * when fd < 0, of the directory `name` in dir, not followed), "user." ones alone unless all; null when none. An
 * exception names the failure.
 */
JNIEXPORT jbyteArray JNICALL Java_org_uringsync_nativeio_FileOps_xattrsNative(JNIEnv *env, jclass cls, jint fd,
		jint dir, jbyteArray jname, jboolean all)
{
	(void)cls;
	int own = fd < 0 ? open_entry(dir, jname, env) : -1;
	if (fd < 0 && own < 0) {
		usync_throw_errno(env, "open (extended attributes)", NULL, -own);
		return NULL;
	}
	uint8_t *p;
	size_t len;
	int rc = usync_xattrs_get(fd < 0 ? own : fd, all ? USYNC_XATTR_ALL : USYNC_XATTR_USER, &p, &len);
	if (own >= 0)
		close(own);
	return packed_to_java(env, rc, p, len);
}

/*
 * FileOps.setXattrsNative(int fd, int dir, byte[] name, byte[] packed): sets a packed list on fd (or,
 * when fd < 0, on the directory `name` in dir, not followed); 0 or -errno (-EINVAL: malformed list).
 */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_FileOps_setXattrsNative(JNIEnv *env, jclass cls, jint fd, jint dir,
		jbyteArray jname, jbyteArray jpacked)
{
	(void)cls;
	jsize len = (*env)->GetArrayLength(env, jpacked);
	uint8_t *p = malloc(len > 0 ? (size_t)len : 1);
	if (!p)
		return -ENOMEM;
	(*env)->GetByteArrayRegion(env, jpacked, 0, len, (jbyte *)p);
	int own = fd < 0 ? open_entry(dir, jname, env) : -1;
	int rc = fd < 0 && own < 0 ? own : usync_xattrs_set(fd < 0 ? own : fd, p, (size_t)len);
	if (own >= 0)
		close(own);
	free(p);
	return rc;
}
