/*
 * The local copy's batch: up to `depth` files in flight on one ring, each slot moving through
 * OPEN_SRC -> OPEN_DST -> DATA (copy_data.c) -> finish (owner, mode, times, close, rename). Every
 * failure is recorded as -errno plus the stage, never thrown. Also OPEN_READ (open + fstat for the
 * sender: the descriptor is handed over), and symlinks, directory metadata and STAT (the source's and
 * the target's size, mode and mtime, for Java's quick check) in file_meta.c, which complete
 * synchronously.
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
#include "copy_batch.h"
#include "copy_slots.h"
#include "file_meta.h"
#include "meter.h"
#include "syscalls.h"

static void set_result(struct batch *b, struct slot *s, int err, int stage)
{
	struct usync_res *res = b->items[s->item].res;
	res->res = err;
	res->stage = err ? stage : ST_NONE;
	res->bytes = s->written;
}

/* Queues the destination's open; without a submission entry the file fails with EBUSY and is finished. */
static void queue_open_dst(struct batch *b, unsigned si)
{
	struct slot *s = &b->slots[si];
	const char *path = s->tmp ? b->items[s->item].tmp : b->items[s->item].dst;
	struct io_uring_sqe *sqe = usync_ring_sqe(b->r);
	if (!sqe) {
		copy_fail(s, -EBUSY, ST_OPEN_DST);
		copy_finish(b, si);
		return;
	}
	io_uring_prep_openat(sqe, b->items[s->item].dir, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	io_uring_sqe_set_data64(sqe, ud(K_OPEN_DST, si, 0));
	s->state = S_OPEN_DST;
}

static void release_slot(struct batch *b, unsigned si)
{
	struct slot *s = &b->slots[si];
	memset(s, 0, sizeof *s);
	s->sfd = s->dfd = -1;
	s->state = S_IDLE;
	b->active--;
}

/* Ends a file: metadata, close, rename into place, or removal of what was created on failure. */
void copy_finish(struct batch *b, unsigned si)
{
	struct slot *s = &b->slots[si];
	struct item *it = &b->items[s->item];
	if (!s->err && s->dfd >= 0) {
		int stage = ST_NONE;
		int rc = usync_meta_fd(s->sfd, s->dfd, &s->st, it->req->flags, &stage);
		if (rc < 0)
			copy_fail(s, rc, stage);
	}
	if (s->sfd >= 0)
		close(s->sfd);
	if (s->dfd >= 0) {
		if (close(s->dfd) < 0 && !s->err)
			copy_fail(s, -errno, ST_CLOSE);
		const char *created = s->tmp ? it->tmp : it->dst;
		if (s->err)
			unlinkat(it->dir, created, 0);
		else if (s->tmp && renameat(it->dir, it->tmp, it->dir, it->dst) < 0) {
			copy_fail(s, -errno, ST_RENAME);
			unlinkat(it->dir, it->tmp, 0);
		}
	}
	set_result(b, s, s->err, s->stage);
	release_slot(b, si);
}

void copy_maybe_finish(struct batch *b, unsigned si)
{
	struct slot *s = &b->slots[si];
	if (s->state == S_IDLE || s->inflight) /* idle: already finished */
		return;
	if (s->err || s->eof || s->written >= s->size)
		copy_finish(b, si);
}

/* Starts the next items on idle slots; synchronous ops complete right here. */
static void fill_slots(struct batch *b)
{
	bool cancelled = usync_meter_cancelled(b->r->meter);
	for (unsigned si = 0; si < b->r->depth && b->next < b->count; si++) {
		struct slot *s = &b->slots[si];
		if (s->state != S_IDLE)
			continue;
		while (b->next < b->count) {
			struct item *it = &b->items[b->next];
			bool opens = it->req->op == USYNC_OP_COPY_FILE || it->req->op == USYNC_OP_OPEN_READ;
			if (opens && cancelled) { /* a cancel: no new file is started; the quick ops still run */
				it->res->res = -ECANCELED;
				it->res->stage = ST_NONE;
				b->next++;
				continue;
			}
			if (opens)
				break;
			if (it->req->op == USYNC_OP_SYMLINK)
				usync_copy_symlink(it->req, it->src, it->dir, it->dst, it->tmp, it->res);
			else if (it->req->op == USYNC_OP_SET_META)
				usync_set_dir_meta(it->req, it->src, it->dir, it->dst, it->res);
			else if (it->req->op == USYNC_OP_STAT)
				usync_stat_pair(it->src, it->dir, it->dst, it->res);
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
			copy_fail(s, -EBUSY, ST_OPEN_SRC);
			copy_finish(b, si);
			si--; /* the slot is free again: the next item tries it */
			continue;
		}
		io_uring_prep_openat(sqe, AT_FDCWD, b->items[s->item].src,
				     O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0);
		io_uring_sqe_set_data64(sqe, ud(K_OPEN_SRC, si, 0));
	}
}

/* A completion of the source's open. */
static void on_open_src(struct batch *b, unsigned si, int res)
{
	struct slot *s = &b->slots[si];
	if (res < 0) {
		copy_fail(s, res, ST_OPEN_SRC);
	} else {
		s->sfd = res;
		if (usync_fstat(s->sfd, &s->st) < 0)
			copy_fail(s, -errno, ST_FSTAT_SRC);
		else if (!S_ISREG(s->st.st_mode))
			copy_fail(s, -EINVAL, ST_NOT_REGULAR);
		/* Opened O_NONBLOCK so a FIFO swapped in cannot hang us. The copy's reads need it
		 * cleared (io_uring hands EAGAIN back for files without nowait support); OPEN_READ's
		 * consumer (sendFiles) finishes such a read with pread, which O_NONBLOCK does not
		 * affect on a regular file, and saves the syscall. */
		else if (b->items[s->item].req->op != USYNC_OP_OPEN_READ && fcntl(s->sfd, F_SETFL, 0) < 0)
			copy_fail(s, -errno, ST_FSTAT_SRC);
	}
	if (s->err) {
		copy_finish(b, si);
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
		r->dst_size = (int64_t)s->st.st_blocks * 512;
		r->uid = s->st.st_uid;
		r->gid = s->st.st_gid;
		release_slot(b, si);
		return;
	}
	queue_open_dst(b, si);
}

/* A completion of the target's open. */
static void on_open_dst(struct batch *b, unsigned si, int res)
{
	struct slot *s = &b->slots[si];
	if (res == -EEXIST && !s->tmp && b->items[s->item].req->tmp_len > 0) {
		s->tmp = true;
		queue_open_dst(b, si);
		return;
	}
	if (res < 0) {
		copy_fail(s, res, ST_OPEN_DST);
		copy_finish(b, si);
		return;
	}
	s->dfd = res;
	s->state = S_DATA;
	if (s->size == 0) {
		copy_finish(b, si);
		return;
	}
	copy_data_start(b, si);
	copy_maybe_finish(b, si); /* when nothing could be queued */
}

/* One completion of the batch: one small function per kind. */
static void on_cqe(void *ctx, uint64_t data, int res)
{
	struct batch *b = ctx;
	enum ud_kind k = (enum ud_kind)(data >> 48);
	unsigned si = (unsigned)(data >> 24) & 0xffffff;
	unsigned bi = (unsigned)data & 0xffffff;
	if (k == K_OPEN_SRC)
		on_open_src(b, si, res);
	else if (k == K_OPEN_DST)
		on_open_dst(b, si, res);
	else
		copy_data_done(b, k, si, bi, res);
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
		it->tmp = it->dst + q->dst_len + 1;
		it->dir = q->dst_dir;
		it->res = &results[i];
		memset(it->res, 0, sizeof *it->res);
		off += sizeof *q + ((q->src_len + 1 + q->dst_len + 1 + q->tmp_len + 1 + 7) & ~(size_t)7);
	}
	for (unsigned si = 0; si < r->depth; si++)
		b.slots[si].sfd = b.slots[si].dfd = -1;

	fill_slots(&b);
	while (b.active > 0) {
		/* While a file is copied outside the ring, only reap what is ready, never wait. */
		int ret = usync_ring_reap(r, !b.ranged, on_cqe, &b);
		if (ret < 0) {
			rc = ret;
			break;
		}
		copy_data_pump_all(&b);
		fill_slots(&b);
		copy_data_ranges(&b);
		usync_meter_pace(r->meter);
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
				copy_fail(&b.slots[si], rc, ST_NONE);
				b.slots[si].inflight = 0;
				copy_finish(&b, si);
			}
	}
out:
	free(b.items);
	free(b.slots);
	free(b.bufs);
	free(b.pipes);
	return rc;
}
