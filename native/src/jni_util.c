/* JNI helpers (see jni_util.h). */
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "jni_util.h"

void usync_throw_errno(JNIEnv *env, const char *op, const char *path, int err)
{
	jclass cls = (*env)->FindClass(env, "org/uringsync/nativeio/NativeIoException");
	if (!cls)
		return;
	jmethodID ctor = (*env)->GetMethodID(env, cls, "<init>", "(Ljava/lang/String;Ljava/lang/String;I)V");
	if (!ctor)
		return;
	jstring jop = (*env)->NewStringUTF(env, op);
	jstring jpath = path ? (*env)->NewStringUTF(env, path) : NULL;
	jobject ex = (*env)->NewObject(env, cls, ctor, jop, jpath, (jint)err);
	if (ex)
		(*env)->Throw(env, (jthrowable)ex);
}

void usync_throw_item(JNIEnv *env, const char *op, int item, int err)
{
	jclass cls = (*env)->FindClass(env, "org/uringsync/nativeio/NativeIoException");
	if (!cls)
		return;
	jmethodID ctor = (*env)->GetMethodID(env, cls, "<init>", "(Ljava/lang/String;II)V");
	if (!ctor)
		return;
	jstring jop = (*env)->NewStringUTF(env, op);
	jobject ex = (*env)->NewObject(env, cls, ctor, jop, (jint)item, (jint)err);
	if (ex)
		(*env)->Throw(env, (jthrowable)ex);
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
