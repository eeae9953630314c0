/* The receiver's splice pipeline: socket -> pipe -> file, two pipes taking turns. */
#ifndef USYNC_SPLICE_H
#define USYNC_SPLICE_H

#include <jni.h>
#include <stdint.h>
#include "ring.h"
#include "tls_io.h"

/* Moves n bytes from the kernel TLS socket into fd at off. 0, or -1 with an exception. */
int usync_splice_to_file(JNIEnv *env, struct usync_tls *t, struct usync_ring *r, int fd, int64_t off, uint32_t n);

#endif
