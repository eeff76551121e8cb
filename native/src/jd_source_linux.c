#ifdef __linux__
#include "jd_source_linux.h"
#include "jd_resources.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct jd_watch {
    dispatch_source_t user;   /* retained once there is something to watch */
    dispatch_source_t self;   /* the hidden READ source */
    uint32_t mask;
    int kfd;                  /* pidfd, inotify fd or epoll fd: watched by the READ source */
    int aux[2];               /* VNODE: our dup of the user's fd; MEMORYPRESSURE: the two PSI fds */
    off_t size;               /* VNODE: last seen size and link count */
    nlink_t nlink;
    dispatch_source_t normal; /* MEMORYPRESSURE: one-shot timer reporting NORMAL after quiet windows */
};

/* All watchers share one serial queue: their handlers only read the kernel object and merge. */
static dispatch_queue_t queue;

static void create_queue(void *unused) {
    (void)unused;
    queue = dispatch_queue_create("io.jdispatch.source.kernel", DISPATCH_QUEUE_SERIAL);
}

static dispatch_queue_t watch_queue(void) {
    static dispatch_once_t once;
    dispatch_once_f(&once, NULL, create_queue);
    return queue;
}

static void merge(jd_watch *w, uint32_t bits) {
    bits &= w->mask;
    if (bits) {
        dispatch_source_merge_data(w->user, bits);
    }
}

static void proc_event(void *context) {
    jd_watch *w = context;
    merge(w, DISPATCH_PROC_EXIT);
    dispatch_source_cancel(w->self); /* a pidfd stays readable after exit: one event is all there is */
}

static void vnode_event(void *context) {
    jd_watch *w = context;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    uint32_t bits = 0, in = 0;
    ssize_t n;
    while ((n = read(w->kfd, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n; p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len) {
            in |= ((struct inotify_event *)p)->mask;
        }
    }
    struct stat st;
    int have = fstat(w->aux[0], &st) == 0;
    if (in & IN_MODIFY) {
        bits |= DISPATCH_VNODE_WRITE;
    }
    if (have && st.st_size > w->size) {
        bits |= DISPATCH_VNODE_EXTEND;
    }
    if (have && st.st_nlink != w->nlink) {
        bits |= st.st_nlink == 0 ? DISPATCH_VNODE_DELETE : DISPATCH_VNODE_LINK;
    } else if (in & IN_ATTRIB) {
        bits |= DISPATCH_VNODE_ATTRIB;
    }
    if (in & IN_DELETE_SELF) {
        bits |= DISPATCH_VNODE_DELETE;
    }
    if (in & IN_MOVE_SELF) {
        bits |= DISPATCH_VNODE_RENAME;
    }
    if (in & IN_UNMOUNT) {
        bits |= DISPATCH_VNODE_REVOKE;
    }
    if (have) {
        w->size = st.st_size;
        w->nlink = st.st_nlink;
    }
    merge(w, bits);
}

static void memorypressure_normal(void *context) {
    merge(context, DISPATCH_MEMORYPRESSURE_NORMAL);
}

static void memorypressure_event(void *context) {
    jd_watch *w = context;
    struct epoll_event ev[2];
    uint32_t bits = 0;
    int n = epoll_wait(w->kfd, ev, 2, 0); /* reading the PRI events re-arms the triggers */
    for (int i = 0; i < n; i++) {
        bits |= ev[i].data.u32;
    }
    merge(w, bits);
    if (bits && w->normal) {
        dispatch_source_set_timer(w->normal, dispatch_time(DISPATCH_TIME_NOW, JD_PSI_NORMAL_AFTER_NS),
                                  DISPATCH_TIME_FOREVER, 0);
    }
}

/* Closing an inotify instance or a PSI trigger waits for a kernel RCU grace period (5-20 ms each). On the watcher
 * queue that held up every other watcher's events behind it (VNODE events 7 ms late at the median while other
 * VNODE sources were being closed): fds are closed on a queue of their own. */
static dispatch_queue_t closer;

static void create_closer(void *unused) {
    (void)unused;
    closer = dispatch_queue_create("io.jdispatch.source.close", DISPATCH_QUEUE_SERIAL);
}

static void free_watch(jd_watch *w) {
    if (w->kfd >= 0) {
        close(w->kfd);
    }
    for (int i = 0; i < 2; i++) {
        if (w->aux[i] >= 0) {
            close(w->aux[i]);
        }
    }
    free(w);
}

static void close_watch_fds(void *context) {
    free_watch(context);
    jd_release_end();
}

static void watch_cancelled(void *context) {
    jd_watch *w = context;
    if (w->normal) {
        dispatch_source_cancel(w->normal);
        dispatch_release(w->normal);
    }
    dispatch_release(w->user);
    static dispatch_once_t once;
    dispatch_once_f(&once, NULL, create_closer);
    jd_release_begin(); /* a create short of fds waits for these (Reclaim) */
    dispatch_async_f(closer, w, close_watch_fds);
}

/* A process known to have exited has nothing to watch: its exit is merged at once and w->kfd stays -1. */
static int proc_open(jd_watch *w, uint64_t pid, uint64_t mask, int32_t flags) {
    (void)mask;
    if (!(flags & JD_PROC_EXITED)) {
        int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0); /* pidfds are always close-on-exec */
        if (fd >= 0) {
            w->kfd = fd;
            return 0;
        }
        /* ESRCH for a pid the caller knows named a process: it has exited and was reaped already (the JDK reaps
         * its children itself), which is an exit to report, not a bad pid. */
        if (errno != ESRCH || !(flags & JD_PROC_EXISTED)) {
            return -errno;
        }
    }
    merge(w, DISPATCH_PROC_EXIT);
    return 0;
}

/* inotify watches a path: resolve the fd's path and check it still names the fd's inode. */
static int vnode_open(jd_watch *w, uint64_t handle, uint64_t mask, int32_t flags) {
    (void)mask;
    (void)flags;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", (int)handle);
    ssize_t len = readlink(link, path, sizeof path - 1);
    if (len < 0) {
        return -errno;
    }
    path[len] = 0;
    struct stat by_fd, by_path;
    if (fstat((int)handle, &by_fd) != 0) {
        return -errno;
    }
    if (path[0] != '/' || stat(path, &by_path) != 0 || by_fd.st_ino != by_path.st_ino || by_fd.st_dev != by_path.st_dev) {
        return -ESTALE; /* deleted, renamed away, or not a filesystem node (pipe, socket) */
    }
    int dup = fcntl((int)handle, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) {
        return -errno;
    }
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (in < 0) {
        int e = errno;
        close(dup);
        return -e;
    }
    if (inotify_add_watch(in, path, IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF) < 0) {
        int e = errno;
        close(dup);
        close(in);
        return -e;
    }
    w->kfd = in;
    w->aux[0] = dup;
    w->size = by_fd.st_size;
    w->nlink = by_fd.st_nlink;
    return 0;
}

static int psi_open(const char *trigger) {
    int fd = open("/proc/pressure/memory", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return -errno;
    }
    if (write(fd, trigger, strlen(trigger) + 1) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

/* PSI triggers signal POLLPRI, which a READ source (EPOLLIN) never sees: an epoll fd of our own waits for
 * EPOLLPRI and becomes readable itself, and that is what the READ source watches. */
static int memorypressure_open(jd_watch *w, uint64_t handle, uint64_t mask, int32_t flags) {
    (void)handle;
    (void)flags;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) {
        return -errno;
    }
    const char *triggers[2] = {JD_PSI_WARN, JD_PSI_CRITICAL};
    const uint32_t levels[2] = {DISPATCH_MEMORYPRESSURE_WARN, DISPATCH_MEMORYPRESSURE_CRITICAL};
    w->kfd = ep;
    for (int i = 0; i < 2; i++) {
        int fd = psi_open(triggers[i]);
        if (fd < 0) {
            return fd;
        }
        w->aux[i] = fd;
        struct epoll_event ev = {.events = EPOLLPRI, .data.u32 = levels[i]};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            return -errno;
        }
    }
    if (mask & DISPATCH_MEMORYPRESSURE_NORMAL) {
        w->normal = dispatch_source_create(DISPATCH_SOURCE_TYPE_TIMER, 0, 0, watch_queue());
        dispatch_set_context(w->normal, w);
        dispatch_source_set_event_handler_f(w->normal, memorypressure_normal);
        dispatch_source_set_timer(w->normal, DISPATCH_TIME_FOREVER, DISPATCH_TIME_FOREVER, 0);
        dispatch_activate(w->normal);
    }
    return 0;
}

const jd_kernel_watcher jd_watcher_proc = {.open = proc_open, .on_event = proc_event};
const jd_kernel_watcher jd_watcher_vnode = {.open = vnode_open, .on_event = vnode_event};
const jd_kernel_watcher jd_watcher_memorypressure = {.open = memorypressure_open, .on_event = memorypressure_event};

int jd_kernel_watch_create(const jd_kernel_watcher *watcher, uint64_t handle, uint64_t mask, int32_t flags,
                           dispatch_source_t user, dispatch_source_t *hidden) {
    jd_watch *w = calloc(1, sizeof *w);
    if (!w) {
        return -ENOMEM;
    }
    w->user = user; /* the inactive user source keeps what open merges until it is activated */
    w->mask = (uint32_t)mask;
    w->kfd = w->aux[0] = w->aux[1] = -1;
    int rc = watcher->open(w, handle, mask, flags);
    if (rc < 0 || w->kfd < 0) {
        /* Failed, or nothing to watch: a PROC of an exited process, whose exit open reported at once, as
         * kqueue does. */
        free_watch(w);
        *hidden = NULL;
        return rc;
    }
    dispatch_retain(user);
    w->self = dispatch_source_create(DISPATCH_SOURCE_TYPE_READ, (uintptr_t)w->kfd, 0, watch_queue());
    dispatch_set_context(w->self, w);
    dispatch_source_set_event_handler_f(w->self, watcher->on_event);
    dispatch_source_set_cancel_handler_f(w->self, watch_cancelled);
    dispatch_activate(w->self); /* kernel events merge into the (still inactive) user source and wait there */
    *hidden = w->self;
    return 0;
}

/*
 * SIGNAL. libdispatch's own Linux source loses counts: it reads one siginfo per wake-up and stores 1. It cannot
 * restore the disposition it replaced either. A signalfd of our own would not do better in a JVM: it sees only
 * signals that every thread blocks, and the JVM's threads (unlike libdispatch's workers) do not; making them
 * block it from inside a handler could not be undone when the last source goes, so the signal would stay
 * blocked and pending instead of getting its old disposition back.
 *
 * So the kernel delivers each signal to a thread that does not block it (a JVM thread), where a handler of ours
 * adds 1 to an eventfd: one count per delivery, and no thread's mask is changed (the kernel restores it when the
 * handler returns). One hidden READ source per signal reads that count and merges it into every user source
 * (DATA_ADD) of the signal. The first source saves the signal's disposition and the last one restores it.
 */
typedef struct signal_reader {
    int signo;
    int fd;                   /* the eventfd, closed by the reader's cancel handler */
    dispatch_source_t self;   /* the hidden READ source on fd */
} signal_reader;

typedef struct signal_watch {
    signal_reader *reader;    /* NULL: no source watches this signal */
    struct sigaction previous;/* the disposition before the first source, restored after the last */
    dispatch_source_t *users; /* the user sources (not retained: each removes itself in its cancel trampoline) */
    size_t count, capacity;
} signal_watch;

static pthread_mutex_t signals_lock = PTHREAD_MUTEX_INITIALIZER; /* guards signals[]; never taken by the handler */
static signal_watch signals[NSIG];
/* What the handler may touch (async-signal-safe: lock-free atomics and write(2)). */
static _Atomic int caught_fd[NSIG];          /* the eventfd to add to; -1 once the last source went */
static _Atomic unsigned caught_running[NSIG]; /* handlers between their two atomics: the fd is not closed under them */

static void signal_caught(int signo) {
    int saved = errno;
    atomic_fetch_add(&caught_running[signo], 1);
    int fd = atomic_load(&caught_fd[signo]);
    if (fd >= 0) {
        uint64_t one = 1;
        (void)!write(fd, &one, sizeof one);
    }
    atomic_fetch_sub(&caught_running[signo], 1);
    errno = saved;
}

static void signal_readable(void *context) {
    signal_reader *r = context;
    uint64_t n;
    if (read(r->fd, &n, sizeof n) != (ssize_t)sizeof n) {
        return; /* EAGAIN: nothing counted since the last read */
    }
    pthread_mutex_lock(&signals_lock);
    signal_watch *w = &signals[r->signo];
    if (w->reader == r) { /* else a reader whose sources are all gone: nobody to count for */
        for (size_t i = 0; i < w->count; i++) {
            dispatch_source_merge_data(w->users[i], (uintptr_t)n);
        }
    }
    pthread_mutex_unlock(&signals_lock);
}

static void signal_reader_cancelled(void *context) {
    signal_reader *r = context;
    close(r->fd);
    dispatch_release(r->self);
    free(r);
}

/* First source of signo (lock held): the eventfd, its reader, then the handler. */
static int signal_start(int signo, signal_watch *w) {
    signal_reader *r = calloc(1, sizeof *r);
    if (!r) {
        return -ENOMEM;
    }
    r->signo = signo;
    r->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (r->fd < 0) {
        int e = errno;
        free(r);
        return -e;
    }
    atomic_store(&caught_fd[signo], r->fd); /* before the handler can run */
    struct sigaction sa = {.sa_handler = signal_caught, .sa_flags = SA_RESTART};
    sigemptyset(&sa.sa_mask);
    if (sigaction(signo, &sa, &w->previous) != 0) {
        int e = errno;
        atomic_store(&caught_fd[signo], -1);
        close(r->fd);
        free(r);
        return -e;
    }
    r->self = dispatch_source_create(DISPATCH_SOURCE_TYPE_READ, (uintptr_t)r->fd, 0, watch_queue());
    dispatch_set_context(r->self, r);
    dispatch_source_set_event_handler_f(r->self, signal_readable);
    dispatch_source_set_cancel_handler_f(r->self, signal_reader_cancelled);
    dispatch_activate(r->self);
    w->reader = r;
    return 0;
}

/* Last source of signo gone (lock held): the previous disposition, then no handler left writing to the fd. */
static void signal_stop(int signo, signal_watch *w) {
    sigaction(signo, &w->previous, NULL);
    atomic_store(&caught_fd[signo], -1);
    /* A handler that started before the restore may still hold the fd: wait for it (a few instructions). */
    while (atomic_load(&caught_running[signo]) != 0) {
        sched_yield();
    }
    dispatch_source_cancel(w->reader->self); /* its cancel handler closes the eventfd */
    w->reader = NULL;
}

int jd_signal_watch_add(int32_t signo, dispatch_source_t user) {
    pthread_mutex_lock(&signals_lock);
    signal_watch *w = &signals[signo];
    int rc = 0;
    if (w->count == w->capacity) {
        size_t capacity = w->capacity ? 2 * w->capacity : 4;
        dispatch_source_t *users = realloc(w->users, capacity * sizeof *users);
        if (!users) {
            rc = -ENOMEM;
            goto out;
        }
        w->users = users;
        w->capacity = capacity;
    }
    if (w->count == 0 && (rc = signal_start(signo, w)) < 0) {
        goto out;
    }
    w->users[w->count++] = user;
out:
    pthread_mutex_unlock(&signals_lock);
    return rc;
}

void jd_signal_watch_remove(int32_t signo, dispatch_source_t user) {
    pthread_mutex_lock(&signals_lock);
    signal_watch *w = &signals[signo];
    for (size_t i = 0; i < w->count; i++) {
        if (w->users[i] == user) {
            w->users[i] = w->users[--w->count];
            if (w->count == 0) {
                signal_stop(signo, w);
            }
            break;
        }
    }
    pthread_mutex_unlock(&signals_lock);
}
#endif
