/* JNI helpers (see jni_util.h). */
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jni_util.h"

/* Throws a NativeIoException made by the constructor with JNI signature sig from the arguments that follow. */
static void throw_native_io(JNIEnv *env, const char *sig, ...)
{
	jclass cls = (*env)->FindClass(env, "org/uringsync/nativeio/NativeIoException");
	if (!cls)
		return;
	jmethodID ctor = (*env)->GetMethodID(env, cls, "<init>", sig);
	if (!ctor)
		return;
	va_list ap;
	va_start(ap, sig);
	jobject ex = (*env)->NewObjectV(env, cls, ctor, ap);
	va_end(ap);
	if (ex)
		(*env)->Throw(env, (jthrowable)ex);
}

void usync_throw_errno(JNIEnv *env, const char *op, const char *path, int err)
{
	jstring jop = (*env)->NewStringUTF(env, op);
	jstring jpath = path ? (*env)->NewStringUTF(env, path) : NULL;
	throw_native_io(env, "(Ljava/lang/String;Ljava/lang/String;I)V", jop, jpath, (jint)err);
}

void usync_throw_item(JNIEnv *env, const char *op, int item, int err)
{
	throw_native_io(env, "(Ljava/lang/String;II)V", (*env)->NewStringUTF(env, op), (jint)item, (jint)err);
}

void usync_throw_tls_msg(JNIEnv *env, const char *message)
{
	jclass cls = (*env)->FindClass(env, "org/uringsync/nativeio/TlsException");
	if (cls)
		(*env)->ThrowNew(env, cls, message);
}

void usync_throw_tls(JNIEnv *env, const char *op)
{
	char msg[1024];
	size_t at = (size_t)snprintf(msg, sizeof msg, "%s", op);
	unsigned long e;
	const char *sep = ": ";
	while ((e = ERR_get_error()) != 0) {
		if (at < sizeof msg - 1) {
			char one[256];
			ERR_error_string_n(e, one, sizeof one);
			at += (size_t)snprintf(msg + at, sizeof msg - at, "%s%s", sep, one);
			sep = "; ";
		}
	}
	if (*sep == ':')
		snprintf(msg + at, sizeof msg - at, ": failed");
	usync_throw_tls_msg(env, msg);
}

/* See jni_util.h. */
char *usync_path_of(JNIEnv *env, jbyteArray arr)
{
	jsize n = (*env)->GetArrayLength(env, arr);
	char *s = malloc((size_t)n + 1);
	if (!s)
		return NULL;
	(*env)->GetByteArrayRegion(env, arr, 0, n, (jbyte *)s);
	s[n] = 0;
	if (memchr(s, 0, (size_t)n)) {
		free(s);
		return NULL;
	}
	return s;
}
