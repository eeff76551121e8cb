#include "jd_queue.h"

#include <time.h>

dispatch_queue_t jd_queue_create(const char *label, int concurrent, int inactive) {
    dispatch_queue_attr_t attr = concurrent ? DISPATCH_QUEUE_CONCURRENT : DISPATCH_QUEUE_SERIAL;
    if (inactive) {
        attr = dispatch_queue_attr_make_initially_inactive(attr);
    }
    dispatch_queue_t queue = dispatch_queue_create(label, attr);
    if (queue != NULL) {
        /* The queue's own address is a key nobody else uses; the value only has to be non-NULL. */
        dispatch_queue_set_specific(queue, queue, queue, NULL);
    }
    return queue;
}

int jd_queue_is_current(dispatch_queue_t queue) {
    return dispatch_get_specific(queue) == (void *)queue;
}

void jd_queue_barrier_async(dispatch_queue_t queue, int64_t id) {
    dispatch_barrier_async_f(queue, (void *)(intptr_t)id, jd_task_trampoline);
}

void jd_queue_barrier_sync(dispatch_queue_t queue, int64_t id) {
    dispatch_barrier_sync_f(queue, (void *)(intptr_t)id, jd_task_trampoline);
}

void jd_queue_after(dispatch_time_t when, dispatch_queue_t queue, int64_t id) {
    dispatch_after_f(when, queue, (void *)(intptr_t)id, jd_task_trampoline);
}

void jd_queue_apply(size_t iterations, dispatch_queue_t queue, int64_t id) {
    dispatch_apply_f(iterations, queue, (void *)(intptr_t)id, jd_apply_trampoline);
}

void jd_group_async(dispatch_group_t group, dispatch_queue_t queue, int64_t id) {
    dispatch_group_async_f(group, queue, (void *)(intptr_t)id, jd_task_trampoline);
}

void jd_group_notify(dispatch_group_t group, dispatch_queue_t queue, int64_t id) {
    dispatch_group_notify_f(group, queue, (void *)(intptr_t)id, jd_task_trampoline);
}

dispatch_time_t jd_walltime(int64_t seconds, int64_t nanos, int64_t delta) {
    struct timespec when = {.tv_sec = (time_t)seconds, .tv_nsec = (long)nanos};
    return dispatch_walltime(&when, delta);
}
