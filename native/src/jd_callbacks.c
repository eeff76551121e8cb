#include "jdispatch.h"

#include <stdlib.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#ifdef __linux__
#include <sys/syscall.h>
#include <unistd.h>
#else
#include <pthread.h>
#endif

#ifndef JD_LIBDISPATCH_VERSION
#define JD_LIBDISPATCH_VERSION "system libdispatch"
#endif

static jd_task_fn task_fn;
static jd_apply_fn apply_fn;
static jd_handler_fn handler_fn;
static void (*attach_fn)(void);

void jd_callbacks_install(jd_task_fn task, jd_apply_fn apply) {
    task_fn = task;
    apply_fn = apply;
}

void jd_handler_install(jd_handler_fn handler) {
    handler_fn = handler;
}

void jd_attach_install(void (*attach)(void)) {
    attach_fn = attach;
}

void jd_attach_current_thread(void) {
    if (attach_fn) {
        attach_fn();
    }
}

void jd_task_trampoline(void *context) {
    jd_attach_current_thread();
    task_fn((int64_t)(intptr_t)context);
}

void jd_apply_trampoline(void *context, size_t index) {
    jd_attach_current_thread();
    apply_fn((int64_t)(intptr_t)context, (int64_t)index);
}

void jd_dq_java_handler(void *ctx, int32_t event) {
    jd_attach_current_thread();
    handler_fn((int64_t)(intptr_t)ctx, event);
}

void jd_queue_async(dispatch_queue_t queue, int64_t id) {
    dispatch_async_f(queue, (void *)(intptr_t)id, jd_task_trampoline);
}

const char *jd_libdispatch_version(void) {
    return JD_LIBDISPATCH_VERSION;
}

void jd_noop(void) {}

#ifndef __has_feature
#define __has_feature(x) 0
#endif

int64_t jd_malloc_in_use(void) {
#if __has_feature(address_sanitizer) || defined(__SANITIZE_ADDRESS__)
    return -1; /* ASan's allocator replaces malloc (and quarantines frees): no meaningful figure */
#elif defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    struct mallinfo2 mi = mallinfo2();
    return (int64_t)(mi.uordblks + mi.hblkhd);
#else
    return -1;
#endif
}

int64_t jd_thread_id(void) {
#ifdef __linux__
    return (int64_t)syscall(SYS_gettid);
#else
    uint64_t tid = 0;
    pthread_threadid_np(NULL, &tid);
    return (int64_t)tid;
#endif
}
