/*
 * C floor for the VNODE latency row of SourceLatencyHarness: a file renamed -> a handler has seen it, with a
 * fresh watcher per rename and the previous one being closed meanwhile (the case where closes once held events
 * up). Plain inotify + a libdispatch READ source on a serial queue, as a C program would write it; the inotify
 * fd is closed on a queue of its own (closing one waits for an RCU grace period).
 * Prints RESULT lines (bench_util.h): c.vnode.rename.p50 / .p99 in us.
 */
#include <dispatch/dispatch.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "bench_util.h"

typedef struct {
    int in;
    uint64_t seen_ns;
    dispatch_semaphore_t registered, event;
} watcher;

static dispatch_queue_t closer;

static void on_event(void *context) {
    watcher *w = context;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int moved = 0;
    ssize_t n;
    while ((n = read(w->in, buf, sizeof buf)) > 0) {
        for (char *p = buf; p < buf + n; p += sizeof(struct inotify_event) + ((struct inotify_event *)p)->len) {
            moved |= (((struct inotify_event *)p)->mask & IN_MOVE_SELF) != 0;
        }
    }
    if (moved && !w->seen_ns) {
        w->seen_ns = bench_now_ns();
        dispatch_semaphore_signal(w->event);
    }
}

static void on_registered(void *context) {
    dispatch_semaphore_signal(((watcher *)context)->registered);
}

static void close_watcher(void *context) {
    watcher *w = context;
    close(w->in);
    dispatch_release(w->registered);
    dispatch_release(w->event);
    free(w);
}

static void on_cancel(void *context) {
    dispatch_async_f(closer, context, close_watcher);
}

static int cmp(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 1000;
    char dir[] = "/tmp/bench_vnode.XXXXXX";
    if (!mkdtemp(dir)) return 2;
    dispatch_queue_t q = dispatch_queue_create("bench.vnode", DISPATCH_QUEUE_SERIAL);
    closer = dispatch_queue_create("bench.vnode.close", DISPATCH_QUEUE_SERIAL);
    uint64_t *lat = calloc((size_t)rounds, sizeof *lat);
    for (int pass = 0; pass < 2; pass++) { /* pass 0 warms up */
        for (int i = 0; i < rounds; i++) {
            char a[64], b[64];
            snprintf(a, sizeof a, "%s/a%d", dir, i);
            snprintf(b, sizeof b, "%s/b%d", dir, i);
            close(open(a, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
            watcher *w = calloc(1, sizeof *w);
            w->registered = dispatch_semaphore_create(0);
            w->event = dispatch_semaphore_create(0);
            /* fs.inotify.max_user_instances (128): wait while earlier watchers are still being closed */
            while ((w->in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0 && errno == EMFILE) {
                usleep(1000);
            }
            if (w->in < 0 || inotify_add_watch(w->in, a, IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF) < 0) {
                return 2;
            }
            dispatch_source_t s = dispatch_source_create(DISPATCH_SOURCE_TYPE_READ, (uintptr_t)w->in, 0, q);
            dispatch_set_context(s, w);
            dispatch_source_set_event_handler_f(s, on_event);
            dispatch_source_set_registration_handler_f(s, on_registered);
            dispatch_source_set_cancel_handler_f(s, on_cancel);
            dispatch_activate(s);
            dispatch_semaphore_wait(w->registered, DISPATCH_TIME_FOREVER);
            uint64_t t0 = bench_now_ns();
            if (rename(a, b) != 0) return 2;
            if (dispatch_semaphore_wait(w->event, dispatch_time(DISPATCH_TIME_NOW, 5 * NSEC_PER_SEC)) != 0) return 3;
            lat[i] = w->seen_ns - t0;
            dispatch_source_cancel(s);
            dispatch_release(s);
            unlink(b);
        }
    }
    qsort(lat, (size_t)rounds, sizeof *lat, cmp);
    bench_result("c.vnode.rename.p50", lat[rounds / 2] / 1000.0, "us");
    bench_result("c.vnode.rename.p99", lat[rounds * 99 / 100] / 1000.0, "us");
    rmdir(dir);
    return 0;
}
