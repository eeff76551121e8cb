/*
 * File descriptors and memory: what the library does so that running out of them is an error, never a crash
 * (mapped by io.jdispatch.internal.JDispatchNative; io.jdispatch.internal.Reclaim retries on top of it).
 *
 * Linux libdispatch creates some descriptors lazily and crashes on purpose (DISPATCH_INTERNAL_CRASH: SIGILL)
 * when it cannot:
 *  - its epoll fd and eventfd (src/event/event_epoll.c, _dispatch_epoll_init), on the first source
 *    registration or the first wakeup of its manager queue (e.g. by the worker pool's monitor timer, started
 *    with the first worker thread);
 *  - the main queue's eventfd (src/queue.c, _dispatch_runloop_queue_handle_init), on the first wakeup of the
 *    main queue or when the thread that loaded libdispatch exits.
 * Others fail silently: a timerfd per clock (timers that never fire), a signalfd per watched signal and an
 * eventfd per READ/WRITE source on a regular file (sources that never fire). jd_dispatch_prime makes the
 * once-per-process ones exist while fds are free; jd_source.c holds one fd for each source of the per-source
 * kind from create to activation. Not covered: while a global queue has a backlog, the worker pool monitor
 * opens /proc/<tid>/stat once a second and crashes if that open fails (src/event/workqueue.c).
 */
#ifndef JD_RESOURCES_H
#define JD_RESOURCES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Once, at library load: makes libdispatch create its epoll fd and eventfd, its worker pool (and monitor
 * timer), the timerfds of the uptime and wall clocks and the main queue's eventfd, after checking that
 * enough fds are free (else it touches nothing and returns -EMFILE or -ENFILE). Returns 0, or -errno
 * (-ETIMEDOUT if a priming source did not run in 10 s). Idempotent once it returned 0.
 */
int32_t jd_dispatch_prime(void);

/*
 * An errno for a message, from C so that Java never hard-codes errno values: its name and strerror text,
 * e.g. "EEXIST (File exists)"; for EMFILE also the limit: "EMFILE (Too many open files; RLIMIT_NOFILE, the
 * limit of open files per process, is 256: ulimit -n)". Thread-local buffer: valid until the
 * thread's next call.
 */
const char *jd_errno_text(int32_t errnum);

/* Holds one fd (on /dev/null) for a step that will need it after other calls took theirs: the fd, or -errno.
 * jd_fd_unreserve closes it right before that step. */
int32_t jd_fd_reserve(void);
void jd_fd_unreserve(int32_t fd);

/* 1 for the errnos of exhausted resources a collection can give back (EMFILE, ENFILE, ENOMEM), else 0. */
int32_t jd_errno_is_exhaustion(int32_t errnum);

/*
 * Releases under way: objects whose close (or Cleaner) has run but whose fds and mappings libdispatch's
 * threads have not closed yet (a data queue's release waits for its cancel handlers; a source's fds close
 * after its cancel handler, a PROC/VNODE/MEMORYPRESSURE watcher's a moment later, uncounted). A create that
 * failed for lack of fds waits for them, and keeps waiting while releases begin or end.
 */
void jd_release_begin(void);
void jd_release_end(void);
/* Begun and not yet ended. */
int64_t jd_releases_pending(void);
/* Ended since the process started (it only grows). */
int64_t jd_releases_ended(void);

#ifdef __cplusplus
}
#endif
#endif /* JD_RESOURCES_H */
