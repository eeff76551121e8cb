/* Linux kernel watchers behind the PROC, VNODE, MEMORYPRESSURE and SIGNAL sources (private to jd_source.c). */
#ifndef JD_SOURCE_LINUX_H
#define JD_SOURCE_LINUX_H

#include "jd_source.h"

typedef struct jd_watch jd_watch;

/*
 * How a kernel watcher observes one source type: the watcher part of that type's row in jd_source.c.
 * `open` gets the kernel object (checked handle, supported mask) into the watch, or returns -errno with what
 * it opened left in the watch for the caller to close; a watch whose open left nothing to watch has merged
 * all there is already (PROC of an exited process). `on_event` runs when the kernel object is readable and
 * merges the man page's mask bits for what it reads.
 */
typedef struct jd_kernel_watcher {
    int (*open)(jd_watch *w, uint64_t handle, uint64_t mask, int32_t flags);
    dispatch_function_t on_event; /* context: the jd_watch */
} jd_kernel_watcher;

extern const jd_kernel_watcher jd_watcher_proc;           /* a pidfd */
extern const jd_kernel_watcher jd_watcher_vnode;          /* inotify on the fd's path, fstat for sizes and links */
extern const jd_kernel_watcher jd_watcher_memorypressure; /* an epoll fd over two PSI triggers */

/*
 * Opens the watcher's kernel object and starts a hidden READ source on it that merges the observed mask bits
 * into `user` (a DATA_OR source, retained until the watcher is cancelled). Returns 0 and the hidden source in
 * *hidden (to be cancelled and released by the caller; NULL when there is nothing to watch), or -errno. The
 * caller has checked the handle and that `mask` holds only bits the watcher observes; `flags`: JD_PROC_* (PROC).
 */
int jd_kernel_watch_create(const jd_kernel_watcher *watcher, uint64_t handle, uint64_t mask, int32_t flags,
                           dispatch_source_t user, dispatch_source_t *hidden);

/*
 * Counts every delivery of signo (1 .. NSIG-1) into `user` (a DATA_ADD source, not retained): the first source
 * of a signal installs the counting handler, saving the previous disposition. Returns 0 or -errno.
 */
int jd_signal_watch_add(int32_t signo, dispatch_source_t user);

/* Stops counting for `user`; the last source of signo restores the disposition saved by the first. */
void jd_signal_watch_remove(int32_t signo, dispatch_source_t user);

#endif
