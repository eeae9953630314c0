/* Small JNI helpers shared by the C files of the core. */
#ifndef USYNC_JNI_UTIL_H
#define USYNC_JNI_UTIL_H

#include <jni.h>

/* Throws org.uringsync.nativeio.NativeIoException(op, path, err); err is positive. */
void usync_throw_errno(JNIEnv *env, const char *op, const char *path, int err);
/* Throws NativeIoException(op, item, err): item i of the batch Java passed failed; Java names its path. */
void usync_throw_item(JNIEnv *env, const char *op, int item, int err);
/* Throws org.uringsync.nativeio.TlsException with "op: <OpenSSL error queue>", draining the queue. */
void usync_throw_tls(JNIEnv *env, const char *op);
/* Throws org.uringsync.nativeio.TlsException(message). */
void usync_throw_tls_msg(JNIEnv *env, const char *message);
/* A path or name from Java as a C string (malloc'd; the caller frees it); NULL when it holds a NUL byte or without memory. */
char *usync_path_of(JNIEnv *env, jbyteArray arr);

#endif
