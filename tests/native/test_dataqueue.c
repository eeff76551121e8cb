/* The data queue algorithm (jd_dq_core_*) and IODataQueueDispatchSource in one process. */
#include "jd_dataqueue.h"
#include "jdispatch.h"

#include <dispatch/dispatch.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: %s: FAILED %s\n", __FILE__, __LINE__, __func__, #cond); \
            failures++;                                                              \
        }                                                                            \
    } while (0)

static void fill(void *ctx, void *data, size_t size) {
    memset(data, *(int *)ctx, size);
}

struct got {
    uint8_t bytes[256];
    size_t size;
    int calls;
};

static void take(void *ctx, const void *data, size_t size) {
    struct got *g = ctx;
    g->size = size;
    memcpy(g->bytes, data, size < sizeof g->bytes ? size : sizeof g->bytes);
    g->calls++;
}

static uint32_t u32_at(const jd_dq_region *r, size_t offset) {
    uint32_t v;
    memcpy(&v, r->base + offset, 4);
    return v;
}

static void put_u32(const jd_dq_region *r, size_t offset, uint32_t v) {
    memcpy(r->base + offset, &v, 4);
}

#define REGION(name, qbc)                                    \
    static uint8_t name##_mem[JD_DQ_HEADER_SIZE + (qbc)];    \
    memset(name##_mem, 0xEE, sizeof name##_mem);             \
    jd_dq_region name = {name##_mem, (qbc)};                 \
    jd_dq_core_reset(&name)

static jd_ioreturn enq(const jd_dq_region *r, uint32_t size, int byte, bool *send) {
    bool ignored;
    return jd_dq_core_enqueue(r, size, fill, &byte, send ? send : &ignored);
}

static jd_ioreturn deq(const jd_dq_region *r, struct got *g, bool *serviced) {
    bool ignored;
    return jd_dq_core_dequeue(r, take, g, serviced ? serviced : &ignored);
}

static void layout_and_codes(void) {
    CHECK(kIOReturnError == (int32_t)0xE00002BC);
    CHECK(kIOReturnNoMemory == (int32_t)0xE00002BD);
    CHECK(kIOReturnBadArgument == (int32_t)0xE00002C2);
    CHECK(kIOReturnNotReady == (int32_t)0xE00002D8);
    CHECK(kIOReturnUnderrun == (int32_t)0xE00002E7);
    CHECK(kIOReturnOverrun == (int32_t)0xE00002E8);
    CHECK(jd_constant("JD_DQ_HEADER_SIZE") == 128 && jd_constant("kIOReturnOverrun") == kIOReturnOverrun);
    CHECK(jd_constant("no such constant") == INT64_MIN);
    CHECK(jd_dq_get_data_queue_entry_header_size() == 4);
    CHECK(jd_dq_entry_size(0) == 4 && jd_dq_entry_size(1) == 8 && jd_dq_entry_size(4) == 8 && jd_dq_entry_size(5) == 12);
    CHECK(jd_dq_check_queue_byte_count(64) == kIOReturnSuccess);
    CHECK(jd_dq_check_queue_byte_count(66) == kIOReturnBadArgument);
    CHECK(jd_dq_check_queue_byte_count(0) == kIOReturnBadArgument);
    CHECK(jd_dq_check_queue_byte_count((uint64_t)JD_DQ_MAX_QUEUE_BYTE_COUNT + 4) == kIOReturnBadArgument);
}

static void entry_bytes_match_the_layout(void) {
    REGION(r, 64);
    bool send = false;
    CHECK(enq(&r, 5, 0xAB, &send) == kIOReturnSuccess);
    CHECK(send); /* empty -> non-empty */
    CHECK(u32_at(&r, JD_DQ_HEAD_OFFSET) == 0);
    CHECK(u32_at(&r, JD_DQ_TAIL_OFFSET) == 12); /* 4 + round_up_4(5) */
    CHECK(u32_at(&r, JD_DQ_HEADER_SIZE) == 5); /* the caller's size, not rounded */
    CHECK(r.base[JD_DQ_HEADER_SIZE + 4] == 0xAB && r.base[JD_DQ_HEADER_SIZE + 8] == 0xAB);
    send = false;
    CHECK(enq(&r, 3, 0xCD, &send) == kIOReturnSuccess);
    CHECK(!send); /* not a transition */
    struct got g = {0};
    CHECK(jd_dq_core_peek(&r, take, &g) == kIOReturnSuccess && g.size == 5 && g.bytes[4] == 0xAB);
    CHECK(u32_at(&r, JD_DQ_HEAD_OFFSET) == 0); /* peek does not move head */
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && g.size == 5);
    CHECK(u32_at(&r, JD_DQ_HEAD_OFFSET) == 12);
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && g.size == 3 && g.bytes[2] == 0xCD);
    CHECK(deq(&r, &g, NULL) == kIOReturnUnderrun);
    CHECK(!jd_dq_core_is_data_available(&r));
}

static void exactly_full_and_one_byte_too_many(void) {
    REGION(r, 64);
    /* One entry of 60 data bytes fills 64 bytes exactly: tail == queueByteCount. */
    CHECK(jd_dq_core_can_enqueue(&r, 60, 1));
    CHECK(!jd_dq_core_can_enqueue(&r, 61, 1));
    CHECK(enq(&r, 61, 1, NULL) == kIOReturnOverrun);
    CHECK(r.base[JD_DQ_NEED_SERVICED_OFFSET] == 1);
    r.base[JD_DQ_NEED_SERVICED_OFFSET] = 0;
    CHECK(enq(&r, 60, 1, NULL) == kIOReturnSuccess);
    CHECK(u32_at(&r, JD_DQ_TAIL_OFFSET) == 64);
    CHECK(enq(&r, 0, 1, NULL) == kIOReturnOverrun);
    struct got g = {0};
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && g.size == 60);
    CHECK(deq(&r, &g, NULL) == kIOReturnUnderrun);
    /* head == tail == 64: next entry goes to the start. */
    CHECK(enq(&r, 8, 2, NULL) == kIOReturnSuccess);
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && g.size == 8 && g.bytes[7] == 2);
    CHECK(jd_dq_core_can_enqueue(&r, 4, 2) && !jd_dq_core_can_enqueue(&r, 60, 1));
}

static void wrap_around_writes_the_marker(void) {
    REGION(r, 64);
    struct got g = {0};
    CHECK(enq(&r, 20, 1, NULL) == kIOReturnSuccess); /* [0,24) */
    CHECK(enq(&r, 20, 2, NULL) == kIOReturnSuccess); /* [24,48) */
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess);     /* head 24 */
    /* 16 bytes remain at the end (48..64): a 24-byte entry wraps to 0 since head (24) > 24 is false: full. */
    CHECK(enq(&r, 20, 3, NULL) == kIOReturnOverrun);
    r.base[JD_DQ_NEED_SERVICED_OFFSET] = 0;
    CHECK(enq(&r, 16, 3, NULL) == kIOReturnSuccess); /* 20 bytes: 48+20 > 64, head 24 > 20: wraps to [0,20) */
    CHECK(u32_at(&r, JD_DQ_TAIL_OFFSET) == 20);
    CHECK(u32_at(&r, JD_DQ_HEADER_SIZE + 48) == 16); /* the marker: the rounded size at the old tail */
    CHECK(enq(&r, 0, 4, NULL) == kIOReturnOverrun);   /* 20 + 4 would reach head 24: strictly less needed */
    r.base[JD_DQ_NEED_SERVICED_OFFSET] = 0;
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && g.size == 20 && g.bytes[0] == 2);
    CHECK(u32_at(&r, JD_DQ_HEAD_OFFSET) == 48);
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && g.size == 16 && g.bytes[0] == 3); /* follows the marker */
    CHECK(u32_at(&r, JD_DQ_HEAD_OFFSET) == 20);
    CHECK(deq(&r, &g, NULL) == kIOReturnUnderrun);
}

static void wrap_without_room_for_a_marker(void) {
    REGION(r, 32);
    struct got g = {0};
    CHECK(enq(&r, 24, 1, NULL) == kIOReturnSuccess); /* [0,28): 4 bytes left, room for a marker only */
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess);
    CHECK(enq(&r, 4, 2, NULL) == kIOReturnSuccess); /* fits exactly at 28? 8 > 4: wraps to 0 */
    CHECK(u32_at(&r, JD_DQ_TAIL_OFFSET) == 8 && u32_at(&r, JD_DQ_HEADER_SIZE + 28) == 4);
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && g.size == 4 && g.bytes[0] == 2);
    /* head 8: fill to 28 exactly, then 4 bytes remain, then an entry at 0 needs head > 8. */
    CHECK(enq(&r, 16, 3, NULL) == kIOReturnSuccess && u32_at(&r, JD_DQ_TAIL_OFFSET) == 28);
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && g.size == 16);
    CHECK(enq(&r, 0, 4, NULL) == kIOReturnSuccess && u32_at(&r, JD_DQ_TAIL_OFFSET) == 32); /* exactly the end */
    CHECK(enq(&r, 0, 5, NULL) == kIOReturnSuccess && u32_at(&r, JD_DQ_TAIL_OFFSET) == 4);  /* no marker room */
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && g.size == 0);
    CHECK(u32_at(&r, JD_DQ_HEAD_OFFSET) == 32);
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && g.size == 0 && u32_at(&r, JD_DQ_HEAD_OFFSET) == 4);
    CHECK(deq(&r, &g, NULL) == kIOReturnUnderrun);
}

/* Batches: the entries that single dequeues would give, in order, across the wrap; head stored at the end. */
static void dequeue_batch_is_a_run_of_dequeues(void) {
    REGION(r, 64);
    struct got g = {0};
    uint32_t n = 99;
    bool serviced = false;
    CHECK(jd_dq_core_dequeue_batch(&r, 8, take, &g, &n, &serviced) == kIOReturnUnderrun && n == 0 && !serviced);
    CHECK(jd_dq_core_dequeue_batch(&r, 0, take, &g, &n, &serviced) == kIOReturnBadArgument && n == 0);
    CHECK(enq(&r, 20, 1, NULL) == kIOReturnSuccess); /* [0,24) */
    CHECK(enq(&r, 20, 2, NULL) == kIOReturnSuccess); /* [24,48) */
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess);     /* head 24 */
    CHECK(enq(&r, 16, 3, NULL) == kIOReturnSuccess); /* wraps to [0,20), marker at 48 */
    CHECK(enq(&r, 20, 4, NULL) == kIOReturnOverrun); /* sets needServicedCallback */
    g.calls = 0;
    CHECK(jd_dq_core_dequeue_batch(&r, 1, take, &g, &n, &serviced) == kIOReturnSuccess && n == 1 && serviced);
    CHECK(g.calls == 1 && g.bytes[0] == 2 && u32_at(&r, JD_DQ_HEAD_OFFSET) == 48); /* max respected, head stored */
    CHECK(r.base[JD_DQ_NEED_SERVICED_OFFSET] == 1); /* reported, not cleared */
    jd_dq_core_clear_need_serviced(&r);             /* SendDataServiced */
    serviced = false;
    CHECK(enq(&r, 0, 5, NULL) == kIOReturnSuccess); /* [20,24) */
    CHECK(jd_dq_core_dequeue_batch(&r, 8, take, &g, &n, &serviced) == kIOReturnSuccess && n == 2 && !serviced);
    CHECK(g.calls == 3 && g.size == 0 && u32_at(&r, JD_DQ_HEAD_OFFSET) == 24 && u32_at(&r, JD_DQ_TAIL_OFFSET) == 24);
    /* A corrupt size after two good entries: those two are dequeued, the bad one is never handed out. */
    CHECK(enq(&r, 4, 6, NULL) == kIOReturnSuccess && enq(&r, 4, 7, NULL) == kIOReturnSuccess);
    CHECK(enq(&r, 4, 8, NULL) == kIOReturnSuccess); /* [24,32) [32,40) [40,48) */
    put_u32(&r, JD_DQ_HEADER_SIZE + 40, 1000);
    g.calls = 0;
    CHECK(jd_dq_core_dequeue_batch(&r, 8, take, &g, &n, &serviced) == kIOReturnError && n == 2 && g.calls == 2);
    CHECK(g.bytes[0] == 7 && u32_at(&r, JD_DQ_HEAD_OFFSET) == 40);
}

/* A batch for the enqueue_batch tests: entry i has sizes[i] bytes, all (byte + i). While size_of(hook_at) runs
   (the first time), hook(hook_region) plays the consumer. */
struct batch {
    const uint32_t *sizes;
    int byte;
    void (*hook)(const jd_dq_region *r);
    const jd_dq_region *hook_region;
    uint32_t hook_at;
    int size_calls;
};

static uint32_t batch_size(void *ctx, uint32_t i) {
    struct batch *b = ctx;
    b->size_calls++;
    if (b->hook && i == b->hook_at) {
        b->hook(b->hook_region);
        b->hook = NULL;
    }
    return b->sizes[i];
}

static void batch_fill(void *ctx, uint32_t i, void *data, size_t size) {
    struct batch *b = ctx;
    CHECK(size == b->sizes[i]);
    memset(data, b->byte + (int)i, size);
}

static jd_ioreturn enq_batch(const jd_dq_region *r, uint32_t max, struct batch *b, uint32_t *n, bool *send) {
    *n = 99;      /* the call must set it */
    *send = false; /* the caller's part of the coalescing contract */
    return jd_dq_core_enqueue_batch(r, max, batch_size, batch_fill, b, n, send);
}

/* Dequeues entries first..first+count-1 of batch b, one by one, checking size and bytes. */
static void dequeue_batch_entries(const jd_dq_region *r, const struct batch *b, uint32_t first, uint32_t count) {
    for (uint32_t i = first; i < first + count; i++) {
        struct got g = {0};
        CHECK(deq(r, &g, NULL) == kIOReturnSuccess && g.size == b->sizes[i]);
        for (size_t k = 0; k < g.size; k++) CHECK(g.bytes[k] == (uint8_t)(b->byte + (int)i));
    }
}

static void dequeue_one(const jd_dq_region *r) {
    struct got g = {0};
    CHECK(deq(r, &g, NULL) == kIOReturnSuccess);
}

static void corrupt_head(const jd_dq_region *r) {
    put_u32(r, JD_DQ_HEAD_OFFSET, r->queue_byte_count + 4);
}

/* Batched enqueue: the bytes, the signals and the errors that a run of enqueues would give. */
static void enqueue_batch_is_a_run_of_enqueues(void) {
    REGION(r, 64);
    uint32_t n;
    bool send = false;
    struct batch a = {.sizes = (const uint32_t[]){5, 0, 8, 0}, .byte = 0x10};
    CHECK(jd_dq_core_enqueue_batch(&r, 0, batch_size, batch_fill, &a, &n, &send) == kIOReturnBadArgument);
    CHECK(n == 0 && !send && a.size_calls == 0);
    /* Into an empty queue: DataAvailable; tail stored at the end of the batch. */
    CHECK(enq_batch(&r, 4, &a, &n, &send) == kIOReturnSuccess && n == 4 && send);
    CHECK(u32_at(&r, JD_DQ_TAIL_OFFSET) == 32 && a.size_calls == 4);
    /* Into a non-empty queue: the consumer has not emptied it, no signal. */
    struct batch b = {.sizes = (const uint32_t[]){4}, .byte = 0x20};
    CHECK(enq_batch(&r, 1, &b, &n, &send) == kIOReturnSuccess && n == 1 && !send);
    /* Full after two of three (tail 64, wrapping needs head 0 > 12): Overrun, flag set, consumer woken. */
    struct batch c = {.sizes = (const uint32_t[]){8, 8, 8}, .byte = 0x30};
    CHECK(enq_batch(&r, 3, &c, &n, &send) == kIOReturnOverrun && n == 2 && send);
    CHECK(r.base[JD_DQ_NEED_SERVICED_OFFSET] == 1 && u32_at(&r, JD_DQ_TAIL_OFFSET) == 64);
    struct got g = {0};
    bool serviced = false;
    CHECK(deq(&r, &g, &serviced) == kIOReturnSuccess && serviced && g.size == 5 && g.bytes[4] == 0x10);
    jd_dq_core_clear_need_serviced(&r); /* SendDataServiced */
    dequeue_batch_entries(&r, &a, 1, 3);
    dequeue_batch_entries(&r, &b, 0, 1);
    dequeue_batch_entries(&r, &c, 0, 2);
    CHECK(deq(&r, &g, NULL) == kIOReturnUnderrun && u32_at(&r, JD_DQ_HEAD_OFFSET) == 64);
    /* Wraps (head 64 > 24) to [0,24), then [24,44). After one dequeue (head 24): [44,60), then a wrap to [0,16)
       with the marker (12) in the 4 bytes left at 60, which the dequeue follows. */
    struct batch d = {.sizes = (const uint32_t[]){20, 16}, .byte = 0x40};
    CHECK(enq_batch(&r, 2, &d, &n, &send) == kIOReturnSuccess && n == 2 && send);
    CHECK(u32_at(&r, JD_DQ_TAIL_OFFSET) == 44);
    dequeue_batch_entries(&r, &d, 0, 1);
    struct batch e = {.sizes = (const uint32_t[]){12, 12}, .byte = 0x50};
    CHECK(enq_batch(&r, 2, &e, &n, &send) == kIOReturnSuccess && n == 2 && !send);
    CHECK(u32_at(&r, JD_DQ_TAIL_OFFSET) == 16 && u32_at(&r, JD_DQ_HEADER_SIZE + 60) == 12);
    dequeue_batch_entries(&r, &d, 1, 1);
    dequeue_batch_entries(&r, &e, 0, 2);
    CHECK(u32_at(&r, JD_DQ_HEAD_OFFSET) == 16 && deq(&r, &g, NULL) == kIOReturnUnderrun);
    /* The consumer makes room while the batch runs: it reads head again and goes on. [16,56) is queued; entry 0
       wraps to [0,12) (marker 8 at 56); entry 1 finds no room before head 16, but the consumer has dequeued
       [16,56) meanwhile: [12,20). The consumer emptied the queue: DataAvailable. */
    CHECK(enq(&r, 36, 0x5F, NULL) == kIOReturnSuccess);
    struct batch f = {.sizes = (const uint32_t[]){8, 4}, .byte = 0x60, .hook = dequeue_one, .hook_region = &r,
                      .hook_at = 1};
    CHECK(enq_batch(&r, 2, &f, &n, &send) == kIOReturnSuccess && n == 2 && send);
    CHECK(f.size_calls == 3 && u32_at(&r, JD_DQ_TAIL_OFFSET) == 20 && r.base[JD_DQ_NEED_SERVICED_OFFSET] == 0);
    dequeue_batch_entries(&r, &f, 0, 2);
    CHECK(deq(&r, &g, NULL) == kIOReturnUnderrun);

    /* A corrupt head or tail: kIOReturnError, nothing written, size_of not even asked. */
    static uint8_t before[sizeof r_mem];
    put_u32(&r, JD_DQ_HEAD_OFFSET, 68);
    memcpy(before, r_mem, sizeof r_mem);
    f.size_calls = 0;
    CHECK(enq_batch(&r, 2, &f, &n, &send) == kIOReturnError && n == 0 && !send && f.size_calls == 0);
    CHECK(memcmp(before, r_mem, sizeof r_mem) == 0);
    put_u32(&r, JD_DQ_HEAD_OFFSET, 20);
    put_u32(&r, JD_DQ_TAIL_OFFSET, 0xFFFFFFF0u);
    memcpy(before, r_mem, sizeof r_mem);
    CHECK(enq_batch(&r, 2, &f, &n, &send) == kIOReturnError && n == 0 && !send);
    CHECK(memcmp(before, r_mem, sizeof r_mem) == 0);
    /* Head turns corrupt when the batch looks at it again: the entries before are published. */
    REGION(s, 16);
    struct batch h = {.sizes = (const uint32_t[]){8, 8}, .byte = 0x70, .hook = corrupt_head, .hook_region = &s,
                      .hook_at = 1};
    CHECK(enq_batch(&s, 2, &h, &n, &send) == kIOReturnError && n == 1 && send);
    CHECK(u32_at(&s, JD_DQ_TAIL_OFFSET) == 12 && u32_at(&s, JD_DQ_HEADER_SIZE) == 8);

    /* The same region bytes as enqueue one by one, across a wrap with a marker and into an overrun. */
    REGION(one, 64);
    REGION(many, 64);
    const jd_dq_region *both[] = {&one, &many};
    for (int k = 0; k < 2; k++) {
        CHECK(enq(both[k], 40, 0x7F, NULL) == kIOReturnSuccess);
        dequeue_one(both[k]); /* head = tail = 44 */
    }
    struct batch m = {.sizes = (const uint32_t[]){3, 9, 1, 0, 7, 0}, .byte = 0x80};
    for (uint32_t i = 0; i < 6; i++) {
        CHECK(enq(&one, m.sizes[i], m.byte + (int)i, NULL) == (i < 5 ? kIOReturnSuccess : kIOReturnOverrun));
    }
    CHECK(enq_batch(&many, 6, &m, &n, &send) == kIOReturnOverrun && n == 5 && send);
    CHECK(u32_at(&many, JD_DQ_TAIL_OFFSET) == 40 && u32_at(&many, JD_DQ_HEADER_SIZE + 52) == 12);
    CHECK(memcmp(one_mem, many_mem, sizeof one_mem) == 0);
    g.calls = 0;
    serviced = false;
    CHECK(jd_dq_core_dequeue_batch(&many, 8, take, &g, &n, &serviced) == kIOReturnSuccess && n == 5 && serviced);
    CHECK(g.calls == 5 && g.size == 7 && g.bytes[6] == 0x84);
}

static void zero_length_entries(void) {
    REGION(r, 16);
    struct got g = {.calls = 0};
    for (int i = 0; i < 4; i++) CHECK(enq(&r, 0, 0, NULL) == kIOReturnSuccess); /* 4 bytes each: tail 16 */
    CHECK(enq(&r, 0, 0, NULL) == kIOReturnOverrun); /* wrapping needs head > 4 */
    for (int i = 0; i < 4; i++) CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && g.size == 0);
    CHECK(g.calls == 4);
    CHECK(deq(&r, &g, NULL) == kIOReturnUnderrun);
}

static void overrun_then_data_serviced_on_next_dequeue(void) {
    REGION(r, 16);
    bool send = false, serviced = false;
    CHECK(enq(&r, 8, 1, &send) == kIOReturnSuccess && send);
    send = false;
    CHECK(enq(&r, 8, 1, &send) == kIOReturnOverrun && send); /* still wakes the consumer */
    CHECK(r.base[JD_DQ_NEED_SERVICED_OFFSET] == 1);
    struct got g = {0};
    CHECK(deq(&r, &g, &serviced) == kIOReturnSuccess && serviced);
    CHECK(r.base[JD_DQ_NEED_SERVICED_OFFSET] == 1); /* only SendDataServiced clears it */
    jd_dq_core_clear_need_serviced(&r);
    CHECK(r.base[JD_DQ_NEED_SERVICED_OFFSET] == 0);
    serviced = false;
    CHECK(deq(&r, &g, &serviced) == kIOReturnUnderrun && !serviced);
    /* Flag set with an empty queue: an underrun still reports it. */
    CHECK(enq(&r, 100, 1, NULL) == kIOReturnOverrun);
    CHECK(deq(&r, &g, &serviced) == kIOReturnUnderrun && serviced);
}

/* The coalescing contract: the caller clears its flag, makes one or more calls with it, and sends once if it is
   set. A call only ever sets the flag; it never clears it. */
static void coalescing_calls_only_ever_set_the_flag(void) {
    REGION(r, 64);
    bool send = false;
    for (int i = 0; i < 3; i++) CHECK(enq(&r, 4, i, &send) == kIOReturnSuccess);
    CHECK(send); /* the first made the queue non-empty: the two after it must not take that back */
    /* A flag already true stays true after calls that would not set it. */
    CHECK(enq(&r, 4, 3, &send) == kIOReturnSuccess && send);
    struct batch b = {.sizes = (const uint32_t[]){4, 4}, .byte = 0x10};
    uint32_t n;
    CHECK(jd_dq_core_enqueue_batch(&r, 2, batch_size, batch_fill, &b, &n, &send) == kIOReturnSuccess && n == 2);
    CHECK(send);
    CHECK(jd_dq_core_enqueue_batch(&r, 0, batch_size, batch_fill, &b, &n, &send) == kIOReturnBadArgument && send);
    bool serviced = true;
    struct got g = {0};
    CHECK(r.base[JD_DQ_NEED_SERVICED_OFFSET] == 0);
    CHECK(deq(&r, &g, &serviced) == kIOReturnSuccess && serviced);
    CHECK(jd_dq_core_dequeue_batch(&r, 2, take, &g, &n, &serviced) == kIOReturnSuccess && n == 2 && serviced);
    CHECK(jd_dq_core_dequeue_batch(&r, 0, take, &g, &n, &serviced) == kIOReturnBadArgument && serviced);
    CHECK(jd_dq_core_dequeue_batch(&r, 8, take, &g, &n, &serviced) == kIOReturnSuccess && n == 3 && serviced);
    CHECK(deq(&r, &g, &serviced) == kIOReturnUnderrun && serviced);
    CHECK(jd_dq_core_dequeue_batch(&r, 8, take, &g, &n, &serviced) == kIOReturnUnderrun && serviced);
    /* And on a corrupt head. */
    put_u32(&r, JD_DQ_HEAD_OFFSET, 68);
    CHECK(enq(&r, 4, 0, &send) == kIOReturnError && send);
    CHECK(jd_dq_core_enqueue_batch(&r, 2, batch_size, batch_fill, &b, &n, &send) == kIOReturnError && send);
    CHECK(deq(&r, &g, &serviced) == kIOReturnError && serviced);
    CHECK(jd_dq_core_dequeue_batch(&r, 2, take, &g, &n, &serviced) == kIOReturnError && serviced);
}

/* After an overrun, DriverKit's consumer loops DequeueWithCoalesce until underrun with one flag: it must end
   true, and needServicedCallback stays set in the region until SendDataServiced clears it. */
static void dequeue_with_coalesce_loop_after_an_overrun(void) {
    for (int batched = 0; batched < 2; batched++) {
        REGION(r, 32);
        bool send = false;
        for (int i = 0; i < 4; i++) CHECK(enq(&r, 4, i, &send) == kIOReturnSuccess); /* tail 32: full */
        send = false;
        CHECK(enq(&r, 4, 4, &send) == kIOReturnOverrun && send);
        CHECK(r.base[JD_DQ_NEED_SERVICED_OFFSET] == 1);
        bool serviced = false;
        struct got g = {0};
        uint32_t n = 0;
        jd_ioreturn ret;
        do {
            ret = batched ? jd_dq_core_dequeue_batch(&r, 1, take, &g, &n, &serviced) : deq(&r, &g, &serviced);
        } while (ret == kIOReturnSuccess);
        CHECK(ret == kIOReturnUnderrun && g.calls == 4);
        CHECK(serviced);
        CHECK(r.base[JD_DQ_NEED_SERVICED_OFFSET] == 1);
        jd_dq_core_clear_need_serviced(&r); /* SendDataServiced: the next round does not send it again */
        serviced = false;
        CHECK(deq(&r, &g, &serviced) == kIOReturnUnderrun && !serviced);
    }
}

/* Whether one enqueue, with a fresh flag, says DataAvailable is due. */
static bool enq_sends(const jd_dq_region *r) {
    bool send = false;
    CHECK(enq(r, 4, 1, &send) == kIOReturnSuccess);
    return send;
}

static void data_available_only_on_transition(void) {
    REGION(r, 64);
    struct got g = {0};
    CHECK(enq_sends(&r));
    CHECK(!enq_sends(&r));
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess);
    CHECK(!enq_sends(&r));
    CHECK(deq(&r, &g, NULL) == kIOReturnSuccess && deq(&r, &g, NULL) == kIOReturnSuccess);
    CHECK(enq_sends(&r));
}

static void corrupted_headers_are_errors(void) {
    REGION(r, 64);
    struct got g = {0};
    bool b;
    CHECK(enq(&r, 8, 1, NULL) == kIOReturnSuccess);
    put_u32(&r, JD_DQ_TAIL_OFFSET, 1000); /* beyond the region */
    CHECK(deq(&r, &g, NULL) == kIOReturnError && jd_dq_core_peek(&r, take, &g) == kIOReturnError);
    CHECK(enq(&r, 4, 1, NULL) == kIOReturnError && !jd_dq_core_can_enqueue(&r, 4, 1));
    put_u32(&r, JD_DQ_TAIL_OFFSET, 12);
    put_u32(&r, JD_DQ_HEAD_OFFSET, 0xFFFFFFF0u);
    CHECK(deq(&r, &g, NULL) == kIOReturnError);
    put_u32(&r, JD_DQ_HEAD_OFFSET, 0);
    put_u32(&r, JD_DQ_HEADER_SIZE, 0xFFFFFFFFu); /* size beyond tail and region */
    CHECK(deq(&r, &g, NULL) == kIOReturnError);
    put_u32(&r, JD_DQ_HEADER_SIZE, 12); /* 16 bytes > tail 12 */
    CHECK(deq(&r, &g, NULL) == kIOReturnError);
    /* head > tail, wrapped entry at 0 larger than tail */
    put_u32(&r, JD_DQ_HEAD_OFFSET, 62);
    put_u32(&r, JD_DQ_TAIL_OFFSET, 8);
    put_u32(&r, JD_DQ_HEADER_SIZE, 8);
    CHECK(deq(&r, &g, NULL) == kIOReturnError);
    /* Where DriverKit says kIOReturnUnderrun (head == tail, both beyond the entries) or reads on (a wrap to offset
       0 while head < tail): kIOReturnError, as jd_dataqueue.h documents. */
    put_u32(&r, JD_DQ_HEAD_OFFSET, 1000);
    put_u32(&r, JD_DQ_TAIL_OFFSET, 1000);
    CHECK(deq(&r, &g, NULL) == kIOReturnError && jd_dq_core_peek(&r, take, &g) == kIOReturnError);
    put_u32(&r, JD_DQ_HEAD_OFFSET, 56);
    put_u32(&r, JD_DQ_TAIL_OFFSET, 64);
    put_u32(&r, JD_DQ_HEADER_SIZE + 56, 8); /* 12 bytes do not fit in the 8 before the end */
    CHECK(deq(&r, &g, NULL) == kIOReturnError && jd_dq_core_peek(&r, take, &g) == kIOReturnError);
    CHECK(u32_at(&r, JD_DQ_HEAD_OFFSET) == 56);
    CHECK(g.calls == 0); /* the block never saw corrupt data */
    /* Reset recovers. */
    jd_dq_core_reset(&r);
    CHECK(enq(&r, 4, 9, NULL) == kIOReturnSuccess && jd_dq_core_dequeue(&r, take, &g, &b) == kIOReturnSuccess);
    CHECK(g.bytes[0] == 9);
}

/* ---- the dispatch source in one process ---- */

struct counter {
    atomic_int available, serviced, completions;
    dispatch_semaphore_t signal;
};

static void handler(void *ctx, int32_t event) {
    struct counter *c = ctx;
    if (event == JD_DQ_EVENT_DATA_AVAILABLE) atomic_fetch_add(&c->available, 1);
    if (event == JD_DQ_EVENT_DATA_SERVICED) atomic_fetch_add(&c->serviced, 1);
    if (event == JD_DQ_EVENT_COMPLETION) atomic_fetch_add(&c->completions, 1);
    dispatch_semaphore_signal(c->signal);
}

/* A hang detector (it returns as soon as a handler signals): 60 s, for sanitizer builds on a loaded machine. */
static bool wait_signal(struct counter *c) {
    return dispatch_semaphore_wait(c->signal, dispatch_time(DISPATCH_TIME_NOW, 60 * NSEC_PER_SEC)) == 0;
}

static void dispatch_source_in_process(const char *path) {
    dispatch_queue_t queue = dispatch_queue_create("test.dq", NULL);
    int32_t status[2];
    CHECK(jd_dq_create(66, queue, path, status) == NULL && status[0] == kIOReturnBadArgument);
    jd_dataqueue *q = jd_dq_create(256, queue, path, status);
    CHECK(q != NULL && status[0] == kIOReturnSuccess);
    if (!q) return;
    if (path) CHECK(jd_dq_create(256, queue, path, status) == NULL && status[0] == kIOReturnError); /* O_EXCL */
    struct counter c = {.signal = dispatch_semaphore_create(0)};
    int byte = 7;
    bool send = false;
    /* Queued without ringing (coalesced), then a handler is installed: it fires at once. */
    CHECK(jd_dq_enqueue_with_coalesce(q, 10, &send, fill, &byte) == kIOReturnSuccess && send);
    CHECK(jd_dq_set_data_available_handler(q, handler, &c) == kIOReturnSuccess);
    CHECK(wait_signal(&c) && atomic_load(&c.available) == 1);
    struct got g = {0};
    CHECK(jd_dq_dequeue(q, take, &g) == kIOReturnSuccess && g.size == 10);
    /* A batch into the empty queue rings DataAvailable itself. */
    struct batch b = {.sizes = (const uint32_t[]){3, 0, 40}, .byte = 0x70};
    uint32_t n = 0;
    CHECK(jd_dq_enqueue_batch(q, 3, batch_size, batch_fill, &b, &n) == kIOReturnSuccess && n == 3);
    while (atomic_load(&c.available) < 2 && wait_signal(&c)) {
    }
    CHECK(atomic_load(&c.available) == 2);
    CHECK(jd_dq_dequeue_batch(q, 8, take, &g, &n) == kIOReturnSuccess && n == 3 && g.size == 40 && g.bytes[0] == 0x72);
    CHECK(jd_dq_set_data_serviced_handler(q, handler, &c) == kIOReturnSuccess);
    /* Fill up, overrun, then a dequeue sends DataServiced. */
    while (jd_dq_can_enqueue_data(q, 60, 1)) CHECK(jd_dq_enqueue(q, 60, fill, &byte) == kIOReturnSuccess);
    CHECK(jd_dq_enqueue(q, 60, fill, &byte) == kIOReturnOverrun);
    CHECK(jd_dq_dequeue(q, take, &g) == kIOReturnSuccess);
    /* DataAvailable rang too (the first entry after empty, the overrun): its handler calls also signal. */
    while (atomic_load(&c.serviced) == 0 && wait_signal(&c)) {
    }
    CHECK(atomic_load(&c.serviced) == 1);
    /* Disabled: rings wait; enabling delivers them. */
    CHECK(jd_dq_set_enable_with_completion(q, false, handler, &c) == kIOReturnSuccess);
    while (atomic_load(&c.completions) < 1) CHECK(wait_signal(&c));
    int before = atomic_load(&c.available);
    CHECK(jd_dq_send_data_available(q) == kIOReturnSuccess);
    CHECK(jd_dq_set_enable_with_completion(q, true, handler, &c) == kIOReturnSuccess);
    while (atomic_load(&c.completions) < 2 || atomic_load(&c.available) == before) CHECK(wait_signal(&c));
    /* Cancel: completion runs once; no handler afterwards; setting a handler is refused. */
    CHECK(jd_dq_set_enable_with_completion(q, false, NULL, NULL) == kIOReturnSuccess); /* cancel while disabled */
    CHECK(jd_dq_cancel(q, handler, &c) == kIOReturnSuccess);
    while (atomic_load(&c.completions) < 3) CHECK(wait_signal(&c));
    int after = atomic_load(&c.available);
    CHECK(jd_dq_send_data_available(q) == kIOReturnSuccess);
    CHECK(jd_dq_set_data_available_handler(q, handler, &c) == kIOReturnNotReady);
    CHECK(jd_dq_cancel(q, handler, &c) == kIOReturnSuccess); /* idempotent, still completes */
    while (atomic_load(&c.completions) < 4) CHECK(wait_signal(&c));
    CHECK(atomic_load(&c.available) == after);
    jd_dq_free(q);
    if (path) CHECK(jd_dq_unlink(path) == 0);
    dispatch_release(c.signal);
    dispatch_release(queue);
}

/* Dequeue is "flag = false; DequeueWithCoalesce(&flag); if (flag) SendDataServiced()", and only SendDataServiced
   clears needServicedCallback: two queues with the same history, one drained with DriverKit's coalescing loop
   and one SendDataServiced, the other with Dequeue, end with the same region bytes, and each producer hears once. */
static void dequeue_is_dequeue_with_coalesce_then_send_data_serviced(void) {
    dispatch_queue_t queue = dispatch_queue_create("test.dq.coalesce", NULL);
    int32_t status[2];
    jd_dataqueue *a = jd_dq_create(32, queue, NULL, status);
    jd_dataqueue *b = jd_dq_create(32, queue, NULL, status);
    CHECK(a && b);
    if (!a || !b) {
        jd_dq_free(a);
        jd_dq_free(b);
        dispatch_release(queue);
        return;
    }
    struct counter ca = {.signal = dispatch_semaphore_create(0)}, cb = {.signal = dispatch_semaphore_create(0)};
    CHECK(jd_dq_set_data_serviced_handler(a, handler, &ca) == kIOReturnSuccess);
    CHECK(jd_dq_set_data_serviced_handler(b, handler, &cb) == kIOReturnSuccess);
    jd_dataqueue *both[] = {a, b};
    for (int k = 0; k < 2; k++) {
        int byte = 0x30;
        bool send = false;
        for (int i = 0; i < 4; i++) CHECK(jd_dq_enqueue_with_coalesce(both[k], 4, &send, fill, &byte) == kIOReturnSuccess);
        CHECK(jd_dq_enqueue_with_coalesce(both[k], 4, &send, fill, &byte) == kIOReturnOverrun && send);
    }
    const uint8_t *ra = jd_dq_region_of(a)->base, *rb = jd_dq_region_of(b)->base;
    const size_t len = JD_DQ_HEADER_SIZE + 32;
    CHECK(memcmp(ra, rb, len) == 0 && ra[JD_DQ_NEED_SERVICED_OFFSET] == 1);

    bool serviced = false;
    struct got g = {0};
    while (jd_dq_dequeue_with_coalesce(a, &serviced, take, &g) == kIOReturnSuccess) {
    }
    CHECK(g.calls == 4 && serviced);
    CHECK(ra[JD_DQ_NEED_SERVICED_OFFSET] == 1); /* the dequeues only reported it */

    struct got h = {0};
    CHECK(jd_dq_dequeue(b, take, &h) == kIOReturnSuccess);
    CHECK(rb[JD_DQ_NEED_SERVICED_OFFSET] == 0); /* it saw the flag and sent DataServiced, which cleared it */
    while (jd_dq_dequeue(b, take, &h) == kIOReturnSuccess) {
    }
    CHECK(h.calls == 4);

    CHECK(jd_dq_send_data_serviced(a) == kIOReturnSuccess);
    CHECK(ra[JD_DQ_NEED_SERVICED_OFFSET] == 0);
    CHECK(memcmp(ra, rb, len) == 0);
    CHECK(wait_signal(&ca) && atomic_load(&ca.serviced) == 1);
    CHECK(wait_signal(&cb) && atomic_load(&cb.serviced) == 1);
    jd_dq_free(a);
    jd_dq_free(b);
    dispatch_release(ca.signal);
    dispatch_release(cb.signal);
    dispatch_release(queue);
}

int main(void) {
    layout_and_codes();
    entry_bytes_match_the_layout();
    exactly_full_and_one_byte_too_many();
    wrap_around_writes_the_marker();
    wrap_without_room_for_a_marker();
    dequeue_batch_is_a_run_of_dequeues();
    enqueue_batch_is_a_run_of_enqueues();
    zero_length_entries();
    overrun_then_data_serviced_on_next_dequeue();
    coalescing_calls_only_ever_set_the_flag();
    dequeue_with_coalesce_loop_after_an_overrun();
    data_available_only_on_transition();
    corrupted_headers_are_errors();
    dequeue_is_dequeue_with_coalesce_then_send_data_serviced();
    dispatch_source_in_process(NULL);
    char path[64];
    snprintf(path, sizeof path, "/dev/shm/jd-test-dq-%d", (int)getpid());
    dispatch_source_in_process(path);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_dataqueue: all checks passed\n");
    return 0;
}
