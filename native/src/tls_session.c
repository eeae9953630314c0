/*
 * JNI side of org.uringsync.nativeio.TlsSession: one TLS 1.3 connection on OpenSSL's record layer.
 * File data crosses JNI in coarse calls: sendFilesNative streams a whole batch of files (reads
 * through the ring, several chunks ahead), receiveFileNative one file's data frames into a
 * descriptor (writes through the ring, overlapping the next decryption). Java owns the protocol;
 * C only knows the frame shape `type u8 | length u32 LE | payload` and the types Java passes in.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/tls.h>
#include <unistd.h>
#include "jni_util.h"
#include "direct_io.h"
#include "ktls_install.h"
#include "ring.h"
#include "org_uringsync_nativeio_TlsSession.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#define FRAME_HDR 5
/* Chunks at least this big skip the coalescing buffer (one TLS record holds 16 KiB). */
#define DIRECT_MIN (64 * 1024)
/* User-space TLS: bytes of records gathered per write(2) (a 128 KiB frame is 8 records + 176 bytes). */
#define WRITE_BUFFER (256 * 1024)

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

/* One connection: OpenSSL's session, its socket, and which directions the kernel encrypts. */
struct usync_tls {
	SSL *ssl;
	int fd;
	bool tx, rx;            /* kernel TLS installed for sending / receiving */
	bool zerocopy;          /* file data spliced to and from the socket (needs tx / rx) */
	bool use_sendfile;      /* the sender moves spliced frames with sendfile(2), not io_uring SPLICE */
	char path[200];         /* what -v reports */
	uint64_t bio_w0, bio_r0; /* OpenSSL's socket byte counts when the handshake ended */
	int lowat;              /* SO_RCVLOWAT set on the socket; 0 = the default (1) */
};

static const char *alert_text(int desc)
{
	return SSL_alert_desc_string_long(desc);
}

/*
 * kTLS RX: a plain recv fails with EIO when the next record is not application data. Read that
 * record with recvmsg and its TLS_GET_RECORD_TYPE: a close_notify alert is the end of the stream (0),
 * anything else an exception naming it (-1).
 */
static long control_record(JNIEnv *env, struct usync_tls *t, const char *op)
{
	unsigned char rec[256];
	char cbuf[CMSG_SPACE(sizeof(unsigned char))];
	struct iovec iov = { rec, sizeof rec };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	ssize_t n = recvmsg(t->fd, &m, 0);
	if (n < 0) {
		usync_throw_errno(env, op, NULL, errno);
		return -1;
	}
	int type = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
		if (c->cmsg_level == SOL_TLS && c->cmsg_type == TLS_GET_RECORD_TYPE)
			type = *(unsigned char *)CMSG_DATA(c);
	char msg[200];
	if (type == 21 && n >= 2) {
		if (rec[1] == 0)
			return 0; /* close_notify */
		snprintf(msg, sizeof msg, "%s: TLS alert from the peer: %s (%s)", op, alert_text(rec[1]),
			 rec[0] == 2 ? "fatal" : "warning");
	} else if (type == 22) {
		snprintf(msg, sizeof msg, "%s: the peer sent a TLS handshake message (e.g. KeyUpdate), which kernel TLS here cannot follow", op);
	} else {
		snprintf(msg, sizeof msg, "%s: unexpected TLS record type %d on a kernel TLS socket", op, type);
	}
	usync_throw_tls_msg(env, msg);
	return -1;
}

/* Reads up to len bytes: >0 read, 0 clean end of stream, -1 exception thrown. */
static long t_read_some(JNIEnv *env, struct usync_tls *t, uint8_t *p, size_t len, const char *op)
{
	if (t->rx) {
		for (;;) {
			ssize_t n = recv(t->fd, p, len, 0);
			if (n >= 0)
				return (long)n;
			if (errno == EINTR)
				continue;
			if (errno == EIO)
				return control_record(env, t, op);
			usync_throw_errno(env, op, NULL, errno == EAGAIN ? ETIMEDOUT : errno);
			return -1;
		}
	}
	size_t n = 0;
	int rc;
	do {
		errno = 0;
		rc = SSL_read_ex(t->ssl, p, len, &n);
	} while (rc != 1 && interrupted(t->ssl, rc));
	if (rc == 1)
		return (long)n;
	if (SSL_get_error(t->ssl, rc) == SSL_ERROR_ZERO_RETURN)
		return 0;
	throw_ssl(env, t->ssl, rc, op);
	return -1;
}

/* Reads exactly len bytes: 1 done, 0 end of stream before len, -1 exception thrown. */
static int t_read_full(JNIEnv *env, struct usync_tls *t, uint8_t *p, size_t len, const char *op)
{
	while (len > 0) {
		long n = t_read_some(env, t, p, len, op);
		if (n <= 0)
			return (int)n;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

/* Writes all of p; flags MSG_MORE holds a kernel TLS record open for what follows. 0 or -1 (thrown). */
static int t_write(JNIEnv *env, struct usync_tls *t, const uint8_t *p, size_t len, int flags)
{
	while (len > 0) {
		if (t->tx) {
			ssize_t n = send(t->fd, p, len, flags | MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				usync_throw_errno(env, "TLS write", NULL, errno == EAGAIN ? ETIMEDOUT : errno);
				return -1;
			}
			p += n;
			len -= (size_t)n;
			continue;
		}
		size_t n = 0;
		errno = 0;
		int rc = SSL_write_ex(t->ssl, p, len, &n);
		if (rc != 1 && interrupted(t->ssl, rc))
			continue;
		if (rc != 1) {
			throw_ssl(env, t->ssl, rc, "TLS write");
			return -1;
		}
		p += n;
		len -= n;
	}
	if (!t->tx) { /* out of the write buffer (see buffer_writes) before anyone waits for an answer */
		BIO *w = SSL_get_wbio(t->ssl);
		for (;;) {
			errno = 0;
			if (BIO_flush(w) > 0)
				break;
			/* a blocking socket asks for a retry on EINTR, and on EAGAIN once SO_SNDTIMEO expired:
			 * the peer stopped reading. Retrying that would spin forever. */
			if (BIO_should_retry(w) && errno == EINTR)
				continue;
			usync_throw_errno(env, "TLS write", NULL, errno ? (errno == EAGAIN ? ETIMEDOUT : errno) : EPIPE);
			return -1;
		}
	}
	return 0;
}

/*
 * User-space TLS writes one record (at most 16 KiB) per write(2) through the socket BIO: 65,536
 * system calls per GiB. A buffering BIO in front of the socket's write side gathers the records of
 * one t_write (a whole frame) into a single write(2); t_write flushes it before returning. The read
 * side stays the bare socket BIO. Without the buffer (no memory) writes just go unbuffered.
 */
static void buffer_writes(struct usync_tls *t)
{
	SSL *ssl = t->ssl;
	BIO *sock = SSL_get_wbio(ssl);
	BIO *buf = t->tx ? NULL : BIO_new(BIO_f_buffer()); /* kernel TLS transmits past OpenSSL */
	if (buf && BIO_set_write_buffer_size(buf, WRITE_BUFFER) == 1 && BIO_up_ref(sock) == 1) {
		BIO_push(buf, sock);     /* the chain holds the reference taken above */
		SSL_set0_wbio(ssl, buf); /* drops the SSL's own wbio reference to sock */
	} else {
		BIO_free(buf);
		ERR_clear_error();
	}
	/* the record layer's byte counts (recordLayerBytesNative) start here */
	t->bio_w0 = BIO_number_written(SSL_get_wbio(ssl));
	t->bio_r0 = BIO_number_read(SSL_get_rbio(ssl));
}

/*
 * TlsSession.handshakeNative(long ctx, int fd, boolean server, int ktls): session handle.
 * ktls: 0 user-space TLS only; 1 kernel TLS where the kernel has it; 2 the same, with file data spliced.
 */
JNIEXPORT jlong JNICALL Java_org_uringsync_nativeio_TlsSession_handshakeNative(JNIEnv *env, jclass cls, jlong ctx,
		jint fd, jboolean server, jint ktls)
{
	(void)cls;
	struct usync_tls *t = calloc(1, sizeof *t);
	SSL *ssl = SSL_new((SSL_CTX *)(uintptr_t)ctx);
	if (!t || !ssl || SSL_set_fd(ssl, fd) != 1) {
		usync_throw_tls(env, "SSL_new");
		goto err;
	}
	if (ktls) {
		/* Records must stay in the socket until the keys move: no read-ahead into OpenSSL. */
		SSL_set_read_ahead(ssl, 0);
		if (usync_ktls_prepare(ssl) < 0) {
			usync_throw_errno(env, "kTLS setup", NULL, ENOMEM);
			goto err;
		}
	}
	int rc;
	do {
		errno = 0;
		rc = server ? SSL_accept(ssl) : SSL_connect(ssl);
	} while (rc != 1 && interrupted(ssl, rc));
	if (rc != 1) {
		throw_ssl(env, ssl, rc, "TLS handshake");
		goto err;
	}
	t->ssl = ssl;
	t->fd = fd;
	const char *suite = SSL_CIPHER_get_name(SSL_get_current_cipher(ssl));
	if (!ktls) {
		buffer_writes(t);
		snprintf(t->path, sizeof t->path, "userspace (OpenSSL record layer, kernel TLS not asked for), %s", suite);
		return (jlong)(uintptr_t)t;
	}
	char why[160] = "";
	int irc = usync_ktls_install(ssl, fd, server, &t->tx, &t->rx, why, sizeof why);
	if (!t->rx) /* OpenSSL keeps reading: read ahead again (off only so that kTLS RX could take over) */
		SSL_set_read_ahead(ssl, 1);
	buffer_writes(t);
	t->zerocopy = ktls >= 2;
	t->use_sendfile = ktls == 3;
	if (irc < 0)
		snprintf(t->path, sizeof t->path, "userspace (OpenSSL record layer; kernel TLS unavailable: %s), %s", why, suite);
	else if (t->rx)
		snprintf(t->path, sizeof t->path, "kernel tx+rx, %s, %s", suite,
			 t->use_sendfile ? "sendfile" : t->zerocopy ? "splice" : "buffered");
	else
		snprintf(t->path, sizeof t->path, "kernel tx, userspace rx (%s), %s, %s", why, suite,
			 t->zerocopy ? "splice" : "buffered");
	return (jlong)(uintptr_t)t;
err:
	SSL_free(ssl);
	free(t);
	ERR_clear_error();
	return 0;
}

/* TlsSession.pathNative(long t): e.g. "kernel tx+rx, TLS_AES_128_GCM_SHA256, splice" */
JNIEXPORT jstring JNICALL Java_org_uringsync_nativeio_TlsSession_pathNative(JNIEnv *env, jclass cls, jlong h)
{
	(void)cls;
	return (*env)->NewStringUTF(env, ((struct usync_tls *)(uintptr_t)h)->path);
}

/* TlsSession.kernelNative(long t): bit 0 TX in the kernel, bit 1 RX in the kernel, bit 2 splice */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_TlsSession_kernelNative(JNIEnv *env, jclass cls, jlong h)
{
	(void)env;
	(void)cls;
	struct usync_tls *t = (struct usync_tls *)(uintptr_t)h;
	return (t->tx ? 1 : 0) | (t->rx ? 2 : 0) | (t->zerocopy ? 4 : 0);
}

/* TlsSession.recordLayerBytesNative(long t): bytes OpenSSL moved over the socket since the handshake. */
JNIEXPORT jlong JNICALL Java_org_uringsync_nativeio_TlsSession_recordLayerBytesNative(JNIEnv *env, jclass cls, jlong h)
{
	(void)env;
	(void)cls;
	struct usync_tls *t = (struct usync_tls *)(uintptr_t)h;
	return (jlong)(BIO_number_written(SSL_get_wbio(t->ssl)) - t->bio_w0 + BIO_number_read(SSL_get_rbio(t->ssl)) - t->bio_r0);
}

/* TlsSession.exportNative(long t, byte[] label, int length): RFC 8446 7.5 exporter, no context. */
JNIEXPORT jbyteArray JNICALL Java_org_uringsync_nativeio_TlsSession_exportNative(JNIEnv *env, jclass cls,
		jlong h, jbyteArray jlabel, jint len)
{
	(void)cls;
	SSL *ssl = ((struct usync_tls *)(uintptr_t)h)->ssl;
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

/*
 * TlsSession.exporterMacNative(long t, byte[] label, int exporterLen, byte[] key, byte[] prefix):
 * HMAC-SHA256(key, prefix || exporter(label, no context, exporterLen)). The exporter never leaves C.
 */
JNIEXPORT jbyteArray JNICALL Java_org_uringsync_nativeio_TlsSession_exporterMacNative(JNIEnv *env, jclass cls,
		jlong h, jbyteArray jlabel, jint xlen, jbyteArray jkey, jbyteArray jprefix)
{
	(void)cls;
	SSL *ssl = ((struct usync_tls *)(uintptr_t)h)->ssl;
	unsigned char x[64], out[EVP_MAX_MD_SIZE];
	unsigned int outlen = 0;
	char label[128];
	jsize ll = (*env)->GetArrayLength(env, jlabel);
	jsize kl = (*env)->GetArrayLength(env, jkey), pl = (*env)->GetArrayLength(env, jprefix);
	if (xlen <= 0 || xlen > (jint)sizeof x || ll >= (jsize)sizeof label) {
		usync_throw_tls_msg(env, "exporter: length out of range");
		return NULL;
	}
	(*env)->GetByteArrayRegion(env, jlabel, 0, ll, (jbyte *)label);
	unsigned char *buf = malloc((size_t)kl + (size_t)pl + (size_t)xlen + 1);
	if (!buf) {
		usync_throw_errno(env, "malloc", NULL, ENOMEM);
		return NULL;
	}
	unsigned char *key = buf, *msg = buf + kl;
	(*env)->GetByteArrayRegion(env, jkey, 0, kl, (jbyte *)key);
	(*env)->GetByteArrayRegion(env, jprefix, 0, pl, (jbyte *)msg);
	jbyteArray r = NULL;
	if (SSL_export_keying_material(ssl, x, (size_t)xlen, label, (size_t)ll, NULL, 0, 0) != 1) {
		usync_throw_tls(env, "SSL_export_keying_material");
		goto out;
	}
	memcpy(msg + pl, x, (size_t)xlen);
	if (!HMAC(EVP_sha256(), key, kl, msg, (size_t)pl + (size_t)xlen, out, &outlen)) {
		usync_throw_tls(env, "HMAC-SHA256");
		goto out;
	}
	r = (*env)->NewByteArray(env, (jsize)outlen);
	if (r)
		(*env)->SetByteArrayRegion(env, r, 0, (jsize)outlen, (jbyte *)out);
out:
	OPENSSL_cleanse(buf, (size_t)kl + (size_t)pl + (size_t)xlen);
	OPENSSL_cleanse(x, sizeof x);
	free(buf);
	return r;
}

/* TlsSession.cipherNative(long t) */
JNIEXPORT jstring JNICALL Java_org_uringsync_nativeio_TlsSession_cipherNative(JNIEnv *env, jclass cls, jlong h)
{
	(void)cls;
	const SSL_CIPHER *c = SSL_get_current_cipher(((struct usync_tls *)(uintptr_t)h)->ssl);
	return (*env)->NewStringUTF(env, c ? SSL_CIPHER_get_name(c) : "none");
}

/* TlsSession.readNative(long t, ByteBuffer buf, int off, int len): bytes, or -1 at end of stream. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_TlsSession_readNative(JNIEnv *env, jclass cls, jlong h,
		jobject buf, jint off, jint len)
{
	(void)cls;
	uint8_t *p = (*env)->GetDirectBufferAddress(env, buf);
	if (len == 0)
		return 0;
	long n = t_read_some(env, (struct usync_tls *)(uintptr_t)h, p + off, (size_t)len, "TLS read");
	return n > 0 ? (jint)n : n == 0 ? -1 : 0;
}

/* TlsSession.writeNative(long t, ByteBuffer buf, int off, int len) */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsSession_writeNative(JNIEnv *env, jclass cls, jlong h,
		jobject buf, jint off, jint len)
{
	(void)cls;
	uint8_t *p = (*env)->GetDirectBufferAddress(env, buf);
	t_write(env, (struct usync_tls *)(uintptr_t)h, p + off, (size_t)len, 0);
}

/* Sends one TLS alert record through kernel TLS (TLS_SET_RECORD_TYPE 21). 0 or -errno. */
static int send_alert(struct usync_tls *t, unsigned char level, unsigned char desc, int flags)
{
	unsigned char alert[2] = { level, desc };
	char cbuf[CMSG_SPACE(sizeof(unsigned char))] = { 0 };
	struct iovec iov = { alert, sizeof alert };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_TLS;
	c->cmsg_type = TLS_SET_RECORD_TYPE;
	c->cmsg_len = CMSG_LEN(sizeof(unsigned char));
	*CMSG_DATA(c) = 21;
	return sendmsg(t->fd, &m, flags | MSG_NOSIGNAL) < 0 ? -errno : 0;
}

/* TlsSession.alertNative(long t, int description): sends a fatal alert (tests of the alert path). */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsSession_alertNative(JNIEnv *env, jclass cls, jlong h, jint desc)
{
	(void)cls;
	struct usync_tls *t = (struct usync_tls *)(uintptr_t)h;
	if (!t->tx) {
		usync_throw_tls_msg(env, "sending a raw alert needs kernel TLS transmit");
		return;
	}
	int rc = send_alert(t, 2, (unsigned char)desc, 0);
	if (rc < 0)
		usync_throw_errno(env, "sendmsg(TLS alert)", NULL, -rc);
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

#define SEND_DIRECT 1       /* SendBatch.DIRECT */

struct send_req {           /* mirrors SendBatch: 32 bytes, then header bytes, trailer bytes, pad to 8 */
	int32_t fd;
	int32_t flags;
	int64_t size;
	uint32_t hdr_len;
	uint32_t trl_len;
	int64_t mtime_ns;       /* as found at open: a file that changes while sent fails */
};
_Static_assert(sizeof(struct send_req) == 32, "send request header is 32 bytes");

struct send_file {
	int fd;
	int64_t size;
	int64_t mtime_ns;
	const uint8_t *hdr, *trl;
	uint32_t hdr_len, trl_len;
	bool spliced;           /* data goes file -> pipe -> socket, never through the pooled buffers */
	bool direct;            /* O_DIRECT reads: lengths rounded up to USYNC_DIO_ALIGN */
};

struct chunk_read {         /* one queued read: file, range, and how it ended */
	int file;
	int64_t off;
	uint32_t len;
	int res;
	bool done;
};

#define TAG_SPLICE (1ULL << 62)
#define TAG_SEND (1ULL << 61)
#define TAG_CLOSE (1ULL << 60)
#define TAG_NOP (1ULL << 59)
#define TAG_TIMEOUT (1ULL << 58)
#define TAG_RECV (1ULL << 63)
/* The most one io_uring socket operation moves, so that its linked timeout bounds silence, not a
 * whole 64 MiB frame: a peer must move at least this much per timeout to be kept. */
#define SOCKET_OP_MAX (1U << 20)

/*
 * io_uring's socket operations (SEND, RECV, SPLICE to a socket) do not honour SO_RCVTIMEO or
 * SO_SNDTIMEO: a peer that stops reading or writing would hold them forever. Each gets a linked
 * timeout of the socket's own timeout instead (the one Java set: handshake or idle).
 */
struct op_timeout {
	bool on;                    /* the socket has a timeout: link one */
	struct __kernel_timespec ts;
	unsigned pending;           /* linked timeouts whose completion has not been reaped */
	bool fired;                 /* one expired (its completion said -ETIME) */
};

static void op_timeout_init(struct op_timeout *o, int fd, int opt)
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
static void op_timeout_link(struct op_timeout *o, struct usync_ring *r, struct io_uring_sqe *op)
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
static void op_timeout_done(struct op_timeout *o, int res)
{
	o->pending--;
	if (res == -ETIME)
		o->fired = true;
}

struct sender {
	JNIEnv *env;
	struct usync_tls *t;
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
	int splice_res[2];      /* results of the two halves of a splice chain */
	unsigned splice_wait;
	int send_res;           /* result of the IORING_OP_SEND in flight */
	unsigned send_wait;
	struct op_timeout timeout; /* for the socket operations on the ring */
	unsigned close_wait;    /* IORING_OP_CLOSEs in flight */
};

static int flush_out(struct sender *s, int flags)
{
	if (s->out_len && t_write(s->env, s->t, s->out, s->out_len, flags) < 0)
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
		c->off = s->poff;
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

/* Waits for at least one completion (or reaps what is there when !wait). 0 or -errno. */
static int reap(struct sender *s, bool wait)
{
	int rc = usync_ring_submit(s->r, wait);
	if (rc < 0)
		return rc;
	struct io_uring_cqe *cqe;
	unsigned h, seen = 0;
	io_uring_for_each_cqe(&s->r->ring, h, cqe) {
		if (cqe->user_data & TAG_SPLICE) {
			s->splice_res[cqe->user_data & 1] = cqe->res;
			s->splice_wait--;
		} else if (cqe->user_data & TAG_SEND) {
			s->send_res = cqe->res;
			s->send_wait--;
		} else if (cqe->user_data & TAG_CLOSE) {
			s->close_wait--; /* a read-only descriptor: nothing to learn from close */
		} else if (cqe->user_data & TAG_NOP) {
			s->close_wait--; /* the first half of a pair whose second half found no entry */
		} else if (cqe->user_data & TAG_TIMEOUT) {
			op_timeout_done(&s->timeout, cqe->res);
		} else {
			struct chunk_read *c = &s->q[cqe->user_data];
			c->res = cqe->res;
			c->done = true;
			s->inflight--;
		}
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

static void throw_file(JNIEnv *env, const char *op, int file, int err)
{
	char where[32];
	snprintf(where, sizeof where, "#%d", file);
	usync_throw_errno(env, op, where, err);
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
		op_timeout_link(&s->timeout, s->r, sqe);
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
			usync_throw_errno(s->env, "TLS write (io_uring send)", NULL, s->send_res == -EAGAIN ? ETIMEDOUT : -s->send_res);
			return -1;
		}
		p += s->send_res;
		len -= (size_t)s->send_res;
	}
	return 0;
}

/* Runs one linked pair file -> pipe -> socket of len bytes and waits for both. Bytes moved, or -errno. */
static long splice_chain(struct sender *s, int fd, int64_t off, uint32_t len, bool more)
{
	struct usync_ring *r = s->r;
	int *p = r->pipes.fd[0];
	if (!usync_ring_room(r, 3))
		return -EBUSY; /* a linked pair (and its timeout) is queued whole or not at all */
	struct io_uring_sqe *in = usync_ring_sqe(r);
	struct io_uring_sqe *out = in ? usync_ring_sqe(r) : NULL;
	if (!out) { /* (injected failures only: there was room) an unfinished link would bind the next entry */
		if (in) {
			io_uring_prep_nop(in);
			io_uring_sqe_set_data64(in, TAG_NOP);
			s->close_wait++; /* reaped with the closes */
		}
		return -EBUSY;
	}
	io_uring_prep_splice(in, fd, off, p[1], -1, len, 0);
	in->flags |= IOSQE_IO_LINK;
	io_uring_sqe_set_data64(in, TAG_SPLICE | 0);
	io_uring_prep_splice(out, p[0], -1, s->t->fd, -1, len, more ? SPLICE_F_MORE : 0);
	io_uring_sqe_set_data64(out, TAG_SPLICE | 1);
	op_timeout_link(&s->timeout, r, out);
	s->splice_wait = 2;
	while (s->splice_wait > 0 || s->timeout.pending > 0) {
		int rc = reap(s, true);
		if (rc < 0)
			return rc;
	}
	if (s->timeout.fired)
		return -ETIMEDOUT; /* the peer stopped reading */
	long moved_in = s->splice_res[0], moved_out = s->splice_res[1];
	if (moved_in < 0)
		return moved_in;
	if (moved_in == 0)
		return -ENODATA; /* the file shrank */
	/* A short first half cancels the second: drain what reached the pipe. */
	if (moved_out == -ECANCELED)
		moved_out = 0;
	else if (moved_out < 0) /* EAGAIN: SO_SNDTIMEO expired inside the splice, the peer stopped reading */
		return moved_out == -EAGAIN ? -ETIMEDOUT : moved_out;
	while (moved_out < moved_in) {
		ssize_t n = splice(p[0], NULL, s->t->fd, NULL, (size_t)(moved_in - moved_out), more ? SPLICE_F_MORE : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -EIO;
		moved_out += n;
	}
	return moved_in;
}

/*
 * Sends a file's data as frames spliced from the file: header by send(MSG_MORE), body by splice.
 * Frames here are at least a pipe-full (1 MiB) whatever the chunk size: every frame costs a send and
 * an io_uring round trip, and the bytes themselves never touch user space.
 */
static int send_spliced(struct sender *s, int idx)
{
	struct send_file *f = &s->files[idx];
	uint8_t fh[FRAME_HDR];
	unsigned pipe_sz = s->r->pipes.size;
	int64_t frame = s->chunk > pipe_sz ? s->chunk : pipe_sz;
	for (int64_t off = 0; off < f->size;) {
		uint32_t len = f->size - off < frame ? (uint32_t)(f->size - off) : (uint32_t)frame;
		put_frame_hdr(fh, s->data_type, len);
		if (t_write(s->env, s->t, fh, FRAME_HDR, MSG_MORE) < 0)
			return -1;
		if (s->t->use_sendfile) {
			/* the comparison path: one sendfile(2) per frame, the kernel splices internally */
			for (off_t o = off; o < off + len;) {
				ssize_t n = sendfile(s->t->fd, f->fd, &o, (size_t)(off + len - o));
				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					throw_file(s->env, n == 0 ? "sendfile (file shrank while sent)" : "sendfile", idx,
						   n == 0 ? ENODATA : errno == EAGAIN ? ETIMEDOUT : errno);
					return -1;
				}
			}
			off += len;
			continue;
		}
		for (uint32_t done = 0; done < len;) {
			uint32_t k = len - done < pipe_sz ? len - done : pipe_sz;
			/* MORE while this frame goes on; the frame's end pushes the record out */
			long n = splice_chain(s, f->fd, off + done, k, done + k < len);
			if (n < 0) {
				throw_file(s->env, n == -ENODATA ? "splice (file shrank while sent)" : "splice", idx, (int)-n);
				return -1;
			}
			done += (uint32_t)n;
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
			if (fstat(f->fd, &st) == 0 &&
			    (st.st_size != f->size ||
			     (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec != f->mtime_ns)) {
				throw_file(s->env, "read (file changed while sent)", cur, EAGAIN);
				return;
			}
			if (out_put(s, f->trl, f->trl_len) < 0)
				return;
			/* closed by the ring with the next submission: a syscall less per file */
			struct io_uring_sqe *sqe = usync_ring_sqe(s->r);
			if (sqe) {
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
			throw_file(s->env, "read", cur, -c->res);
			return;
		}
		if ((uint32_t)c->res > c->len)
			c->res = (int)c->len; /* a rounded-up direct read of a file that grew meanwhile */
		if ((uint32_t)c->res < c->len) {
			int rc = finish_short(s, c, buf);
			if (rc < 0) {
				throw_file(s->env, rc == -ENODATA ? "read (file shrank while sent)" : "read", cur, -rc);
				return;
			}
		}
		if (c->len >= DIRECT_MIN) {
			/* Big chunk: the frame header goes in the buffer's headroom and the frame is written
			 * from where it lies, without passing through the out buffer. */
			if (flush_out(s, 0) < 0)
				return;
			put_frame_hdr(buf - FRAME_HDR, s->data_type, c->len);
			/* kernel TLS: the frame leaves the registered buffer by IORING_OP_SEND */
			if (s->t->tx ? ring_send(s, buf - FRAME_HDR, FRAME_HDR + c->len) < 0
				     : t_write(s->env, s->t, buf - FRAME_HDR, FRAME_HDR + c->len, 0) < 0)
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
	flush_out(s, 0);
}

/* TlsSession.sendFilesNative(long t, long ring, ByteBuffer batch, int count, int dataType, int chunk): bytes */
JNIEXPORT jlong JNICALL Java_org_uringsync_nativeio_TlsSession_sendFilesNative(JNIEnv *env, jclass cls, jlong h,
		jlong ring, jobject batch, jint count, jint data_type, jint chunk)
{
	(void)cls;
	struct usync_ring *r = (struct usync_ring *)(uintptr_t)ring;
	struct usync_tls *t = (struct usync_tls *)(uintptr_t)h;
	uint8_t *p = (*env)->GetDirectBufferAddress(env, batch);
	struct sender s = { .env = env, .t = t, .r = r, .count = count, .data_type = data_type };
	op_timeout_init(&s.timeout, t->fd, SO_SNDTIMEO);
	bool splice_ok = t->tx && t->zerocopy && r->pipes.count > 0;
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
			f->mtime_ns = q->mtime_ns;
			f->hdr = (const uint8_t *)(q + 1);
			f->hdr_len = q->hdr_len;
			f->trl = f->hdr + q->hdr_len;
			f->trl_len = q->trl_len;
			/* small files are cheaper read into the coalescing buffer than spliced frame by frame */
			f->spliced = splice_ok && f->size >= DIRECT_MIN;
			f->direct = (q->flags & SEND_DIRECT) && !f->spliced && s.chunk % USYNC_DIO_ALIGN == 0 &&
				    usync_direct_io(f->fd);
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
	/* Reads still in flight must land before their buffers can serve anyone else, and before their
	 * descriptors are closed: a number closed under a queued read could be reused by another thread. */
	bool drained = true;
	while (drained && (s.inflight > 0 || s.splice_wait > 0 || s.send_wait > 0 || s.close_wait > 0 || s.timeout.pending > 0))
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

/* ---- receiving one file ---------------------------------------------------------------------- */

/* Waits for one splice-out completion; records its pipe as free. 0, or -1 with an exception. */
static int reap_out(JNIEnv *env, struct usync_ring *r, uint32_t *pending, int fd, int64_t *pend_off)
{
	int rc = usync_ring_submit(r, true);
	if (rc < 0) {
		usync_throw_errno(env, "io_uring_enter", NULL, -rc);
		return -1;
	}
	struct io_uring_cqe *cqe;
	unsigned hd, seen = 0;
	int err = 0;
	io_uring_for_each_cqe(&r->ring, hd, cqe) {
		unsigned pi = (unsigned)(cqe->user_data & 1);
		int res = cqe->res;
		uint32_t want = pending[pi];
		if (res < 0 && !err)
			err = -res;
		else if (res >= 0 && (uint32_t)res < want) {
			/* short: the rest of this pipe goes out synchronously */
			int *p = r->pipes.fd[pi];
			loff_t o = pend_off[pi] + res;
			uint32_t left = want - (uint32_t)res;
			while (left > 0 && !err) {
				ssize_t w = splice(p[0], NULL, fd, &o, left, 0);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0)
					err = w < 0 ? errno : EIO;
				else
					left -= (uint32_t)w;
			}
		}
		pending[pi] = 0;
		seen++;
	}
	io_uring_cq_advance(&r->ring, seen);
	if (err) {
		usync_throw_errno(env, "splice to file", NULL, err);
		return -1;
	}
	return 0;
}

/*
 * Moves n bytes socket -> pipe -> file at off. Two pipes take turns: while one is filled from the
 * socket (splice(2), one kTLS record per call), the other drains into the file through an io_uring
 * SPLICE. A non-data record (splice says EINVAL, recv EIO) is read and named. 0, or -1 (thrown).
 */
static int splice_to_file(JNIEnv *env, struct usync_tls *t, struct usync_ring *r, int fd, int64_t off, uint32_t n)
{
	uint32_t pending[2] = { 0, 0 };
	int64_t pend_off[2] = { 0, 0 };
	unsigned npipes = r->pipes.count >= 2 ? 2 : 1;
	unsigned cur = 0;
	while (n > 0) {
		while (pending[cur])
			if (reap_out(env, r, pending, fd, pend_off) < 0)
				goto fail;
		int *p = r->pipes.fd[cur];
		uint32_t want = n < r->pipes.size ? n : r->pipes.size, fill = 0;
		while (fill < want) {
			ssize_t k = splice(t->fd, NULL, p[1], NULL, want - fill, 0);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0 && (errno == EIO || errno == EINVAL)) {
				if (control_record(env, t, "TLS read") == 0)
					throw_violation(env, "connection closed mid-file (close_notify)");
				goto fail;
			}
			if (k < 0) {
				usync_throw_errno(env, "splice from socket", NULL, errno == EAGAIN ? ETIMEDOUT : errno);
				goto fail;
			}
			if (k == 0) {
				throw_violation(env, "connection closed mid-file");
				goto fail;
			}
			fill += (uint32_t)k;
		}
		struct io_uring_sqe *sqe = usync_ring_sqe(r);
		if (!sqe) {
			usync_throw_errno(env, "splice to file (no submission entry)", NULL, EBUSY);
			goto fail;
		}
		io_uring_prep_splice(sqe, p[0], -1, fd, off, fill, 0);
		io_uring_sqe_set_data64(sqe, cur);
		io_uring_submit(&r->ring);
		pending[cur] = fill;
		pend_off[cur] = off;
		off += fill;
		n -= fill;
		cur = (cur + 1) % npipes;
	}
	while (pending[0] || pending[1])
		if (reap_out(env, r, pending, fd, pend_off) < 0)
			goto fail;
	return 0;
fail:
	/* drain what is in flight; the pipes are replaced since they may still hold bytes */
	while ((pending[0] || pending[1]) && !(*env)->ExceptionCheck(env))
		if (reap_out(env, r, pending, fd, pend_off) < 0)
			break;
	while (pending[0] || pending[1]) {
		struct io_uring_cqe *cqe;
		if (io_uring_wait_cqe(&r->ring, &cqe) < 0)
			break;
		pending[cqe->user_data & 1] = 0;
		io_uring_cqe_seen(&r->ring, cqe);
	}
	for (unsigned i = 0; i < npipes; i++)
		usync_pipes_renew(&r->pipes, i);
	return -1;
}

/* The receive loop's file writes: which buffers are in flight, where each writes, the first error. */
struct file_writes {
	struct usync_ring *r;
	int fd;
	bool *busy;             /* buffer i: a write from it is in flight */
	int64_t *off;           /* buffer i: the file offset it writes at */
	unsigned inflight;
	int err;                /* first errno */
	struct op_timeout timeout; /* for IORING_OP_RECV on a kernel TLS socket */
};

/* Writes all n bytes at off. 0, or the errno that stopped it (ENOSPC, EDQUOT, EFBIG, EIO...). */
static int pwrite_all(int fd, const uint8_t *p, size_t n, int64_t off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? errno : EIO;
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/*
 * A completed file write: frees its buffer, keeps the first error. A short write (the file system
 * filled up during it) is finished here, which names the reason.
 */
static void write_done(struct file_writes *w, struct io_uring_cqe *cqe)
{
	unsigned i = (unsigned)(cqe->user_data >> 32);
	uint32_t len = (uint32_t)cqe->user_data;
	w->busy[i] = false;
	w->inflight--;
	if (w->err)
		return;
	if (cqe->res < 0)
		w->err = -cqe->res;
	else if ((uint32_t)cqe->res < len)
		w->err = pwrite_all(w->fd, usync_ring_buf(w->r, i) + cqe->res, len - (uint32_t)cqe->res, w->off[i] + cqe->res);
}

/* Waits for at least one completion of the receive loop's file writes. 0, or -errno from io_uring_enter. */
static int wait_writes(struct file_writes *w)
{
	int rc = usync_ring_submit(w->r, true);
	if (rc < 0)
		return rc;
	struct io_uring_cqe *cqe;
	unsigned hd, seen = 0;
	io_uring_for_each_cqe(&w->r->ring, hd, cqe) {
		if (cqe->user_data == TAG_TIMEOUT) /* only after ring_recv_full gave up on a failed ring */
			op_timeout_done(&w->timeout, cqe->res);
		else if (cqe->user_data != TAG_RECV) /* likewise: its receive, no longer wanted */
			write_done(w, cqe);
		seen++;
	}
	io_uring_cq_advance(&w->r->ring, seen);
	return 0;
}


/*
 * Kernel TLS RX: fills buf with exactly n decrypted bytes by IORING_OP_RECV (MSG_WAITALL), while the
 * file writes in flight keep completing. 1 done, 0 end of stream, -1 exception thrown.
 */
static int ring_recv_full(JNIEnv *env, struct usync_tls *t, struct usync_ring *r, uint8_t *buf, uint32_t n,
			  struct file_writes *w)
{
	uint32_t got = 0;
	while (got < n) {
		struct io_uring_sqe *sqe = usync_ring_room(r, 2) ? usync_ring_sqe(r) : NULL;
		if (!sqe) {
			usync_throw_errno(env, "TLS read (io_uring recv: no submission entry)", NULL, EBUSY);
			return -1;
		}
		io_uring_prep_recv(sqe, t->fd, buf + got, n - got < SOCKET_OP_MAX ? n - got : SOCKET_OP_MAX, MSG_WAITALL);
		io_uring_sqe_set_data64(sqe, TAG_RECV);
		op_timeout_link(&w->timeout, r, sqe);
		int res = 0;
		for (bool mine = false; !mine || w->timeout.pending > 0;) {
			int rc = usync_ring_submit(r, true);
			if (rc < 0) {
				usync_throw_errno(env, "io_uring_enter", NULL, -rc);
				return -1;
			}
			struct io_uring_cqe *cqe;
			unsigned hd, seen = 0;
			io_uring_for_each_cqe(&r->ring, hd, cqe) {
				if (cqe->user_data == TAG_RECV) {
					res = cqe->res;
					mine = true;
				} else if (cqe->user_data == TAG_TIMEOUT) {
					op_timeout_done(&w->timeout, cqe->res);
				} else {
					write_done(w, cqe);
				}
				seen++;
			}
			io_uring_cq_advance(&r->ring, seen);
		}
		if (w->timeout.fired) {
			usync_throw_errno(env, "TLS read (io_uring recv)", NULL, ETIMEDOUT);
			return -1;
		}
		if (res == -EINTR)
			continue;
		if (res == -EIO) /* a control record is next: read it and name it */
			return (int)control_record(env, t, "TLS read");
		if (res < 0) {
			usync_throw_errno(env, "TLS read (io_uring recv)", NULL, res == -EAGAIN ? ETIMEDOUT : -res);
			return -1;
		}
		if (res == 0)
			return 0;
		got += (uint32_t)res;
	}
	return 1;
}

/*
 * User-space TLS reads: OpenSSL asks the socket for up to its 256 KiB read buffer, but a receiver
 * faster than its sender gets what has just arrived: about 7 KB per read(2) on loopback, 150,000
 * reads per GiB. While more of this file is still to come than OpenSSL can hold plus READ_LOWAT,
 * those READ_LOWAT bytes are certain to arrive, so SO_RCVLOWAT lets each read (and wake-up) wait for
 * them. Back to the default before anything short (frame headers, FILE_END, ALL_DONE) is read.
 */
#define READ_LOWAT (128 * 1024)
#define RESERVE_AHEAD (64LL << 20) /* direct writes: disk reserved beyond the data received */
#define READ_HELD (320 * 1024) /* the read buffer and its record overhead, rounded up */

static void read_lowat(struct usync_tls *t, int64_t remaining)
{
	int want = !t->rx && remaining > READ_LOWAT + READ_HELD ? READ_LOWAT : 0;
	if (want != t->lowat) {
		int v = want ? want : 1;
		if (setsockopt(t->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v) == 0)
			t->lowat = want; /* a refusal leaves the default: only slower */
	}
}

/*
 * Queues the write of buffer i (len bytes at off); direct I/O pads the file's tail to the alignment.
 * False when no submission entry could be had.
 */
static bool queue_write(struct file_writes *w, unsigned i, uint32_t len, int64_t off, bool direct)
{
	struct usync_ring *r = w->r;
	int fd = w->fd;
	uint8_t *buf = usync_ring_buf(r, i);
	w->off[i] = off;
	if (direct && len % USYNC_DIO_ALIGN) {
		uint32_t padded = usync_dio_round(len); /* cut back by ftruncate once everything landed */
		memset(buf + len, 0, padded - len);
		len = padded;
	}
	struct io_uring_sqe *sqe = usync_ring_sqe(r);
	if (!sqe)
		return false;
	if (r->fixed)
		io_uring_prep_write_fixed(sqe, fd, buf, len, (uint64_t)off, (int)i);
	else
		io_uring_prep_write(sqe, fd, buf, len, (uint64_t)off);
	io_uring_sqe_set_data64(sqe, (uint64_t)i << 32 | len);
	return true;
}

/*
 * TlsSession.receiveFileNative(long t, long ring, int fd, long size, int dataType, int endType, int maxFrame,
 * boolean direct): the file's data frames into fd. Buffers are filled across frame boundaries and written
 * whole, so every write but the last is chunk-sized and chunk-aligned; with direct (and a filesystem that
 * can) the writes bypass the page cache.
 */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsSession_receiveFileNative(JNIEnv *env, jclass cls, jlong h,
		jlong ring, jint fd, jlong size, jint data_type, jint end_type, jint max_frame, jboolean want_direct)
{
	(void)cls;
	struct usync_tls *t = (struct usync_tls *)(uintptr_t)h;
	struct usync_ring *r = (struct usync_ring *)(uintptr_t)ring;
	bool spliced = t->rx && t->zerocopy && r->pipes.count > 0;
	bool direct = want_direct && !spliced && r->chunk % USYNC_DIO_ALIGN == 0 && size > 0 && usync_direct_io(fd);
	char msg[160];
	uint8_t fh[FRAME_HDR];
	int64_t got = 0;         /* bytes received */
	unsigned next = 0;       /* buffer being filled; buffer i is busy while a write from it is in flight */
	uint32_t fill = 0;       /* bytes in buffer next */
	struct file_writes w = { .r = r, .fd = fd };
	if (t->rx)
		op_timeout_init(&w.timeout, t->fd, SO_RCVTIMEO);
	w.busy = calloc(r->nbufs, sizeof *w.busy);
	w.off = calloc(r->nbufs, sizeof *w.off);
	if (!w.busy || !w.off) {
		free(w.busy);
		free(w.off);
		usync_throw_errno(env, "malloc", NULL, ENOMEM);
		return;
	}
	/* Direct writes: extents reserved ahead of the data (then the writes need no size updates), at
	 * most RESERVE_AHEAD beyond what has arrived: an announced size alone reserves nothing. */
	int64_t reserved = 0;
	uint32_t frame_left = 0;
	for (;;) {
		if (frame_left == 0) {
			int rc = t_read_full(env, t, fh, FRAME_HDR, "TLS read");
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
			if (spliced && len > 0) {
				if (splice_to_file(env, t, r, fd, got, len) < 0)
					goto drain;
				got += len;
				frame_left = 0;
			}
			continue;
		}
		/* A fresh buffer: wait until its previous write landed. */
		while (fill == 0 && w.busy[next] && !w.err) {
			int rc = wait_writes(&w);
			if (rc < 0)
				w.err = -rc;
		}
		if (w.err) {
			usync_throw_errno(env, "write", NULL, w.err);
			goto drain;
		}
		uint32_t n = frame_left < r->chunk - fill ? frame_left : (uint32_t)r->chunk - fill;
		uint8_t *buf = usync_ring_buf(r, next) + fill;
		read_lowat(t, size - got);
		int rc = t->rx ? ring_recv_full(env, t, r, buf, n, &w)
			       : t_read_full(env, t, buf, n, "TLS read");
		if (rc < 0)
			goto drain;
		if (rc == 0) {
			snprintf(msg, sizeof msg, "connection closed mid-file (%lld of %lld bytes)", (long long)got,
				 (long long)size);
			throw_violation(env, msg);
			goto drain;
		}
		fill += n;
		got += n;
		frame_left -= n;
		if (got == size && fill == got && !direct) {
			/* The whole file in one buffer (the small-file case): one pwrite, no ring round trip. */
			int err = pwrite_all(fd, usync_ring_buf(r, next), fill, 0);
			if (err && !w.err)
				w.err = err;
			fill = 0;
			continue;
		}
		if (fill == r->chunk || got == size) {
			if (direct && got > reserved) {
				int64_t upto = got + RESERVE_AHEAD < size ? got + RESERVE_AHEAD : size;
				(void)fallocate(fd, 0, reserved, upto - reserved); /* refused: writes allocate as they go */
				reserved = upto;
			}
			if (!queue_write(&w, next, fill, got - fill, direct)) {
				usync_throw_errno(env, "write (no submission entry)", NULL, EBUSY);
				goto drain;
			}
			if (got < size)
				io_uring_submit(&r->ring); /* more data follows: let the write run while we decrypt */
			w.busy[next] = true;
			w.inflight++;
			next = (next + 1) % r->nbufs;
			fill = 0;
		}
	}
drain:
	read_lowat(t, 0);
	/* Every write must land (or fail) before the buffers are reused or the caller renames the file. */
	while (w.inflight > 0) {
		int rc = wait_writes(&w);
		if (rc < 0) {
			if (!w.err)
				w.err = -rc;
			break;
		}
	}
	if (w.err && !(*env)->ExceptionCheck(env))
		usync_throw_errno(env, "write", NULL, w.err);
	if (direct && !(*env)->ExceptionCheck(env) && size % USYNC_DIO_ALIGN && ftruncate(fd, size) != 0)
		usync_throw_errno(env, "ftruncate", NULL, errno);
	free(w.busy);
	free(w.off);
}

/* TlsSession.freeNative(long t): close_notify (best effort), free. The socket is Java's (Fd) to close. */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsSession_freeNative(JNIEnv *env, jclass cls, jlong h)
{
	(void)env;
	(void)cls;
	struct usync_tls *t = (struct usync_tls *)(uintptr_t)h;
	if (t->tx) {
		send_alert(t, 1, 0, MSG_DONTWAIT); /* close_notify, best effort */
	} else {
		SSL_shutdown(t->ssl);
	}
	SSL_free(t->ssl);
	ERR_clear_error();
	free(t);
}
