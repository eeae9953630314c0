/* JNI side of org.uringsync.nativeio.TlsContext: TLS 1.3 contexts and the self-signed certificate. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>
#include "jni_util.h"
#include "ktls_install.h"
#include "org_uringsync_nativeio_TlsContext.h"

/* TlsContext.createNative(boolean server, String cert, String key, String ciphersuites): SSL_CTX* */
JNIEXPORT jlong JNICALL Java_org_uringsync_nativeio_TlsContext_createNative(JNIEnv *env, jclass cls,
		jboolean server, jstring jcert, jstring jkey, jstring jsuites)
{
	(void)cls;
	const char *cert = NULL, *key = NULL, *suites = NULL;
	SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx) {
		usync_throw_tls(env, "SSL_CTX_new");
		return 0;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
	/* A peer that vanishes reads as end of stream; the protocol above tells truncation apart. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* Read many records per read(2), not header and body of each separately (sessions that move
	 * to kernel TLS turn this off for themselves). */
	SSL_CTX_set_read_ahead(ctx, 1);
	/* Captures the traffic secrets of sessions that asked for kernel TLS, and nothing else. */
	SSL_CTX_set_keylog_callback(ctx, usync_ktls_keylog);
	SSL_CTX_set_default_read_buffer_len(ctx, 256 * 1024);
	if (jsuites) {
		suites = (*env)->GetStringUTFChars(env, jsuites, NULL);
		if (!suites || SSL_CTX_set_ciphersuites(ctx, suites) != 1) {
			usync_throw_tls(env, "TLS 1.3 cipher suites");
			goto err;
		}
	}
	if (server) {
		cert = (*env)->GetStringUTFChars(env, jcert, NULL);
		key = (*env)->GetStringUTFChars(env, jkey, NULL);
		if (!cert || !key)
			goto err;
		if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
			usync_throw_tls(env, "loading certificate");
			goto err;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
			usync_throw_tls(env, "loading private key");
			goto err;
		}
		/* No session tickets: the first record a client reads after the handshake is data. */
		SSL_CTX_set_num_tickets(ctx, 0);
	} else {
		/* The certificate only encrypts; the pre-shared secret, bound to the session, authenticates. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	if (suites)
		(*env)->ReleaseStringUTFChars(env, jsuites, suites);
	if (cert)
		(*env)->ReleaseStringUTFChars(env, jcert, cert);
	if (key)
		(*env)->ReleaseStringUTFChars(env, jkey, key);
	return (jlong)(uintptr_t)ctx;
err:
	if (suites)
		(*env)->ReleaseStringUTFChars(env, jsuites, suites);
	if (cert)
		(*env)->ReleaseStringUTFChars(env, jcert, cert);
	if (key)
		(*env)->ReleaseStringUTFChars(env, jkey, key);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return 0;
}

/* TlsContext.freeNative(long ctx) */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsContext_freeNative(JNIEnv *env, jclass cls, jlong ctx)
{
	(void)env;
	(void)cls;
	SSL_CTX_free((SSL_CTX *)(uintptr_t)ctx);
}

/* Writes a PEM object to a new file of the given mode; 0 or -errno / -EIO. */
static int write_pem(const char *path, mode_t mode, EVP_PKEY *pkey, X509 *x509)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	fchmod(fd, mode); /* exact mode whatever the umask */
	FILE *f = fdopen(fd, "w");
	if (!f) {
		int err = errno;
		close(fd);
		unlink(path);
		return -err;
	}
	int ok = pkey ? PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(f, x509);
	if (fclose(f) != 0 || ok != 1) {
		unlink(path);
		return -EIO;
	}
	return 0;
}

/* TlsContext.generateNative(String keyPath, String certPath, String cn): RSA-2048 key, 10-year self-signed cert. */
JNIEXPORT void JNICALL Java_org_uringsync_nativeio_TlsContext_generateNative(JNIEnv *env, jclass cls,
		jstring jkey, jstring jcert, jstring jcn)
{
	(void)cls;
	const char *keyp = (*env)->GetStringUTFChars(env, jkey, NULL);
	const char *certp = (*env)->GetStringUTFChars(env, jcert, NULL);
	const char *cn = (*env)->GetStringUTFChars(env, jcn, NULL);
	EVP_PKEY *pkey = NULL;
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	if (!keyp || !certp || !cn)
		goto out;
	pkey = EVP_RSA_gen(2048);
	x = X509_new();
	bn = BN_new();
	if (!pkey || !x || !bn || !BN_rand(bn, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 10L * 365 * 24 * 3600) || !X509_set_pubkey(x, pkey)) {
		usync_throw_tls(env, "generating the certificate");
		goto out;
	}
	X509_NAME *name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) || !X509_sign(x, pkey, EVP_sha256())) {
		usync_throw_tls(env, "signing the certificate");
		goto out;
	}
	int rc = write_pem(keyp, 0600, pkey, NULL);
	if (rc < 0) {
		usync_throw_errno(env, "write key", keyp, -rc);
		goto out;
	}
	rc = write_pem(certp, 0644, NULL, x);
	if (rc < 0) {
		unlink(keyp);
		usync_throw_errno(env, "write certificate", certp, -rc);
	}
out:
	ERR_clear_error();
	BN_free(bn);
	X509_free(x);
	EVP_PKEY_free(pkey);
	if (keyp)
		(*env)->ReleaseStringUTFChars(env, jkey, keyp);
	if (certp)
		(*env)->ReleaseStringUTFChars(env, jcert, certp);
	if (cn)
		(*env)->ReleaseStringUTFChars(env, jcn, cn);
}
