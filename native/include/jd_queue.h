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

/* DISPATCH_QUEUE_SERIAL or DISPATCH_QUEUE_CONCURRENT (macros), to start dispatch_queue_attr_make_* from. */
dispatch_queue_attr_t jd_queue_attr(int concurrent);

/*
 * dispatch_queue_create(label, attr). The queue is tagged with itself as a queue-specific key so that
 * jd_queue_is_current and jd_queue_on_frames can find it.
 */
dispatch_queue_t jd_queue_create(const char *label, dispatch_queue_attr_t attr);

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

/* ---- dispatch_async_and_wait ------------------------------------------------------------------------- */

void jd_queue_async_and_wait(dispatch_queue_t queue, int64_t id);
void jd_queue_barrier_async_and_wait(dispatch_queue_t queue, int64_t id);

/* ---- queue-specific data, context and finalizer ------------------------------------------------------ */

/*
 * A key for dispatch_queue_set_specific no other key equals: odd (a queue's own address, the key of its
 * jd_queue_create tag, is even), from a counter (never reused, nothing to free).
 */
int64_t jd_specific_key_next(void);

/*
 * dispatch_queue_set_specific(queue, key, id, destructor) with a Java id as the value (0: remove it); the
 * destructor is jd_task_trampoline, which hands the id back to Java when libdispatch drops the value (replaced,
 * removed, or the queue freed).
 */
void jd_queue_set_specific(dispatch_queue_t queue, int64_t key, int64_t id);
/* dispatch_queue_get_specific / dispatch_get_specific: the Java id, or 0. */
int64_t jd_queue_get_specific(dispatch_queue_t queue, int64_t key);
int64_t jd_get_specific(int64_t key);

/*
 * dispatch_set_context(queue, id) and dispatch_set_finalizer_f(queue, jd_task_trampoline): once the queue is
 * freed (after its last work item), libdispatch runs the trampoline with the id on the queue's target.
 */
void jd_queue_set_context(dispatch_queue_t queue, int64_t id);
int64_t jd_queue_get_context(dispatch_queue_t queue);

/* ---- what dispatch_assert_queue would say --------------------------------------------------------------
 *
 * libdispatch's dispatch_assert_queue(q) returns when q is on the calling thread's queue frames (the current
 * queue and its targets, then for each enclosing dispatch_sync the queue it was called from, and so on), and
 * aborts the process otherwise. The frames are private, so the shims that nest one (sync, barrier sync,
 * async-and-wait, apply) record on the calling thread the queue it was called from (a jd_frame on the C stack)
 * and the barrier work items record the queue they run as a barrier of. From those:
 */

/*
 * 1 when `queue` is on the calling thread's frames as far as they are known here: `queue` (if created by
 * jd_queue_create) is current or a target of the current queue, or is the current queue itself (a global
 * queue), or an enclosing sync, async-and-wait or apply was called from `queue`. When 1, dispatch_assert_queue
 * returns; when 0, it may still return (a target of an enclosing frame's queue, or a global queue reached
 * through targets, are not known here).
 */
int jd_queue_on_frames(dispatch_queue_t queue);
/* How many enclosing sync / async-and-wait / apply frames the calling thread is in (jd_queue_on_frames knows
   less of their queues than libdispatch). */
int jd_queue_frame_depth(void);
/* 1 when a barrier work item of `queue` (barrier async, sync or async-and-wait) runs on the calling thread. */
int jd_queue_in_barrier(dispatch_queue_t queue);
/*
 * Calls body(context) recorded as a barrier of the current queue (what jd_queue_in_barrier sees): for shims whose
 * work libdispatch runs as a barrier, called from inside that work (jd_block.cpp's barrier runs of work items).
 */
void jd_queue_run_as_barrier(dispatch_function_t body, void *context);

#ifdef __cplusplus
}
#endif
#endif /* JD_QUEUE_H */
