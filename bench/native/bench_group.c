/*
 * C floor for GroupNotifyBenchmark: the notify cycle of libdispatch's own tests/dispatch_group.c
 * (test_group_notify2), with its random 1-8 queues fixed at 4 so that C and Java do the same work: enter a
 * group, group-async a task onto each of 4 serial queues, leave, notify onto a serial queue, and wait for the
 * notify (it leaves a second group the caller waits on). "fresh": the 4 queues are created and released every
 * cycle, as upstream; "reused": the same 4 queues every cycle (the group's own cost).
 * Prints `RESULT c.group.notify_cycle.<case> <median ns per cycle of the rounds> ns/op`.
 * Usage: bench_group [cycles per round, default 2000] [rounds, default 50]
 */
#include <dispatch/dispatch.h>
#include "bench_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum { QUEUES = 4 };

static volatile float sink;
static void work(void *ctx) { sink = (float)sin(M_1_PI / (double)(long)ctx); } /* upstream's little work */
static void notified(void *ctx) { dispatch_group_leave((dispatch_group_t)ctx); }

static void cycle(long n, dispatch_queue_t *reused, dispatch_queue_t nq, dispatch_group_t tested) {
    dispatch_queue_t fresh[QUEUES];
    dispatch_queue_t *qa = reused;
    if (!qa) {
        for (int i = 0; i < QUEUES; i++) fresh[i] = dispatch_queue_create("bench.group.task", NULL);
        qa = fresh;
    }
    dispatch_group_enter(tested);
    dispatch_group_t group = dispatch_group_create();
    dispatch_group_enter(group);
    for (int i = 0; i < QUEUES; i++) dispatch_group_async_f(group, qa[i], (void *)n, work);
    dispatch_group_leave(group);
    dispatch_group_notify_f(group, nq, tested, notified);
    dispatch_group_wait(tested, DISPATCH_TIME_FOREVER);
    dispatch_release(group);
    if (!reused) for (int i = 0; i < QUEUES; i++) dispatch_release(fresh[i]);
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void run(const char *name, int reuse, long cycles, int rounds) {
    char key[64];
    snprintf(key, sizeof key, "c.group.notify_cycle.%s", name);
    if (!bench_wanted(key)) {
        return;
    }
    dispatch_queue_t nq = dispatch_queue_create("bench.group.notify", NULL);
    dispatch_group_t tested = dispatch_group_create();
    dispatch_queue_t qa[QUEUES];
    for (int i = 0; i < QUEUES; i++) qa[i] = dispatch_queue_create("bench.group.task", NULL);
    double *per_cycle = calloc((size_t)rounds, sizeof *per_cycle);
    for (int warm = 0; warm < 2; warm++) {
        for (int r = 0; r < rounds; r++) {
            double start = (double)bench_now_ns();
            for (long c = 1; c <= cycles; c++) cycle(c, reuse ? qa : NULL, nq, tested);
            per_cycle[r] = ((double)bench_now_ns() - start) / (double)cycles;
        }
    }
    qsort(per_cycle, (size_t)rounds, sizeof *per_cycle, cmp);
    bench_result(key, per_cycle[rounds / 2], "ns/op");
    free(per_cycle);
    for (int i = 0; i < QUEUES; i++) dispatch_release(qa[i]);
    dispatch_release(tested);
    dispatch_release(nq);
}

int main(int argc, char **argv) {
    long cycles = argc > 1 ? atol(argv[1]) : 2000;
    int rounds = argc > 2 ? atoi(argv[2]) : 50;
    if (cycles <= 0 || rounds <= 0) {
        fprintf(stderr, "usage: bench_group [cycles per round > 0] [rounds > 0]\n");
        return 2;
    }
    run("fresh", 0, cycles, rounds);
    run("reused", 1, cycles, rounds);
    return 0;
}
