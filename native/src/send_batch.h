/* Sending a batch of files over one TLS connection: see send_batch.c. */
#ifndef USYNC_SEND_BATCH_H
#define USYNC_SEND_BATCH_H

#include <jni.h>
#include <stdint.h>
#include "ring.h"
#include "tls_io.h"

/*
 * Streams `count` files described at p (the layout of SendBatch: struct send_req, header bytes,
 * trailer bytes, padded to 8) as frames of type data_type of at most chunk bytes; files flagged
 * SPLICE (where kernel TLS sends and the ring has pipes) in frames of splice_frame bytes spliced from
 * the file. Closes every descriptor of the batch. Returns the file bytes sent; on failure an exception
 * is pending.
 */
jlong usync_send_files(JNIEnv *env, struct usync_tls *t, struct usync_ring *r, uint8_t *p, jint count, jint data_type,
		       jint chunk, jint splice_frame);

#endif
