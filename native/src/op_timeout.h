/* Linked timeouts for io_uring's socket operations (which ignore SO_RCVTIMEO / SO_SNDTIMEO). */
#ifndef USYNC_OP_TIMEOUT_H
#define USYNC_OP_TIMEOUT_H

#include <linux/time_types.h>
#include <stdbool.h>
#include "ring.h"

/* The most one io_uring socket operation moves, so that its linked timeout bounds silence, not a
 * whole 64 MiB frame: a peer must move at least this much per timeout to be kept. */
#define SOCKET_OP_MAX (1U << 20)

/*
 * io_uring's socket operations (SEND, RECV, SPLICE to a socket) do not honour SO_RCVTIMEO or
 * SO_SNDTIMEO: a peer that stops reading or writing would hold them forever. Each gets a linked
 * timeout of the socket's own timeout instead (the one Java set: handshake or idle).
 */
struct usync_op_timeout {
	bool on;                    /* the socket has a timeout: link one */
	struct __kernel_timespec ts;
	unsigned pending;           /* linked timeouts whose completion has not been reaped */
	bool fired;                 /* one expired (its completion said -ETIME) */
};

/* Reads the socket's own timeout (opt: SO_RCVTIMEO or SO_SNDTIMEO); none: nothing is linked. */
void usync_op_timeout_init(struct usync_op_timeout *o, int fd, int opt);
/* Links a timeout to `op`, the entry queued just before (call usync_ring_room first). */
void usync_op_timeout_link(struct usync_op_timeout *o, struct usync_ring *r, struct io_uring_sqe *op);
/* A completion of a linked timeout: -ETIME when it expired (and cancelled its operation). */
void usync_op_timeout_done(struct usync_op_timeout *o, int res);

#endif
