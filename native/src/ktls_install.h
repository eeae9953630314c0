/* Moving a finished TLS 1.3 session's keys from OpenSSL into the kernel (kTLS). */
#ifndef USYNC_KTLS_INSTALL_H
#define USYNC_KTLS_INSTALL_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

/* The keylog callback every SSL_CTX of ours carries: it keeps the traffic secrets of sessions that
 * asked for kTLS (usync_ktls_prepare), and ignores all others. */
void usync_ktls_keylog(const SSL *ssl, const char *line);

/* Before the handshake: remember this session's traffic secrets for the install. 0 or -ENOMEM. */
int usync_ktls_prepare(SSL *ssl);

/*
 * After the handshake, before any application data: attach the "tls" ULP and install TX and RX.
 * On success *tx / *rx say what was installed (RX may fail alone: then OpenSSL keeps reading).
 * Returns 0, or -errno with a one-line reason in why (nothing installed: userspace TLS goes on).
 * The secrets are wiped either way.
 */
int usync_ktls_install(SSL *ssl, int fd, bool server, bool *tx, bool *rx, char *why, size_t whylen);

#endif
