/*
 * File metadata for the local copy: symlinks (made, owned, timed and renamed inside their directory
 * descriptor), owner/mode/times on an open file, and a directory's metadata on a descriptor opened
 * without following a symlink. All synchronous.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "file_meta.h"
#include "syscalls.h"
#include "xattrs.h"

/* The namespaces of extended attributes that flags ask for (USYNC_XATTR_*), 0 for none. */
static int xattr_scope(int flags)
{
	return (flags & USYNC_FLAG_XATTRS_ALL) ? USYNC_XATTR_ALL : (flags & USYNC_FLAG_XATTRS) ? USYNC_XATTR_USER : 0;
}

/* The extended attributes flags ask for: copied from `from` to `to`. */
static int copy_xattrs(int from, int to, int flags, int *stage)
{
	int scope = xattr_scope(flags);
	int rc = scope ? usync_xattrs_copy(from, to, scope) : 0;
	if (rc < 0)
		*stage = ST_XATTR;
	return rc;
}

/*
 * Owner (as flags ask), the attributes of src (as flags ask: after the owner, whose change drops
 * security.capability; before the mode, which may take away the write permission "user." ones need),
 * mode, and times (as flags ask), set on fd.
 */
int usync_meta_fd(int src, int fd, const struct stat *st, int flags, int *stage)
{
	if ((flags & USYNC_FLAG_OWNER) && fchown(fd, st->st_uid, st->st_gid) < 0) {
		*stage = ST_FCHOWN;
		return -errno;
	}
	int rc = copy_xattrs(src, fd, flags, stage);
	if (rc < 0)
		return rc;
	if (fchmod(fd, st->st_mode & 07777) < 0) {
		*stage = ST_FCHMOD;
		return -errno;
	}
	if (flags & USYNC_FLAG_TIMES) {
		struct timespec ts[2] = { st->st_atim, st->st_mtim };
		if (futimens(fd, ts) < 0) {
			*stage = ST_FUTIMENS;
			return -errno;
		}
	}
	return 0;
}

/* Symlink copy, synchronous: readlink, symlink (as tmp_name, renamed over dst, when dst exists). */
void usync_copy_symlink(const struct usync_req *q, const char *src, int dir, const char *dst,
			const char *tmp_name, struct usync_res *res)
{
	char target[PATH_MAX + 1];
	struct stat st;
	int stage = ST_LSTAT_SRC;
	const char *tmp = NULL;
	if (usync_lstat(src, &st) < 0)
		goto err;
	stage = ST_READLINK;
	ssize_t n = readlink(src, target, sizeof target);
	if (n < 0)
		goto err;
	if ((size_t)n >= sizeof target) {
		errno = ENAMETOOLONG;
		goto err;
	}
	target[n] = 0;
	stage = ST_SYMLINK;
	const char *made = dst;
	if (symlinkat(target, dir, dst) < 0) {
		if (errno != EEXIST || !tmp_name[0])
			goto err;
		tmp = tmp_name;
		if (symlinkat(target, dir, tmp) < 0)
			goto err;
		made = tmp;
	}
	if ((q->flags & USYNC_FLAG_OWNER) && fchownat(dir, made, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0) {
		stage = ST_LCHOWN;
		goto err_made;
	}
	if (q->flags & USYNC_FLAG_TIMES) {
		struct timespec ts[2] = { st.st_atim, st.st_mtim };
		if (utimensat(dir, made, ts, AT_SYMLINK_NOFOLLOW) < 0) {
			stage = ST_UTIMENSAT;
			goto err_made;
		}
	}
	if (tmp && renameat(dir, tmp, dir, dst) < 0) {
		stage = ST_RENAME;
		goto err_made;
	}
	res->res = 0;
	res->stage = 0;
	return;
err_made:
	res->res = -errno;
	res->stage = stage;
	unlinkat(dir, tmp ? tmp : dst, 0);
	return;
err:
	res->res = -errno;
	res->stage = stage;
}

/*
 * Metadata of an existing directory, synchronous: opened without following a symlink, then owner,
 * extended attributes (made the source's: differing ones set, stale ones removed), mode and times set
 * on the descriptor, so that nothing swapped in meanwhile is reached. Attributes that cannot be read or
 * changed are the result (with their stage), after the mode and times are set all the same.
 */
void usync_set_dir_meta(const struct usync_req *q, const char *src, int dir, const char *dst, struct usync_res *res)
{
	int stage = ST_OPEN_DST;
	int sfd = -1, fd = openat(dir, dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		goto err;
	stage = ST_FCHOWN;
	if ((q->flags & USYNC_FLAG_OWNER) && fchown(fd, q->uid, q->gid) < 0)
		goto err;
	int xerr = 0, xstage = 0;
	if (src[0] && xattr_scope(q->flags)) { /* the source directory's, exactly */
		sfd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int rc = sfd < 0 ? -errno : usync_xattrs_sync(sfd, fd, xattr_scope(q->flags), true); /* stale names go too */
		if (rc < 0) {
			xerr = rc;
			xstage = sfd < 0 ? ST_OPEN_SRC : ST_XATTR;
		}
	}
	stage = ST_FCHMOD;
	if (fchmod(fd, q->mode & 07777) < 0)
		goto err;
	if (q->flags & USYNC_FLAG_TIMES) {
		stage = ST_FUTIMENS;
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { q->mtime_sec, q->mtime_nsec } };
		if (futimens(fd, ts) < 0)
			goto err;
	}
	close(fd);
	if (sfd >= 0)
		close(sfd);
	res->res = xerr;
	if (xerr)
		res->stage = xstage;
	return;
err:
	res->res = -errno;
	res->stage = stage;
	if (fd >= 0)
		close(fd);
	if (sfd >= 0)
		close(sfd);
}

void usync_stat_pair(const char *src, int dir, const char *dst, struct usync_res *res)
{
	struct stat st;
	if (usync_lstat(src, &st) < 0) {
		res->res = -errno;
		res->stage = ST_LSTAT_SRC;
		return;
	}
	res->bytes = st.st_size;
	res->mode = st.st_mode;
	res->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	res->ino = (int64_t)st.st_ino;
	res->dev = (int64_t)st.st_dev;
	res->nlink = (int64_t)st.st_nlink;
	res->uid = st.st_uid;
	res->gid = st.st_gid;
	if (!dst[0])
		return; /* no target asked for */
	if (usync_fstatat(dir, dst, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		res->dst_mode = st.st_mode;
		res->dst_size = st.st_size;
		res->dst_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		res->dst_uid = st.st_uid;
		res->dst_gid = st.st_gid;
	} else if (errno != ENOENT) {
		res->res = -errno;
		res->stage = ST_LSTAT_DST;
	}
}
