/*
 * Attaching libdispatch's threads to the JVM (native/jni/jd_jvm.c, linked only into the JNI library: it needs
 * jni.h). JavaCPP's glue attaches a thread itself, but when that fails (no heap left for the thread's
 * java.lang.Thread) it logs "Could not attach the JavaVM to the current thread." and skips the callback: a
 * lost task. So every trampoline attaches first (jd_attach_current_thread, jdispatch.h) and a failed attach is
 * retried, with a backoff up to 100 ms, until it succeeds (a GC gives the memory back); the callback is never
 * dropped. A thread attached here is a daemon named "jdispatch-worker-N", attached once and detached when it
 * exits (a pthread key's destructor). Threads that already have a JNIEnv (Java threads calling sync or apply)
 * are left as they are.
 */
#ifndef JD_JVM_H
#define JD_JVM_H

#include <jni.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Keeps the JavaVM of `env` and installs the attach hook; called once at load (JavaCPP passes the caller class). */
void jd_jvm_install(JNIEnv *env, jclass caller);

#ifdef __cplusplus
}
#endif
#endif /* JD_JVM_H */
