/*
 * The libdispatch source rules the Java API relies on (checked on the libdispatch we bundle), and the Linux
 * kernel watchers of jd_source_linux.c driven from C. Exits non-zero on the first failure.
 */
#include "jd_source.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                                                  \
    do {                                                                                                  \
        if (!(cond)) {                                                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                               \
            fprintf(stderr, __VA_ARGS__);                                                                 \
            fputc('\n', stderr);                                                                          \
            exit(1);                                                                                      \
        }                                                                                                 \
    } while (0)

static _Atomic uint64_t last_data, calls;
static _Atomic int cancels;

/* The Java trampoline's stand-in: records each event's data and each cancel. */
static dispatch_source_t current;
static void on_source(int64_t id, int32_t kind) {
    (void)id;
    if (kind == JD_SOURCE_EVENT) {
        atomic_fetch_or(&last_data, dispatch_source_get_data(current));
        atomic_fetch_add(&calls, 1);
    } else if (kind == JD_SOURCE_CANCEL) {
        atomic_fetch_add(&cancels, 1);
    }
}

/* Waits poll until their event, for at most WAIT_S seconds: hang detectors (sanitizer builds on a loaded
 * machine run many times slower), never speed checks. */
#define WAIT_S 60

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int wait_until(_Atomic uint64_t *v, uint64_t at_least) {
    double end = now_s() + WAIT_S;
    uint64_t got;
    while ((got = atomic_load(v)) < at_least && now_s() < end) {
        usleep(1000);
    }
    return got >= at_least;
}

/* How many eventfds are open; every one must be close-on-exec. */
static int eventfds(void) {
    int n = 0;
    char link[64], target[64];
    for (int fd = 0; fd < 1024; fd++) {
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t len = readlink(link, target, sizeof target - 1);
        if (len > 0) {
            target[len] = 0;
            if (strcmp(target, "anon_inode:[eventfd]") == 0) {
                CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC, "eventfd %d is not close-on-exec", fd);
                n++;
            }
        }
    }
    return n;
}

static dispatch_source_t make(int32_t type, uint64_t handle, uint64_t mask, dispatch_queue_t q) {
    int64_t s = jd_source_create(type, handle, mask, 0, q, 1);
    CHECK(s > 0, "jd_source_create(%d, %llu, %#llx) = %lld", type, (unsigned long long)handle,
          (unsigned long long)mask, (long long)s);
    current = (dispatch_source_t)(intptr_t)s;
    atomic_store(&last_data, 0);
    atomic_store(&calls, 0);
    jd_source_set_event(current, 1);
    return current;
}

static void finish(dispatch_source_t s) {
    int before = atomic_load(&cancels);
    dispatch_source_cancel(s);
    double end = now_s() + WAIT_S;
    int got;
    while ((got = atomic_load(&cancels)) == before && now_s() < end) {
        usleep(1000);
    }
    CHECK(got == before + 1, "cancel handler ran once, not %d times", got - before);
    dispatch_release(s);
}

int main(void) {
    jd_source_install(on_source);
    dispatch_queue_t q = dispatch_queue_create("test_source", DISPATCH_QUEUE_SERIAL);

    /* Merges into an inactive source are kept and delivered on activation (what PROC/VNODE rely on). */
    dispatch_source_t s = make(JD_TYPE_DATA_OR, 0, 0, q);
    dispatch_source_merge_data(s, 1);
    dispatch_source_merge_data(s, 4);
    usleep(20000);
    CHECK(atomic_load(&calls) == 0, "no event before activation");
    dispatch_activate(s);
    CHECK(wait_until(&calls, 1) && atomic_load(&last_data) == 5, "data %llu", (unsigned long long)last_data);
    finish(s);

    /* A timer with interval FOREVER fires once (Java maps interval 0 to it: libdispatch takes 0 as 1 ns). */
    s = make(JD_TYPE_TIMER, 0, 0, q);
    dispatch_source_set_timer(s, dispatch_time(DISPATCH_TIME_NOW, 1000000), DISPATCH_TIME_FOREVER, 0);
    dispatch_activate(s);
    CHECK(wait_until(&calls, 1), "one-shot timer fired");
    usleep(30000);
    CHECK(atomic_load(&calls) == 1, "one-shot timer fired %llu times", (unsigned long long)calls);
    finish(s);

    /* PROC: exit of a forked child through a pidfd. */
    pid_t child = fork();
    if (child == 0) {
        pause();
        _exit(0);
    }
    s = make(JD_TYPE_PROC, (uint64_t)child, 0x80000000u, q);
    dispatch_activate(s);
    usleep(20000);
    CHECK(atomic_load(&calls) == 0, "no exit event while the child runs");
    kill(child, SIGKILL);
    CHECK(wait_until(&calls, 1) && atomic_load(&last_data) == 0x80000000u, "PROC_EXIT, data %#llx",
          (unsigned long long)last_data);
    waitpid(child, NULL, 0);
    finish(s);
    CHECK(jd_source_create(JD_TYPE_PROC, (uint64_t)child, 0x80000000u, 0, q, 1) == -ESRCH, "reaped pid: ESRCH");
    CHECK(jd_source_create(JD_TYPE_PROC, (uint64_t)getpid(), 0x40000000u, 0, q, 1) == -ENOTSUP, "PROC_FORK refused");
    /* A pid the caller knows existed (JD_PROC_EXISTED), or a process known to have exited: PROC_EXIT on activation. */
    for (int32_t flags = JD_PROC_EXISTED; flags <= JD_PROC_EXITED; flags++) {
        int64_t exited = jd_source_create(JD_TYPE_PROC, (uint64_t)child, 0x80000000u, flags, q, 1);
        CHECK(exited > 0, "reaped pid with flags %d: %lld", flags, (long long)exited);
        current = s = (dispatch_source_t)(intptr_t)exited;
        atomic_store(&last_data, 0);
        atomic_store(&calls, 0);
        jd_source_set_event(s, 1);
        dispatch_activate(s);
        CHECK(wait_until(&calls, 1) && atomic_load(&last_data) == 0x80000000u, "PROC_EXIT at once, flags %d", flags);
        finish(s);
    }

    /* SIGNAL: every delivery counted, also while suspended; the last source restores the disposition. */
    struct sigaction before;
    sigaction(SIGUSR1, NULL, &before);
    s = make(JD_TYPE_SIGNAL, SIGUSR1, 0, q);
    struct sigaction during;
    sigaction(SIGUSR1, NULL, &during);
    CHECK(during.sa_handler != before.sa_handler, "the first source installs its handler");
    int counters = eventfds(); /* the signal's count (libdispatch has one eventfd of its own) */
    dispatch_activate(s);
    dispatch_suspend(s);
    for (int i = 0; i < 3; i++) {
        kill(getpid(), SIGUSR1); /* delivered to this thread before kill returns: none coalesces */
    }
    usleep(20000);
    CHECK(atomic_load(&calls) == 0, "no event while suspended");
    dispatch_resume(s);
    CHECK(wait_until(&calls, 1) && atomic_load(&last_data) == 3, "3 signals, data %llu", (unsigned long long)last_data);
    finish(s);
    struct sigaction after;
    sigaction(SIGUSR1, NULL, &after);
    CHECK(after.sa_handler == before.sa_handler, "the last source restores the disposition");
    int open_eventfds;
    double end = now_s() + WAIT_S;
    while ((open_eventfds = eventfds()) != counters - 1 && now_s() < end) {
        usleep(1000);
    }
    CHECK(open_eventfds == counters - 1, "the signal's eventfd is closed after the last source: %d open, %d before it",
          open_eventfds, counters);

    /* VNODE: write + delete of a temp file. */
    char path[] = "/tmp/test_source_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
    s = make(JD_TYPE_VNODE, (uint64_t)fd, 0x1 | 0x2 | 0x4, q);
    dispatch_activate(s);
    CHECK(write(fd, "abc", 3) == 3, "write");
    CHECK(wait_until(&calls, 1), "vnode write event");
    unlink(path);
    end = now_s() + WAIT_S;
    while (!(atomic_load(&last_data) & 0x1) && now_s() < end) {
        usleep(1000);
    }
    CHECK(atomic_load(&last_data) == (0x1 | 0x2 | 0x4), "WRITE|EXTEND|DELETE, data %#llx", (unsigned long long)last_data);
    finish(s);
    CHECK(jd_source_create(JD_TYPE_VNODE, (uint64_t)fd, 0x1, 0, q, 1) == -ESTALE, "deleted file: ESTALE");
    close(fd);

    /* Bad input. */
    CHECK(jd_source_create(JD_TYPE_READ, 1u << 20, 0, 0, q, 1) == -EBADF, "bad fd: EBADF");
    CHECK(jd_source_create(JD_TYPE_SIGNAL, 0, 0, 0, q, 1) == -EINVAL, "signal 0: EINVAL");
    CHECK(jd_source_create(JD_TYPE_MEMORYPRESSURE, 0, 0x8, 0, q, 1) == -ENOTSUP, "unknown MEMORYPRESSURE bit");
    CHECK(jd_source_create(JD_TYPE_MACH_RECV, 0, 0, 0, q, 1) == -ENOTSUP, "MACH_RECV: ENOTSUP");
    CHECK(jd_signal_refusal(SIGSEGV) != NULL && jd_signal_refusal(SIGUSR1) == NULL, "signal refusals");

    /* MEMORYPRESSURE: creatable where PSI triggers can be written, else the error names why. */
    int64_t mp = jd_source_create(JD_TYPE_MEMORYPRESSURE, 0, 0x7, 0, q, 1);
    if (access("/proc/pressure/memory", W_OK) == 0) {
        CHECK(mp > 0, "MEMORYPRESSURE with PSI: %s", strerror((int)-mp));
        current = (dispatch_source_t)(intptr_t)mp;
        dispatch_activate(current);
        finish(current);
    } else {
        CHECK(mp < 0, "MEMORYPRESSURE without PSI must fail");
    }
    dispatch_release(q); /* else LeakSanitizer may find the queue, depending on what the stack still holds */
    puts("test_source: ok");
    return 0;
}
