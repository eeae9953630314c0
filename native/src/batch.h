/* Request/result layout of org.uringsync.nativeio.Batch, checked against it when this compiles. */
#ifndef USYNC_BATCH_H
#define USYNC_BATCH_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include "org_uringsync_nativeio_Batch.h"

/* The values and offsets below are org.uringsync.nativeio.Batch's, written by javac -h: one definition. */
#define J(name) org_uringsync_nativeio_Batch_##name

enum usync_op {
	USYNC_OP_COPY_FILE = J(OP_COPY_FILE), USYNC_OP_SYMLINK = J(OP_SYMLINK), USYNC_OP_SET_META = J(OP_SET_META),
	USYNC_OP_OPEN_READ = J(OP_OPEN_READ), USYNC_OP_STAT = J(OP_STAT)
};
enum usync_flag {
	USYNC_FLAG_TIMES = J(FLAG_TIMES), USYNC_FLAG_OWNER = J(FLAG_OWNER), USYNC_FLAG_XATTRS = J(FLAG_XATTRS),
	USYNC_FLAG_XATTRS_ALL = J(FLAG_XATTRS_ALL)
};

/* Where a request failed; Batch names them. */
enum usync_stage {
	ST_NONE = J(ST_NONE), ST_OPEN_SRC = J(ST_OPEN_SRC), ST_FSTAT_SRC = J(ST_FSTAT_SRC), ST_OPEN_DST = J(ST_OPEN_DST),
	ST_READ = J(ST_READ), ST_WRITE = J(ST_WRITE), ST_FCHOWN = J(ST_FCHOWN), ST_FCHMOD = J(ST_FCHMOD),
	ST_FUTIMENS = J(ST_FUTIMENS), ST_CLOSE = J(ST_CLOSE), ST_RENAME = J(ST_RENAME), ST_READLINK = J(ST_READLINK),
	ST_SYMLINK = J(ST_SYMLINK), ST_LCHOWN = J(ST_LCHOWN), ST_UTIMENSAT = J(ST_UTIMENSAT),
	ST_LSTAT_SRC = J(ST_LSTAT_SRC), ST_NOT_REGULAR = J(ST_NOT_REGULAR), ST_COPY_RANGE = J(ST_COPY_RANGE),
	ST_LSTAT_DST = J(ST_LSTAT_DST), ST_XATTR = J(ST_XATTR)
};

struct usync_req {            /* 48 bytes, followed by src NUL dst NUL tmp NUL, padded to 8 */
	uint8_t op;
	uint8_t flags;
	uint16_t pad0;
	uint32_t mode;
	int64_t mtime_sec;
	int32_t mtime_nsec;
	uint32_t uid;
	uint32_t gid;
	uint32_t src_len;
	uint32_t dst_len;
	int32_t dst_dir;          /* dst is relative to this directory (AT_FDCWD: dst is a path) */
	uint32_t tmp_len;         /* tmp: the name written, then renamed over dst, when dst exists */
	uint32_t pad1;
};

struct usync_res {            /* 88 bytes */
	int32_t res;              /* 0 or -errno; OPEN_READ: the descriptor */
	int32_t stage;
	int64_t bytes;            /* bytes copied; OPEN_READ, STAT: the source's size */
	uint32_t mode;            /* OPEN_READ, STAT: the source's st_mode */
	uint32_t dst_mode;        /* STAT: the target's st_mode; 0 when there is none */
	int64_t mtime_ns;         /* OPEN_READ, STAT: the source's st_mtim in nanoseconds */
	int64_t dst_size;         /* STAT: the target's size; OPEN_READ: the bytes the source occupies (st_blocks) */
	int64_t dst_mtime_ns;     /* STAT: the target's st_mtim in nanoseconds */
	int64_t ino;              /* STAT: the source's inode, device and link count (hard links) */
	int64_t dev;
	int64_t nlink;
	uint32_t uid;             /* OPEN_READ, STAT: the source's owner and group */
	uint32_t gid;
	uint32_t dst_uid;         /* STAT: the target's owner and group */
	uint32_t dst_gid;
};

_Static_assert(sizeof(struct usync_req) == J(HEADER), "Batch.HEADER");
_Static_assert(offsetof(struct usync_req, op) == J(REQ_OP), "Batch.REQ_OP");
_Static_assert(offsetof(struct usync_req, flags) == J(REQ_FLAGS), "Batch.REQ_FLAGS");
_Static_assert(offsetof(struct usync_req, mode) == J(REQ_MODE), "Batch.REQ_MODE");
_Static_assert(offsetof(struct usync_req, mtime_sec) == J(REQ_MTIME_SEC), "Batch.REQ_MTIME_SEC");
_Static_assert(offsetof(struct usync_req, mtime_nsec) == J(REQ_MTIME_NSEC), "Batch.REQ_MTIME_NSEC");
_Static_assert(offsetof(struct usync_req, uid) == J(REQ_UID), "Batch.REQ_UID");
_Static_assert(offsetof(struct usync_req, gid) == J(REQ_GID), "Batch.REQ_GID");
_Static_assert(offsetof(struct usync_req, src_len) == J(REQ_SRC_LEN), "Batch.REQ_SRC_LEN");
_Static_assert(offsetof(struct usync_req, dst_len) == J(REQ_DST_LEN), "Batch.REQ_DST_LEN");
_Static_assert(offsetof(struct usync_req, dst_dir) == J(REQ_DST_DIR), "Batch.REQ_DST_DIR");
_Static_assert(offsetof(struct usync_req, tmp_len) == J(REQ_TMP_LEN), "Batch.REQ_TMP_LEN");
_Static_assert(sizeof(struct usync_res) == J(RESULT), "Batch.RESULT");
_Static_assert(offsetof(struct usync_res, res) == J(RES_RES), "Batch.RES_RES");
_Static_assert(offsetof(struct usync_res, stage) == J(RES_STAGE), "Batch.RES_STAGE");
_Static_assert(offsetof(struct usync_res, bytes) == J(RES_BYTES), "Batch.RES_BYTES");
_Static_assert(offsetof(struct usync_res, mode) == J(RES_MODE), "Batch.RES_MODE");
_Static_assert(offsetof(struct usync_res, mtime_ns) == J(RES_MTIME_NS), "Batch.RES_MTIME_NS");
_Static_assert(offsetof(struct usync_res, dst_mode) == J(RES_DST_MODE), "Batch.RES_DST_MODE");
_Static_assert(offsetof(struct usync_res, dst_size) == J(RES_DST_SIZE), "Batch.RES_DST_SIZE");
_Static_assert(offsetof(struct usync_res, dst_mtime_ns) == J(RES_DST_MTIME_NS), "Batch.RES_DST_MTIME_NS");
_Static_assert(offsetof(struct usync_res, ino) == J(RES_INO), "Batch.RES_INO");
_Static_assert(offsetof(struct usync_res, dev) == J(RES_DEV), "Batch.RES_DEV");
_Static_assert(offsetof(struct usync_res, nlink) == J(RES_NLINK), "Batch.RES_NLINK");
_Static_assert(offsetof(struct usync_res, uid) == J(RES_UID), "Batch.RES_UID");
_Static_assert(offsetof(struct usync_res, gid) == J(RES_GID), "Batch.RES_GID");
_Static_assert(offsetof(struct usync_res, dst_uid) == J(RES_DST_UID), "Batch.RES_DST_UID");
_Static_assert(offsetof(struct usync_res, dst_gid) == J(RES_DST_GID), "Batch.RES_DST_GID");
_Static_assert(J(AT_FDCWD) == AT_FDCWD, "Batch.AT_FDCWD");

#undef J

#endif
