/*
 * Queues, groups, semaphores and time: the parts that need a shim (Java ids as task contexts, macros,
 * struct arguments). Mapped by io.jdispatch.internal.QueueNative; plain libdispatch functions
 * (dispatch_suspend, dispatch_group_enter, dispatch_semaphore_wait, dispatch_time ...) are mapped directly.
 */
#ifndef JD_QUEUE_H
#define JD_QUEUE_H

#include "jdispatch.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * dispatch_queue_create with DISPATCH_QUEUE_SERIAL or DISPATCH_QUEUE_CONCURRENT, optionally initially inactive.
 * The queue is tagged with itself as a queue-specific key so that jd_queue_is_current can find it.
 */
dispatch_queue_t jd_queue_create(const char *label, int concurrent, int inactive);

/* 1 when the calling thread runs a task of `queue` or of a queue targeting it (dispatch_get_specific). */
int jd_queue_is_current(dispatch_queue_t queue);

void jd_queue_barrier_async(dispatch_queue_t queue, int64_t id);
void jd_queue_barrier_sync(dispatch_queue_t queue, int64_t id);
void jd_queue_after(dispatch_time_t when, dispatch_queue_t queue, int64_t id);
/* dispatch_apply_f; a NULL queue means DISPATCH_APPLY_AUTO. */
void jd_queue_apply(size_t iterations, dispatch_queue_t queue, int64_t id);

void jd_group_async(dispatch_group_t group, dispatch_queue_t queue, int64_t id);
void jd_group_notify(dispatch_group_t group, dispatch_queue_t queue, int64_t id);

/* dispatch_walltime for a wall-clock instant (seconds + nanoseconds since the epoch) plus delta ns. */
dispatch_time_t jd_walltime(int64_t seconds, int64_t nanos, int64_t delta);

#ifdef __cplusplus
}
#endif
#endif /* JD_QUEUE_H */
