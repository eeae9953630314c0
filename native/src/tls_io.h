/*
 * TLS record I/O of one connection (struct usync_tls): reads and writes through OpenSSL's record
 * layer, or through the socket itself once the kernel holds the keys (kernel TLS); control records
 * (alerts, close_notify) on kernel TLS, write buffering, the receive low-water mark. Used by the JNI
 * entry points (tls_session.c), the batch sender (send_batch.c) and the file receiver (recv_file.c).
 */
#ifndef USYNC_TLS_IO_H
#define USYNC_TLS_IO_H

#include <errno.h>
#include <jni.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
/* Frames on the wire: type u8 | length u32 LE | payload. */
#define FRAME_HDR 5

/* One connection: OpenSSL's session, its socket, and which directions the kernel encrypts. */
struct usync_tls {
	SSL *ssl;
	int fd;
	bool tx, rx;            /* kernel TLS installed for sending / receiving */
	bool use_sendfile;      /* the sender moves spliced frames with sendfile(2), not io_uring SPLICE */
	char why[160];          /* why kernel TLS is not installed both ways ("": it is, or was not asked for) */
	uint64_t bio_w0, bio_r0; /* OpenSSL's socket byte counts when the handshake ended */
	int lowat;              /* SO_RCVLOWAT set on the socket; 0 = the default (1) */
};

static inline void usync_put_frame_hdr(uint8_t *p, int type, uint32_t len)
{
	p[0] = (uint8_t)type;
	p[1] = (uint8_t)len;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)(len >> 16);
	p[4] = (uint8_t)(len >> 24);
}

/* An errno of a socket call: EAGAIN on a blocking socket means its SO_RCVTIMEO / SO_SNDTIMEO expired. */
static inline int usync_socket_errno(int err)
{
	return err == EAGAIN ? ETIMEDOUT : err;
}

/* Throws TlsSession.ProtocolViolation(msg). */
void usync_throw_violation(JNIEnv *env, const char *msg);
/* Turns a failed SSL_* call into a Java exception naming op. */
void usync_tls_throw(JNIEnv *env, SSL *ssl, int ret, const char *op);
/* True when a failed SSL call should be repeated (a signal interrupted the socket call). */
bool usync_tls_interrupted(SSL *ssl, int ret);
/* Kernel TLS RX: reads the control record that is next; 0 for close_notify, else -1 with an exception. */
long usync_tls_control_record(JNIEnv *env, struct usync_tls *t, const char *op);
/* Reads up to len bytes: >0 read, 0 clean end of stream, -1 exception thrown. */
long usync_tls_read_some(JNIEnv *env, struct usync_tls *t, uint8_t *p, size_t len, const char *op);
/* Reads exactly len bytes: 1 done, 0 end of stream before len, -1 exception thrown. */
int usync_tls_read_full(JNIEnv *env, struct usync_tls *t, uint8_t *p, size_t len, const char *op);
/* Writes all of p; MSG_MORE in flags holds a kernel TLS record open. 0, or -1 (thrown). */
int usync_tls_write(JNIEnv *env, struct usync_tls *t, const uint8_t *p, size_t len, int flags);
/* User-space TLS: gathers one write's records into one write(2); starts the record-layer byte counts. */
void usync_tls_buffer_writes(struct usync_tls *t);
/* Sends one TLS alert record through kernel TLS. 0 or -errno. */
int usync_tls_send_alert(struct usync_tls *t, unsigned char level, unsigned char desc, int flags);
/* User-space TLS: SO_RCVLOWAT while more than a read buffer of this file is still to come. */
void usync_tls_read_lowat(struct usync_tls *t, int64_t remaining);

#endif
