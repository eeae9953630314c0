/*
 * The splice pipelines of the network paths, over the ring's pipe pool (pipes.c): the sender's file ->
 * pipe -> socket as one linked pair of io_uring SPLICEs, and the receiver's socket -> pipe -> file,
 * two pipes taking turns. (The local copy's file -> pipe -> file is part of its batch: copy_data.c.)
 */
#ifndef USYNC_SPLICE_H
#define USYNC_SPLICE_H

#include <jni.h>
#include <stdint.h>
#include "op_timeout.h"
#include "ring.h"
#include "tls_io.h"

/* The sender's linked splice pair in flight: its two results. */
struct usync_splice_pair {
	int res[2];             /* file -> pipe, pipe -> socket */
	unsigned pending;       /* entries of the pair (or the NOP standing in for one) not yet reaped */
};

/* A completion tagged TAG_SPLICE or TAG_NOP: one of the pair's. */
void usync_splice_pair_done(struct usync_splice_pair *sp, uint64_t data, int res);

/*
 * Moves len bytes of fd at off into the socket through pipe 0 as one linked pair (with the socket's
 * linked timeout to) and waits for both halves. Every completion reaped meanwhile goes to fn, which
 * must pass those tagged TAG_SPLICE or TAG_NOP to usync_splice_pair_done(sp) and linked timeouts to
 * usync_op_timeout_done(to) (the caller's own completion handler: reads of other files land
 * meanwhile; a NOP may complete after this returns). more: more of the frame follows
 * (SPLICE_F_MORE). Bytes moved, or -errno: -ENODATA when the file shrank, -ETIMEDOUT when the peer
 * stopped reading, -EBUSY without submission entries.
 */
long usync_splice_to_socket(struct usync_ring *r, struct usync_splice_pair *sp, struct usync_op_timeout *to, int fd,
			    int64_t off, uint32_t len, int sock, bool more, usync_cqe_fn fn, void *ctx);

/* Moves n bytes from the kernel TLS socket into fd at off. 0, or -1 with an exception. */
int usync_splice_to_file(JNIEnv *env, struct usync_tls *t, struct usync_ring *r, int fd, int64_t off, uint32_t n);

#endif
