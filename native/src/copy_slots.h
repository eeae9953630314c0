/*
 * The local copy's batch state, shared by its two halves: copy_batch.c (items and slots: open,
 * finish, the run loop) and copy_data.c (moving a file's bytes: pooled buffers, pipes,
 * copy_file_range). Internal to those two files.
 */
#ifndef USYNC_COPY_SLOTS_H
#define USYNC_COPY_SLOTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include "batch.h"
#include "ring.h"
#include "uring_data.h"

enum slot_state { S_IDLE, S_OPEN_SRC, S_OPEN_DST, S_DATA };

struct slot {
	int item;
	enum slot_state state;
	int sfd, dfd;
	struct stat st;
	off_t size, next_read, written;
	unsigned inflight;
	int err, stage;
	bool eof;
	bool spliced;            /* data moves through pipes, not buffers */
	bool ranged;             /* data moves by copy_file_range, outside the ring */
	bool sparse;             /* ranged, and the source has holes: they are skipped (SEEK_DATA) */
	bool range_tried;        /* a copy_file_range of this slot has run */
	off_t data_end;          /* sparse: the end of the data range being copied */
	bool tmp;                /* the target existed: written under the request's temporary name */
};

/* One chunk buffer or one pipe carrying the range [off, off+len) of a slot's file. */
struct bufinfo {
	off_t off;
	uint32_t len, pos;       /* pos: bytes of the range already read (READ) or written (WRITE, SPLICE) */
	uint32_t inpipe;         /* pipes: bytes spliced in and not yet out */
	uint16_t slot;
};

struct item {
	const struct usync_req *req;
	const char *src, *dst;   /* dst: relative to dir, a single name when dir is a real directory */
	const char *tmp;         /* the temporary name beside dst, used when dst exists */
	int dir;                 /* the request's dst_dir */
	struct usync_res *res;
};

struct batch {
	struct usync_ring *r;
	struct item *items;
	int count, next;
	struct slot *slots;
	struct bufinfo *bufs;
	struct bufinfo *pipes;
	unsigned active;
	unsigned ranged;         /* slots copying with copy_file_range */
};

/* Records the first failure of a slot; in-flight operations drain before cleanup. */
static inline void copy_fail(struct slot *s, int err, int stage)
{
	if (!s->err) {
		s->err = err;
		s->stage = stage;
	}
}

/* copy_batch.c: ends a file (metadata, close, rename, or removal on failure) and frees its slot. */
void copy_finish(struct batch *b, unsigned si);
/* copy_batch.c: finishes a slot once nothing of it is in flight and its data is done or failed. */
void copy_maybe_finish(struct batch *b, unsigned si);

/* copy_data.c: starts moving the data of a slot whose target is open (a file of size > 0). */
void copy_data_start(struct batch *b, unsigned si);
/* copy_data.c: a completion of a data kind (K_READ, K_WRITE, K_SPLICE_IN, K_SPLICE_OUT). */
void copy_data_done(struct batch *b, enum ud_kind k, unsigned si, unsigned bi, int res);
/* copy_data.c: one copy_file_range slice for each slot copying that way. */
void copy_data_ranges(struct batch *b);
/* copy_data.c: gives freed buffers and pipes to slots still waiting for data. */
void copy_data_pump_all(struct batch *b);

#endif
