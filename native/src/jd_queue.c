#include "jd_queue.h"

#include <stdatomic.h>
#include <time.h>

#ifndef __APPLE__
/* Exported by swift-corelibs-libdispatch 6.0.3 but declared only in its uninstalled private/workloop_private.h
   (Darwin declares them in <dispatch/queue.h>). */
void dispatch_async_and_wait_f(dispatch_queue_t queue, void *context, dispatch_function_t work);
void dispatch_barrier_async_and_wait_f(dispatch_queue_t queue, void *context, dispatch_function_t work);
#endif

dispatch_queue_attr_t jd_queue_attr(int concurrent) {
    return concurrent ? DISPATCH_QUEUE_CONCURRENT : DISPATCH_QUEUE_SERIAL;
}

dispatch_queue_t jd_queue_create(const char *label, dispatch_queue_attr_t attr) {
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

/* ---- the frames libdispatch's assertions look at (see jd_queue.h) ------------------------------------ */

/* A queue frame one of the shims below nests: the queue the caller ran on, and the frame around this one. */
struct jd_frame {
    dispatch_queue_t from;
    const struct jd_frame *outer;
};
/* A barrier work item running: its queue, and the barrier item around it on this thread. */
struct jd_barrier {
    dispatch_queue_t queue;
    const struct jd_barrier *outer;
};
static _Thread_local const struct jd_frame *frames;
static _Thread_local const struct jd_barrier *barriers;

/* Outside any work item dispatch_get_current_queue says libdispatch's default queue, which no wrapper names. */
static void frame_enter(struct jd_frame *f) {
    f->from = dispatch_get_current_queue();
    f->outer = frames;
    frames = f;
}

static void frame_leave(const struct jd_frame *f) {
    frames = f->outer;
}

void jd_queue_run_as_barrier(dispatch_function_t body, void *context) {
    struct jd_barrier b = {dispatch_get_current_queue(), barriers};
    barriers = &b;
    body(context);
    barriers = b.outer;
}

/* Runs a barrier work item; libdispatch runs it as its queue's frame, so the current queue is that queue. */
static void barrier_trampoline(void *context) {
    jd_queue_run_as_barrier(jd_task_trampoline, context);
}

int jd_queue_on_frames(dispatch_queue_t queue) {
    if (jd_queue_is_current(queue) || dispatch_get_current_queue() == queue) {
        return 1;
    }
    for (const struct jd_frame *f = frames; f != NULL; f = f->outer) {
        if (f->from == queue) {
            return 1;
        }
    }
    return 0;
}

int jd_queue_frame_depth(void) {
    int depth = 0;
    for (const struct jd_frame *f = frames; f != NULL; f = f->outer) {
        depth++;
    }
    return depth;
}

int jd_queue_in_barrier(dispatch_queue_t queue) {
    for (const struct jd_barrier *b = barriers; b != NULL; b = b->outer) {
        if (b->queue == queue) {
            return 1;
        }
    }
    return 0;
}

/* ---- submitting work ------------------------------------------------------------------------------------ */

void jd_queue_sync(dispatch_queue_t queue, int64_t id) {
    struct jd_frame f;
    frame_enter(&f);
    dispatch_sync_f(queue, (void *)(intptr_t)id, jd_task_trampoline);
    frame_leave(&f);
}

void jd_queue_barrier_async(dispatch_queue_t queue, int64_t id) {
    dispatch_barrier_async_f(queue, (void *)(intptr_t)id, barrier_trampoline);
}

void jd_queue_barrier_sync(dispatch_queue_t queue, int64_t id) {
    struct jd_frame f;
    frame_enter(&f);
    dispatch_barrier_sync_f(queue, (void *)(intptr_t)id, barrier_trampoline);
    frame_leave(&f);
}

void jd_queue_async_and_wait(dispatch_queue_t queue, int64_t id) {
    struct jd_frame f;
    frame_enter(&f);
    dispatch_async_and_wait_f(queue, (void *)(intptr_t)id, jd_task_trampoline);
    frame_leave(&f);
}

void jd_queue_barrier_async_and_wait(dispatch_queue_t queue, int64_t id) {
    struct jd_frame f;
    frame_enter(&f);
    dispatch_barrier_async_and_wait_f(queue, (void *)(intptr_t)id, barrier_trampoline);
    frame_leave(&f);
}

void jd_queue_after(dispatch_time_t when, dispatch_queue_t queue, int64_t id) {
    dispatch_after_f(when, queue, (void *)(intptr_t)id, jd_task_trampoline);
}

void jd_queue_apply(size_t iterations, dispatch_queue_t queue, int64_t id) {
    struct jd_frame f;
    frame_enter(&f);
    dispatch_apply_f(iterations, queue, (void *)(intptr_t)id, jd_apply_trampoline);
    frame_leave(&f);
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

/* ---- queue-specific data, context and finalizer ---------------------------------------------------------- */

int64_t jd_specific_key_next(void) {
    static _Atomic int64_t next = 1;
    return atomic_fetch_add(&next, 2);
}

void jd_queue_set_specific(dispatch_queue_t queue, int64_t key, int64_t id) {
    dispatch_queue_set_specific(queue, (const void *)(intptr_t)key, id != 0 ? (void *)(intptr_t)id : NULL,
                                jd_task_trampoline);
}

int64_t jd_queue_get_specific(dispatch_queue_t queue, int64_t key) {
    return (int64_t)(intptr_t)dispatch_queue_get_specific(queue, (const void *)(intptr_t)key);
}

int64_t jd_get_specific(int64_t key) {
    return (int64_t)(intptr_t)dispatch_get_specific((const void *)(intptr_t)key);
}

void jd_queue_set_context(dispatch_queue_t queue, int64_t id) {
    dispatch_set_finalizer_f(queue, jd_task_trampoline);
    dispatch_set_context(queue, (void *)(intptr_t)id);
}

int64_t jd_queue_get_context(dispatch_queue_t queue) {
    return (int64_t)(intptr_t)dispatch_get_context(queue);
}
