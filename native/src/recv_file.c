/*
 * Receiving one file's data frames (TlsSession.receiveFileData) into a descriptor: buffers filled
 * across frame boundaries and written whole through the ring while the next ones are decrypted; or,
 * under kernel TLS with splicing, socket -> pipe -> file (splice.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "direct_io.h"
#include "jni_util.h"
#include "meter.h"
#include "op_timeout.h"
#include "recv_file.h"
#include "splice.h"
#include "uring_data.h"

#define RESERVE_AHEAD (64LL << 20) /* direct writes: disk reserved beyond the data received */

/* The peer ended the stream inside a file: a protocol violation naming how far it got. */
static void closed_mid_file(JNIEnv *env, int64_t got, int64_t size)
{
	char msg[96];
	snprintf(msg, sizeof msg, "connection closed mid-file (%lld of %lld bytes)", (long long)got, (long long)size);
	usync_throw_violation(env, msg);
}

/* The receive loop's ring: which buffers are being written to the file, where each writes, the first error. */
struct file_writes {
	struct usync_ring *r;
	int fd;
	bool *busy;             /* buffer i: a write from it is in flight */
	int64_t *off;           /* buffer i: the file offset it writes at */
	unsigned inflight;
	int err;                /* first errno */
	struct usync_op_timeout timeout; /* for IORING_OP_RECV on a kernel TLS socket */
	bool recv_wait;         /* an IORING_OP_RECV is in flight */
	int recv_res;           /* and its result once reaped */
};

/* Writes all n bytes at off. 0, or the errno that stopped it (ENOSPC, EDQUOT, EFBIG, EIO...). */
static int pwrite_all(int fd, const uint8_t *p, size_t n, int64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/*
 * A completion of the receive loop: a file write (frees its buffer, keeps the first error; a short
 * write, the file system filling up during it, is finished here, which names the reason), the
 * socket's IORING_OP_RECV, or its linked timeout.
 */
static void on_cqe(void *ctx, uint64_t data, int res)
{
	struct file_writes *w = ctx;
	if (data == TAG_RECV) {
		w->recv_res = res;
		w->recv_wait = false;
		return;
	}
	if (data == TAG_TIMEOUT) {
		usync_op_timeout_done(&w->timeout, res);
		return;
	}
	unsigned i = (unsigned)(data >> 32);
	uint32_t len = (uint32_t)data;
	w->busy[i] = false;
	w->inflight--;
	if (w->err)
		return;
	if (res < 0)
		w->err = -res;
	else if ((uint32_t)res < len)
		w->err = pwrite_all(w->fd, usync_ring_buf(w->r, i) + res, len - (uint32_t)res, w->off[i] + res);
}

/* Waits for at least one completion of the receive loop. 0, or -errno from io_uring_enter. */
static int wait_writes(struct file_writes *w)
{
	return usync_ring_reap(w->r, true, on_cqe, w);
}

/*
 * Kernel TLS RX: fills buf with exactly n decrypted bytes by IORING_OP_RECV (MSG_WAITALL), while the
 * file writes in flight keep completing. 1 done, 0 end of stream, -1 exception thrown.
 */
static int ring_recv_full(JNIEnv *env, struct usync_tls *t, struct usync_ring *r, uint8_t *buf, uint32_t n,
			  struct file_writes *w)
{
	uint32_t got = 0;
	while (got < n) {
		struct io_uring_sqe *sqe = usync_ring_room(r, 2) ? usync_ring_sqe(r) : NULL;
		if (!sqe) {
			usync_throw_errno(env, "TLS read (io_uring recv: no submission entry)", NULL, EBUSY);
			return -1;
		}
		io_uring_prep_recv(sqe, t->fd, buf + got, n - got < SOCKET_OP_MAX ? n - got : SOCKET_OP_MAX, MSG_WAITALL);
		io_uring_sqe_set_data64(sqe, TAG_RECV);
		usync_op_timeout_link(&w->timeout, r, sqe);
		w->recv_wait = true;
		while (w->recv_wait || w->timeout.pending > 0) {
			int rc = wait_writes(w);
			if (rc < 0) {
				usync_throw_errno(env, "io_uring_enter", NULL, -rc);
				return -1;
			}
		}
		int res = w->recv_res;
		if (w->timeout.fired) {
			usync_throw_errno(env, "TLS read (io_uring recv)", NULL, ETIMEDOUT);
			return -1;
		}
		if (res == -EINTR)
			continue;
		if (res == -EIO) /* a control record is next: read it and name it */
			return (int)usync_tls_control_record(env, t, "TLS read");
		if (res < 0) {
			usync_throw_errno(env, "TLS read (io_uring recv)", NULL, usync_socket_errno(-res));
			return -1;
		}
		if (res == 0)
			return 0;
		got += (uint32_t)res;
	}
	return 1;
}

/*
 * Queues the write of buffer i (len bytes at off); direct I/O pads the file's tail to the alignment.
 * False when no submission entry could be had.
 */
static bool queue_write(struct file_writes *w, unsigned i, uint32_t len, int64_t off, bool direct)
{
	struct usync_ring *r = w->r;
	int fd = w->fd;
	uint8_t *buf = usync_ring_buf(r, i);
	w->off[i] = off;
	if (direct && len % USYNC_DIO_ALIGN) {
		uint32_t padded = usync_dio_round(len); /* cut back by ftruncate once everything landed */
		memset(buf + len, 0, padded - len);
		len = padded;
	}
	struct io_uring_sqe *sqe = usync_ring_sqe(r);
	if (!sqe)
		return false;
	if (r->fixed)
		io_uring_prep_write_fixed(sqe, fd, buf, len, (uint64_t)off, (int)i);
	else
		io_uring_prep_write(sqe, fd, buf, len, (uint64_t)off);
	io_uring_sqe_set_data64(sqe, (uint64_t)i << 32 | len);
	return true;
}

/*
 * usync_recv_file: the file's data frames into fd. Buffers are filled across frame boundaries and written
 * whole, so every write but the last is chunk-sized and chunk-aligned; with direct (and a filesystem that
 * can) the writes bypass the page cache.
 */
void usync_recv_file(JNIEnv *env, struct usync_tls *t, struct usync_ring *r, jint fd, jlong start, jlong size,
		     jint data_type, jint end_type, jint max_frame, jboolean want_direct, jboolean want_splice)
{
	bool spliced = want_splice && t->rx && r->pipes.count > 0;
	bool direct = want_direct && !spliced && start == 0 && end_type >= 0 && r->chunk % USYNC_DIO_ALIGN == 0 &&
		      size > 0 && usync_direct_io(fd); /* a whole file: the tail's padding is cut back at its size */
	char msg[160];
	uint8_t fh[FRAME_HDR];
	int64_t got = 0;         /* bytes received */
	unsigned next = 0;       /* buffer being filled; buffer i is busy while a write from it is in flight */
	uint32_t fill = 0;       /* bytes in buffer next */
	struct file_writes w = { .r = r, .fd = fd };
	if (t->rx)
		usync_op_timeout_init(&w.timeout, t->fd, SO_RCVTIMEO);
	w.busy = calloc(r->nbufs, sizeof *w.busy);
	w.off = calloc(r->nbufs, sizeof *w.off);
	if (!w.busy || !w.off) {
		free(w.busy);
		free(w.off);
		usync_throw_errno(env, "malloc", NULL, ENOMEM);
		return;
	}
	/* Direct writes: extents reserved ahead of the data (then the writes need no size updates), at
	 * most RESERVE_AHEAD beyond what has arrived: an announced size alone reserves nothing. */
	int64_t reserved = 0;
	uint32_t frame_left = 0;
	for (;;) {
		if (frame_left == 0) {
			if (got == size && end_type < 0)
				goto drain; /* a range: what follows is the caller's to read */
			int rc = usync_tls_read_full(env, t, fh, FRAME_HDR, "TLS read");
			if (rc < 0)
				goto drain;
			if (rc == 0) {
				closed_mid_file(env, got, size);
				goto drain;
			}
			uint32_t len = (uint32_t)fh[1] | (uint32_t)fh[2] << 8 | (uint32_t)fh[3] << 16 | (uint32_t)fh[4] << 24;
			if (got == size && fh[0] == end_type) {
				if (len != 0) {
					snprintf(msg, sizeof msg, "end-of-file frame with a %u-byte payload", len);
					usync_throw_violation(env, msg);
				}
				goto drain;
			}
			if (fh[0] != data_type) {
				snprintf(msg, sizeof msg, "unexpected frame type 0x%02x after %lld of %lld file bytes", fh[0],
					 (long long)got, (long long)size);
				usync_throw_violation(env, msg);
				goto drain;
			}
			if (len > (uint32_t)max_frame || (int64_t)len > size - got) {
				snprintf(msg, sizeof msg, "data frame of %u bytes exceeds %s (%lld)", len,
					 len > (uint32_t)max_frame ? "the frame limit" : "the announced size",
					 len > (uint32_t)max_frame ? (long long)max_frame : (long long)(size - got));
				usync_throw_violation(env, msg);
				goto drain;
			}
			frame_left = len;
			if (spliced && len > 0) {
				if (usync_splice_to_file(env, t, r, fd, start + got, len) < 0)
					goto drain;
				got += len;
				usync_meter_add(r->meter, len);
				frame_left = 0;
			}
			continue;
		}
		/* A fresh buffer: wait until its previous write landed. */
		while (fill == 0 && w.busy[next] && !w.err) {
			int rc = wait_writes(&w);
			if (rc < 0)
				w.err = -rc;
		}
		if (w.err) {
			usync_throw_errno(env, "write", NULL, w.err);
			goto drain;
		}
		uint32_t n = frame_left < r->chunk - fill ? frame_left : (uint32_t)r->chunk - fill;
		uint8_t *buf = usync_ring_buf(r, next) + fill;
		usync_tls_read_lowat(t, size - got);
		int rc = t->rx ? ring_recv_full(env, t, r, buf, n, &w)
			       : usync_tls_read_full(env, t, buf, n, "TLS read");
		if (rc < 0)
			goto drain;
		if (rc == 0) {
			closed_mid_file(env, got, size);
			goto drain;
		}
		fill += n;
		got += n;
		usync_meter_add(r->meter, n);
		frame_left -= n;
		if (got == size && fill == got && !direct) {
			/* The whole file in one buffer (the small-file case): one pwrite, no ring round trip. */
			int err = pwrite_all(fd, usync_ring_buf(r, next), fill, start);
			if (err && !w.err)
				w.err = err;
			fill = 0;
			continue;
		}
		if (fill == r->chunk || got == size) {
			if (direct && got > reserved) {
				int64_t upto = got + RESERVE_AHEAD < size ? got + RESERVE_AHEAD : size;
				(void)fallocate(fd, 0, reserved, upto - reserved); /* refused: writes allocate as they go */
				reserved = upto;
			}
			if (!queue_write(&w, next, fill, start + got - fill, direct)) {
				usync_throw_errno(env, "write (no submission entry)", NULL, EBUSY);
				goto drain;
			}
			if (got < size)
				io_uring_submit(&r->ring); /* more data follows: let the write run while we decrypt */
			w.busy[next] = true;
			w.inflight++;
			next = (next + 1) % r->nbufs;
			fill = 0;
		}
	}
drain:
	usync_tls_read_lowat(t, 0);
	/* Every write must land (or fail) before the buffers are reused or the caller renames the file. */
	while (w.inflight > 0) {
		int rc = wait_writes(&w);
		if (rc < 0) {
			if (!w.err)
				w.err = -rc;
			break;
		}
	}
	if (w.err && !(*env)->ExceptionCheck(env))
		usync_throw_errno(env, "write", NULL, w.err);
	if (direct && !(*env)->ExceptionCheck(env) && size % USYNC_DIO_ALIGN && ftruncate(fd, size) != 0)
		usync_throw_errno(env, "ftruncate", NULL, errno);
	free(w.busy);
	free(w.off);
}
