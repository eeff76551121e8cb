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

/*
 * Source types as data: one row per JD_TYPE_* code says all that differs by type (the idea of libdispatch's
 * dispatch_source_type_s rows). jd_source_create, jd_source_explain and the mask queries read the row.
 */

/* What feeds the source the user sees. */
typedef enum {
    JD_UNSUPPORTED = 0, /* this OS cannot create the type: -ENOTSUP */
    JD_LIBDISPATCH,     /* libdispatch's own type, given handle and mask (it checks them: -EINVAL) */
    JD_KERNEL_WATCHER,  /* a DATA_OR source, fed the observed mask bits by the row's watcher (jd_source_linux.c) */
    JD_SIGNAL_COUNTER   /* a DATA_ADD source, fed one count per delivered signal (jd_source_linux.c) */
} jd_backend;

/* What the handle is; handle_error checks it. */
typedef enum {
    JD_HANDLE_NONE = 0, /* unchecked here: libdispatch refuses one for DATA_* (TIMER takes a clock id), and the
                         * PSI watcher ignores it */
    JD_HANDLE_FD,       /* an open file descriptor, else -EBADF */
    JD_HANDLE_PID,      /* a process id, 1 .. INT32_MAX, else -EINVAL */
    JD_HANDLE_SIGNAL    /* a signal number, 1 .. NSIG-1, else -EINVAL */
} jd_handle;

/* One mask bit of dispatch_source_create(3), named as in <dispatch/source.h>. */
typedef struct {
    uint64_t bit;
    const char *name;
    bool observed; /* this OS reports it; jd_source_create refuses the other bits with -ENOTSUP */
} jd_mask_bit;
#define MASK_BIT(name, observed) {name, #name, observed}

/* The sentence jd_source_explain adds for an errno; errnum 0 ends a list, with the text for any other errno. */
typedef struct {
    int errnum;
    const char *text;
} jd_explanation;
/* EMFILE: this process's fd limit; ENFILE: the system's. */
#define AT_FD_LIMIT(text) {EMFILE, text}, {ENFILE, text}

typedef struct {
    const char *name;                          /* the DispatchSource.Type constant */
    jd_handle handle;
    const jd_mask_bit *bits;                   /* ended by {0}; NULL: the type takes no mask */
    jd_backend backend;
    dispatch_source_type_t libdispatch;        /* the type of the source the user sees */
    const struct jd_kernel_watcher *watcher;   /* JD_KERNEL_WATCHER: how the kernel is asked */
    bool reserve_for_regular_file;             /* hold an fd until activation (reserve_fd) */
    const jd_explanation *explain;             /* why jd_source_create failed; NULL: strerror says it all */
} jd_source_type;

#ifdef __linux__
#define ON_LINUX true
#else
#define ON_LINUX false /* the types Linux emulates are not created elsewhere */
#endif

#ifdef __linux__
/* READ and WRITE: Linux libdispatch opens an eventfd of its own for a regular file (reserve_fd). */
static const jd_explanation regular_file_explain[] = {
    AT_FD_LIMIT(" (libdispatch watches a regular file with an eventfd: 1 fd)"),
    {0, ""}};
#endif

static const jd_source_type types[JD_TYPE_LAST + 1] = {
    [JD_TYPE_DATA_ADD] = {.name = "DATA_ADD", .backend = JD_LIBDISPATCH, .libdispatch = DISPATCH_SOURCE_TYPE_DATA_ADD},
    [JD_TYPE_DATA_OR] = {.name = "DATA_OR", .backend = JD_LIBDISPATCH, .libdispatch = DISPATCH_SOURCE_TYPE_DATA_OR},
    [JD_TYPE_DATA_REPLACE] = {.name = "DATA_REPLACE", .backend = JD_LIBDISPATCH,
                              .libdispatch = DISPATCH_SOURCE_TYPE_DATA_REPLACE},
    /* Mach ports exist on macOS only, and no Mach type is bound there either. */
    [JD_TYPE_MACH_SEND] = {.name = "MACH_SEND",
                           .bits = (const jd_mask_bit[]){MASK_BIT(DISPATCH_MACH_SEND_DEAD, false), {0}}},
    [JD_TYPE_MACH_RECV] = {.name = "MACH_RECV"},
    [JD_TYPE_MEMORYPRESSURE] = {
        .name = "MEMORYPRESSURE",
        .bits = (const jd_mask_bit[]){
            MASK_BIT(DISPATCH_MEMORYPRESSURE_NORMAL, ON_LINUX),   /* two quiet windows (JD_PSI_NORMAL_AFTER_NS) */
            MASK_BIT(DISPATCH_MEMORYPRESSURE_WARN, ON_LINUX),     /* the PSI trigger JD_PSI_WARN */
            MASK_BIT(DISPATCH_MEMORYPRESSURE_CRITICAL, ON_LINUX), /* the PSI trigger JD_PSI_CRITICAL */
            {0}},
#ifdef __linux__
        .backend = JD_KERNEL_WATCHER, .libdispatch = DISPATCH_SOURCE_TYPE_DATA_OR,
        .watcher = &jd_watcher_memorypressure,
        .explain = (const jd_explanation[]){
            {ENOENT, " (no PSI here: /proc/pressure/memory is missing)"},
            AT_FD_LIMIT(" (a MEMORYPRESSURE source needs 3 fds: an epoll fd and two PSI triggers)"),
            {0, " (writing a PSI memory trigger to /proc/pressure/memory was refused)"}},
#endif
    },
    [JD_TYPE_PROC] = {
        .name = "PROC",
        .handle = JD_HANDLE_PID,
        .bits = (const jd_mask_bit[]){
            MASK_BIT(DISPATCH_PROC_EXIT, ON_LINUX), /* a pidfd reports the exit, and nothing else */
            MASK_BIT(DISPATCH_PROC_FORK, false),
            MASK_BIT(DISPATCH_PROC_EXEC, false),
            MASK_BIT(DISPATCH_PROC_SIGNAL, false),
            {0}},
#ifdef __linux__
        .backend = JD_KERNEL_WATCHER, .libdispatch = DISPATCH_SOURCE_TYPE_DATA_OR, .watcher = &jd_watcher_proc,
        .explain = (const jd_explanation[]){
            {ESRCH, " (pidfd_open: no process has this id)"},
            AT_FD_LIMIT(" (pidfd_open: a PROC source needs 1 fd)"),
            {0, " (pidfd_open failed)"}},
#endif
    },
    [JD_TYPE_READ] = {
        .name = "READ",
        .handle = JD_HANDLE_FD,
        .backend = JD_LIBDISPATCH, .libdispatch = DISPATCH_SOURCE_TYPE_READ,
#ifdef __linux__
        .reserve_for_regular_file = true, .explain = regular_file_explain,
#endif
    },
    [JD_TYPE_SIGNAL] = {
        .name = "SIGNAL",
        .handle = JD_HANDLE_SIGNAL,
#ifdef __linux__
        /* Linux libdispatch loses counts and cannot give the disposition back (jd_source_linux.c). */
        .backend = JD_SIGNAL_COUNTER, .libdispatch = DISPATCH_SOURCE_TYPE_DATA_ADD,
        .explain = (const jd_explanation[]){
            AT_FD_LIMIT(" (the first source of a signal opens an eventfd for its count: the fd limit is reached)"),
            {0, ""}},
#else
        .backend = JD_LIBDISPATCH, .libdispatch = DISPATCH_SOURCE_TYPE_SIGNAL, /* kqueue counts every signal */
#endif
    },
    [JD_TYPE_TIMER] = {
        .name = "TIMER",
        .bits = (const jd_mask_bit[]){MASK_BIT(DISPATCH_TIMER_STRICT, true), {0}},
        .backend = JD_LIBDISPATCH, .libdispatch = DISPATCH_SOURCE_TYPE_TIMER,
    },
    [JD_TYPE_VNODE] = {
        .name = "VNODE",
        .handle = JD_HANDLE_FD,
        .bits = (const jd_mask_bit[]){ /* inotify events, and the fd's size and link count compared by fstat */
            MASK_BIT(DISPATCH_VNODE_DELETE, ON_LINUX),
            MASK_BIT(DISPATCH_VNODE_WRITE, ON_LINUX),
            MASK_BIT(DISPATCH_VNODE_EXTEND, ON_LINUX),
            MASK_BIT(DISPATCH_VNODE_ATTRIB, ON_LINUX),
            MASK_BIT(DISPATCH_VNODE_LINK, ON_LINUX),
            MASK_BIT(DISPATCH_VNODE_RENAME, ON_LINUX),
            MASK_BIT(DISPATCH_VNODE_REVOKE, ON_LINUX),  /* the file system was unmounted */
            MASK_BIT(DISPATCH_VNODE_FUNLOCK, false),    /* inotify reports no lock release */
            {0}},
#ifdef __linux__
        .backend = JD_KERNEL_WATCHER, .libdispatch = DISPATCH_SOURCE_TYPE_DATA_OR, .watcher = &jd_watcher_vnode,
        .explain = (const jd_explanation[]){
            {ESTALE, " (inotify watches a path: the fd's path no longer names its file (deleted, renamed away), or "
                     "the fd is a pipe/socket)"},
            {EMFILE, " (no inotify instance left: each VNODE source uses one, and the kernel allows "
                     "fs.inotify.max_user_instances per user (often 128); or the fd limit is reached)"},
            {ENOSPC, " (inotify watch limit reached: fs.inotify.max_user_watches)"},
            {0, " (inotify could not watch the fd's path)"}},
#endif
    },
    [JD_TYPE_WRITE] = {
        .name = "WRITE",
        .handle = JD_HANDLE_FD,
        .backend = JD_LIBDISPATCH, .libdispatch = DISPATCH_SOURCE_TYPE_WRITE,
#ifdef __linux__
        .reserve_for_regular_file = true, .explain = regular_file_explain,
#endif
    },
};

static const jd_source_type *type_row(int32_t type) {
    return type >= 1 && type <= JD_TYPE_LAST ? &types[type] : NULL;
}

/* The row's mask bits, all of them or only those this OS observes. */
static uint64_t mask_of(const jd_source_type *t, bool observed_only) {
    uint64_t mask = 0;
    for (const jd_mask_bit *b = t ? t->bits : NULL; b && b->name; b++) {
        if (b->observed || !observed_only) {
            mask |= b->bit;
        }
    }
    return mask;
}

int32_t jd_source_type_code(const char *name) {
    for (int32_t type = 1; name && type <= JD_TYPE_LAST; type++) {
        if (types[type].name && strcmp(types[type].name, name) == 0) {
            return type;
        }
    }
    return -1;
}

const char *jd_source_mask_bit_name(int32_t type, uint64_t bit) {
    const jd_source_type *t = type_row(type);
    for (const jd_mask_bit *b = t ? t->bits : NULL; b && b->name; b++) {
        if (b->bit == bit) {
            return b->name;
        }
    }
    return NULL;
}

uint64_t jd_source_known_mask(int32_t type) {
    return mask_of(type_row(type), false);
}

uint64_t jd_source_supported_mask(int32_t type) {
    return mask_of(type_row(type), true);
}

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
    const jd_source_type *t = type_row(type);
    const jd_explanation *e = t ? t->explain : NULL;
    if (!e) {
        return "";
    }
    while (e->errnum != 0 && e->errnum != errnum) {
        e++;
    }
    return e->text;
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

static int32_t handle_error(jd_handle kind, uint64_t handle) {
    switch (kind) {
    case JD_HANDLE_FD: return handle <= INT32_MAX && jd_fd_check((int32_t)handle) == 0 ? 0 : -EBADF;
    case JD_HANDLE_PID: return handle >= 1 && handle <= INT32_MAX ? 0 : -EINVAL;
    case JD_HANDLE_SIGNAL: return handle >= 1 && handle < NSIG ? 0 : -EINVAL;
    default: return 0;
    }
}

/*
 * Linux libdispatch opens an fd of its own when it registers a READ/WRITE source on a regular file (an
 * always-readable eventfd), and if it cannot, the source silently never fires. Such a source holds one fd from
 * create to activation, given back just before libdispatch needs one: a create at the fd limit then fails with
 * EMFILE instead. Returns the fd held, -1 when none is needed, or -errno.
 */
static int reserve_fd(const jd_source_type *t, uint64_t handle) {
    struct stat st;
    if (!t->reserve_for_regular_file || fstat((int)handle, &st) != 0 || !S_ISREG(st.st_mode)) {
        return -1;
    }
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

/* Starts what feeds an emulated source: 0 or -errno. */
static int start_feeder(const jd_source_type *t, jd_source_ctx *ctx, dispatch_source_t source, uint64_t handle,
                        uint64_t mask, int32_t flags) {
#ifdef __linux__
    if (t->backend == JD_KERNEL_WATCHER) {
        return jd_kernel_watch_create(t->watcher, handle, mask, flags, source, &ctx->hidden);
    }
    if (t->backend == JD_SIGNAL_COUNTER) {
        ctx->signo = (int32_t)handle;
        return jd_signal_watch_add(ctx->signo, source);
    }
#else
    (void)t, (void)ctx, (void)source, (void)handle, (void)mask, (void)flags;
#endif
    return 0;
}

int64_t jd_source_create(int32_t type, uint64_t handle, uint64_t mask, int32_t flags, dispatch_queue_t queue,
                         int64_t id) {
    const jd_source_type *t = type_row(type);
    if (!t || t->backend == JD_UNSUPPORTED) {
        return -ENOTSUP;
    }
    bool own = t->backend == JD_LIBDISPATCH;
    if (!own && (mask & ~mask_of(t, true))) {
        return -ENOTSUP; /* an emulation reports only the bits its row says it observes */
    }
    int32_t rc = handle_error(t->handle, handle);
    if (rc < 0) {
        return rc;
    }
    jd_source_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        return -ENOMEM;
    }
    ctx->id = id;
    atomic_init(&ctx->close_fd, -1);
    atomic_init(&ctx->cancel_counted, false);
    int reserve = reserve_fd(t, handle);
    if (reserve < -1) {
        free(ctx);
        return reserve;
    }
    atomic_init(&ctx->reserve_fd, reserve);
    dispatch_source_t source = dispatch_source_create(t->libdispatch, own ? (uintptr_t)handle : 0,
                                                      own ? (uintptr_t)mask : 0, queue);
    if (!source) {
        if (reserve >= 0) {
            close(reserve);
        }
        free(ctx);
        return own ? -EINVAL : -ENOMEM; /* libdispatch refused the handle or the mask */
    }
    if ((rc = start_feeder(t, ctx, source, handle, mask, flags)) < 0) {
        dispatch_activate(source); /* an inactive object must not be released */
        dispatch_release(source);
        free(ctx);
        return rc;
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
