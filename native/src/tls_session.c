/*
 * JNI side of org.uringsync.nativeio.TlsSession: one TLS 1.3 connection on OpenSSL's record layer.
 * File data crosses JNI in coarse calls: sendFilesNative streams a whole batch of files (reads
 * through the ring, several chunks ahead), receiveFileNative one file's data frames into a
 * descriptor (writes through the ring, overlapping the next decryption). Java owns the protocol;
 * C only knows the frame shape `type u8 | length u32 LE | payload` and the types Java passes in.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "jni_util.h"
#include "ring.h"
#include "org_uringsync_nativeio_TlsSession.h"

#define FRAME_HDR 5
/* Chunks at least this big skip the coalescing buffer (one TLS record holds 16 KiB). */
#define DIRECT_MIN (64 * 1024)

static void throw_violation(JNIEnv *env, const char *msg)
{
	jclass cls = (*env)->FindClass(env, "org/uringsync/nativeio/TlsSession$ProtocolViolation");
	if (cls)
		(*env)->ThrowNew(env, cls, msg);
}

/* Turns a failed SSL_* call into a Java exception; returns nothing useful. */
static void throw_ssl(JNIEnv *env, SSL *ssl, int ret, const char *op)
{
	int e = SSL_get_error(ssl, ret);
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		int err = errno ? errno : ECONNRESET;
		if (err == EAGAIN)
			err = ETIMEDOUT; /* SO_RCVTIMEO / SO_SNDTIMEO expired */
		ERR_clear_error();
		usync_throw_errno(env, op, NULL, err);
	} else if (e == SSL_ERROR_ZERO_RETURN) {
		usync_throw_errno(env, op, NULL, ECONNRESET);
	} else if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && (errno == EAGAIN || errno == 0)) {
		/* a blocking socket only says this when SO_RCVTIMEO / SO_SNDTIMEO expired */
		ERR_clear_error();
		usync_throw_errno(env, op, NULL, ETIMEDOUT);
	} else if (ERR_peek_error() == 0) {
		char m[96];
		snprintf(m, sizeof m, "%s: SSL error %d (errno %d)", op, e, errno);
		usync_throw_tls_msg(env, m);
	} else {
		usync_throw_tls(env, op);
	}
}

/*
 * True when a failed SSL call should simply be repeated: the socket read or write was interrupted
 * by a signal (blocking sockets report that as WANT_READ / WANT_WRITE with errno EINTR).
 */
static bool interrupted(SSL *ssl, int ret)
{
	int e = SSL_get_error(ssl, ret);
	return (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && errno == EINTR;
}

/* TlsSession.handshakeNative(long ctx, int fd, boolean server): SSL* */
JNIEXPORT jlong JNICALL Java_org_uringsync_nativeio_TlsSession_handshakeNative(JNIEnv *env, jclass cls, jlong ctx,
		jint fd, jboolean server)
{
	(void)cls;
	SSL *ssl = SSL_new((SSL_CTX *)(uintptr_t)ctx);
	if (!ssl || SSL_set_fd(ssl, fd) != 1) {
		usync_throw_tls(env, "SSL_new");
		SSL_free(ssl);
		return 0;
	}
	int rc;
	do {
		errno = 0;
		rc = server ? SSL_accept(ssl) : SSL_connect(ssl);
	} while (rc != 1 && interrupted(ssl, rc));
	if (rc != 1) {
		throw_ssl(env, ssl, rc, "TLS handshake");
		SSL_free(ssl);
		return 0;
	}
	return (jlong)(uintptr_t)ssl;
}

/* TlsSession.exportNative(long ssl, byte[] label, int length): RFC 8446 7.5 exporter, no context. */
JNIEXPORT jbyteArray JNICALL Java_org_uringsync_nativeio_TlsSession_exportNative(JNIEnv *env, jclass cls,
		jlong h, jbyteArray jlabel, jint len)
{
	(void)cls;
	SSL *ssl = (SSL *)(uintptr_t)h;
	unsigned char out[64];
	char label[128];
	jsize ll = (*env)->GetArrayLength(env, jlabel);
	if (len <= 0 || len > (jint)sizeof out || ll >= (jsize)sizeof label) {
		usync_throw_tls_msg(env, "exporter: length out of range");
		return NULL;
	}
	(*env)->GetByteArrayRegion(env, jlabel, 0, ll, (jbyte *)label);
	if (SSL_export_keying_material(ssl, out, (size_t)len, label, (size_t)ll, NULL, 0, 0) != 1) {
		usync_throw_tls(env, "SSL_export_keying_material");
		return NULL;
	}
	jbyteArray r = (*env)->NewByteArray(env, len);
	if (r)
		(*env)->SetByteArrayRegion(env, r, 0, len, (jbyte *)out);
	OPENSSL_cleanse(out, sizeof out);
	return r;
}

/* TlsSession.cipherNative(long ssl) */
JNIEXPORT jstring JNICALL Java_org_uringsync_nativeio_TlsSession_cipherNative(JNIEnv *env, jclass cls, jlong h)
{
	(void)cls;
	const SSL_CIPHER *c = SSL_get_current_cipher((SSL *)(uintptr_t)h);
	return (*env)->NewStringUTF(env, c ? SSL_CIPHER_get_name(c) : "none");
}

/* Reads up to len bytes: >0 read, 0 clean end of stream, -1 exception thrown. */
static long ssl_read_some(JNIEnv *env, SSL *ssl, uint8_t *p, size_t len, const char *op)
{
	size_t n = 0;
	int rc;
	do {
		errno = 0;
		rc = SSL_read_ex(ssl, p, len, &n);
	} while (rc != 1 && interrupted(ssl, rc));
	if (rc == 1)
		return (long)n;
	if (SSL_get_error(ssl, rc) == SSL_ERROR_ZERO_RETURN)
		return 0;
	throw_ssl(env, ssl, rc, op);
	return -1;
}

/* Reads exactly len bytes: 1 done, 0 end of stream before len, -1 exception thrown. */
static int ssl_read_full(JNIEnv *env, SSL *ssl, uint8_t *p, size_t len, const char *op)
{
	while (len > 0) {
		long n = ssl_read_some(env, ssl, p, len, op);
		if (n <= 0)
			return (int)n;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

static int ssl_write_full(JNIEnv *env, SSL *ssl, const uint8_t *p, size_t len)
{
	while (len > 0) {
		size_t n = 0;
		errno = 0;
		int rc = SSL_write_ex(ssl, p, len, &n);
		if (rc != 1 && interrupted(ssl, rc))
			continue;
		if (rc != 1) {
			throw_ssl(env, ssl, rc, "TLS write");
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* TlsSession.readNative(long ssl, ByteBuffer buf, int off, int len): bytes, or -1 at end of stream. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_TlsSession_readNative(JNIEnv *env, jclass cls, jlong h,
		jobject buf, jint off, jint len)
{
	(void)cls;
	uint8_t *p = (*env)->GetDirectBufferAddress(env, buf);
	if (len == 0)
		return 0;
	long n = ssl_read_some(env, (SSL *)(uintptr_t)h, p + off, (size_t)len, "TLS read");
	return n > 0 ? (jint)n : n == 0 ? -1 : 0;
}

/* TlsSession.writeNative(long ssl, ByteBuffer buf, int off, int len) */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsSession_writeNative(JNIEnv *env, jclass cls, jlong h,
		jobject buf, jint off, jint len)
{
	(void)cls;
	uint8_t *p = (*env)->GetDirectBufferAddress(env, buf);
	ssl_write_full(env, (SSL *)(uintptr_t)h, p + off, (size_t)len);
}

static void put_frame_hdr(uint8_t *p, int type, uint32_t len)
{
	p[0] = (uint8_t)type;
	p[1] = (uint8_t)len;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)(len >> 16);
	p[4] = (uint8_t)(len >> 24);
}

/* ---- sending a batch of files ---------------------------------------------------------------- */

struct send_req {           /* mirrors SendBatch: 24 bytes, then header bytes, trailer bytes, pad to 8 */
	int32_t fd;
	int32_t pad;
	int64_t size;
	uint32_t hdr_len;
	uint32_t trl_len;
};

struct send_file {
	int fd;
	int64_t size;
	const uint8_t *hdr, *trl;
	uint32_t hdr_len, trl_len;
};

struct chunk_read {         /* one queued read: file, range, and how it ended */
	int file;
	int64_t off;
	uint32_t len;
	int res;
	bool done;
};

struct sender {
	JNIEnv *env;
	SSL *ssl;
	struct usync_ring *r;
	struct send_file *files;
	int count;
	unsigned nq;            /* queue capacity = buffers */
	unsigned chunk;
	struct chunk_read *q;   /* circular; entry i uses buffer i */
	unsigned head, tail, inflight;
	int pf;                 /* producer: next file and offset to read */
	int64_t poff;
	int data_type;
	uint8_t *out;
	size_t out_len, out_cap;
	int64_t sent;
};

static int out_put(struct sender *s, const uint8_t *p, size_t n)
{
	while (n > 0) {
		if (s->out_len == s->out_cap) {
			if (ssl_write_full(s->env, s->ssl, s->out, s->out_len) < 0)
				return -1;
			s->out_len = 0;
		}
		size_t k = s->out_cap - s->out_len < n ? s->out_cap - s->out_len : n;
		memcpy(s->out + s->out_len, p, k);
		s->out_len += k;
		p += k;
		n -= k;
	}
	return 0;
}

/* Queues reads ahead of the consumer while buffers are free. */
static void produce(struct sender *s)
{
	while (s->pf < s->count && s->tail - s->head < s->nq) {
		struct send_file *f = &s->files[s->pf];
		if (s->poff >= f->size) {
			s->pf++;
			s->poff = 0;
			continue;
		}
		unsigned slot = s->tail % s->nq;
		struct chunk_read *c = &s->q[slot];
		c->file = s->pf;
		c->off = s->poff;
		c->len = f->size - s->poff < (int64_t)s->chunk ? (uint32_t)(f->size - s->poff) : s->chunk;
		c->done = false;
		struct io_uring_sqe *sqe = usync_ring_sqe(s->r);
		if (s->r->fixed)
			io_uring_prep_read_fixed(sqe, f->fd, usync_ring_buf(s->r, slot), c->len, (uint64_t)c->off, (int)slot);
		else
			io_uring_prep_read(sqe, f->fd, usync_ring_buf(s->r, slot), c->len, (uint64_t)c->off);
		io_uring_sqe_set_data64(sqe, slot);
		s->poff += c->len;
		s->tail++;
		s->inflight++;
	}
}

/* Waits for at least one completion (or reaps what is there when !wait). 0 or -errno. */
static int reap(struct sender *s, bool wait)
{
	int rc = wait ? io_uring_submit_and_wait(&s->r->ring, 1) : io_uring_submit(&s->r->ring);
	if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
		return rc;
	struct io_uring_cqe *cqe;
	unsigned h, seen = 0;
	io_uring_for_each_cqe(&s->r->ring, h, cqe) {
		struct chunk_read *c = &s->q[cqe->user_data];
		c->res = cqe->res;
		c->done = true;
		s->inflight--;
		seen++;
	}
	io_uring_cq_advance(&s->r->ring, seen);
	return 0;
}

static void close_files(struct sender *s, int from)
{
	for (int i = from; i < s->count; i++)
		if (s->files[i].fd >= 0) {
			close(s->files[i].fd);
			s->files[i].fd = -1;
		}
}

/* Completes a short read synchronously; 0, or -errno (-ENODATA when the file shrank). */
static int finish_short(struct sender *s, struct chunk_read *c, uint8_t *buf)
{
	uint32_t got = (uint32_t)c->res;
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

static void throw_file(JNIEnv *env, const char *op, int file, int err)
{
	char where[32];
	snprintf(where, sizeof where, "#%d", file);
	usync_throw_errno(env, op, where, err);
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
		}
		if (done == f->size) {
			if (out_put(s, f->trl, f->trl_len) < 0)
				return;
			close(f->fd);
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
			throw_file(s->env, "read", cur, -c->res);
			return;
		}
		if ((uint32_t)c->res < c->len) {
			int rc = finish_short(s, c, buf);
			if (rc < 0) {
				throw_file(s->env, rc == -ENODATA ? "read (file shrank while sent)" : "read", cur, -rc);
				return;
			}
		}
		if (c->len >= DIRECT_MIN) {
			/* Big chunk: the frame header goes in the buffer's headroom and the frame is handed to
			 * OpenSSL where it lies, without passing through the out buffer. */
			if (s->out_len && ssl_write_full(s->env, s->ssl, s->out, s->out_len) < 0)
				return;
			s->out_len = 0;
			put_frame_hdr(buf - FRAME_HDR, s->data_type, c->len);
			if (ssl_write_full(s->env, s->ssl, buf - FRAME_HDR, FRAME_HDR + c->len) < 0)
				return;
		} else {
			put_frame_hdr(fh, s->data_type, c->len);
			if (out_put(s, fh, FRAME_HDR) < 0 || out_put(s, buf, c->len) < 0)
				return;
		}
		done += c->len;
		s->head++;
		produce(s);
	}
	if (s->out_len && ssl_write_full(s->env, s->ssl, s->out, s->out_len) == 0)
		s->out_len = 0;
}

/* TlsSession.sendFilesNative(long ssl, long ring, ByteBuffer batch, int count, int dataType, int chunk): bytes */
JNIEXPORT jlong JNICALL Java_org_uringsync_nativeio_TlsSession_sendFilesNative(JNIEnv *env, jclass cls, jlong h,
		jlong ring, jobject batch, jint count, jint data_type, jint chunk)
{
	(void)cls;
	struct usync_ring *r = (struct usync_ring *)(uintptr_t)ring;
	uint8_t *p = (*env)->GetDirectBufferAddress(env, batch);
	struct sender s = { .env = env, .ssl = (SSL *)(uintptr_t)h, .r = r, .count = count, .data_type = data_type };
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
			f->size = q->size;
			f->hdr = (const uint8_t *)(q + 1);
			f->hdr_len = q->hdr_len;
			f->trl = f->hdr + q->hdr_len;
			f->trl_len = q->trl_len;
		} else {
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
	close_files(&s, 0);
	/* Reads still in flight must land before their buffers can serve anyone else. */
	while (s.inflight > 0 && reap(&s, true) == 0)
		;
out:
	free(s.files);
	free(s.q);
	free(s.out);
	return s.sent;
}

/* ---- receiving one file ---------------------------------------------------------------------- */

/* TlsSession.receiveFileNative(long ssl, long ring, int fd, long size, int dataType, int endType, int maxFrame) */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsSession_receiveFileNative(JNIEnv *env, jclass cls, jlong h,
		jlong ring, jint fd, jlong size, jint data_type, jint end_type, jint max_frame)
{
	(void)cls;
	SSL *ssl = (SSL *)(uintptr_t)h;
	struct usync_ring *r = (struct usync_ring *)(uintptr_t)ring;
	char msg[160];
	uint8_t fh[FRAME_HDR];
	int64_t got = 0;         /* bytes received */
	unsigned next = 0;       /* next buffer to fill; buffer i is busy while a write from it is in flight */
	unsigned inflight = 0;
	int werr = 0;
	bool *busy = calloc(r->nbufs, sizeof *busy);
	if (!busy) {
		usync_throw_errno(env, "malloc", NULL, ENOMEM);
		return;
	}
	uint32_t frame_left = 0;
	for (;;) {
		if (frame_left == 0) {
			int rc = ssl_read_full(env, ssl, fh, FRAME_HDR, "TLS read");
			if (rc < 0)
				goto drain;
			if (rc == 0) {
				snprintf(msg, sizeof msg, "connection closed mid-file (%lld of %lld bytes)", (long long)got,
					 (long long)size);
				throw_violation(env, msg);
				goto drain;
			}
			uint32_t len = (uint32_t)fh[1] | (uint32_t)fh[2] << 8 | (uint32_t)fh[3] << 16 | (uint32_t)fh[4] << 24;
			if (got == size && fh[0] == end_type) {
				if (len != 0) {
					snprintf(msg, sizeof msg, "end-of-file frame with a %u-byte payload", len);
					throw_violation(env, msg);
				}
				goto drain;
			}
			if (fh[0] != data_type) {
				snprintf(msg, sizeof msg, "unexpected frame type 0x%02x after %lld of %lld file bytes", fh[0],
					 (long long)got, (long long)size);
				throw_violation(env, msg);
				goto drain;
			}
			if (len > (uint32_t)max_frame || (int64_t)len > size - got) {
				snprintf(msg, sizeof msg, "data frame of %u bytes exceeds %s (%lld)", len,
					 len > (uint32_t)max_frame ? "the frame limit" : "the announced size",
					 len > (uint32_t)max_frame ? (long long)max_frame : (long long)(size - got));
				throw_violation(env, msg);
				goto drain;
			}
			frame_left = len;
			continue;
		}
		/* Fill the next buffer from the current frame; wait for its previous write if needed. */
		while (busy[next] && !werr) {
			int rc = io_uring_submit_and_wait(&r->ring, 1);
			if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
				werr = -rc;
				break;
			}
			struct io_uring_cqe *cqe;
			unsigned hd, seen = 0;
			io_uring_for_each_cqe(&r->ring, hd, cqe) {
				busy[cqe->user_data >> 32] = false;
				if (cqe->res < 0 && !werr)
					werr = -cqe->res;
				else if ((uint32_t)cqe->res != (uint32_t)cqe->user_data && !werr)
					werr = EIO; /* short write to a regular file: out of space in practice */
				inflight--;
				seen++;
			}
			io_uring_cq_advance(&r->ring, seen);
		}
		if (werr) {
			usync_throw_errno(env, "write", NULL, werr);
			goto drain;
		}
		uint32_t n = frame_left < r->chunk ? frame_left : (uint32_t)r->chunk;
		uint8_t *buf = usync_ring_buf(r, next);
		int rc = ssl_read_full(env, ssl, buf, n, "TLS read");
		if (rc < 0)
			goto drain;
		if (rc == 0) {
			snprintf(msg, sizeof msg, "connection closed mid-file (%lld of %lld bytes)", (long long)got,
				 (long long)size);
			throw_violation(env, msg);
			goto drain;
		}
		struct io_uring_sqe *sqe = usync_ring_sqe(r);
		if (r->fixed)
			io_uring_prep_write_fixed(sqe, fd, buf, n, (uint64_t)got, (int)next);
		else
			io_uring_prep_write(sqe, fd, buf, n, (uint64_t)got);
		io_uring_sqe_set_data64(sqe, (uint64_t)next << 32 | n);
		if (frame_left - n >= r->chunk)
			io_uring_submit(&r->ring); /* more data follows: let the write run while we decrypt */
		busy[next] = true;
		inflight++;
		next = (next + 1) % r->nbufs;
		got += n;
		frame_left -= n;
	}
drain:
	/* Every write must land (or fail) before the buffers are reused or the caller renames the file. */
	while (inflight > 0) {
		if (io_uring_submit_and_wait(&r->ring, 1) < 0 && errno != EINTR)
			break;
		struct io_uring_cqe *cqe;
		unsigned hd, seen = 0;
		io_uring_for_each_cqe(&r->ring, hd, cqe) {
			if ((cqe->res < 0 || (uint32_t)cqe->res != (uint32_t)cqe->user_data) && !werr)
				werr = cqe->res < 0 ? -cqe->res : EIO;
			inflight--;
			seen++;
		}
		io_uring_cq_advance(&r->ring, seen);
	}
	if (werr && !(*env)->ExceptionCheck(env))
		usync_throw_errno(env, "write", NULL, werr);
	free(busy);
}

/* TlsSession.freeNative(long ssl, int fd): close_notify (best effort), free, close the socket. */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsSession_freeNative(JNIEnv *env, jclass cls, jlong h, jint fd)
{
	(void)env;
	(void)cls;
	SSL *ssl = (SSL *)(uintptr_t)h;
	SSL_shutdown(ssl);
	SSL_free(ssl);
	ERR_clear_error();
	close(fd);
}
