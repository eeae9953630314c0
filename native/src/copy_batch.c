/*
 * The local copy's batch: up to `depth` files in flight on one ring, each moving through OPEN_SRC ->
 * OPEN_DST -> DATA -> finish (owner, mode, times, close, rename). In DATA a file below the large-file
 * threshold moves through pooled chunk buffers (read, then write, several chunks in flight for one
 * file). A larger one is copied by the kernel: copy_file_range in slices between ring completions,
 * or, where the file system refuses that, spliced file -> pipe -> file through pooled pipes. Short
 * transfers are completed inside the batch; every failure is recorded as -errno plus the stage,
 * never thrown. Also OPEN_READ (open + fstat for the sender), symlinks and directory metadata.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "batch.h"
#include "copy_batch.h"
#include "file_meta.h"
#include "uring_data.h"

/* Bytes per copy_file_range call: small enough to keep the ring's completions flowing. */
#define COPY_RANGE_SLICE (64 << 20)

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
	char *tmp;               /* temporary name when the target already existed */
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

static void set_result(struct batch *b, struct slot *s, int err, int stage)
{
	struct usync_res *res = b->items[s->item].res;
	res->res = err;
	res->stage = err ? stage : ST_NONE;
	res->bytes = s->written;
}

/* Records the first failure of a slot; in-flight operations drain before cleanup. */
static void fail(struct slot *s, int err, int stage)
{
	if (!s->err) {
		s->err = err;
		s->stage = stage;
	}
}

static void finish(struct batch *b, unsigned si);

/* Queues the destination's open; without a submission entry the file fails with EBUSY and is finished. */
static void queue_open_dst(struct batch *b, unsigned si)
{
	struct slot *s = &b->slots[si];
	const char *path = s->tmp ? s->tmp : b->items[s->item].dst;
	struct io_uring_sqe *sqe = usync_ring_sqe(b->r);
	if (!sqe) {
		fail(s, -EBUSY, ST_OPEN_DST);
		finish(b, si);
		return;
	}
	io_uring_prep_openat(sqe, b->items[s->item].dir, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	io_uring_sqe_set_data64(sqe, ud(K_OPEN_DST, si, 0));
	s->state = S_OPEN_DST;
}

static void release_buf(struct batch *b, unsigned bi);

/*
 * Queues a read or write of buffer bi. Without a submission entry the file fails with EBUSY and the
 * buffer is released: false, and the caller must then see to maybe_finish.
 */
static bool queue_rw(struct batch *b, enum ud_kind k, unsigned bi)
{
	struct usync_ring *r = b->r;
	struct bufinfo *bf = &b->bufs[bi];
	struct slot *s = &b->slots[bf->slot];
	uint8_t *p = usync_ring_buf(r, bi) + bf->pos;
	unsigned len = bf->len - bf->pos;
	struct io_uring_sqe *sqe = usync_ring_sqe(r);
	if (!sqe) {
		fail(s, -EBUSY, k == K_READ ? ST_READ : ST_WRITE);
		release_buf(b, bi);
		return false;
	}
	if (k == K_READ) {
		if (r->fixed)
			io_uring_prep_read_fixed(sqe, s->sfd, p, len, (uint64_t)(bf->off + bf->pos), bi);
		else
			io_uring_prep_read(sqe, s->sfd, p, len, (uint64_t)(bf->off + bf->pos));
	} else {
		if (r->fixed)
			io_uring_prep_write_fixed(sqe, s->dfd, p, len, (uint64_t)(bf->off + bf->pos), bi);
		else
			io_uring_prep_write(sqe, s->dfd, p, len, (uint64_t)(bf->off + bf->pos));
	}
	io_uring_sqe_set_data64(sqe, ud(k, bf->slot, bi));
	return true;
}

/* Issues reads for a slot while buffers are free and data remains. */
static void pump(struct batch *b, unsigned si)
{
	struct usync_ring *r = b->r;
	struct slot *s = &b->slots[si];
	while (!s->err && !s->eof && s->next_read < s->size && r->nfree > 0) {
		unsigned bi = r->free_bufs[--r->nfree];
		struct bufinfo *bf = &b->bufs[bi];
		off_t left = s->size - s->next_read;
		bf->off = s->next_read;
		bf->len = left < (off_t)r->chunk ? (uint32_t)left : (uint32_t)r->chunk;
		bf->pos = 0;
		bf->slot = (uint16_t)si;
		s->next_read += bf->len;
		s->inflight++;
		if (!queue_rw(b, K_READ, bi))
			break;
	}
}

static void release_buf(struct batch *b, unsigned bi)
{
	struct slot *s = &b->slots[b->bufs[bi].slot];
	s->inflight--;
	b->r->free_bufs[b->r->nfree++] = (uint16_t)bi;
}

static void release_pipe(struct batch *b, unsigned pi);

/* As queue_rw, for a pipe of the splice path. */
static bool queue_splice(struct batch *b, enum ud_kind k, unsigned pi)
{
	struct usync_ring *r = b->r;
	struct bufinfo *p = &b->pipes[pi];
	struct slot *s = &b->slots[p->slot];
	struct io_uring_sqe *sqe = usync_ring_sqe(r);
	if (!sqe) {
		fail(s, -EBUSY, k == K_SPLICE_IN ? ST_READ : ST_WRITE);
		release_pipe(b, pi);
		return false;
	}
	if (k == K_SPLICE_IN)
		io_uring_prep_splice(sqe, s->sfd, p->off + p->pos, r->pipes.fd[pi][1], -1, p->len - p->pos, 0);
	else
		io_uring_prep_splice(sqe, r->pipes.fd[pi][0], -1, s->dfd, p->off + p->pos, p->inpipe, 0);
	io_uring_sqe_set_data64(sqe, ud(k, p->slot, pi));
	return true;
}

/* Splices ranges of a large file through free pipes, one pipe-full per range. */
static void pump_splice(struct batch *b, unsigned si)
{
	struct usync_ring *r = b->r;
	struct slot *s = &b->slots[si];
	while (!s->err && !s->eof && s->next_read < s->size && r->nfree_pipes > 0) {
		unsigned pi = r->free_pipes[--r->nfree_pipes];
		struct bufinfo *p = &b->pipes[pi];
		off_t left = s->size - s->next_read;
		p->off = s->next_read;
		p->len = left < (off_t)r->pipes.size ? (uint32_t)left : r->pipes.size;
		p->pos = 0;
		p->inpipe = 0;
		p->slot = (uint16_t)si;
		s->next_read += p->len;
		s->inflight++;
		if (!queue_splice(b, K_SPLICE_IN, pi))
			break;
	}
}

/* Returns a pipe to the pool; one still holding bytes (after a failure) is replaced by a fresh one. */
static void release_pipe(struct batch *b, unsigned pi)
{
	struct bufinfo *p = &b->pipes[pi];
	b->slots[p->slot].inflight--;
	if (p->inpipe && usync_pipes_renew(&b->r->pipes, pi) < 0)
		return; /* the pool shrinks by one; the batch goes on with the rest */
	b->r->free_pipes[b->r->nfree_pipes++] = (uint16_t)pi;
}

static void release_slot(struct batch *b, unsigned si)
{
	struct slot *s = &b->slots[si];
	free(s->tmp);
	memset(s, 0, sizeof *s);
	s->sfd = s->dfd = -1;
	s->state = S_IDLE;
	b->active--;
}

/* Ends a file: metadata, close, rename into place, or removal of what was created on failure. */
static void finish(struct batch *b, unsigned si)
{
	struct slot *s = &b->slots[si];
	struct item *it = &b->items[s->item];
	if (!s->err && s->dfd >= 0) {
		int stage = ST_NONE;
		int rc = usync_meta_fd(s->dfd, &s->st, it->req->flags, &stage);
		if (rc < 0)
			fail(s, rc, stage);
	}
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->dfd >= 0) {
		if (close(s->dfd) < 0 && !s->err)
			fail(s, -errno, ST_CLOSE);
		const char *created = s->tmp ? s->tmp : it->dst;
		if (s->err)
			unlinkat(it->dir, created, 0);
		else if (s->tmp && renameat(it->dir, s->tmp, it->dir, it->dst) < 0) {
			fail(s, -errno, ST_RENAME);
			unlinkat(it->dir, s->tmp, 0);
		}
	}
	set_result(b, s, s->err, s->stage);
	release_slot(b, si);
}

static void maybe_finish(struct batch *b, unsigned si)
{
	struct slot *s = &b->slots[si];
	if (s->state == S_IDLE || s->inflight) /* idle: already finished */
		return;
	if (s->err || s->eof || s->written >= s->size)
		finish(b, si);
}

/* Starts the next items on idle slots; synchronous ops complete right here. */
static void fill_slots(struct batch *b)
{
	for (unsigned si = 0; si < b->r->depth && b->next < b->count; si++) {
		struct slot *s = &b->slots[si];
		if (s->state != S_IDLE)
			continue;
		while (b->next < b->count) {
			struct item *it = &b->items[b->next];
			if (it->req->op == USYNC_OP_COPY_FILE || it->req->op == USYNC_OP_OPEN_READ)
				break;
			if (it->req->op == USYNC_OP_SYMLINK)
				usync_copy_symlink(it->req, it->src, it->dir, it->dst, it->res);
			else if (it->req->op == USYNC_OP_SET_META)
				usync_set_dir_meta(it->req, it->dir, it->dst, it->res);
			else {
				it->res->res = -EINVAL;
				it->res->stage = ST_NONE;
			}
			b->next++;
		}
		if (b->next >= b->count)
			break;
		s->item = b->next++;
		s->sfd = s->dfd = -1;
		s->state = S_OPEN_SRC;
		b->active++;
		struct io_uring_sqe *sqe = usync_ring_sqe(b->r);
		if (!sqe) {
			fail(s, -EBUSY, ST_OPEN_SRC);
			finish(b, si);
			si--; /* the slot is free again: the next item tries it */
			continue;
		}
		io_uring_prep_openat(sqe, AT_FDCWD, b->items[s->item].src,
				     O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
		io_uring_sqe_set_data64(sqe, ud(K_OPEN_SRC, si, 0));
	}
}

static bool retryable(int res)
{
	return res == -EAGAIN || res == -EINTR;
}

/* A completion of the source's open. */
static void on_open_src(struct batch *b, unsigned si, unsigned bi, int res)
{
	struct slot *s = &b->slots[si];
	(void)bi;
	if (res < 0) {
		fail(s, res, ST_OPEN_SRC);
	} else {
		s->sfd = res;
		if (fstat(s->sfd, &s->st) < 0)
			fail(s, -errno, ST_FSTAT_SRC);
		else if (!S_ISREG(s->st.st_mode))
			fail(s, -EINVAL, ST_NOT_REGULAR);
		/* Opened O_NONBLOCK so a FIFO swapped in cannot hang us. The copy's reads need it
		 * cleared (io_uring hands EAGAIN back for files without nowait support); OPEN_READ's
		 * consumer (sendFiles) finishes such a read with pread, which O_NONBLOCK does not
		 * affect on a regular file, and saves the syscall. */
		else if (b->items[s->item].req->op != USYNC_OP_OPEN_READ && fcntl(s->sfd, F_SETFL, 0) < 0)
			fail(s, -errno, ST_FSTAT_SRC);
	}
	if (s->err) {
		finish(b, si);
		return;
	}
	s->size = s->st.st_size;
	if (b->items[s->item].req->op == USYNC_OP_OPEN_READ) {
		/* Hand the descriptor over. No POSIX_FADV_WILLNEED here: it submits the readahead
		 * synchronously, 50 us per cold file on the benchmark machine, where the consumer's
		 * reads through the ring queue the same I/O many files at a time. */
		struct usync_res *r = b->items[s->item].res;
		r->res = s->sfd;
		r->bytes = s->size;
		r->mode = s->st.st_mode;
		r->mtime_ns = (int64_t)s->st.st_mtim.tv_sec * 1000000000 + s->st.st_mtim.tv_nsec;
		release_slot(b, si);
		return;
	}
	queue_open_dst(b, si);
	return;
}

/* A completion of the target's open. */
static void on_open_dst(struct batch *b, unsigned si, unsigned bi, int res)
{
	struct slot *s = &b->slots[si];
	(void)bi;
	if (res == -EEXIST && !s->tmp) {
		s->tmp = usync_temp_name(b->items[s->item].dst);
		if (s->tmp) {
			queue_open_dst(b, si);
			return;
		}
		res = -ENOMEM;
	}
	if (res < 0) {
		fail(s, res, ST_OPEN_DST);
		finish(b, si);
		return;
	}
	s->dfd = res;
	s->state = S_DATA;
	if (s->size == 0) {
		finish(b, si);
	} else if (b->r->large_min > 0 && s->size >= b->r->large_min) {
		if (!b->r->no_copy_range) {
			s->ranged = true;
			b->ranged++;
		} else {
			s->spliced = true;
			pump_splice(b, si);
		}
	} else {
		pump(b, si);
	}
	maybe_finish(b, si); /* when nothing could be queued */
	return;
}

/* A completion of a chunk read into a pooled buffer. */
static void on_read(struct batch *b, unsigned si, unsigned bi, int res)
{
	struct slot *s = &b->slots[si];
	struct bufinfo *bf = &b->bufs[bi];
	if (retryable(res) && !s->err) {
		if (!queue_rw(b, K_READ, bi))
			maybe_finish(b, si);
		return;
	}
	if (res < 0 || s->err) {
		if (res < 0)
			fail(s, res, ST_READ);
		release_buf(b, bi);
		maybe_finish(b, si);
		return;
	}
	bf->pos += (uint32_t)res;
	if (res == 0) {          /* the file shrank while we copied: keep what was there */
		s->eof = true;
		if (bf->off + bf->pos < s->size)
			s->size = bf->off + bf->pos;
		if (bf->pos == 0) {
			release_buf(b, bi);
			maybe_finish(b, si);
			return;
		}
		bf->len = bf->pos;
	}
	if (bf->pos < bf->len) {
		if (!queue_rw(b, K_READ, bi))
			maybe_finish(b, si);
		return;
	}
	bf->pos = 0;
	if (!queue_rw(b, K_WRITE, bi))
		maybe_finish(b, si);
	return;
}

/* A completion of a chunk written from a pooled buffer. */
static void on_write(struct batch *b, unsigned si, unsigned bi, int res)
{
	struct slot *s = &b->slots[si];
	struct bufinfo *bf = &b->bufs[bi];
	if (retryable(res) && !s->err) {
		if (!queue_rw(b, K_WRITE, bi))
			maybe_finish(b, si);
		return;
	}
	if (res <= 0 || s->err) {
		if (!s->err)
			fail(s, res < 0 ? res : -EIO, ST_WRITE);
		release_buf(b, bi);
		maybe_finish(b, si);
		return;
	}
	bf->pos += (uint32_t)res;
	if (bf->pos < bf->len) {
		if (!queue_rw(b, K_WRITE, bi))
			maybe_finish(b, si);
		return;
	}
	s->written += bf->len;
	release_buf(b, bi);
	pump(b, si);
	maybe_finish(b, si);
	return;
}

/* A completion of a pipe filled from the source. */
static void on_splice_in(struct batch *b, unsigned si, unsigned bi, int res)
{
	struct slot *s = &b->slots[si];
	struct bufinfo *bf = &b->pipes[bi];
	if (retryable(res) && !s->err) {
		if (!queue_splice(b, K_SPLICE_IN, bi))
			maybe_finish(b, si);
		return;
	}
	if (res < 0 || s->err) {
		if (res < 0)
			fail(s, res, ST_READ);
		release_pipe(b, bi);
		maybe_finish(b, si);
		return;
	}
	if (res == 0) {          /* the file shrank while we copied: keep what was there */
		s->eof = true;
		if (bf->off + bf->pos < s->size)
			s->size = bf->off + bf->pos;
		bf->len = bf->pos;
		release_pipe(b, bi);
		s->written += bf->len;
		maybe_finish(b, si);
		return;
	}
	bf->inpipe = (uint32_t)res;
	if (!queue_splice(b, K_SPLICE_OUT, bi))
		maybe_finish(b, si);
	return;
}

/* A completion of a pipe drained into the target. */
static void on_splice_out(struct batch *b, unsigned si, unsigned bi, int res)
{
	struct slot *s = &b->slots[si];
	struct bufinfo *bf = &b->pipes[bi];
	if (retryable(res) && !s->err) {
		if (!queue_splice(b, K_SPLICE_OUT, bi))
			maybe_finish(b, si);
		return;
	}
	if (res <= 0 || s->err) {
		if (!s->err)
			fail(s, res < 0 ? res : -EIO, ST_WRITE);
		release_pipe(b, bi);
		maybe_finish(b, si);
		return;
	}
	bf->pos += (uint32_t)res;
	bf->inpipe -= (uint32_t)res;
	if (bf->inpipe) {
		if (!queue_splice(b, K_SPLICE_OUT, bi))
			maybe_finish(b, si);
		return;
	}
	if (bf->pos < bf->len) {
		if (!queue_splice(b, K_SPLICE_IN, bi))
			maybe_finish(b, si);
		return;
	}
	s->written += bf->len;
	release_pipe(b, bi);
	pump_splice(b, si);
	maybe_finish(b, si);
	return;
}

/* One completion of the batch: one small function per kind. */
static void on_cqe(struct batch *b, uint64_t data, int res)
{
	enum ud_kind k = (enum ud_kind)(data >> 48);
	unsigned si = (unsigned)(data >> 24) & 0xffffff;
	unsigned bi = (unsigned)data & 0xffffff;
	switch (k) {
	case K_OPEN_SRC:
		on_open_src(b, si, bi, res);
		return;
	case K_OPEN_DST:
		on_open_dst(b, si, bi, res);
		return;
	case K_READ:
		on_read(b, si, bi, res);
		return;
	case K_WRITE:
		on_write(b, si, bi, res);
		return;
	case K_SPLICE_IN:
		on_splice_in(b, si, bi, res);
		return;
	case K_SPLICE_OUT:
		on_splice_out(b, si, bi, res);
		return;
	}
}

/*
 * One copy_file_range slice for each slot copying that way. A refusal on the first slice (another
 * file system, no support) sends the file, and later ones, down the splice path instead.
 */
static void copy_ranges(struct batch *b)
{
	for (unsigned si = 0; si < b->r->depth && b->ranged > 0; si++) {
		struct slot *s = &b->slots[si];
		if (!s->ranged)
			continue;
		size_t want = (size_t)(s->size - s->written);
		if (want > COPY_RANGE_SLICE)
			want = COPY_RANGE_SLICE;
		off_t in = s->written, out = s->written;
		ssize_t n = copy_file_range(s->sfd, &in, s->dfd, &out, want, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && s->written == 0 &&
		    (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
			b->r->no_copy_range = true;
			s->ranged = false;
			b->ranged--;
			s->spliced = true;
			pump_splice(b, si);
			maybe_finish(b, si);
			continue;
		}
		if (n < 0)
			fail(s, -errno, ST_COPY_RANGE);
		else if (n == 0) /* the file shrank while we copied: keep what was there */
			s->eof = true;
		else
			s->written += n;
		if (s->err || s->eof || s->written >= s->size) {
			s->ranged = false;
			b->ranged--;
			finish(b, si);
		}
	}
}

/* Gives freed buffers and pipes to slots still waiting for data. */
static void pump_all(struct batch *b)
{
	for (unsigned si = 0; si < b->r->depth; si++) {
		struct slot *s = &b->slots[si];
		if (s->state != S_DATA || s->ranged)
			continue;
		if (s->spliced)
			pump_splice(b, si);
		else
			pump(b, si);
		maybe_finish(b, si); /* when nothing could be queued */
	}
}

int usync_run_batch(struct usync_ring *r, uint8_t *reqs, int count, struct usync_res *results)
{
	int rc = 0;
	struct batch b = { .r = r, .count = count };
	b.items = calloc((size_t)count + 1, sizeof *b.items);
	b.slots = calloc(r->depth, sizeof *b.slots);
	b.bufs = calloc(r->nbufs, sizeof *b.bufs);
	b.pipes = calloc(r->pipes.count + 1, sizeof *b.pipes);
	if (!b.items || !b.slots || !b.bufs || !b.pipes) {
		rc = -ENOMEM;
		goto out;
	}
	size_t off = 0;
	for (int i = 0; i < count; i++) {
		struct usync_req *q = (struct usync_req *)(reqs + off);
		struct item *it = &b.items[i];
		it->req = q;
		it->src = (const char *)(q + 1);
		it->dst = it->src + q->src_len + 1;
		it->dir = q->dst_dir;
		it->res = &results[i];
		memset(it->res, 0, sizeof *it->res);
		off += sizeof *q + ((q->src_len + 1 + q->dst_len + 1 + 7) & ~(size_t)7);
	}
	for (unsigned si = 0; si < r->depth; si++)
		b.slots[si].sfd = b.slots[si].dfd = -1;

	fill_slots(&b);
	while (b.active > 0) {
		/* While a file is copied outside the ring, only reap what is ready, never wait. */
		int ret = usync_ring_submit(r, !b.ranged);
		if (ret < 0) {
			rc = ret;
			break;
		}
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&r->ring, head, cqe) {
			on_cqe(&b, cqe->user_data, cqe->res);
			seen++;
		}
		io_uring_cq_advance(&r->ring, seen);
		pump_all(&b);
		fill_slots(&b);
		copy_ranges(&b);
	}
	/* Items never started (the ring failed) must not read as copied. */
	for (int i = b.next; i < count; i++) {
		b.items[i].res->res = rc < 0 ? rc : -ECANCELED;
		b.items[i].res->stage = ST_NONE;
	}
	if (rc < 0) {
		/* The ring failed: wait out what is in flight is impossible, so close what we hold. */
		for (unsigned si = 0; si < r->depth; si++)
			if (b.slots[si].state != S_IDLE) {
				fail(&b.slots[si], rc, ST_NONE);
				b.slots[si].inflight = 0;
				finish(&b, si);
			}
	}
out:
	free(b.items);
	free(b.slots);
	free(b.bufs);
	free(b.pipes);
	return rc;
}
