/*
 * Dispatch sources (dispatch_source_create(3)) for io.jdispatch.DispatchSource.
 *
 * Every source's libdispatch context is a jd_source_ctx: the Java id plus what must happen when the source
 * is cancelled. Handlers are the three C trampolines below, which call the one Java callback with
 * (id, JD_SOURCE_EVENT | JD_SOURCE_CANCEL | JD_SOURCE_REGISTRATION).
 *
 * Types Linux libdispatch lacks (PROC, VNODE, MEMORYPRESSURE) are a user-visible DATA_OR source fed by a
 * hidden READ source on a kernel fd (pidfd, inotify, epoll over PSI triggers) whose handler maps the kernel
 * event to the man page's mask bits and calls dispatch_source_merge_data. SIGNAL, which Linux libdispatch
 * cannot count, is a DATA_ADD source fed the same way from an eventfd that a signal handler of ours adds 1 to
 * per delivered signal (jd_source_linux.c). Errors are returned as -errno.
 */
#ifndef JD_SOURCE_H
#define JD_SOURCE_H

#include <dispatch/dispatch.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { JD_SOURCE_EVENT = 0, JD_SOURCE_CANCEL = 1, JD_SOURCE_REGISTRATION = 2 };

/* Type codes: the rows of jd_source.c, which say what each type does; Java looks each up by name (jd_source_type_code). */
enum {
    JD_TYPE_DATA_ADD = 1, JD_TYPE_DATA_OR, JD_TYPE_DATA_REPLACE, JD_TYPE_MACH_SEND, JD_TYPE_MACH_RECV,
    JD_TYPE_MEMORYPRESSURE, JD_TYPE_PROC, JD_TYPE_READ, JD_TYPE_SIGNAL, JD_TYPE_TIMER, JD_TYPE_VNODE,
    JD_TYPE_WRITE,
    JD_TYPE_LAST = JD_TYPE_WRITE
};

/* The type code of a DispatchSource.Type constant's name ("PROC" -> JD_TYPE_PROC), -1 if no type has it. */
int32_t jd_source_type_code(const char *name);

/* The C name of one mask bit of `type` ("DISPATCH_PROC_EXIT"), NULL if the type defines no such bit (or `bit` is
 * not a single bit). */
const char *jd_source_mask_bit_name(int32_t type, uint64_t bit);

/* The mask bits dispatch_source_create(3) defines for `type` (0 for an unknown type), with the values of
 * <dispatch/source.h> (DISPATCH_PROC_EXIT ...: swift-corelibs' header defines them on Linux too). */
uint64_t jd_source_known_mask(int32_t type);

/* The mask bits of `type` this OS observes, 0 for a type it cannot create. jd_source_create refuses a known bit
 * outside them with -ENOTSUP; an unknown bit with -ENOTSUP for the types emulated here, with libdispatch's
 * -EINVAL for its own. */
uint64_t jd_source_supported_mask(int32_t type);

/* PSI triggers (window 2 s: the kernel's minimum multiple for callers without CAP_SYS_RESOURCE). */
#define JD_PSI_WARN     "some 100000 2000000" /* some task stalled on memory >= 100 ms per 2 s */
#define JD_PSI_CRITICAL "full 100000 2000000" /* all tasks stalled on memory >= 100 ms per 2 s */
#define JD_PSI_NORMAL_AFTER_NS 4000000000ull  /* two quiet windows after the last trigger -> NORMAL */

/* Flags of jd_source_create for PROC: what the caller knows of the pid (from a java.lang.ProcessHandle). */
enum {
    JD_PROC_EXISTED = 1, /* the pid named a process: ESRCH then means it has exited and was reaped (PROC_EXIT) */
    JD_PROC_EXITED = 2   /* the process has exited: no pidfd (the pid may be reused), PROC_EXIT at once */
};

typedef void (*jd_source_fn)(int64_t id, int32_t kind);

void jd_source_install(jd_source_fn fn);

/* Creates an inactive source with `id` as context; returns the dispatch_source_t, or -errno. `flags`:
 * JD_PROC_* for PROC, else 0. */
int64_t jd_source_create(int32_t type, uint64_t handle, uint64_t mask, int32_t flags, dispatch_queue_t queue,
                         int64_t id);

/* Installs (on != 0) or unsets the event / registration handler trampoline. */
void jd_source_set_event(dispatch_source_t source, int32_t on);
void jd_source_set_registration(dispatch_source_t source, int32_t on);

/* Closes fd right after the cancel handler returned (-1: close nothing). */
void jd_source_close_on_cancel(dispatch_source_t source, int32_t fd);

/* Gives back the fd a SIGNAL or regular-file READ/WRITE source holds for libdispatch: call right before
 * activating it (a no-op for the other sources, and after the first call). */
void jd_source_unreserve(dispatch_source_t source);

/* dispatch_source_cancel, counted in jd_releases_pending until the source's fds are closed. At most once per
 * source: its context is freed after the cancel handler. */
void jd_source_cancel(dispatch_source_t source);


/* Why a signal may not be watched in a JVM (a sentence naming the signal and the rule), or NULL if it may. */
const char *jd_signal_refusal(int32_t signo);

/* Why jd_source_create(type, ...) failed with -errnum, as a parenthesized sentence for the message ("" if
 * strerror says it all). */
const char *jd_source_explain(int32_t type, int32_t errnum);

/* strerror(errnum), for messages on the Java side. */
const char *jd_strerror(int32_t errnum);


/* kill(2): sends signo to pid; 0 or -errno. (Java has no way to send a signal without a `kill` program.) */
int32_t jd_signal_send(int64_t pid, int32_t signo);

/* SIGRTMIN: glibc decides it at run time (it keeps the first real-time signals for itself). */
int32_t jd_signal_rtmin(void);

/* 0 when fd is an open descriptor, else -errno (EBADF). */
int32_t jd_fd_check(int32_t fd);

#ifdef __cplusplus
}
#endif
#endif /* JD_SOURCE_H */
