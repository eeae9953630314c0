/* The splice pipelines of the network paths: see splice.h. */
#include <errno.h>
#include <fcntl.h>
#include "jni_util.h"
#include "splice.h"
#include "uring_data.h"

void usync_splice_pair_done(struct usync_splice_pair *sp, uint64_t data, int res)
{
	if (data & TAG_SPLICE)
		sp->res[data & 1] = res;
	sp->pending--;
}

long usync_splice_to_socket(struct usync_ring *r, struct usync_splice_pair *sp, struct usync_op_timeout *to, int fd,
			    int64_t off, uint32_t len, int sock, bool more, usync_cqe_fn fn, void *ctx)
{
	int *p = r->pipes.fd[0];
	if (!usync_ring_room(r, 3))
		return -EBUSY; /* a linked pair (and its timeout) is queued whole or not at all */
	struct io_uring_sqe *in = usync_ring_sqe(r);
	struct io_uring_sqe *out = in ? usync_ring_sqe(r) : NULL;
	if (!out) { /* (injected failures only: there was room) an unfinished link would bind the next entry */
		if (in) {
			io_uring_prep_nop(in);
			io_uring_sqe_set_data64(in, TAG_NOP);
			sp->pending++;
		}
		return -EBUSY;
	}
	io_uring_prep_splice(in, fd, off, p[1], -1, len, 0);
	in->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(in, TAG_SPLICE | 0);
	io_uring_prep_splice(out, p[0], -1, sock, -1, len, more ? SPLICE_F_MORE : 0);
	io_uring_sqe_set_data64(out, TAG_SPLICE | 1);
	usync_op_timeout_link(to, r, out);
	sp->pending += 2;
	while (sp->pending > 0 || to->pending > 0) {
		int rc = usync_ring_reap(r, true, fn, ctx);
		if (rc < 0)
			return rc;
	}
	if (to->fired)
		return -ETIMEDOUT; /* the peer stopped reading */
	long moved_in = sp->res[0], moved_out = sp->res[1];
	if (moved_in < 0)
		return moved_in;
	if (moved_in == 0)
		return -ENODATA; /* the file shrank */
	/* A short first half cancels the second: drain what reached the pipe. */
	if (moved_out == -ECANCELED)
		moved_out = 0;
	else if (moved_out < 0) /* EAGAIN: SO_SNDTIMEO expired inside the splice, the peer stopped reading */
		return -usync_socket_errno(-moved_out);
	while (moved_out < moved_in) {
		ssize_t n = splice(p[0], NULL, sock, NULL, (size_t)(moved_in - moved_out), more ? SPLICE_F_MORE : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -usync_socket_errno(errno) : -EIO;
		moved_out += n;
	}
	return moved_in;
}

/* The receiver's two pipes draining into the file: bytes each is writing, and where. */
struct file_drain {
	struct usync_ring *r;
	int fd;
	uint32_t pending[2];    /* pipe i: bytes its SPLICE in flight writes; 0 when free */
	int64_t off[2];         /* pipe i: the file offset it writes at */
	int err;                /* first errno */
};

/* A splice-out completion: frees its pipe; a short one is finished synchronously. */
static void drain_done(void *ctx, uint64_t data, int res)
{
	struct file_drain *d = ctx;
	unsigned pi = (unsigned)(data & 1);
	uint32_t want = d->pending[pi];
	d->pending[pi] = 0;
	if (d->err)
		return;
	if (res < 0) {
		d->err = -res;
		return;
	}
	int *p = d->r->pipes.fd[pi];
	loff_t o = d->off[pi] + res;
	for (uint32_t left = want - (uint32_t)res; left > 0 && !d->err;) {
		ssize_t w = splice(p[0], NULL, d->fd, &o, left, 0);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			d->err = w < 0 ? errno : EIO;
		else
			left -= (uint32_t)w;
	}
}

/* Waits for at least one splice-out completion. 0, or -1 with an exception. */
static int reap_out(JNIEnv *env, struct file_drain *d)
{
	int rc = usync_ring_reap(d->r, true, drain_done, d);
	if (rc < 0) {
		usync_throw_errno(env, "io_uring_enter", NULL, -rc);
		return -1;
	}
	if (d->err) {
		usync_throw_errno(env, "splice to file", NULL, d->err);
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
	struct file_drain d = { .r = r, .fd = fd };
	unsigned npipes = r->pipes.count >= 2 ? 2 : 1;
	unsigned cur = 0;
	while (n > 0) {
		while (d.pending[cur])
			if (reap_out(env, &d) < 0)
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
		d.pending[cur] = fill;
		d.off[cur] = off;
		off += fill;
		n -= fill;
		cur = (cur + 1) % npipes;
	}
	while (d.pending[0] || d.pending[1])
		if (reap_out(env, &d) < 0)
			goto fail;
	return 0;
fail:
	/* an exception is pending: wait out what is in flight; the pipes are replaced since they may
	 * still hold bytes */
	d.err = d.err ? d.err : EIO; /* no more synchronous finishing */
	while ((d.pending[0] || d.pending[1]) && usync_ring_reap(r, true, drain_done, &d) == 0)
		;
	for (unsigned i = 0; i < npipes; i++)
		usync_pipes_renew(&r->pipes, i);
	return -1;
}
