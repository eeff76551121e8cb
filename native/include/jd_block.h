/*
 * Work items: dispatch block objects (dispatch_block_create(3) and the dispatch_block_* functions) whose body
 * is a Java task. Mapped by io.jdispatch.internal.BlockNative; io.jdispatch.DispatchWorkItem is the API.
 *
 * A block crosses as an opaque pointer (this header needs no -fblocks: the JNI code includes it). Its body
 * calls the task trampoline (jdispatch.h) with `run_id` each time libdispatch runs it and it is not cancelled;
 * that id stays registered on the Java side. When libdispatch frees the block (the owner's Block_release and
 * every submission's copy are gone), the trampoline is called once with `dispose_id`: then no run can come
 * any more and Java drops both ids. libdispatch's own rules (jd_block.cpp checks none of them; Java does):
 * a block waited for (dispatch_block_wait) or observed (dispatch_block_notify) may run only once, and may be
 * waited for only once; breaking them aborts the process (tests/native/test_block_rules.c).
 */
#ifndef JD_BLOCK_H
#define JD_BLOCK_H

#include "jdispatch.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * dispatch_block_create(flags, body) with the body described above; NULL when libdispatch refuses the flags
 * (not a bitwise OR of DISPATCH_BLOCK_*: then the dispose call has happened already, before this returns) or
 * when there is no memory for the shim's state (then no call at all).
 */
void *jd_block_create(uint64_t flags, int64_t run_id, int64_t dispose_id);

/* Block_copy (on a block made by jd_block_create: another reference to the same block) and Block_release. */
void *jd_block_retain(void *block);
void jd_block_release(void *block);

/* Calls the block on this thread (what `block()` does in C): the direct execution of a work item. */
void jd_block_invoke(void *block);

void jd_block_cancel(void *block);
intptr_t jd_block_testcancel(void *block);
/* dispatch_block_wait: 0 once the block's first execution completed, non-zero when `timeout` passed first. */
intptr_t jd_block_wait(void *block, dispatch_time_t timeout);
/* dispatch_block_notify with another work item, or with a one-shot Java task (`id`, run by the task trampoline). */
void jd_block_notify_block(void *block, dispatch_queue_t queue, void *notification);
void jd_block_notify_task(void *block, dispatch_queue_t queue, int64_t id);

/* dispatch_block_perform(flags, body): the body runs the one-shot Java task `id` once, on this thread. */
void jd_block_perform_task(uint64_t flags, int64_t id);

/* The block-taking submissions: dispatch_async(queue, block) and its kin, with a work item. */
void jd_block_async(dispatch_queue_t queue, void *block);
void jd_block_barrier_async(dispatch_queue_t queue, void *block);
void jd_block_sync(dispatch_queue_t queue, void *block);
void jd_block_barrier_sync(dispatch_queue_t queue, void *block);
void jd_block_after(dispatch_time_t when, dispatch_queue_t queue, void *block);
void jd_block_group_async(dispatch_group_t group, dispatch_queue_t queue, void *block);
void jd_block_group_notify(dispatch_group_t group, dispatch_queue_t queue, void *block);

#ifdef __cplusplus
}
#endif
#endif /* JD_BLOCK_H */
