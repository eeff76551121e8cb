/*
 * The main queue (dispatch_get_main_queue()) and a way for a Java thread to service it, mapped by
 * io.jdispatch.internal.MainQueueNative; io.jdispatch.Dispatch.runMainQueue is the API.
 *
 * libdispatch binds its main queue to the thread that ran its library constructor: in a JVM, the Java thread that
 * loaded JDispatch. Only that thread may drain it. dispatch_main() is no way to do so in a JVM: it pthread_exits
 * the calling thread (a JVM thread must return to the JVM and detach). Linux libdispatch has the hook
 * CoreFoundation's run loop uses instead, exported by 6.0.3 but declared only in its private headers:
 * _dispatch_get_main_queue_handle_4CF() (an eventfd, written on every wakeup of the main queue) and
 * _dispatch_main_queue_callback_4CF() (runs what is queued, on the bound thread; it aborts on any other).
 * When the bound thread exits, libdispatch turns the main queue into an ordinary serial queue run by its workers
 * (and closes the eventfd). Not on Darwin, where CFRunLoop or dispatch_main services it
 * (jd_main_queue_supported is 0 there).
 */
#ifndef JD_MAIN_QUEUE_H
#define JD_MAIN_QUEUE_H

#include "jdispatch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 where the calls below can service the main queue (Linux), else 0. */
int32_t jd_main_queue_supported(void);

/* dispatch_get_main_queue(), tagged (once) like jd_queue_create's queues for jd_queue_is_current. */
dispatch_queue_t jd_main_queue(void);

/*
 * 1 when the calling thread is the one the main queue is bound to and runs no other queue's task now: its current
 * queue is the main queue (a thread-local libdispatch sets on the bound thread). Also 1 inside a main-queue task,
 * so the caller must rule out nesting and a main queue turned ordinary (its bound thread gone).
 */
int32_t jd_main_queue_is_current_thread(void);

/* _dispatch_main_queue_callback_4CF: runs the main queue's tasks queued now. */
void jd_main_queue_drain(void);

/* Blocks until the main queue's eventfd is written (work was queued, or jd_main_queue_wake), then resets it.
 * 0, or -errno. Only while the bound thread lives: its exit closes the fd. */
int32_t jd_main_queue_wait(void);

/* Writes the eventfd: a jd_main_queue_wait in progress returns. Same lifetime rule. 0 or -errno. */
int32_t jd_main_queue_wake(void);

#ifdef __cplusplus
}
#endif
#endif /* JD_MAIN_QUEUE_H */
