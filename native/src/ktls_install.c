/*
 * kTLS key install. Debian's OpenSSL 3.0 can hand only TX to the kernel for TLS 1.3, so the keys are
 * derived here: the keylog callback captures CLIENT/SERVER_TRAFFIC_SECRET_0, HKDF-Expand-Label gives
 * key and iv (RFC 8446 7.1, 7.3), and both go into setsockopt(SOL_TLS, TLS_TX / TLS_RX) with record
 * sequence 0 (no application record has been sent yet, and the server sends no tickets).
 */
#include <errno.h>
#include <linux/tls.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "ktls_install.h"

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef TCP_ULP
#define TCP_ULP 31
#endif

struct secrets {
	unsigned char client[EVP_MAX_MD_SIZE], server[EVP_MAX_MD_SIZE];
	size_t client_len, server_len;
};

static int exidx = -1;
static CRYPTO_ONCE exidx_once = CRYPTO_ONCE_STATIC_INIT; /* not pthread_once: GLIBC_2.34 */

static void free_secrets(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ptr) {
		OPENSSL_cleanse(ptr, sizeof(struct secrets));
		free(ptr);
	}
}

static void make_exidx(void)
{
	exidx = SSL_get_ex_new_index(0, NULL, NULL, NULL, free_secrets);
}

int usync_ktls_prepare(SSL *ssl)
{
	CRYPTO_THREAD_run_once(&exidx_once, make_exidx);
	struct secrets *s = calloc(1, sizeof *s);
	if (exidx < 0 || !s || !SSL_set_ex_data(ssl, exidx, s)) {
		free(s);
		return -ENOMEM;
	}
	return 0;
}

static size_t unhex(const char *h, unsigned char *out, size_t max)
{
	size_t n = 0;
	while (n < max && h[0] && h[1]) {
		unsigned v;
		if (sscanf(h, "%2x", &v) != 1)
			break;
		out[n++] = (unsigned char)v;
		h += 2;
	}
	return n;
}

void usync_ktls_keylog(const SSL *ssl, const char *line)
{
	if (exidx < 0)
		return;
	struct secrets *s = SSL_get_ex_data(ssl, exidx);
	if (!s)
		return;
	/* "<LABEL> <client_random hex> <secret hex>" */
	const char *sp1 = strchr(line, ' ');
	const char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp2)
		return;
	if (!strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24))
		s->client_len = unhex(sp2 + 1, s->client, sizeof s->client);
	else if (!strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24))
		s->server_len = unhex(sp2 + 1, s->server, sizeof s->server);
}

/* HKDF-Expand-Label(secret, label, "", len), RFC 8446 7.1. 0 or -1. */
static int expand_label(const EVP_MD *md, const unsigned char *secret, size_t slen, const char *label,
			unsigned char *out, size_t outlen)
{
	unsigned char info[2 + 1 + 255 + 1];
	size_t n = 0, ll = strlen(label);
	info[n++] = (unsigned char)(outlen >> 8);
	info[n++] = (unsigned char)outlen;
	info[n++] = (unsigned char)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0;
	EVP_PKEY_CTX *p = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t ol = outlen;
	int ok = p && EVP_PKEY_derive_init(p) > 0 && EVP_PKEY_CTX_set_hkdf_mode(p, EVP_PKEY_HKDEF_MODE_EXPAND_ONLY) > 0 &&
		 EVP_PKEY_CTX_set_hkdf_md(p, md) > 0 && EVP_PKEY_CTX_set1_hkdf_key(p, secret, (int)slen) > 0 &&
		 EVP_PKEY_CTX_add1_hkdf_info(p, info, (int)n) > 0 && EVP_PKEY_derive(p, out, &ol) > 0 && ol == outlen;
	EVP_PKEY_CTX_free(p);
	return ok ? 0 : -1;
}

union crypto_info {
	struct tls_crypto_info info;
	struct tls12_crypto_info_aes_gcm_128 g128;
	struct tls12_crypto_info_aes_gcm_256 g256;
	struct tls12_crypto_info_chacha20_poly1305 cc;
};

/* The kernel's crypto_info for one direction; its size, or 0 for a suite the kernel path lacks. */
static socklen_t crypto_info(SSL *ssl, const unsigned char *secret, size_t slen, union crypto_info *ci)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);
	const EVP_MD *md = SSL_CIPHER_get_handshake_digest(c);
	const char *name = SSL_CIPHER_get_name(c);
	unsigned char key[32], iv[12];
	socklen_t len = 0;
	memset(ci, 0, sizeof *ci);
	ci->info.version = TLS_1_3_VERSION;
	size_t klen = !strcmp(name, "TLS_AES_128_GCM_SHA256") ? 16 : 32;
	if (expand_label(md, secret, slen, "key", key, klen) < 0 || expand_label(md, secret, slen, "iv", iv, 12) < 0)
		goto out;
	if (!strcmp(name, "TLS_AES_128_GCM_SHA256")) {
		ci->info.cipher_type = TLS_CIPHER_AES_GCM_128;
		memcpy(ci->g128.key, key, 16);
		memcpy(ci->g128.salt, iv, 4);
		memcpy(ci->g128.iv, iv + 4, 8);
		len = sizeof ci->g128;
	} else if (!strcmp(name, "TLS_AES_256_GCM_SHA384")) {
		ci->info.cipher_type = TLS_CIPHER_AES_GCM_256;
		memcpy(ci->g256.key, key, 32);
		memcpy(ci->g256.salt, iv, 4);
		memcpy(ci->g256.iv, iv + 4, 8);
		len = sizeof ci->g256;
	} else if (!strcmp(name, "TLS_CHACHA20_POLY1305_SHA256")) {
		ci->info.cipher_type = TLS_CIPHER_CHACHA20_POLY1305;
		memcpy(ci->cc.key, key, 32);
		memcpy(ci->cc.iv, iv, 12); /* the whole 12-byte iv, no salt */
		len = sizeof ci->cc;
	}
out:
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(iv, sizeof iv);
	ERR_clear_error();
	return len;
}

int usync_ktls_install(SSL *ssl, int fd, bool server, bool *tx, bool *rx, char *why, size_t whylen)
{
	struct secrets *s = exidx >= 0 ? SSL_get_ex_data(ssl, exidx) : NULL;
	union crypto_info ci;
	socklen_t len;
	int rc = 0;
	*tx = *rx = false;
	if (!s || !s->client_len || !s->server_len) {
		snprintf(why, whylen, "traffic secrets were not captured");
		rc = -EINVAL;
		goto out;
	}
	if (SSL_has_pending(ssl)) {
		snprintf(why, whylen, "OpenSSL already holds unread records");
		rc = -EBUSY;
		goto out;
	}
	if (setsockopt(fd, SOL_TCP, TCP_ULP, "tls", sizeof("tls")) < 0) {
		rc = -errno;
		snprintf(why, whylen, "setsockopt(TCP_ULP, \"tls\"): %s%s", strerror(errno),
			 errno == ENOENT || errno == ENOPROTOOPT ? " (kernel without the tls module)" : "");
		goto out;
	}
	len = crypto_info(ssl, server ? s->server : s->client, server ? s->server_len : s->client_len, &ci);
	if (!len) {
		snprintf(why, whylen, "no kernel cipher for %s", SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
		rc = -EOPNOTSUPP;
		goto out;
	}
	if (setsockopt(fd, SOL_TLS, TLS_TX, &ci, len) < 0) {
		rc = -errno;
		snprintf(why, whylen, "setsockopt(TLS_TX): %s", strerror(errno));
		goto out;
	}
	*tx = true;
	len = crypto_info(ssl, server ? s->client : s->server, server ? s->client_len : s->server_len, &ci);
	if (len && setsockopt(fd, SOL_TLS, TLS_RX, &ci, len) == 0)
		*rx = true;
	else
		snprintf(why, whylen, "setsockopt(TLS_RX): %s", len ? strerror(errno) : "no kernel cipher");
out:
	OPENSSL_cleanse(&ci, sizeof ci);
	if (s)
		OPENSSL_cleanse(s, sizeof *s);
	return rc;
}
