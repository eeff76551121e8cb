/*
 * C floor for DataQueueBenchmark's per-entry rows (calls=entry, mode=twoThreads): the same protocol
 * (jd_dq_core_enqueue / jd_dq_core_dequeue, both full fences, head and tail on one line) between two threads
 * of one process, the same 64 KiB queue, the same work per entry (the producer writes the entry's first
 * 8 bytes, the consumer adds them up) and the same hand-off: the consumer asks for BATCH entries and takes
 * them while the producer thread makes them. No doorbell, as in the Java rows (the WithCoalesce calls).
 * Prints `RESULT c.dataqueue.entry.<size> <ns per entry> ns/op` (the JMH row's unit: it counts BATCH
 * operations per invocation), the median of ROUNDS rounds.
 */
#include "jd_dataqueue.h"
#include "bench_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { BATCH = 100000, CAPACITY = 64 * 1024, ROUNDS = 15, PER_ROUND = 20 };

/* Each on its own 128 bytes: the producer's and the consumer's lines never share (as the Java rows pad). */
static struct {
    _Alignas(128) _Atomic uint64_t requested;
    _Alignas(128) _Atomic bool stop;
    _Alignas(128) uint64_t next;   /* producer only */
    _Alignas(128) uint64_t sum;    /* consumer only */
    _Alignas(128) uint32_t size;
} g;

static void fill(void *ctx, void *data, size_t size) {
    (void)ctx;
    (void)size;
    memcpy(data, &g.next, sizeof g.next);
}

static void take(void *ctx, const void *data, size_t size) {
    (void)ctx;
    (void)size;
    uint64_t v;
    memcpy(&v, data, sizeof v);
    g.sum += v;
}

static void *producer(void *arg) {
    const jd_dq_region *r = arg;
    uint64_t produced = 0;
    bool send = false;
    while (!atomic_load_explicit(&g.stop, memory_order_relaxed)) {
        if (atomic_load_explicit(&g.requested, memory_order_acquire) == produced) {
            continue;
        }
        g.next = produced;
        if (jd_dq_core_enqueue(r, g.size, fill, NULL, &send) == kIOReturnSuccess) {
            produced++;
        }
    }
    return NULL;
}

static uint64_t transfer(const jd_dq_region *r) {
    bool send = false;
    atomic_fetch_add_explicit(&g.requested, BATCH, memory_order_release);
    uint64_t t0 = bench_now_ns();
    for (int got = 0; got < BATCH;) {
        if (jd_dq_core_dequeue(r, take, NULL, &send) == kIOReturnSuccess) {
            got++;
        }
    }
    return bench_now_ns() - t0;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    static const uint32_t sizes[] = {8, 64, 256};
    uint8_t *base = aligned_alloc(4096, JD_DQ_HEADER_SIZE + CAPACITY);
    if (!base) {
        perror("aligned_alloc");
        return 1;
    }
    jd_dq_region r = {base, CAPACITY};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        char name[64];
        snprintf(name, sizeof name, "c.dataqueue.entry.%u", sizes[s]);
        if (!bench_wanted(name)) {
            continue;
        }
        jd_dq_core_reset(&r);
        g.size = sizes[s];
        atomic_store(&g.requested, 0);
        atomic_store(&g.stop, false);
        pthread_t t;
        if (pthread_create(&t, NULL, producer, &r) != 0) {
            perror("pthread_create");
            return 1;
        }
        for (int i = 0; i < 2 * PER_ROUND; i++) { /* warm-up */
            transfer(&r);
        }
        double rounds[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            uint64_t ns = 0;
            for (int j = 0; j < PER_ROUND; j++) {
                ns += transfer(&r);
            }
            rounds[i] = (double)ns / ((double)PER_ROUND * BATCH);
        }
        atomic_store(&g.stop, true);
        pthread_join(t, NULL);
        qsort(rounds, ROUNDS, sizeof rounds[0], by_value);
        bench_result(name, rounds[ROUNDS / 2], "ns/op");
    }
    if (g.sum == 42) { /* keeps the consumer's reads */
        puts("");
    }
    free(base);
    return 0;
}
