/* TLS record I/O of one connection: see tls_io.h. */
#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/tls.h>
#include "jni_util.h"
#include "tls_io.h"

/* User-space TLS: bytes of records gathered per write(2) (a 128 KiB frame is 8 records + 176 bytes). */
#define WRITE_BUFFER (256 * 1024)

void usync_throw_violation(JNIEnv *env, const char *msg)
{
	jclass cls = (*env)->FindClass(env, "org/uringsync/nativeio/TlsSession$ProtocolViolation");
	if (cls)
		(*env)->ThrowNew(env, cls, msg);
}

/* Turns a failed SSL_* call into a Java exception; returns nothing useful. */
void usync_tls_throw(JNIEnv *env, SSL *ssl, int ret, const char *op)
{
	int e = SSL_get_error(ssl, ret);
	if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
		int err = errno ? usync_socket_errno(errno) : ECONNRESET;
		ERR_clear_error();
		usync_throw_errno(env, op, NULL, err);
	} else if (e == SSL_ERROR_ZERO_RETURN) {
		usync_throw_errno(env, op, NULL, ECONNRESET);
	} else if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && (errno == EAGAIN || errno == 0)) {
		/* a blocking socket only says this when SO_RCVTIMEO / SO_SNDTIMEO expired */
		ERR_clear_error();
		usync_throw_errno(env, op, NULL, ETIMEDOUT);
	} else if (ERR_GET_LIB(ERR_peek_error()) == ERR_LIB_SSL &&
		   ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		/* OpenSSL 3 names a peer that closed mid-record this way: a lost connection, not TLS trouble */
		ERR_clear_error();
		usync_throw_errno(env, op, NULL, ECONNRESET);
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
bool usync_tls_interrupted(SSL *ssl, int ret)
{
	int e = SSL_get_error(ssl, ret);
	return (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) && errno == EINTR;
}

static const char *alert_text(int desc)
{
	return SSL_alert_desc_string_long(desc);
}

/*
 * kTLS RX: a plain recv fails with EIO when the next record is not application data. Read that
 * record with recvmsg and its TLS_GET_RECORD_TYPE: a close_notify alert is the end of the stream (0),
 * anything else an exception naming it (-1).
 */
long usync_tls_control_record(JNIEnv *env, struct usync_tls *t, const char *op)
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
long usync_tls_read_some(JNIEnv *env, struct usync_tls *t, uint8_t *p, size_t len, const char *op)
{
	if (t->rx) {
		for (;;) {
			ssize_t n = recv(t->fd, p, len, 0);
			if (n >= 0)
				return (long)n;
			if (errno == EINTR)
				continue;
			if (errno == EIO)
				return usync_tls_control_record(env, t, op);
			usync_throw_errno(env, op, NULL, usync_socket_errno(errno));
			return -1;
		}
	}
	size_t n = 0;
	int rc;
	do {
		errno = 0;
		rc = SSL_read_ex(t->ssl, p, len, &n);
	} while (rc != 1 && usync_tls_interrupted(t->ssl, rc));
	if (rc == 1)
		return (long)n;
	if (SSL_get_error(t->ssl, rc) == SSL_ERROR_ZERO_RETURN)
		return 0;
	usync_tls_throw(env, t->ssl, rc, op);
	return -1;
}

/* Reads exactly len bytes: 1 done, 0 end of stream before len, -1 exception thrown. */
int usync_tls_read_full(JNIEnv *env, struct usync_tls *t, uint8_t *p, size_t len, const char *op)
{
	while (len > 0) {
		long n = usync_tls_read_some(env, t, p, len, op);
		if (n <= 0)
			return (int)n;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

/* Writes all of p; flags MSG_MORE holds a kernel TLS record open for what follows. 0 or -1 (thrown). */
int usync_tls_write(JNIEnv *env, struct usync_tls *t, const uint8_t *p, size_t len, int flags)
{
	while (len > 0) {
		if (t->tx) {
			ssize_t n = send(t->fd, p, len, flags | MSG_NOSIGNAL);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				usync_throw_errno(env, "TLS write", NULL, usync_socket_errno(errno));
				return -1;
			}
			p += n;
			len -= (size_t)n;
			continue;
		}
		size_t n = 0;
		errno = 0;
		int rc = SSL_write_ex(t->ssl, p, len, &n);
		if (rc != 1 && usync_tls_interrupted(t->ssl, rc))
			continue;
		if (rc != 1) {
			usync_tls_throw(env, t->ssl, rc, "TLS write");
			return -1;
		}
		p += n;
		len -= n;
	}
	if (!t->tx) { /* out of the write buffer (see usync_tls_buffer_writes) before anyone waits for an answer */
		BIO *w = SSL_get_wbio(t->ssl);
		for (;;) {
			errno = 0;
			if (BIO_flush(w) > 0)
				break;
			/* a blocking socket asks for a retry on EINTR, and on EAGAIN once SO_SNDTIMEO expired:
			 * the peer stopped reading. Retrying that would spin forever. */
			if (BIO_should_retry(w) && errno == EINTR)
				continue;
			usync_throw_errno(env, "TLS write", NULL, errno ? (usync_socket_errno(errno)) : EPIPE);
			return -1;
		}
	}
	return 0;
}

/*
 * User-space TLS writes one record (at most 16 KiB) per write(2) through the socket BIO: 65,536
 * system calls per GiB. A buffering BIO in front of the socket's write side gathers the records of
 * one usync_tls_write (a whole frame) into a single write(2); usync_tls_write flushes it before returning. The read
 * side stays the bare socket BIO. Without the buffer (no memory) writes just go unbuffered.
 */
void usync_tls_buffer_writes(struct usync_tls *t)
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

/* Sends one TLS alert record through kernel TLS (TLS_SET_RECORD_TYPE 21). 0 or -errno. */
int usync_tls_send_alert(struct usync_tls *t, unsigned char level, unsigned char desc, int flags)
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

/*
 * User-space TLS reads: OpenSSL asks the socket for up to its 256 KiB read buffer, but a receiver
 * faster than its sender gets what has just arrived: about 7 KB per read(2) on loopback, 150,000
 * reads per GiB. While more of this file is still to come than OpenSSL can hold plus READ_LOWAT,
 * those READ_LOWAT bytes are certain to arrive, so SO_RCVLOWAT lets each read (and wake-up) wait for
 * them. Back to the default before anything short (frame headers, FILE_END, ALL_DONE) is read.
 */
#define READ_LOWAT (128 * 1024)
#define READ_HELD (320 * 1024) /* the read buffer and its record overhead, rounded up */

void usync_tls_read_lowat(struct usync_tls *t, int64_t remaining)
{
	int want = !t->rx && remaining > READ_LOWAT + READ_HELD ? READ_LOWAT : 0;
	if (want != t->lowat) {
		int v = want ? want : 1;
		if (setsockopt(t->fd, SOL_SOCKET, SO_RCVLOWAT, &v, sizeof v) == 0)
			t->lowat = want; /* a refusal leaves the default: only slower */
	}
}
