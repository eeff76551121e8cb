/*
 * The C side of JDispatch's JNI layer: what libdispatch needs a shim for (callbacks into Java,
 * constants that are macros). Everything else is mapped straight to libdispatch by
 * io.jdispatch.internal.JDispatchNative. Functions are `jd_<unit>_<fn>`; errors are returned as -errno.
 */
#ifndef JDISPATCH_H
#define JDISPATCH_H

#include <dispatch/dispatch.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Callbacks into Java. Each kind has exactly one Java trampoline, installed once when the library loads;
 * what to run is named by a context id that the Java side maps to an object. libdispatch passes the id
 * through its `void *context`.
 */
typedef void (*jd_task_fn)(int64_t id);
typedef void (*jd_apply_fn)(int64_t id, int64_t index);

void jd_callbacks_install(jd_task_fn task, jd_apply_fn apply);

/*
 * Data-queue handlers and completions that Java installs: jd_dq_java_handler is the jd_dq_handler_fn
 * (jd_dataqueue.h) Java passes, with a Java id as its ctx; it calls the one Java trampoline installed here,
 * whose arguments are integers only (a pointer argument would make the JNI glue allocate a Java object
 * before the Java code can catch anything).
 */
typedef void (*jd_handler_fn)(int64_t id, int32_t event);
void jd_handler_install(jd_handler_fn handler);
void jd_dq_java_handler(void *ctx, int32_t event);

/*
 * Every trampoline above (and the source ones, jd_source.c) first makes sure the calling thread is attached
 * to the JVM, so that no callback is ever dropped for want of a JNIEnv: the JNI side (jd_jvm.h) installs
 * `attach`, which waits until the thread could attach. Without it (C programs) there is nothing to attach to.
 */
void jd_attach_install(void (*attach)(void));
void jd_attach_current_thread(void);

/* The function libdispatch calls for a task whose context is a Java id. */
void jd_task_trampoline(void *context);
void jd_apply_trampoline(void *context, size_t index);

/* dispatch_*_f with a Java id as context (jd_queue_sync in jd_queue.c, which records the frame it nests). */
void jd_queue_async(dispatch_queue_t queue, int64_t id);
void jd_queue_sync(dispatch_queue_t queue, int64_t id);

/* The version of libdispatch this library was built against, e.g. "swift-corelibs-libdispatch 6.0.3". */
const char *jd_libdispatch_version(void);

/*
 * Every number C and Java share, by its C name ("kIOReturnOverrun", "DISPATCH_PROC_EXIT", "JD_SOURCE_CANCEL"),
 * from one table (jd_constants.c); INT64_MIN for a name not in it. jd_constant_name(0 .. count-1) lists them.
 */
int64_t jd_constant(const char *name);
int32_t jd_constant_count(void);
const char *jd_constant_name(int32_t index);

#ifndef __APPLE__
/* qos_class_t: Darwin's <sys/qos.h> names these; swift-corelibs-libdispatch takes the same values on Linux
 * but names them only in a private header (src/shims/priority.h). */
#define QOS_CLASS_USER_INTERACTIVE 0x21
#define QOS_CLASS_USER_INITIATED 0x19
#define QOS_CLASS_DEFAULT 0x15
#define QOS_CLASS_UTILITY 0x11
#define QOS_CLASS_BACKGROUND 0x09
/* The lowest relative priority dispatch_queue_attr_make_with_qos_class accepts (src/shims/priority.h). */
#define QOS_MIN_RELATIVE_PRIORITY (-15)
#endif

/* Does nothing: the cost of calling it from Java is the cost of a JNI crossing (benchmarks). */
void jd_noop(void);

/*
 * Bytes malloc has handed out and not had back (glibc mallinfo2: in-use chunks + mmapped blocks), or -1
 * where unknown (another libc, or an AddressSanitizer build). Unlike RSS it does not move with fragmentation or per-thread arenas: leak tests use it.
 */
int64_t jd_malloc_in_use(void);

/* The calling thread's kernel id (gettid on Linux), for tests of thread attachment. */
int64_t jd_thread_id(void);

#ifdef __cplusplus
}
#endif
#endif /* JDISPATCH_H */
