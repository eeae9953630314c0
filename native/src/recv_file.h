/* Receiving one file's data frames from one TLS connection: see recv_file.c. */
#ifndef USYNC_RECV_FILE_H
#define USYNC_RECV_FILE_H

#include <jni.h>
#include "ring.h"
#include "tls_io.h"

/*
 * Frames `data_type | u32 length | bytes` (each at most max_frame) until size bytes have arrived,
 * written to fd from offset start; then one empty frame of end_type (none when end_type < 0: a range
 * of a sparse file). want_direct: direct writes where the file system can (start 0 only); want_splice:
 * socket -> pipe -> file where kernel TLS receives. On failure an exception is pending and every
 * write has landed.
 */
void usync_recv_file(JNIEnv *env, struct usync_tls *t, struct usync_ring *r, jint fd, jlong start, jlong size,
		     jint data_type, jint end_type, jint max_frame, jboolean want_direct, jboolean want_splice);

#endif
