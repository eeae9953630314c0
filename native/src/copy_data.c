/*
 * Moving a local file's bytes, for the copy batch (copy_batch.c owns the slots). A file below the
 * large-file threshold moves through pooled chunk buffers (read, then write, several chunks in
 * flight for one file). A larger one is copied by the kernel: copy_file_range in slices between ring
 * completions, or, where the file system refuses that, spliced file -> pipe -> file through pooled
 * pipes. Short transfers are completed here; failures are recorded on the slot, never thrown.
 */
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>
#include "copy_slots.h"
#include "meter.h"
#include "syscalls.h"

/* Bytes per copy_file_range call: small enough to keep the ring's completions flowing. */
#define COPY_RANGE_SLICE (64 << 20)

static void release_buf(struct batch *b, unsigned bi);
static void release_pipe(struct batch *b, unsigned pi);

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
		copy_fail(s, -EBUSY, k == K_READ ? ST_READ : ST_WRITE);
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

static void release_buf(struct batch *b, unsigned bi)
{
	struct slot *s = &b->slots[b->bufs[bi].slot];
	s->inflight--;
	b->r->free_bufs[b->r->nfree++] = (uint16_t)bi;
}

/* Issues reads for a slot while buffers are free and data remains. */
static void pump(struct batch *b, unsigned si)
{
	struct usync_ring *r = b->r;
	struct slot *s = &b->slots[si];
	if (!s->err && usync_meter_cancelled(r->meter))
		copy_fail(s, -ECANCELED, ST_READ); /* what is in flight lands, then the file is removed */
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

/* As queue_rw, for a pipe of the splice path. */
static bool queue_splice(struct batch *b, enum ud_kind k, unsigned pi)
{
	struct usync_ring *r = b->r;
	struct bufinfo *p = &b->pipes[pi];
	struct slot *s = &b->slots[p->slot];
	struct io_uring_sqe *sqe = usync_ring_sqe(r);
	if (!sqe) {
		copy_fail(s, -EBUSY, k == K_SPLICE_IN ? ST_READ : ST_WRITE);
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
/*
 * A sparse source: the data range at or after pos, [*start, *end) (*start == size: only hole is left).
 * false when the file system cannot tell (no SEEK_DATA): the rest is copied as it reads.
 */
static bool data_range(const struct slot *s, off_t pos, off_t *start, off_t *end)
{
	off_t data = lseek(s->sfd, pos, SEEK_DATA);
	if ((data < 0 && errno == ENXIO) || data >= s->size) {
		*start = *end = s->size; /* a hole to the end (or the file grew past what is copied) */
		return true;
	}
	off_t hole = data < 0 ? -1 : lseek(s->sfd, data, SEEK_HOLE);
	if (hole < 0)
		return false;
	*start = data;
	*end = hole < s->size ? hole : s->size;
	return true;
}

/*
 * A sparse source, before copying from *pos: at the end of the current data range, moves *pos (and
 * written, which counts holes as done) past the hole that follows; the target, already of full size,
 * keeps it. @return the end of the data range *pos is in (size when the file is not treated as sparse)
 */
static off_t skip_hole(struct usync_meter *m, struct slot *s, off_t *pos)
{
	if (!s->sparse)
		return s->size;
	if (*pos >= s->data_end) {
		off_t start, end;
		if (!data_range(s, *pos, &start, &end)) {
			s->sparse = false;
			return s->size;
		}
		off_t hole = start - *pos; /* pos may be &s->written itself */
		s->written += hole;
		usync_meter_count(m, hole); /* as the result counts it; a hole costs no pacing */
		*pos = start;
		s->data_end = end;
	}
	return s->data_end;
}

static void pump_splice(struct batch *b, unsigned si)
{
	struct usync_ring *r = b->r;
	struct slot *s = &b->slots[si];
	if (!s->err && usync_meter_cancelled(r->meter))
		copy_fail(s, -ECANCELED, ST_READ);
	while (!s->err && !s->eof && s->next_read < s->size && r->nfree_pipes > 0) {
		off_t end = skip_hole(r->meter, s, &s->next_read);
		if (s->next_read >= s->size)
			break;
		unsigned pi = r->free_pipes[--r->nfree_pipes];
		struct bufinfo *p = &b->pipes[pi];
		off_t left = end - s->next_read;
		p->off = s->next_read;
		p->len = (uint32_t)usync_meter_slice(r->meter, left < (off_t)r->pipes.size ? (size_t)left : r->pipes.size);
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

static bool retryable(int res)
{
	return res == -EAGAIN || res == -EINTR;
}

/* Queues k for buffer (or pipe) bi again; without an entry the slot failed: finish it if it can. */
static void requeue(struct batch *b, enum ud_kind k, unsigned si, unsigned bi)
{
	bool queued = k == K_READ || k == K_WRITE ? queue_rw(b, k, bi) : queue_splice(b, k, bi);
	if (!queued)
		copy_maybe_finish(b, si);
}

/*
 * What every data completion checks first: a retry is queued again; a failure, a write of nothing, or
 * a slot that failed meanwhile releases the buffer (or pipe). True when the caller goes on with res.
 */
static bool settle(struct batch *b, enum ud_kind k, unsigned si, unsigned bi, int res)
{
	struct slot *s = &b->slots[si];
	bool reading = k == K_READ || k == K_SPLICE_IN;
	if (retryable(res) && !s->err) {
		requeue(b, k, si, bi);
		return false;
	}
	if (res < 0 || (res == 0 && !reading) || s->err) {
		copy_fail(s, res < 0 ? res : -EIO, reading ? ST_READ : ST_WRITE);
		if (k == K_READ || k == K_WRITE)
			release_buf(b, bi);
		else
			release_pipe(b, bi);
		copy_maybe_finish(b, si);
		return false;
	}
	return true;
}

/* A completion of a chunk read into a pooled buffer; 0: the file shrank while we copied. */
static void on_read(struct batch *b, unsigned si, unsigned bi, int res)
{
	struct slot *s = &b->slots[si];
	struct bufinfo *bf = &b->bufs[bi];
	if (!settle(b, K_READ, si, bi, res))
		return;
	bf->pos += (uint32_t)res;
	if (res == 0) {          /* keep what was there */
		s->eof = true;
		if (bf->off + bf->pos < s->size)
			s->size = bf->off + bf->pos;
		if (bf->pos == 0) {
			release_buf(b, bi);
			copy_maybe_finish(b, si);
			return;
		}
		bf->len = bf->pos;
	}
	if (bf->pos < bf->len) {
		requeue(b, K_READ, si, bi);
		return;
	}
	bf->pos = 0;
	requeue(b, K_WRITE, si, bi);
}

/* A completion of a chunk written from a pooled buffer. */
static void on_write(struct batch *b, unsigned si, unsigned bi, int res)
{
	struct slot *s = &b->slots[si];
	struct bufinfo *bf = &b->bufs[bi];
	if (!settle(b, K_WRITE, si, bi, res))
		return;
	bf->pos += (uint32_t)res;
	if (bf->pos < bf->len) {
		requeue(b, K_WRITE, si, bi);
		return;
	}
	s->written += bf->len;
	usync_meter_add(b->r->meter, bf->len);
	release_buf(b, bi);
	pump(b, si);
	copy_maybe_finish(b, si);
}

/* A completion of a pipe filled from the source; 0: the file shrank while we copied. */
static void on_splice_in(struct batch *b, unsigned si, unsigned bi, int res)
{
	struct slot *s = &b->slots[si];
	struct bufinfo *bf = &b->pipes[bi];
	if (!settle(b, K_SPLICE_IN, si, bi, res))
		return;
	if (res == 0) {          /* keep what was there */
		s->eof = true;
		if (bf->off + bf->pos < s->size)
			s->size = bf->off + bf->pos;
		bf->len = bf->pos;
		release_pipe(b, bi);
		s->written += bf->len;
		usync_meter_add(b->r->meter, bf->len);
		copy_maybe_finish(b, si);
		return;
	}
	bf->inpipe = (uint32_t)res;
	requeue(b, K_SPLICE_OUT, si, bi);
}

/* A completion of a pipe drained into the target. */
static void on_splice_out(struct batch *b, unsigned si, unsigned bi, int res)
{
	struct slot *s = &b->slots[si];
	struct bufinfo *bf = &b->pipes[bi];
	if (!settle(b, K_SPLICE_OUT, si, bi, res))
		return;
	bf->pos += (uint32_t)res;
	bf->inpipe -= (uint32_t)res;
	if (bf->inpipe) {
		requeue(b, K_SPLICE_OUT, si, bi);
		return;
	}
	if (bf->pos < bf->len) {
		requeue(b, K_SPLICE_IN, si, bi);
		return;
	}
	s->written += bf->len;
	usync_meter_add(b->r->meter, bf->len);
	release_pipe(b, bi);
	pump_splice(b, si);
	copy_maybe_finish(b, si);
}

void copy_data_start(struct batch *b, unsigned si)
{
	struct slot *s = &b->slots[si];
	if (b->r->large_min > 0 && s->size >= b->r->large_min) {
		/* Fewer blocks than bytes: holes, which stay holes (cp's --sparse=auto), on either path.
		 * The target gets its size first; only the data ranges are copied into it. */
		s->sparse = (off_t)s->st.st_blocks * 512 < s->size;
		if (s->sparse && ftruncate(s->dfd, s->size) < 0) {
			copy_fail(s, -errno, ST_WRITE); /* the caller finishes the slot */
			return;
		}
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
}

void copy_data_done(struct batch *b, enum ud_kind k, unsigned si, unsigned bi, int res)
{
	switch (k) {
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
	default:
		return;
	}
}

/*
 * One copy_file_range slice for each slot copying that way. A refusal on the first slice (another
 * file system, no support) sends the file, and later ones, down the splice path instead.
 */
void copy_data_ranges(struct batch *b)
{
	for (unsigned si = 0; si < b->r->depth && b->ranged > 0; si++) {
		struct slot *s = &b->slots[si];
		if (!s->ranged)
			continue;
		off_t end = skip_hole(b->r->meter, s, &s->written);
		size_t want = (size_t)(end - s->written);
		want = usync_meter_slice(b->r->meter, want < COPY_RANGE_SLICE ? want : COPY_RANGE_SLICE);
		if (!s->err && usync_meter_cancelled(b->r->meter))
			copy_fail(s, -ECANCELED, ST_COPY_RANGE); /* between slices: the file is removed */
		off_t in = s->written, out = s->written;
		ssize_t n = s->err || want == 0 ? 0 : usync_copy_file_range(s->sfd, &in, s->dfd, &out, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && !s->range_tried &&
		    (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
			b->r->no_copy_range = true;
			s->ranged = false;
			b->ranged--;
			s->spliced = true;
			s->next_read = s->written; /* past a first hole skipped, if any: nothing copied yet */
			pump_splice(b, si);
			copy_maybe_finish(b, si);
			continue;
		}
		s->range_tried = true;
		if (n < 0)
			copy_fail(s, -errno, ST_COPY_RANGE);
		else if (n == 0 && want > 0) /* the file shrank while we copied: keep what was there */
			s->eof = true;
		else {
			s->written += n;
			usync_meter_add(b->r->meter, n);
		}
		if (s->err || s->eof || s->written >= s->size) {
			s->ranged = false;
			b->ranged--;
			copy_finish(b, si);
		}
	}
}

void copy_data_pump_all(struct batch *b)
{
	for (unsigned si = 0; si < b->r->depth; si++) {
		struct slot *s = &b->slots[si];
		if (s->state != S_DATA || s->ranged)
			continue;
		if (s->spliced)
			pump_splice(b, si);
		else
			pump(b, si);
		copy_maybe_finish(b, si); /* when nothing could be queued */
	}
}
