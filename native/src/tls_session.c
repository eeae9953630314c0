/*
 * JNI entry points of org.uringsync.nativeio.TlsSession: the handshake (and the move of the keys into
 * the kernel), what the session reports, plain reads and writes, and the two coarse calls that move
 * file data - sendFilesNative (send_batch.c) and receiveFileNative (recv_file.c). The record I/O is
 * tls_io.c. Java owns the protocol; C only knows the frame shape `type u8 | length u32 LE | payload`
 * and the types Java passes in.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jni_util.h"
#include "ktls_install.h"
#include "recv_file.h"
#include "ring.h"
#include "send_batch.h"
#include "tls_io.h"
#include "org_uringsync_nativeio_TlsSession.h"

/*
 * TlsSession.handshakeNative(long ctx, int fd, boolean server, int ktls): session handle.
 * ktls: 0 user-space TLS only; 1 kernel TLS where the kernel has it; 2 the same (Java then asks for file
 * data to be spliced); 3 as 2, the sender's spliced frames moved by sendfile(2) (for comparison).
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
	} while (rc != 1 && usync_tls_interrupted(ssl, rc));
	if (rc != 1) {
		usync_tls_throw(env, ssl, rc, "TLS handshake");
		goto err;
	}
	t->ssl = ssl;
	t->fd = fd;
	if (!ktls) {
		usync_tls_buffer_writes(t);
		return (jlong)(uintptr_t)t;
	}
	usync_ktls_install(ssl, fd, server, &t->tx, &t->rx, t->why, sizeof t->why);
	if (!t->rx) /* OpenSSL keeps reading: read ahead again (off only so that kTLS RX could take over) */
		SSL_set_read_ahead(ssl, 1);
	usync_tls_buffer_writes(t);
	t->use_sendfile = ktls == 3;
	return (jlong)(uintptr_t)t;
err:
	SSL_free(ssl);
	free(t);
	ERR_clear_error();
	return 0;
}

/* TlsSession.kernelWhyNative(long t): why kernel TLS is not installed (both ways), or null */
JNIEXPORT jstring JNICALL Java_org_uringsync_nativeio_TlsSession_kernelWhyNative(JNIEnv *env, jclass cls, jlong h)
{
	(void)cls;
	struct usync_tls *t = (struct usync_tls *)(uintptr_t)h;
	return t->why[0] ? (*env)->NewStringUTF(env, t->why) : NULL;
}

/* TlsSession.kernelNative(long t): bit 0 TX in the kernel, bit 1 RX in the kernel */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_TlsSession_kernelNative(JNIEnv *env, jclass cls, jlong h)
{
	(void)env;
	(void)cls;
	struct usync_tls *t = (struct usync_tls *)(uintptr_t)h;
	return (t->tx ? 1 : 0) | (t->rx ? 2 : 0);
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
	long n = usync_tls_read_some(env, (struct usync_tls *)(uintptr_t)h, p + off, (size_t)len, "TLS read");
	return n > 0 ? (jint)n : n == 0 ? -1 : 0;
}

/* TlsSession.writeNative(long t, ByteBuffer buf, int off, int len) */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsSession_writeNative(JNIEnv *env, jclass cls, jlong h,
		jobject buf, jint off, jint len)
{
	(void)cls;
	uint8_t *p = (*env)->GetDirectBufferAddress(env, buf);
	usync_tls_write(env, (struct usync_tls *)(uintptr_t)h, p + off, (size_t)len, 0);
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
	int rc = usync_tls_send_alert(t, 2, (unsigned char)desc, 0);
	if (rc < 0)
		usync_throw_errno(env, "sendmsg(TLS alert)", NULL, -rc);
}

/*
 * TlsSession.sendFilesNative(long t, long ring, ByteBuffer batch, int count, int dataType, int chunk,
 * int spliceFrame): bytes
 */
JNIEXPORT jlong JNICALL Java_org_uringsync_nativeio_TlsSession_sendFilesNative(JNIEnv *env, jclass cls, jlong h,
		jlong ring, jobject batch, jint count, jint data_type, jint chunk, jint splice_frame)
{
	(void)cls;
	return usync_send_files(env, (struct usync_tls *)(uintptr_t)h, (struct usync_ring *)(uintptr_t)ring,
				(*env)->GetDirectBufferAddress(env, batch), count, data_type, chunk, splice_frame);
}

/*
 * TlsSession.receiveFileNative(long t, long ring, int fd, long start, long size, int dataType, int endType,
 * int maxFrame, boolean direct, boolean splice): the file's data frames into fd (see usync_recv_file).
 */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsSession_receiveFileNative(JNIEnv *env, jclass cls, jlong h,
		jlong ring, jint fd, jlong start, jlong size, jint data_type, jint end_type, jint max_frame,
		jboolean want_direct, jboolean want_splice)
{
	(void)cls;
	usync_recv_file(env, (struct usync_tls *)(uintptr_t)h, (struct usync_ring *)(uintptr_t)ring, fd, start, size,
			data_type, end_type, max_frame, want_direct, want_splice);
}

/* TlsSession.freeNative(long t): close_notify (best effort), free. The socket is Java's (Fd) to close. */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsSession_freeNative(JNIEnv *env, jclass cls, jlong h)
{
	(void)env;
	(void)cls;
	struct usync_tls *t = (struct usync_tls *)(uintptr_t)h;
	if (t->tx) {
		usync_tls_send_alert(t, 1, 0, MSG_DONTWAIT); /* close_notify, best effort */
	} else {
		SSL_shutdown(t->ssl);
	}
	SSL_free(t->ssl);
	ERR_clear_error();
	free(t);
}
