/* JNI side of org.uringsync.nativeio.Net: TCP sockets whose descriptors the TLS layer takes over. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "org_uringsync_nativeio_Net.h"

static socklen_t to_sockaddr(JNIEnv *env, jbyteArray addr, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	jsize n = addr ? (*env)->GetArrayLength(env, addr) : 16;
	if (n == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		(*env)->GetByteArrayRegion(env, addr, 0, 4, (jbyte *)&sin->sin_addr);
		return sizeof *sin;
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons((uint16_t)port);
	if (addr && n == 16)
		(*env)->GetByteArrayRegion(env, addr, 0, 16, (jbyte *)&sin6->sin6_addr);
	else
		sin6->sin6_addr = in6addr_any;
	return sizeof *sin6;
}

/*
 * Net.listenNative(byte[] addr, int port, int backlog): fd or -errno. A null address listens on
 * all addresses, IPv6 and IPv4 (a dual-stack socket), falling back to IPv4 where IPv6 is off.
 */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_Net_listenNative(JNIEnv *env, jclass cls, jbyteArray addr,
		jint port, jint backlog)
{
	(void)cls;
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(env, addr, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 && !addr && errno == EAFNOSUPPORT) {
		jbyte any4[4] = { 0 };
		jbyteArray a4 = (*env)->NewByteArray(env, 4);
		if (!a4)
			return -ENOMEM;
		(*env)->SetByteArrayRegion(env, a4, 0, 4, any4);
		return Java_org_uringsync_nativeio_Net_listenNative(env, cls, a4, port, backlog);
	}
	if (fd < 0)
		return -errno;
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6 && !addr)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* Net.acceptNative(int fd): connected fd or -errno (EINVAL once the listener is shut down). */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_Net_acceptNative(JNIEnv *env, jclass cls, jint fd)
{
	(void)env;
	(void)cls;
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (c >= 0) {
			int one = 1;
			setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			return c;
		}
		if (errno != EINTR && errno != ECONNABORTED)
			return -errno;
	}
}

/* Net.connectNative(byte[] addr, int port, int timeoutMs): fd or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_Net_connectNative(JNIEnv *env, jclass cls, jbyteArray addr,
		jint port, jint timeout_ms)
{
	(void)cls;
	struct sockaddr_storage ss;
	socklen_t len = to_sockaddr(env, addr, port, &ss);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int err = 0;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto out;
		}
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int n;
		do
			n = poll(&p, 1, timeout_ms);
		while (n < 0 && errno == EINTR);
		if (n == 0) {
			err = ETIMEDOUT;
			goto out;
		}
		socklen_t el = sizeof err;
		if (n < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			err = errno;
		if (err)
			goto out;
	}
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
out:
	if (err) {
		close(fd);
		return -err;
	}
	return fd;
}

/* Net.localPortNative(int fd): the bound port, or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_Net_localPortNative(JNIEnv *env, jclass cls, jint fd)
{
	(void)env;
	(void)cls;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -errno;
	return ss.ss_family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
				       : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

/*
 * Net.peerAddressNative(int fd): the peer's address, 4 bytes for IPv4 (IPv4-mapped IPv6 included) or
 * 16 for IPv6; null when it cannot be had.
 */
JNIEXPORT jbyteArray JNICALL Java_org_uringsync_nativeio_Net_peerAddressNative(JNIEnv *env, jclass cls, jint fd)
{
	(void)cls;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0)
		return NULL;
	const uint8_t *a;
	jsize n;
	if (ss.ss_family == AF_INET) {
		a = (const uint8_t *)&((struct sockaddr_in *)&ss)->sin_addr;
		n = 4;
	} else if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a6 = &((struct sockaddr_in6 *)&ss)->sin6_addr;
		a = a6->s6_addr;
		n = 16;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			a += 12;
			n = 4;
		}
	} else {
		return NULL;
	}
	jbyteArray r = (*env)->NewByteArray(env, n);
	if (r)
		(*env)->SetByteArrayRegion(env, r, 0, n, (const jbyte *)a);
	return r;
}

/* Net.setTimeoutNative(int fd, int ms): receive and send timeout (0: none); 0 or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_Net_setTimeoutNative(JNIEnv *env, jclass cls, jint fd, jint ms)
{
	(void)env;
	(void)cls;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
		return -errno;
	return 0;
}

/*
 * Net.shutdownNative(int fd, boolean abort): wakes a thread blocked in accept or read on fd; with
 * abort, the close that follows resets the connection (SO_LINGER 0): a peer in the middle of sending
 * learns at once that nobody will read it (a FIN alone can leave its data waiting on a window that
 * never opens). 0 or -errno.
 */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_Net_shutdownNative(JNIEnv *env, jclass cls, jint fd, jboolean abort)
{
	(void)env;
	(void)cls;
	if (abort) {
		struct linger l = { .l_onoff = 1, .l_linger = 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l); /* best effort: the shutdown still wakes */
	}
	return shutdown(fd, SHUT_RDWR) < 0 ? -errno : 0;
}

/* Net.closeNative(int fd): 0 or -errno. */
JNIEXPORT jint JNICALL Java_org_uringsync_nativeio_Net_closeNative(JNIEnv *env, jclass cls, jint fd)
{
	(void)env;
	(void)cls;
	return close(fd) < 0 ? -errno : 0;
}
