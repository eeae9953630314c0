/*
 * Sending a batch of files (TlsSession.sendFiles): for each, its header, its data as frames read
 * through the ring several chunks ahead (or spliced file -> pipe -> socket under kernel TLS), its
 * trailer. Reads land before their descriptors are closed; a file that changed while it was read
 * fails the batch before its trailer.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "direct_io.h"
#include "jni_util.h"
#include "meter.h"
#include "op_timeout.h"
#include "org_uringsync_nativeio_SendBatch.h"
#include "send_batch.h"
#include "splice.h"
#include "syscalls.h"
#include "uring_data.h"

/* Chunks at least this big skip the coalescing buffer (one TLS record holds 16 KiB). */
#define DIRECT_MIN (64 * 1024)

#define SEND_DIRECT org_uringsync_nativeio_SendBatch_DIRECT
#define SEND_SPLICE org_uringsync_nativeio_SendBatch_SPLICE
#define SEND_KEEP_OPEN org_uringsync_nativeio_SendBatch_KEEP_OPEN

struct send_req {           /* SendBatch's layout: this header, then header bytes, trailer bytes, pad to 8 */
	int32_t fd;
	int32_t flags;
	int64_t size;
	uint32_t hdr_len;
	uint32_t trl_len;
	int64_t mtime_ns;       /* as found at open: a file that changes while sent fails */
	int64_t offset;         /* where in the file the size bytes start */
	int64_t file_size;      /* the whole file's, as found at open */
};
#define J(name) org_uringsync_nativeio_SendBatch_##name
_Static_assert(sizeof(struct send_req) == J(HEADER), "SendBatch.HEADER");
_Static_assert(offsetof(struct send_req, fd) == J(REQ_FD), "SendBatch.REQ_FD");
_Static_assert(offsetof(struct send_req, flags) == J(REQ_FLAGS), "SendBatch.REQ_FLAGS");
_Static_assert(offsetof(struct send_req, size) == J(REQ_SIZE), "SendBatch.REQ_SIZE");
_Static_assert(offsetof(struct send_req, hdr_len) == J(REQ_HDR_LEN), "SendBatch.REQ_HDR_LEN");
_Static_assert(offsetof(struct send_req, trl_len) == J(REQ_TRL_LEN), "SendBatch.REQ_TRL_LEN");
_Static_assert(offsetof(struct send_req, mtime_ns) == J(REQ_MTIME_NS), "SendBatch.REQ_MTIME_NS");
_Static_assert(offsetof(struct send_req, offset) == J(REQ_OFFSET), "SendBatch.REQ_OFFSET");
_Static_assert(offsetof(struct send_req, file_size) == J(REQ_FILE_SIZE), "SendBatch.REQ_FILE_SIZE");
#undef J

struct send_file {
	int fd;                 /* -1 once sent */
	bool keep_open;         /* a later entry reads the same descriptor and closes it */
	int64_t start;          /* file offset of the first byte sent */
	int64_t size;           /* bytes sent */
	int64_t file_size;
	int64_t mtime_ns;
	const uint8_t *hdr, *trl;
	uint32_t hdr_len, trl_len;
	bool spliced;           /* data goes file -> pipe -> socket, never through the pooled buffers */
	bool direct;            /* O_DIRECT reads: lengths rounded up to USYNC_DIO_ALIGN */
};

struct chunk_read {         /* one queued read: file, range, and how it ended */
	int file;
	int64_t off;            /* file offset */
	uint32_t len;
	int res;
	bool done;
};

struct sender {
	JNIEnv *env;
	struct usync_tls *t;
	struct usync_ring *r;
	struct send_file *files;
	int count;
	unsigned nq;            /* queue capacity = buffers */
	unsigned chunk;
	uint32_t splice_frame;  /* frame size of spliced files */
	struct chunk_read *q;   /* circular; entry i uses buffer i */
	unsigned head, tail, inflight;
	int pf;                 /* producer: next file and offset to read */
	int64_t poff;
	int data_type;
	uint8_t *out;
	size_t out_len, out_cap;
	int64_t sent;
	struct usync_splice_pair pair; /* the splice pair in flight, if any */
	int send_res;           /* result of the IORING_OP_SEND in flight */
	unsigned send_wait;
	struct usync_op_timeout timeout; /* for the socket operations on the ring */
	unsigned close_wait;    /* IORING_OP_CLOSEs in flight */
};

static int flush_out(struct sender *s, int flags)
{
	if (s->out_len && usync_tls_write(s->env, s->t, s->out, s->out_len, flags) < 0)
		return -1;
	s->out_len = 0;
	return 0;
}

static int out_put(struct sender *s, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (s->out_len == s->out_cap && flush_out(s, 0) < 0)
			return -1;
		size_t k = s->out_cap - s->out_len < n ? s->out_cap - s->out_len : n;
		memcpy(s->out + s->out_len, p, k);
		s->out_len += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* Queues reads ahead of the consumer while buffers are free (spliced files are not read here). */
static void produce(struct sender *s)
{
	while (s->pf < s->count && s->tail - s->head < s->nq) {
		struct send_file *f = &s->files[s->pf];
		if (f->spliced || s->poff >= f->size) {
			s->pf++;
			s->poff = 0;
			continue;
		}
		unsigned slot = s->tail % s->nq;
		struct chunk_read *c = &s->q[slot];
		c->file = s->pf;
		c->off = f->start + s->poff;
		c->len = f->size - s->poff < (int64_t)s->chunk ? (uint32_t)(f->size - s->poff) : s->chunk;
		c->done = false;
		s->poff += c->len;
		s->tail++;
		struct io_uring_sqe *sqe = usync_ring_sqe(s->r);
		if (!sqe) { /* the consumer reports it as this chunk's read error */
			c->res = -EBUSY;
			c->done = true;
			continue;
		}
		uint32_t len = f->direct ? usync_dio_round(c->len) : c->len; /* the tail's read stops at EOF */
		if (s->r->fixed)
			io_uring_prep_read_fixed(sqe, f->fd, usync_ring_buf(s->r, slot), len, (uint64_t)c->off, (int)slot);
		else
			io_uring_prep_read(sqe, f->fd, usync_ring_buf(s->r, slot), len, (uint64_t)c->off);
		io_uring_sqe_set_data64(sqe, slot);
		s->inflight++;
	}
}

/* One completion of the sender's ring: a chunk read (tagged by its queue slot) or a socket operation. */
static void on_cqe(void *ctx, uint64_t data, int res)
{
	struct sender *s = ctx;
	if (data & (TAG_SPLICE | TAG_NOP)) {
		usync_splice_pair_done(&s->pair, data, res);
	} else if (data & TAG_SEND) {
		s->send_res = res;
		s->send_wait--;
	} else if (data & TAG_CLOSE) {
		s->close_wait--; /* a read-only descriptor: nothing to learn from close */
	} else if (data & TAG_TIMEOUT) {
		usync_op_timeout_done(&s->timeout, res);
	} else {
		struct chunk_read *c = &s->q[data];
		c->res = res;
		c->done = true;
		s->inflight--;
	}
}

/* Waits for at least one completion (or reaps what is there when !wait). 0 or -errno. */
static int reap(struct sender *s, bool wait)
{
	return usync_ring_reap(s->r, wait, on_cqe, s);
}

static void close_files(struct sender *s, int from)
{
	for (int i = from; i < s->count; i++)
		if (s->files[i].fd >= 0 && !s->files[i].keep_open) {
			close(s->files[i].fd);
			s->files[i].fd = -1;
		}
}

/* Completes a short read synchronously; 0, or -errno (-ENODATA when the file shrank). */
static int finish_short(struct sender *s, struct chunk_read *c, uint8_t *buf)
{
	uint32_t got = (uint32_t)c->res;
	struct send_file *f = &s->files[c->file];
	if (f->direct) { /* the rest is unaligned: finish through the page cache */
		int rc = usync_buffered_io(f->fd);
		if (rc < 0)
			return rc;
		f->direct = false;
	}
	while (got < c->len) {
		ssize_t n = pread(s->files[c->file].fd, buf + got, c->len - got, c->off + got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ENODATA;
		got += (uint32_t)n;
	}
	return 0;
}

/* Writes p to the kernel TLS socket with IORING_OP_SEND (reads keep completing meanwhile). 0 or -1 (thrown). */
static int ring_send(struct sender *s, const uint8_t *p, size_t len)
{
	while (len > 0) {
		struct io_uring_sqe *sqe = usync_ring_room(s->r, 2) ? usync_ring_sqe(s->r) : NULL;
		if (!sqe) {
			usync_throw_errno(s->env, "TLS write (io_uring send: no submission entry)", NULL, EBUSY);
			return -1;
		}
		io_uring_prep_send(sqe, s->t->fd, p, len < SOCKET_OP_MAX ? len : SOCKET_OP_MAX, MSG_NOSIGNAL);
		io_uring_sqe_set_data64(sqe, TAG_SEND);
		usync_op_timeout_link(&s->timeout, s->r, sqe);
		s->send_wait = 1;
		while (s->send_wait > 0 || s->timeout.pending > 0) {
			int rc = reap(s, true);
			if (rc < 0) {
				usync_throw_errno(s->env, "io_uring_enter", NULL, -rc);
				return -1;
			}
		}
		if (s->timeout.fired) {
			usync_throw_errno(s->env, "TLS write (io_uring send)", NULL, ETIMEDOUT);
			return -1;
		}
		if (s->send_res == -EINTR)
			continue;
		if (s->send_res < 0) {
			usync_throw_errno(s->env, "TLS write (io_uring send)", NULL, usync_socket_errno(-s->send_res));
			return -1;
		}
		p += s->send_res;
		len -= (size_t)s->send_res;
	}
	return 0;
}

/* Sends a file's data as frames of splice_frame bytes spliced from the file: header by send(MSG_MORE), body by splice. */
static int send_spliced(struct sender *s, int idx)
{
	struct send_file *f = &s->files[idx];
	uint8_t fh[FRAME_HDR];
	unsigned pipe_sz = s->r->pipes.size;
	int64_t frame = s->splice_frame;
	for (int64_t off = f->start, end = f->start + f->size; off < end;) {
		uint32_t len = end - off < frame ? (uint32_t)(end - off) : (uint32_t)frame;
		usync_put_frame_hdr(fh, s->data_type, len);
		if (usync_tls_write(s->env, s->t, fh, FRAME_HDR, MSG_MORE) < 0)
			return -1;
		if (s->t->use_sendfile) {
			/* the comparison path: one sendfile(2) per frame, the kernel splices internally */
			for (off_t o = off; o < off + len;) {
				ssize_t n = sendfile(s->t->fd, f->fd, &o, usync_meter_slice(s->r->meter, (size_t)(off + len - o)));
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					usync_throw_item(s->env, n == 0 ? "sendfile (file shrank while sent)" : "sendfile", idx,
						   n == 0 ? ENODATA : usync_socket_errno(errno));
					return -1;
				}
				usync_meter_add(s->r->meter, n);
				usync_meter_pace(s->r->meter);
			}
			off += len;
			continue;
		}
		for (uint32_t done = 0; done < len;) {
			uint32_t k = (uint32_t)usync_meter_slice(s->r->meter, len - done < pipe_sz ? len - done : pipe_sz);
			/* MORE while this frame goes on; the frame's end pushes the record out */
			long n = usync_splice_to_socket(s->r, &s->pair, &s->timeout, f->fd, off + done, k, s->t->fd,
							done + k < len, on_cqe, s);
			if (n < 0) {
				usync_throw_item(s->env, n == -ENODATA ? "splice (file shrank while sent)" : "splice", idx, (int)-n);
				return -1;
			}
			done += (uint32_t)n;
			usync_meter_add(s->r->meter, n);
			usync_meter_pace(s->r->meter);
		}
		off += len;
	}
	return 0;
}

/* Streams the files in order; on any failure an exception is pending and the rest are closed. */
static void send_all(struct sender *s)
{
	int cur = 0;             /* the file being written out */
	bool started = false;    /* its header is out */
	int64_t done = 0;        /* its data bytes out */
	uint8_t fh[FRAME_HDR];
	produce(s);
	while (cur < s->count) {
		struct send_file *f = &s->files[cur];
		if (!started) {
			if (out_put(s, f->hdr, f->hdr_len) < 0)
				return;
			started = true;
			done = 0;
			if (f->spliced) {
				if (flush_out(s, MSG_MORE) < 0 || send_spliced(s, cur) < 0)
					return;
				done = f->size;
			}
		}
		if (done == f->size) {
			/* All its bytes are read: had the file changed meanwhile, the receiver would place a
			 * mix of old and new (or a prefix). Fail before the trailer, so it never places one. */
			struct stat st;
			if (usync_fstat(f->fd, &st) == 0 &&
			    (st.st_size != f->file_size ||
			     (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != f->mtime_ns)) {
				usync_throw_item(s->env, "read (file changed while sent)", cur, EAGAIN);
				return;
			}
			if (out_put(s, f->trl, f->trl_len) < 0)
				return;
			/* closed by the ring with the next submission: a syscall less per file */
			struct io_uring_sqe *sqe = f->keep_open ? NULL : usync_ring_sqe(s->r);
			if (f->keep_open) {
				/* a later entry of the same file closes it */
			} else if (sqe) {
				io_uring_prep_close(sqe, f->fd);
				io_uring_sqe_set_data64(sqe, TAG_CLOSE);
				s->close_wait++;
			} else {
				close(f->fd);
			}
			f->fd = -1;
			s->sent += f->size;
			cur++;
			started = false;
			continue;
		}
		struct chunk_read *c = &s->q[s->head % s->nq];
		while (!c->done) {
			int rc = reap(s, true);
			if (rc < 0) {
				usync_throw_errno(s->env, "io_uring_enter", NULL, -rc);
				return;
			}
		}
		uint8_t *buf = usync_ring_buf(s->r, s->head % s->nq);
		if (c->res == -EAGAIN || c->res == -EINTR)
			c->res = 0;
		if (c->res < 0) {
			usync_throw_item(s->env, "read", cur, -c->res);
			return;
		}
		if ((uint32_t)c->res > c->len)
			c->res = (int)c->len; /* a rounded-up direct read of a file that grew meanwhile */
		if ((uint32_t)c->res < c->len) {
			int rc = finish_short(s, c, buf);
			if (rc < 0) {
				usync_throw_item(s->env, rc == -ENODATA ? "read (file shrank while sent)" : "read", cur, -rc);
				return;
			}
		}
		if (c->len >= DIRECT_MIN) {
			/* Big chunk: the frame header goes in the buffer's headroom and the frame is written
			 * from where it lies, without passing through the out buffer. */
			if (flush_out(s, 0) < 0)
				return;
			usync_put_frame_hdr(buf - FRAME_HDR, s->data_type, c->len);
			/* kernel TLS: the frame leaves the registered buffer by IORING_OP_SEND; with a rate,
			 * in pieces of about a pacing window each, counted (data only) as they go */
			const uint8_t *p = buf - FRAME_HDR;
			size_t hdr = FRAME_HDR;
			for (size_t left = FRAME_HDR + c->len; left > 0;) {
				size_t n = usync_meter_slice(s->r->meter, left); /* at least 4 KiB: the header fits */
				if (s->t->tx ? ring_send(s, p, n) < 0 : usync_tls_write(s->env, s->t, p, n, 0) < 0)
					return;
				p += n;
				left -= n;
				usync_meter_add(s->r->meter, (int64_t)(n - hdr));
				hdr = 0;
				usync_meter_pace(s->r->meter);
			}
		} else {
			usync_put_frame_hdr(fh, s->data_type, c->len);
			if (out_put(s, fh, FRAME_HDR) < 0 || out_put(s, buf, c->len) < 0)
				return;
			/* with a rate, out before the sleep: nothing waits in the buffer while the wire idles */
			if (usync_meter_paced(s->r->meter) && flush_out(s, 0) < 0)
				return;
			usync_meter_add(s->r->meter, c->len);
			usync_meter_pace(s->r->meter);
		}
		done += c->len;
		s->head++;
		produce(s);
	}
	flush_out(s, 0);
}

/* See send_batch.h. */
jlong usync_send_files(JNIEnv *env, struct usync_tls *t, struct usync_ring *r, uint8_t *p, jint count, jint data_type,
		       jint chunk, jint splice_frame)
{
	struct sender s = { .env = env, .t = t, .r = r, .count = count, .data_type = data_type };
	usync_op_timeout_init(&s.timeout, t->fd, SO_SNDTIMEO);
	bool splice_ok = t->tx && r->pipes.count > 0 && splice_frame > 0; /* what SPLICE needs */
	s.splice_frame = (uint32_t)splice_frame;
	s.files = calloc((size_t)count + 1, sizeof *s.files);
	s.nq = r->nbufs;
	s.chunk = (unsigned)chunk < r->chunk ? (unsigned)chunk : (unsigned)r->chunk;
	s.q = calloc(s.nq, sizeof *s.q);
	s.out_cap = 2 * (size_t)s.chunk + 64 * 1024;
	s.out = malloc(s.out_cap);
	size_t off = 0;
	for (int i = 0; i < count; i++) {
		struct send_req *q = (struct send_req *)(p + off);
		if (s.files) {
			struct send_file *f = &s.files[i];
			f->fd = q->fd;
			f->keep_open = q->flags & SEND_KEEP_OPEN;
			f->start = q->offset;
			f->size = q->size;
			f->file_size = q->file_size;
			f->mtime_ns = q->mtime_ns;
			f->hdr = (const uint8_t *)(q + 1);
			f->hdr_len = q->hdr_len;
			f->trl = f->hdr + q->hdr_len;
			f->trl_len = q->trl_len;
			f->spliced = (q->flags & SEND_SPLICE) && splice_ok;
			f->direct = (q->flags & SEND_DIRECT) && !f->spliced && s.chunk % USYNC_DIO_ALIGN == 0 &&
				    q->offset % USYNC_DIO_ALIGN == 0 && usync_direct_io(f->fd);
		} else if (!(q->flags & SEND_KEEP_OPEN)) {
			close(q->fd);
		}
		off += sizeof *q + ((q->hdr_len + q->trl_len + 7) & ~(size_t)7);
	}
	if (!s.files || !s.q || !s.out) {
		if (s.files)
			close_files(&s, 0);
		usync_throw_errno(env, "malloc", NULL, ENOMEM);
		goto out;
	}
	send_all(&s);
	/* Reads still in flight must land before their buffers can serve anyone else, and before their
	 * descriptors are closed: a number closed under a queued read could be reused by another thread. */
	bool drained = true;
	while (drained && (s.inflight > 0 || s.pair.pending > 0 || s.send_wait > 0 || s.close_wait > 0 || s.timeout.pending > 0))
		drained = reap(&s, true) == 0;
	if (drained)
		close_files(&s, 0);
	/* else the ring itself failed (io_uring_enter): the descriptors stay open rather than be closed
	 * under reads that may still run; they are lost, which is the lesser harm */
out:
	free(s.files);
	free(s.q);
	free(s.out);
	return s.sent;
}

