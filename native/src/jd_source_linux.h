/* Linux kernel watchers behind the PROC, VNODE, MEMORYPRESSURE and SIGNAL sources (private to jd_source.c). */
#ifndef JD_SOURCE_LINUX_H
#define JD_SOURCE_LINUX_H

#include "jd_source.h"

/*
 * Opens the kernel object for `type` and starts a hidden READ source on it that merges the observed mask
 * bits into `user` (a DATA_OR source, retained until the watcher is cancelled). Returns 0 and the hidden
 * source in *hidden (to be cancelled and released by the caller), or -errno. `flags`: JD_PROC_* (PROC only);
 * for a process that has already exited, PROC_EXIT is merged at once and *hidden is NULL.
 */
int jd_kernel_watch_create(int32_t type, uint64_t handle, uint64_t mask, int32_t flags, dispatch_source_t user,
                           dispatch_source_t *hidden);

/*
 * Counts every delivery of signo (1 .. NSIG-1) into `user` (a DATA_ADD source, not retained): the first source
 * of a signal installs the counting handler, saving the previous disposition. Returns 0 or -errno.
 */
int jd_signal_watch_add(int32_t signo, dispatch_source_t user);

/* Stops counting for `user`; the last source of signo restores the disposition saved by the first. */
void jd_signal_watch_remove(int32_t signo, dispatch_source_t user);

#endif
