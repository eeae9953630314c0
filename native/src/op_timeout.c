/* Linked timeouts for io_uring's socket operations: see op_timeout.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "op_timeout.h"
#include "uring_data.h"

void usync_op_timeout_init(struct usync_op_timeout *o, int fd, int opt)
{
	struct timeval tv;
	socklen_t l = sizeof tv;
	memset(o, 0, sizeof *o);
	if (getsockopt(fd, SOL_SOCKET, opt, &tv, &l) == 0 && (tv.tv_sec || tv.tv_usec)) {
		o->on = true;
		o->ts.tv_sec = tv.tv_sec;
		o->ts.tv_nsec = (long long)tv.tv_usec * 1000;
	}
}

/* Links a timeout to `op`, the entry queued just before (call usync_ring_room first). */
void usync_op_timeout_link(struct usync_op_timeout *o, struct usync_ring *r, struct io_uring_sqe *op)
{
	if (!o->on)
		return;
	struct io_uring_sqe *t = usync_ring_sqe(r);
	if (!t)
		return; /* (injected failures only: there was room) the operation goes without */
	op->flags |= IOSQE_IO_LINK;
	io_uring_prep_link_timeout(t, &o->ts, 0);
	io_uring_sqe_set_data64(t, TAG_TIMEOUT);
	o->pending++;
}

/* A completion of a linked timeout: -ETIME when it expired (and cancelled its operation). */
void usync_op_timeout_done(struct usync_op_timeout *o, int res)
{
	o->pending--;
	if (res == -ETIME)
		o->fired = true;
}
