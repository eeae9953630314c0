/* Request/result layout shared with org.uringsync.nativeio.Batch (keep in step). */
#ifndef USYNC_BATCH_H
#define USYNC_BATCH_H

#include <stdint.h>

enum usync_op { USYNC_OP_COPY_FILE = 1, USYNC_OP_SYMLINK = 2, USYNC_OP_SET_META = 3, USYNC_OP_OPEN_READ = 4 };
enum usync_flag { USYNC_FLAG_TIMES = 1, USYNC_FLAG_OWNER = 2 };

/* Where a request failed; Batch.STAGES names them (index = value). */
enum usync_stage {
	ST_NONE = 0, ST_OPEN_SRC, ST_FSTAT_SRC, ST_OPEN_DST, ST_READ, ST_WRITE, ST_FCHOWN, ST_FCHMOD,
	ST_FUTIMENS, ST_CLOSE, ST_RENAME, ST_READLINK, ST_SYMLINK, ST_LCHOWN, ST_UTIMENSAT, ST_CHMOD,
	ST_LSTAT_SRC, ST_NOT_REGULAR, ST_UNLINK, ST_COPY_RANGE
};

struct usync_req {            /* 40 bytes, followed by src NUL dst NUL, padded to 8 */
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
};

struct usync_res {            /* 32 bytes */
	int32_t res;              /* 0 or -errno; OPEN_READ: the descriptor */
	int32_t stage;
	int64_t bytes;            /* bytes copied; OPEN_READ: the size */
	uint32_t mode;            /* OPEN_READ: st_mode */
	uint32_t pad;
	int64_t mtime_ns;         /* OPEN_READ: st_mtim in nanoseconds */
};

_Static_assert(sizeof(struct usync_req) == 40, "request header is 40 bytes");
_Static_assert(sizeof(struct usync_res) == 32, "result is 32 bytes");

#endif
