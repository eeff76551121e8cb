#include "jd_resources.h"

#include <dispatch/dispatch.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ---- priming libdispatch's lazy descriptors ---------------------------------------------------------- */

/* What priming opens at most at once: libdispatch's epoll fd, eventfd, two timerfds and main queue eventfd, our
   pipe (2), and the /proc/<tid>/stat its worker pool monitor opens for a moment. */
#define PRIME_FDS 8
#define PRIME_TIMEOUT_NS (10 * NSEC_PER_SEC)
/* A repeating timer that fired 3 times at a 5 ms period has been armed at least once (libdispatch creates its
   clock's timerfd when it programs a deadline that is still ahead, not for one already past). */
#define PRIME_TIMER_PERIOD_NS (5 * NSEC_PER_MSEC)
#define PRIME_TIMER_FIRES 3

struct step {
    dispatch_semaphore_t done;
    _Atomic int count;
    int needed;
};

/* One per priming source: what its handlers count. Static, so that a callback that comes after a timed-out
   wait still finds its context. */
struct probe {
    struct step first; /* registration (READ) or fires (TIMER) */
    struct step cancelled;
};
static struct probe read_probe, timer_probes[2];

static void step_signal(struct step *s) {
    if (atomic_fetch_add(&s->count, 1) + 1 == s->needed) {
        dispatch_semaphore_signal(s->done);
    }
}

static void probe_first(void *context) {
    step_signal(&((struct probe *)context)->first);
}

static void probe_cancelled(void *context) {
    step_signal(&((struct probe *)context)->cancelled);
}

static int step_wait(struct step *s) {
    return dispatch_semaphore_wait(s->done, dispatch_time(DISPATCH_TIME_NOW, PRIME_TIMEOUT_NS)) == 0 ? 0 : -ETIMEDOUT;
}

static void step_init(struct step *s, int needed) {
    if (!s->done) {
        s->done = dispatch_semaphore_create(0);
    }
    atomic_store(&s->count, 0);
    s->needed = needed;
}

/* Are n more fds free now? Checked by opening them (and closing them again). */
static int fds_free(int n) {
    int fds[PRIME_FDS], got, err = 0;
    for (got = 0; got < n; got++) {
        fds[got] = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fds[got] < 0) {
            err = errno;
            break;
        }
    }
    while (got > 0) {
        close(fds[--got]);
    }
    return -err;
}

/* A source on a global queue whose handlers count into p; a timer starts at `start`, then repeats. */
static dispatch_source_t probe_source(dispatch_source_type_t type, uintptr_t handle, dispatch_time_t start,
                                      struct probe *p, int needed) {
    step_init(&p->first, needed);
    step_init(&p->cancelled, 1);
    dispatch_source_t s = dispatch_source_create(type, handle, 0, dispatch_get_global_queue(0, 0));
    dispatch_set_context(s, p);
    if (type == DISPATCH_SOURCE_TYPE_READ) {
        dispatch_source_set_registration_handler_f(s, probe_first);
    } else {
        dispatch_source_set_event_handler_f(s, probe_first);
        dispatch_source_set_timer(s, start, PRIME_TIMER_PERIOD_NS, 0);
    }
    dispatch_source_set_cancel_handler_f(s, probe_cancelled);
    return s;
}

static int probe_end(dispatch_source_t s, struct probe *p, int rc) {
    dispatch_source_cancel(s);
    dispatch_release(s);
    int r = step_wait(&p->cancelled);
    return rc ? rc : r;
}

/* A READ source on a pipe nobody writes: its registration creates the epoll fd and eventfd; its handlers on a
   global queue start the worker pool, whose monitor timer wakes the manager. */
static int prime_event_loop(void) {
    int p[2];
    if (pipe(p) != 0) {
        return -errno;
    }
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    dispatch_source_t s = probe_source(DISPATCH_SOURCE_TYPE_READ, (uintptr_t)p[0], 0, &read_probe, 1);
    dispatch_activate(s);
    int rc = probe_end(s, &read_probe, step_wait(&read_probe.first));
    if (rc == 0) { /* only after the cancel handler: libdispatch no longer watches the pipe */
        close(p[0]);
        close(p[1]);
    }
    return rc;
}

/* Repeating timers on the uptime and the wall clock, each of which has its own timerfd. */
static int prime_timers(void) {
    dispatch_time_t starts[2] = {dispatch_time(DISPATCH_TIME_NOW, PRIME_TIMER_PERIOD_NS),
                                 dispatch_walltime(NULL, PRIME_TIMER_PERIOD_NS)};
    dispatch_source_t timers[2];
    for (int i = 0; i < 2; i++) {
        timers[i] = probe_source(DISPATCH_SOURCE_TYPE_TIMER, 0, starts[i], &timer_probes[i], PRIME_TIMER_FIRES);
        dispatch_activate(timers[i]);
    }
    int rc = 0;
    for (int i = 0; i < 2; i++) {
        int r = step_wait(&timer_probes[i].first);
        rc = rc ? rc : r;
    }
    for (int i = 0; i < 2; i++) {
        rc = probe_end(timers[i], &timer_probes[i], rc);
    }
    return rc;
}

static void noop(void *unused) {
    (void)unused;
}

int32_t jd_dispatch_prime(void) {
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static int primed;
    pthread_mutex_lock(&lock);
    int rc = primed ? 0 : fds_free(PRIME_FDS);
    if (!primed && rc == 0 && (rc = prime_event_loop()) == 0 && (rc = prime_timers()) == 0) {
        /* The main queue's eventfd: libdispatch opens it on the first wakeup of the main queue, and when the
           thread that loaded libdispatch exits (it turns the main queue into an ordinary one). A no-op on the
           main queue makes it open now; the no-op runs when that thread exits. */
        dispatch_async_f(dispatch_get_main_queue(), NULL, noop);
        primed = 1;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

/* ---- errors ------------------------------------------------------------------------------------------ */

const char *jd_errno_text(int32_t errnum) {
    static _Thread_local char buf[320];
    char number[24];
    const char *name = NULL;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    name = strerrorname_np(errnum);
#endif
    if (!name) {
        snprintf(number, sizeof number, "errno %d", (int)errnum);
        name = number;
    }
    struct rlimit rl;
    if (errnum == EMFILE && getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        snprintf(buf, sizeof buf, "%s (%s; RLIMIT_NOFILE, the limit of open files per process, is %llu: ulimit -n)",
                 name, strerror(errnum), (unsigned long long)rl.rlim_cur);
    } else if (errnum == ENFILE) {
        snprintf(buf, sizeof buf, "%s (%s; the limit of open files for the whole system is reached: fs.file-max)",
                 name, strerror(errnum));
    } else {
        snprintf(buf, sizeof buf, "%s (%s)", name, strerror(errnum));
    }
    return buf;
}

int32_t jd_fd_reserve(void) {
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

void jd_fd_unreserve(int32_t fd) {
    close(fd);
}

int32_t jd_errno_is_exhaustion(int32_t errnum) {
    return errnum == EMFILE || errnum == ENFILE || errnum == ENOMEM;
}

/* ---- releases under way ------------------------------------------------------------------------------ */

static _Atomic int64_t releases_begun, releases_ended;

void jd_release_begin(void) {
    atomic_fetch_add(&releases_begun, 1);
}

void jd_release_end(void) {
    atomic_fetch_add(&releases_ended, 1);
}

int64_t jd_releases_pending(void) {
    int64_t ended = atomic_load(&releases_ended); /* first: a release never ends before it begins */
    return atomic_load(&releases_begun) - ended;
}

int64_t jd_releases_ended(void) {
    return atomic_load(&releases_ended);
}
