/* The ring owned by org.uringsync.nativeio.Ring, shared by the C files that drive I/O through it. */
#ifndef USYNC_RING_H
#define USYNC_RING_H

#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "meter.h"
#include "pipes.h"

struct usync_ring {
	struct io_uring ring;
	unsigned depth;          /* files in flight */
	unsigned nbufs;          /* pooled chunk buffers */
	size_t chunk;
	size_t stride;           /* USYNC_HEADROOM + chunk, page-aligned */
	uint8_t *bufmem;         /* nbufs * stride, mmap'd */
	bool fixed;              /* buffers registered with the ring */
	uint16_t *free_bufs;
	unsigned nfree;
	struct usync_pipes pipes; /* splice pipeline for large files */
	uint16_t *free_pipes;
	unsigned nfree_pipes;
	off_t large_min;         /* files of at least this size are copied in the kernel; 0: never */
	bool no_copy_range;      /* copy_file_range was refused here: splice instead */
	struct usync_meter *meter; /* the transfer's, Java's memory (Ring keeps it reachable); NULL: none */
};

/*
 * A free submission entry, submitting what is queued first if the queue is full; NULL when the queue
 * stays full (the kernel refused the submission, e.g. EBUSY with completions overflowing): every
 * caller then fails its operation with EBUSY rather than waiting on something never queued.
 */
struct io_uring_sqe *usync_ring_sqe(struct usync_ring *r);

/* Makes room for n entries in one go (a linked pair must not be split); false when there is none. */
bool usync_ring_room(struct usync_ring *r, unsigned n);

/* Tests only: after `after` more successful usync_ring_sqe calls, the next `count` return NULL. */
void usync_ring_inject_sqe_failures(int after, int count);

/*
 * Submits what is queued and, with wait, waits for at least one completion. 0, or -errno of a real
 * failure: EINTR, EAGAIN and EBUSY only mean "reap the completion queue and come back".
 */
int usync_ring_submit(struct usync_ring *r, bool wait);

/* Called with each completion's user_data and result. */
typedef void (*usync_cqe_fn)(void *ctx, uint64_t data, int res);

/*
 * Submits what is queued, with wait waits for at least one completion, and hands every completion
 * there is to fn (which may queue more). 0, or -errno of a real failure of io_uring_enter.
 */
int usync_ring_reap(struct usync_ring *r, bool wait, usync_cqe_fn fn, void *ctx);

/* Bytes before each pooled buffer where a frame header can be put in front of the data. */
#define USYNC_HEADROOM 4096

/* The address of pooled buffer i (chunk bytes, registered with the ring when r->fixed, headroom included). */
static inline uint8_t *usync_ring_buf(struct usync_ring *r, unsigned i)
{
	return r->bufmem + (size_t)i * r->stride + USYNC_HEADROOM;
}

#endif
