/*
 * The data queue's core under real concurrency, with plain pthreads only (so ThreadSanitizer sees every
 * happens-before edge: scripts/sanitize runs this under TSan). One producer thread enqueues up to 2M entries of
 * pseudo-random sizes (0..300 bytes, wrapping the 4 KiB queue constantly); one consumer thread dequeues
 * them. Each side goes entry by entry (jd_dq_core_enqueue / jd_dq_core_dequeue) or in batches
 * (jd_dq_core_enqueue_batch / jd_dq_core_dequeue_batch), in every combination. Every entry
 * carries its sequence number and a byte pattern derived from it: the consumer checks order, size and every
 * byte, so a torn or reordered entry fails the test.
 *
 * How fast entries cross depends on the scheduler (a full or empty queue means a sched_yield, and every
 * handover is a context switch): under a sanitizer beside a CPU hog 2M entries can take minutes. So each
 * transfer stops producing after BUDGET_S seconds; the consumer still checks every entry that was produced,
 * and fewer than MIN_COUNT entries fail the test (it must not pass having moved almost nothing).
 */
#include "jd_dataqueue.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COUNT 2000000u
#define QUEUE_BYTES 4096u
#define BUDGET_S 15
#define MIN_COUNT 20000u
#define PRODUCING UINT32_MAX

static jd_dq_region region;
/* How many entries the producer enqueued in all, published (release) once it stops; PRODUCING until then. */
static _Atomic uint32_t produced = PRODUCING;

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

static uint32_t size_of(uint32_t seq) {
    return (seq * 2654435761u >> 7) % 301; /* 0..300 */
}

static uint8_t byte_of(uint32_t seq, uint32_t i) {
    return (uint8_t)(seq * 31u + i * 7u);
}

static void fill_seq(uint32_t seq, void *data, size_t n) {
    uint8_t *p = data;
    for (size_t i = 0; i < n; i++) p[i] = byte_of(seq, (uint32_t)i);
    if (n >= 4) memcpy(p, &seq, 4);
}

/* ctx: the sequence number of the entry (entry by entry), or of the batch's entry 0. */
static void fill(void *ctx, void *data, size_t n) {
    fill_seq(*(uint32_t *)ctx, data, n);
}

static uint32_t batch_size_of(void *ctx, uint32_t index) {
    return size_of(*(uint32_t *)ctx + index);
}

static void batch_fill(void *ctx, uint32_t index, void *data, size_t n) {
    fill_seq(*(uint32_t *)ctx + index, data, n);
}

/* arg: 0 entry by entry, else batches of up to that many entries. Stops at COUNT or after BUDGET_S seconds. */
static void *producer(void *arg) {
    uint32_t batch = (uint32_t)(uintptr_t)arg;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    uint32_t seq = 0;
    for (uint32_t round = 0; seq < COUNT; round++) {
        if ((round & 255) == 0 && seconds_since(&t0) >= BUDGET_S) {
            break;
        }
        bool wake = false;
        uint32_t n = 0; /* entries enqueued: a batch may stop for room after some */
        jd_ioreturn r = batch ? jd_dq_core_enqueue_batch(&region, COUNT - seq < batch ? COUNT - seq : batch,
                                                         batch_size_of, batch_fill, &seq, &n, &wake)
                              : jd_dq_core_enqueue(&region, size_of(seq), fill, &seq, &wake);
        if (!batch && r == kIOReturnSuccess) {
            n = 1;
        }
        seq += n;
        if (r == kIOReturnOverrun) {
            sched_yield();
        } else if (r != kIOReturnSuccess) {
            fprintf(stderr, "enqueue %u: 0x%08X\n", seq, (unsigned)r);
            exit(1);
        }
    }
    atomic_store_explicit(&produced, seq, memory_order_release);
    return NULL;
}

struct check { uint32_t seq; int bad; };

static void check(void *ctx, const void *data, size_t n) {
    struct check *c = ctx;
    const uint8_t *p = data;
    if (n != size_of(c->seq)) {
        fprintf(stderr, "entry %u: size %zu, expected %u\n", c->seq, n, size_of(c->seq));
        c->bad = 1;
        return;
    }
    uint32_t got = c->seq;
    if (n >= 4) memcpy(&got, p, 4);
    for (size_t i = 4; i < n; i++) {
        if (p[i] != byte_of(c->seq, (uint32_t)i)) {
            fprintf(stderr, "entry %u: byte %zu torn\n", c->seq, i);
            c->bad = 1;
            return;
        }
    }
    if (got != c->seq) {
        fprintf(stderr, "entry %u: carries sequence %u\n", c->seq, got);
        c->bad = 1;
    }
    c->seq++;
}

/* One transfer of up to COUNT entries; for each side 0: entry by entry, else batches of up to that many. */
static int transfer(uint32_t produce_batch, uint32_t batch) {
    jd_dq_core_reset(&region);
    atomic_store_explicit(&produced, PRODUCING, memory_order_relaxed);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t t;
    pthread_create(&t, NULL, producer, (void *)(uintptr_t)produce_batch);
    struct check c = {0, 0};
    for (;;) {
        /* Read before dequeuing: once the producer has stopped, an empty queue means an entry was lost. */
        uint32_t end = atomic_load_explicit(&produced, memory_order_acquire);
        if (c.seq >= end) {
            break;
        }
        bool serviced = false;
        uint32_t n;
        jd_ioreturn r = batch ? jd_dq_core_dequeue_batch(&region, batch, check, &c, &n, &serviced)
                              : jd_dq_core_dequeue(&region, check, &c, &serviced);
        if (c.bad) {
            break;
        }
        if (r == kIOReturnUnderrun) {
            if (end != PRODUCING) {
                fprintf(stderr, "entry %u: the queue is empty, but the producer enqueued %u entries\n", c.seq, end);
                c.bad = 1;
                break;
            }
            sched_yield();
        } else if (r != kIOReturnSuccess) {
            fprintf(stderr, "dequeue %u: 0x%08X\n", c.seq, (unsigned)r);
            c.bad = 1;
            break;
        }
    }
    pthread_join(t, NULL);
    double s = seconds_since(&t0);
    if (c.bad) return 1;
    uint32_t end = atomic_load_explicit(&produced, memory_order_relaxed);
    bool serviced = false;
    jd_ioreturn r = jd_dq_core_dequeue(&region, check, &c, &serviced);
    if (c.seq != end || r != kIOReturnUnderrun) {
        fprintf(stderr, "the consumer checked %u entries, the producer enqueued %u (last dequeue 0x%08X)\n", c.seq,
                end, (unsigned)r);
        return 1;
    }
    const char *how = produce_batch ? "batches" : "entry by entry";
    const char *consumer_how = batch ? "batches" : "entry by entry";
    if (end < MIN_COUNT) {
        fprintf(stderr, "test_dataqueue_spsc: only %u entries crossed in %.1f s (producer %s, consumer %s), "
                "at least %u needed\n", end, s, how, consumer_how, MIN_COUNT);
        return 1;
    }
    printf("test_dataqueue_spsc: %u of %u entries through a %u-byte queue%s, in order, intact (producer %s, "
           "consumer %s: %.0f ns/entry)\n", end, COUNT, QUEUE_BYTES, end < COUNT ? " (time budget reached)" : "",
           how, consumer_how, s * 1e9 / end);
    return 0;
}

int main(void) {
    region.base = aligned_alloc(64, JD_DQ_HEADER_SIZE + QUEUE_BYTES);
    region.queue_byte_count = QUEUE_BYTES;
    int rc = transfer(0, 0) || transfer(0, 64) || transfer(64, 64) || transfer(64, 0);
    free(region.base);
    return rc;
}
