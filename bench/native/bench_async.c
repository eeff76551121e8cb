/*
 * C floor for QueueAsyncBenchmark: dispatch_async_f of an (almost) empty task on a serial queue and on the
 * default global queue, on the same libdispatch. Like the Java benchmark, each round submits N tasks and
 * waits until all ran; the only work in a task is counting itself down (the last one wakes the submitter).
 * Prints one line per case: "bench_async <case> ns/task <median of rounds> (N=<n>, rounds=<r>)".
 * Usage: bench_async [tasks per round, default 10000] [rounds, default 200]
 */
#include <dispatch/dispatch.h>
#include "bench_util.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static atomic_long remaining;
static dispatch_semaphore_t all_done;

static void count_down(void *ctx) {
    (void)ctx;
    if (atomic_fetch_sub_explicit(&remaining, 1, memory_order_acq_rel) == 1) {
        dispatch_semaphore_signal(all_done);
    }
}


static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void run(const char *name, dispatch_queue_t q, long n, int rounds) {
    double *per_task = calloc((size_t)rounds, sizeof *per_task);
    for (int warm = 0; warm < 2; warm++) {
        for (int r = 0; r < rounds; r++) {
            atomic_store(&remaining, n);
            double start = (double)bench_now_ns();
            for (long i = 0; i < n; i++) {
                dispatch_async_f(q, NULL, count_down);
            }
            dispatch_semaphore_wait(all_done, DISPATCH_TIME_FOREVER);
            per_task[r] = ((double)bench_now_ns() - start) / (double)n;
        }
    }
    qsort(per_task, (size_t)rounds, sizeof *per_task, cmp);
    char key[64];
    snprintf(key, sizeof key, "c.async.%s", name);
    bench_result(key, per_task[rounds / 2], "ns/op"); /* the median round */
    free(per_task);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 10000;
    int rounds = argc > 2 ? atoi(argv[2]) : 200;
    if (n <= 0 || rounds <= 0) {
        fprintf(stderr, "usage: bench_async [tasks per round > 0] [rounds > 0]\n");
        return 2;
    }
    all_done = dispatch_semaphore_create(0);
    dispatch_queue_t serial = dispatch_queue_create("bench.serial", NULL);
    run("serial", serial, n, rounds);
    run("global", dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0), n, rounds);
    dispatch_release(serial);
    dispatch_release(all_done);
    return 0;
}
