#include "jd_source.h"
#include "jdispatch.h"

#include "jd_resources.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef __linux__
#include "jd_source_linux.h"
#endif

static jd_source_fn source_fn;

/* The context of every user-visible source. */
typedef struct jd_source_ctx {
    int64_t id;
    dispatch_source_t self;    /* our own reference: handlers may use the source until the cancel handler ends */
    _Atomic int close_fd;      /* closed right after the cancel handler, -1: none */
    _Atomic int reserve_fd;    /* held until activation for the fd libdispatch then creates, -1: none */
    _Atomic bool cancel_counted; /* cancelled by jd_source_cancel: the cancel trampoline ends that release */
    dispatch_source_t hidden;  /* the kernel watcher feeding this source (PROC, VNODE, MEMORYPRESSURE) */
    int32_t signo;             /* Linux SIGNAL: the signal this source counts, else 0 */
} jd_source_ctx;

void jd_source_install(jd_source_fn fn) {
    source_fn = fn;
}

static void event_trampoline(void *context) {
    jd_attach_current_thread();
    source_fn(((jd_source_ctx *)context)->id, JD_SOURCE_EVENT);
}

static void registration_trampoline(void *context) {
    jd_attach_current_thread();
    source_fn(((jd_source_ctx *)context)->id, JD_SOURCE_REGISTRATION);
}

/* Runs once, as the source's last callback: Java's cancel handler, then the fd and the kernel watcher. A signal
 * is given back first, so that the cancel handler already sees the disposition the signal had before. */
static void cancel_trampoline(void *context) {
    jd_source_ctx *ctx = context;
    jd_attach_current_thread();
#ifdef __linux__
    if (ctx->signo) {
        jd_signal_watch_remove(ctx->signo, ctx->self);
    }
#endif
    source_fn(ctx->id, JD_SOURCE_CANCEL);
    int fds[2] = {atomic_exchange(&ctx->close_fd, -1), atomic_exchange(&ctx->reserve_fd, -1)};
    for (int i = 0; i < 2; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
        }
    }
    if (ctx->hidden) {
        dispatch_source_cancel(ctx->hidden);
        dispatch_release(ctx->hidden);
    }
    if (atomic_load(&ctx->cancel_counted)) {
        jd_release_end();
    }
    dispatch_release(ctx->self);
    free(ctx);
}

const char *jd_signal_refusal(int32_t signo) {
    switch (signo) {
    case SIGSEGV: return "SIGSEGV: HotSpot turns it into NullPointerException, safepoint polls and stack banging";
    case SIGBUS: return "SIGBUS: HotSpot handles it (e.g. on truncated mapped files)";
    case SIGFPE: return "SIGFPE: HotSpot turns it into ArithmeticException";
    case SIGILL: return "SIGILL: HotSpot uses it for deoptimization traps";
    case SIGTRAP: return "SIGTRAP: HotSpot and debuggers use it";
    case SIGABRT: return "SIGABRT: abort() of a fatal JVM error (hs_err) must stay fatal";
    case SIGQUIT: return "SIGQUIT: the JVM prints a thread dump on it";
    case SIGUSR2: return "SIGUSR2: HotSpot's thread suspend/resume signal";
    case SIGPIPE: return "SIGPIPE: the JVM handles it so that writes to closed sockets fail with IOException";
    case SIGXFSZ: return "SIGXFSZ: the JVM handles it so that writes past the size limit fail with IOException";
    case SIGINT: return "SIGINT: the JVM runs its shutdown hooks on it, and Linux libdispatch would replace that handler";
    case SIGTERM: return "SIGTERM: the JVM runs its shutdown hooks on it, and Linux libdispatch would replace that handler";
    case SIGHUP: return "SIGHUP: the JVM runs its shutdown hooks on it, and Linux libdispatch would replace that handler";
    case SIGKILL: return "SIGKILL: it cannot be caught or observed";
    case SIGSTOP: return "SIGSTOP: it cannot be caught or observed";
    default:
        if (signo < 1 || signo >= NSIG) {
            return "out of range: signal numbers are 1 .. NSIG-1";
        }
#ifdef SIGRTMIN
        if (signo > SIGSYS && signo < SIGRTMIN) {
            return "reserved: glibc uses the signals below SIGRTMIN for thread cancellation and setxid";
        }
#endif
        return NULL;
    }
}

const char *jd_source_explain(int32_t type, int32_t errnum) {
    switch (type) {
    case JD_TYPE_PROC:
        return errnum == ESRCH ? " (pidfd_open: no process has this id)"
               : errnum == EMFILE || errnum == ENFILE ? " (pidfd_open: a PROC source needs 1 fd)"
               : " (pidfd_open failed)";
    case JD_TYPE_VNODE:
        switch (errnum) {
        case ESTALE: return " (inotify watches a path: the fd's path no longer names its file (deleted, renamed "
                            "away), or the fd is a pipe/socket)";
        case EMFILE: return " (no inotify instance left: each VNODE source uses one, and the kernel allows "
                            "fs.inotify.max_user_instances per user (often 128); or the fd limit is reached)";
        case ENOSPC: return " (inotify watch limit reached: fs.inotify.max_user_watches)";
        default: return " (inotify could not watch the fd's path)";
        }
    case JD_TYPE_MEMORYPRESSURE:
        return errnum == ENOENT ? " (no PSI here: /proc/pressure/memory is missing)"
               : errnum == EMFILE || errnum == ENFILE ? " (a MEMORYPRESSURE source needs 3 fds: an epoll fd and two PSI triggers)"
               : " (writing a PSI memory trigger to /proc/pressure/memory was refused)";
    case JD_TYPE_SIGNAL:
        return errnum == EMFILE || errnum == ENFILE
               ? " (the first source of a signal opens an eventfd for its count: the fd limit is reached)" : "";
    case JD_TYPE_READ:
    case JD_TYPE_WRITE:
        return errnum == EMFILE || errnum == ENFILE ? " (libdispatch watches a regular file with an eventfd: 1 fd)" : "";
    default:
        return "";
    }
}

const char *jd_strerror(int32_t errnum) {
    return strerror(errnum);
}

int32_t jd_signal_send(int64_t pid, int32_t signo) {
    return kill((pid_t)pid, signo) == 0 ? 0 : -errno;
}

int32_t jd_signal_rtmin(void) {
    return SIGRTMIN;
}

int32_t jd_fd_check(int32_t fd) {
    return fd >= 0 && fcntl(fd, F_GETFD) != -1 ? 0 : -EBADF;
}

static dispatch_source_type_t libdispatch_type(int32_t type) {
    switch (type) {
    case JD_TYPE_DATA_ADD: return DISPATCH_SOURCE_TYPE_DATA_ADD;
    case JD_TYPE_DATA_OR: return DISPATCH_SOURCE_TYPE_DATA_OR;
    case JD_TYPE_DATA_REPLACE: return DISPATCH_SOURCE_TYPE_DATA_REPLACE;
    case JD_TYPE_READ: return DISPATCH_SOURCE_TYPE_READ;
    case JD_TYPE_WRITE: return DISPATCH_SOURCE_TYPE_WRITE;
#ifndef __linux__
    case JD_TYPE_SIGNAL: return DISPATCH_SOURCE_TYPE_SIGNAL; /* kqueue counts every signal */
#endif
    case JD_TYPE_TIMER: return DISPATCH_SOURCE_TYPE_TIMER;
    default: return NULL;
    }
}

/*
 * Linux libdispatch opens an fd of its own when it registers a READ/WRITE source on a regular file (an
 * always-readable eventfd), and if it cannot, the source silently never fires. Such a source holds one fd from
 * create to activation, given back just before libdispatch needs one: a create at the fd limit then fails with
 * EMFILE instead. (A SIGNAL source is ours on Linux: its eventfd is opened at create.)
 */
static int needs_reserve(int32_t type, uint64_t handle) {
#ifdef __linux__
    struct stat st;
    return (type == JD_TYPE_READ || type == JD_TYPE_WRITE) && fstat((int)handle, &st) == 0 && S_ISREG(st.st_mode);
#else
    (void)type;
    (void)handle;
    return 0;
#endif
}

int64_t jd_source_create(int32_t type, uint64_t handle, uint64_t mask, int32_t flags, dispatch_queue_t queue,
                         int64_t id) {
    jd_source_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        return -ENOMEM;
    }
    ctx->id = id;
    atomic_init(&ctx->close_fd, -1);
    atomic_init(&ctx->reserve_fd, -1);
    atomic_init(&ctx->cancel_counted, false);
    dispatch_source_t source;
    dispatch_source_type_t native = libdispatch_type(type);
    if (native) {
        if ((type == JD_TYPE_READ || type == JD_TYPE_WRITE) && jd_fd_check((int32_t)handle) != 0) {
            free(ctx);
            return -EBADF;
        }
        if (type == JD_TYPE_SIGNAL && (handle < 1 || handle >= NSIG)) {
            free(ctx);
            return -EINVAL;
        }
        int reserve = -1;
        if (needs_reserve(type, handle) && (reserve = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
            int err = errno;
            free(ctx);
            return -err;
        }
        source = dispatch_source_create(native, (uintptr_t)handle, (uintptr_t)mask, queue);
        if (!source) {
            if (reserve >= 0) close(reserve);
            free(ctx);
            return -EINVAL;
        }
        atomic_store(&ctx->reserve_fd, reserve);
    } else {
#ifdef __linux__
        int is_signal = type == JD_TYPE_SIGNAL;
        if (is_signal && (handle < 1 || handle >= NSIG)) {
            free(ctx);
            return -EINVAL;
        }
        /* Signals are counted (DATA_ADD), the kernel watchers report mask bits (DATA_OR). */
        source = dispatch_source_create(is_signal ? DISPATCH_SOURCE_TYPE_DATA_ADD : DISPATCH_SOURCE_TYPE_DATA_OR,
                                        0, 0, queue);
        if (!source) {
            free(ctx);
            return -ENOMEM;
        }
        int rc = is_signal ? jd_signal_watch_add((int32_t)handle, source)
                           : jd_kernel_watch_create(type, handle, mask, flags, source, &ctx->hidden);
        if (rc < 0) {
            dispatch_activate(source); /* an inactive object must not be released */
            dispatch_release(source);
            free(ctx);
            return rc;
        }
        ctx->signo = is_signal ? (int32_t)handle : 0;
#else
        (void)flags;
        free(ctx);
        return -ENOTSUP;
#endif
    }
    ctx->self = source;
    dispatch_retain(source);
    dispatch_set_context(source, ctx);
    dispatch_source_set_cancel_handler_f(source, cancel_trampoline);
    return (int64_t)(intptr_t)source;
}

void jd_source_unreserve(dispatch_source_t source) {
    int fd = atomic_exchange(&((jd_source_ctx *)dispatch_get_context(source))->reserve_fd, -1);
    if (fd >= 0) {
        close(fd);
    }
}

void jd_source_cancel(dispatch_source_t source) {
    atomic_store(&((jd_source_ctx *)dispatch_get_context(source))->cancel_counted, true);
    jd_release_begin();
    dispatch_source_cancel(source);
}

void jd_source_set_event(dispatch_source_t source, int32_t on) {
    dispatch_source_set_event_handler_f(source, on ? event_trampoline : NULL);
}

void jd_source_set_registration(dispatch_source_t source, int32_t on) {
    dispatch_source_set_registration_handler_f(source, on ? registration_trampoline : NULL);
}

void jd_source_close_on_cancel(dispatch_source_t source, int32_t fd) {
    atomic_store(&((jd_source_ctx *)dispatch_get_context(source))->close_fd, fd);
}
