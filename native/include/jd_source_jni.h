/*
 * The fd of a java.nio channel, for READ/WRITE sources. Included only by the generated JNI code (it needs
 * jni.h). JNI reads private fields whatever the module system says, so no --add-opens is needed: the
 * channels of sun.nio.ch (SocketChannelImpl, ServerSocketChannelImpl, the Pipe channels, DatagramChannelImpl)
 * keep their descriptor in `int fdVal` on Java 17 through 25.
 * Returns the fd, -1 with no exception pending when the class has no such field, or -1 with an exception.
 */
#ifndef JD_SOURCE_JNI_H
#define JD_SOURCE_JNI_H

#include <jni.h>

static inline int jd_channel_fd(JNIEnv *env, jclass caller, jobject channel) {
    (void)caller; /* JavaCPP passes the calling class of a static native with withEnv */
    jclass cls = env->GetObjectClass(channel);
    jfieldID field = env->GetFieldID(cls, "fdVal", "I");
    env->DeleteLocalRef(cls);
    if (field == NULL) {
        env->ExceptionClear(); /* NoSuchFieldError: not a channel of sun.nio.ch */
        return -1;
    }
    return env->GetIntField(channel, field);
}

#endif
