/* File metadata for the local copy: see file_meta.c. */
#ifndef USYNC_FILE_META_H
#define USYNC_FILE_META_H

#include <sys/stat.h>
#include "batch.h"

/*
 * Owner (USYNC_FLAG_OWNER), src's extended attributes (USYNC_FLAG_XATTRS / _ALL), mode, times
 * (USYNC_FLAG_TIMES) of st onto fd, in that order: 0, or -errno with *stage.
 */
int usync_meta_fd(int src, int fd, const struct stat *st, int flags, int *stage);
/* Recreates the symlink src as dst inside dir (as tmp, renamed over dst, when dst exists); result in res. */
void usync_copy_symlink(const struct usync_req *q, const char *src, int dir, const char *dst, const char *tmp,
			struct usync_res *res);
/* lstat of src and of dst inside dir (neither followed): sizes, modes, mtimes into res (dst_mode 0: none). */
void usync_stat_pair(const char *src, int dir, const char *dst, struct usync_res *res);
/*
 * Owner, (as q's flags ask) the extended attributes of the directory src (when given), mode and times
 * of q onto the directory dst inside dir (opened O_NOFOLLOW); result in res.
 */
void usync_set_dir_meta(const struct usync_req *q, const char *src, int dir, const char *dst, struct usync_res *res);

#endif
