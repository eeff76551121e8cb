/*
 * The data queue's core under real concurrency, with plain pthreads only (so ThreadSanitizer sees every
 * happens-before edge: scripts/sanitize runs this under TSan). One producer thread enqueues 2M entries of
 * pseudo-random sizes (0..300 bytes, wrapping the 4 KiB queue constantly); one consumer thread dequeues
 * them. Each side goes entry by entry (jd_dq_core_enqueue / jd_dq_core_dequeue) or in batches
 * (jd_dq_core_enqueue_batch / jd_dq_core_dequeue_batch), in every combination. Every entry
 * carries its sequence number and a byte pattern derived from it: the consumer checks order, size and every
 * byte, so a torn or reordered entry fails the test.
 */
#include "jd_dataqueue.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define COUNT 2000000u
#define QUEUE_BYTES 4096u

static jd_dq_region region;

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

/* arg: 0 entry by entry, else batches of up to that many entries. */
static void *producer(void *arg) {
    uint32_t batch = (uint32_t)(uintptr_t)arg;
    for (uint32_t seq = 0; seq < COUNT;) {
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

/* One transfer of COUNT entries; for each side 0: entry by entry, else batches of up to that many. */
static int transfer(uint32_t produce_batch, uint32_t batch) {
    jd_dq_core_reset(&region);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t t;
    pthread_create(&t, NULL, producer, (void *)(uintptr_t)produce_batch);
    struct check c = {0, 0};
    while (c.seq < COUNT && !c.bad) {
        bool serviced = false;
        uint32_t n;
        jd_ioreturn r = batch ? jd_dq_core_dequeue_batch(&region, batch, check, &c, &n, &serviced)
                              : jd_dq_core_dequeue(&region, check, &c, &serviced);
        if (r == kIOReturnUnderrun) {
            sched_yield();
        } else if (r != kIOReturnSuccess) {
            fprintf(stderr, "dequeue %u: 0x%08X\n", c.seq, (unsigned)r);
            return 1;
        }
    }
    pthread_join(t, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (c.bad) return 1;
    double ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / COUNT;
    printf("test_dataqueue_spsc: %u entries through a %u-byte queue, in order, intact (producer %s, consumer %s: "
           "%.0f ns/entry)\n", COUNT, QUEUE_BYTES, produce_batch ? "batches" : "entry by entry",
           batch ? "batches" : "entry by entry", ns);
    return 0;
}

int main(void) {
    region.base = aligned_alloc(64, JD_DQ_HEADER_SIZE + QUEUE_BYTES);
    region.queue_byte_count = QUEUE_BYTES;
    int rc = transfer(0, 0) || transfer(0, 64) || transfer(64, 64) || transfer(64, 0);
    free(region.base);
    return rc;
}
