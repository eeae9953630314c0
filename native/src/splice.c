/* The receiver's splice pipeline: see splice.h. */
#include <errno.h>
#include <fcntl.h>
#include "jni_util.h"
#include "splice.h"

/* Waits for one splice-out completion; records its pipe as free. 0, or -1 with an exception. */
static int reap_out(JNIEnv *env, struct usync_ring *r, uint32_t *pending, int fd, int64_t *pend_off)
{
	int rc = usync_ring_submit(r, true);
	if (rc < 0) {
		usync_throw_errno(env, "io_uring_enter", NULL, -rc);
		return -1;
	}
	struct io_uring_cqe *cqe;
	unsigned hd, seen = 0;
	int err = 0;
	io_uring_for_each_cqe(&r->ring, hd, cqe) {
		unsigned pi = (unsigned)(cqe->user_data & 1);
		int res = cqe->res;
		uint32_t want = pending[pi];
		if (res < 0 && !err)
			err = -res;
		else if (res >= 0 && (uint32_t)res < want) {
			/* short: the rest of this pipe goes out synchronously */
			int *p = r->pipes.fd[pi];
			loff_t o = pend_off[pi] + res;
			uint32_t left = want - (uint32_t)res;
			while (left > 0 && !err) {
				ssize_t w = splice(p[0], NULL, fd, &o, left, 0);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					err = w < 0 ? errno : EIO;
				else
					left -= (uint32_t)w;
			}
		}
		pending[pi] = 0;
		seen++;
	}
	io_uring_cq_advance(&r->ring, seen);
	if (err) {
		usync_throw_errno(env, "splice to file", NULL, err);
		return -1;
	}
	return 0;
}

/*
 * Moves n bytes socket -> pipe -> file at off. Two pipes take turns: while one is filled from the
 * socket (splice(2), one kTLS record per call), the other drains into the file through an io_uring
 * SPLICE. A non-data record (splice says EINVAL, recv EIO) is read and named. 0, or -1 (thrown).
 */
int usync_splice_to_file(JNIEnv *env, struct usync_tls *t, struct usync_ring *r, int fd, int64_t off, uint32_t n)
{
	uint32_t pending[2] = { 0, 0 };
	int64_t pend_off[2] = { 0, 0 };
	unsigned npipes = r->pipes.count >= 2 ? 2 : 1;
	unsigned cur = 0;
	while (n > 0) {
		while (pending[cur])
			if (reap_out(env, r, pending, fd, pend_off) < 0)
				goto fail;
		int *p = r->pipes.fd[cur];
		uint32_t want = n < r->pipes.size ? n : r->pipes.size, fill = 0;
		while (fill < want) {
			ssize_t k = splice(t->fd, NULL, p[1], NULL, want - fill, 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0 && (errno == EIO || errno == EINVAL)) {
				if (usync_tls_control_record(env, t, "TLS read") == 0)
					usync_throw_violation(env, "connection closed mid-file (close_notify)");
				goto fail;
			}
			if (k < 0) {
				usync_throw_errno(env, "splice from socket", NULL, usync_socket_errno(errno));
				goto fail;
			}
			if (k == 0) {
				usync_throw_violation(env, "connection closed mid-file");
				goto fail;
			}
			fill += (uint32_t)k;
		}
		struct io_uring_sqe *sqe = usync_ring_sqe(r);
		if (!sqe) {
			usync_throw_errno(env, "splice to file (no submission entry)", NULL, EBUSY);
			goto fail;
		}
		io_uring_prep_splice(sqe, p[0], -1, fd, off, fill, 0);
		io_uring_sqe_set_data64(sqe, cur);
		io_uring_submit(&r->ring);
		pending[cur] = fill;
		pend_off[cur] = off;
		off += fill;
		n -= fill;
		cur = (cur + 1) % npipes;
	}
	while (pending[0] || pending[1])
		if (reap_out(env, r, pending, fd, pend_off) < 0)
			goto fail;
	return 0;
fail:
	/* an exception is pending: wait out what is in flight; the pipes are replaced since they may
	 * still hold bytes */
	while (pending[0] || pending[1]) {
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(&r->ring, &cqe) < 0)
			break;
		pending[cqe->user_data & 1] = 0;
		io_uring_cqe_seen(&r->ring, cqe);
	}
	for (unsigned i = 0; i < npipes; i++)
		usync_pipes_renew(&r->pipes, i);
	return -1;
}
