/*
 * The fd behind a JDK I/O object, for READ, WRITE and VNODE sources. Included only by the generated JNI
 * code (it needs jni.h). JNI reads private fields whatever the module system says, so no --add-opens is
 * needed. Checked on Java 17 and 25: the channels of sun.nio.ch (SocketChannelImpl,
 * ServerSocketChannelImpl, DatagramChannelImpl, the Pipe channels) keep the fd in `int fdVal`;
 * FileChannelImpl in `FileDescriptor fd`; java.io.FileDescriptor in `int fd`.
 * Returns the fd, or -1 (no exception pending) when the object has none of these fields.
 */
#ifndef JD_SOURCE_JNI_H
#define JD_SOURCE_JNI_H

#include <jni.h>

static inline jfieldID jd_field(JNIEnv *env, jclass cls, const char *name, const char *sig) {
    jfieldID field = env->GetFieldID(cls, name, sig);
    if (field == NULL) {
        env->ExceptionClear(); /* NoSuchFieldError: try the next layout */
    }
    return field;
}

/* JavaCPP passes the calling class of a static native declared withEnv: `caller` is unused. */
static inline int jd_channel_fd(JNIEnv *env, jclass caller, jobject object) {
    (void)caller;
    jclass cls = env->GetObjectClass(object);
    int fd = -1;
    jfieldID field;
    if ((field = jd_field(env, cls, "fdVal", "I")) != NULL || (field = jd_field(env, cls, "fd", "I")) != NULL) {
        fd = env->GetIntField(object, field);
    } else if ((field = jd_field(env, cls, "fd", "Ljava/io/FileDescriptor;")) != NULL) {
        jobject descriptor = env->GetObjectField(object, field);
        if (descriptor != NULL) {
            fd = jd_channel_fd(env, caller, descriptor);
            env->DeleteLocalRef(descriptor);
        }
    }
    env->DeleteLocalRef(cls);
    return fd;
}

#endif
