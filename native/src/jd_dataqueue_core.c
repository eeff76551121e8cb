/*
 * The data queue algorithm over a mapped region (layout and rules: jd_dataqueue.h). No libdispatch, no
 * system calls: the C tests and the fuzzer drive it directly.
 *
 * Memory ordering: the producer owns tail, the consumer owns head. Each side reads its own index relaxed and
 * the other's with acquire (pairs with the other side's release store, so entry bytes written before a
 * tail store are visible after the acquire of tail, and a slot is reused only after its head store).
 * Both full fences pair up: producer "store tail; fence; load head" against consumer "store head; fence;
 * (next) load tail": at least one side sees the other's store, so a wake-up is never lost.
 *
 * Hostile memory: head, tail and every size are loaded once into locals and checked against the trusted
 * queue_byte_count before any use; a bad value is kIOReturnError and nothing is read or written.
 *
 * Notification flags (*send_data_available, *send_data_serviced): a call only ever sets the caller's flag to
 * true, never clears it, so that one flag can gather several calls before one Send (the coalescing contract).
 */
#define JD_DQ_NO_DISPATCH
#include "jd_dataqueue.h"

#include <stdatomic.h>
#include <string.h>

#define ENTRIES(r) ((r)->base + JD_DQ_HEADER_SIZE)
#define HDR(r) ((struct jd_dq_header *)(void *)(r)->base)

jd_ioreturn jd_dq_check_queue_byte_count(uint64_t queue_byte_count) {
    if (queue_byte_count == 0 || queue_byte_count > JD_DQ_MAX_QUEUE_BYTE_COUNT ||
        queue_byte_count % JD_DQ_ENTRY_ALIGNMENT != 0) {
        return kIOReturnBadArgument;
    }
    return kIOReturnSuccess;
}

void jd_dq_core_reset(const jd_dq_region *r) {
    atomic_store_explicit(&HDR(r)->head, 0, memory_order_relaxed);
    atomic_store_explicit(&HDR(r)->tail, 0, memory_order_relaxed);
    atomic_store_explicit(&HDR(r)->need_serviced_callback, 0, memory_order_relaxed);
    memset(HDR(r)->reserved, 0, JD_DQ_RESERVED_SIZE);
    atomic_thread_fence(memory_order_seq_cst);
}

/* The size field at `offset` (4 bytes inside the entry area, checked by the caller), read once. */
static uint32_t load_size(const jd_dq_region *r, uint32_t offset) {
    uint32_t size;
    memcpy(&size, ENTRIES(r) + offset, sizeof size);
    return size;
}

/* Where the producer would put an entry of entry_size bytes; false when it does not fit now (always when it is
 * larger than the whole queue). */
static bool find_room(uint32_t qbc, uint32_t head, uint32_t tail, uint64_t entry_size, uint32_t *at) {
    if (entry_size > qbc) {
        return false;
    }
    if (tail >= head) {
        if (entry_size <= (uint64_t)qbc - tail) {
            *at = tail;
            return true;
        }
        if (head > entry_size) { /* strictly: the tail must never reach the head */
            *at = 0;
            return true;
        }
        return false;
    }
    if ((uint64_t)(head - tail) > entry_size) {
        *at = tail;
        return true;
    }
    return false;
}

/* The producer's view: its own tail (relaxed) and head (acquire). False when either is outside the queue. */
static bool load_for_enqueue(const jd_dq_region *r, uint32_t *head, uint32_t *tail) {
    *tail = atomic_load_explicit(&HDR(r)->tail, memory_order_relaxed);
    *head = atomic_load_explicit(&HDR(r)->head, memory_order_acquire);
    return *head <= r->queue_byte_count && *tail <= r->queue_byte_count;
}

/* No room: ask the consumer for DataServiced. Written only when clear: a producer retrying on a full queue
 * does not keep stealing the line. */
static void set_need_serviced(struct jd_dq_header *h) {
    if (!atomic_load_explicit(&h->need_serviced_callback, memory_order_relaxed)) {
        atomic_store_explicit(&h->need_serviced_callback, 1, memory_order_relaxed);
    }
}

/* Completes an entry placed at `at` whose data the block has written: its size field, then, when it wrapped,
 * the marker at the old tail. Returns the new (unpublished) tail. */
static uint32_t seal_entry(const jd_dq_region *r, uint32_t tail, uint32_t at, uint32_t size, uint64_t entry_size) {
    memcpy(ENTRIES(r) + at, &size, sizeof size);
    if (at == 0 && tail != 0 && (uint64_t)r->queue_byte_count - tail >= JD_DQ_ENTRY_HEADER_SIZE) {
        uint32_t marker = (uint32_t)(entry_size - JD_DQ_ENTRY_HEADER_SIZE);
        memcpy(ENTRIES(r) + tail, &marker, sizeof marker);
    }
    return at + (uint32_t)entry_size;
}

/* Stores tail (release) and says whether DataAvailable is due: the queue was empty before (old_tail ==
 * old_head), or looked non-empty but the consumer emptied it meanwhile (it may be asleep). */
static bool publish_tail(struct jd_dq_header *h, uint32_t new_tail, uint32_t old_tail, uint32_t old_head) {
    atomic_store_explicit(&h->tail, new_tail, memory_order_release);
    uint32_t head = old_head;
    if (old_tail != old_head) {
        /* Pairs with the consumer's fence after it empties the queue. */
        atomic_thread_fence(memory_order_seq_cst);
        head = atomic_load_explicit(&h->head, memory_order_relaxed);
    }
    return old_tail == head;
}

jd_ioreturn jd_dq_core_enqueue(const jd_dq_region *r, uint32_t size, jd_dq_enqueue_block block, void *ctx,
                               bool *send_data_available) {
    uint32_t head, tail, at;
    if (!load_for_enqueue(r, &head, &tail)) {
        return kIOReturnError;
    }
    uint64_t entry_size = jd_dq_entry_size(size);
    if (!find_room(r->queue_byte_count, head, tail, entry_size, &at)) {
        set_need_serviced(HDR(r));
        *send_data_available = true; /* wake the consumer so that it makes room */
        return kIOReturnOverrun;
    }
    block(ctx, ENTRIES(r) + at + JD_DQ_ENTRY_HEADER_SIZE, size);
    if (publish_tail(HDR(r), seal_entry(r, tail, at, size, entry_size), tail, head)) {
        *send_data_available = true;
    }
    return kIOReturnSuccess;
}

jd_ioreturn jd_dq_core_enqueue_batch(const jd_dq_region *r, uint32_t max, jd_dq_batch_size_fn size_of,
                                     jd_dq_batch_enqueue_block block, void *ctx, uint32_t *count,
                                     bool *send_data_available) {
    struct jd_dq_header *h = HDR(r);
    *count = 0;
    if (max == 0) {
        return kIOReturnBadArgument;
    }
    uint32_t old_head, old_tail;
    if (!load_for_enqueue(r, &old_head, &old_tail)) {
        return kIOReturnError;
    }
    uint32_t head = old_head, tail = old_tail, n = 0;
    jd_ioreturn ret = kIOReturnSuccess;
    while (n < max) {
        uint32_t size = size_of(ctx, n);
        uint64_t entry_size = jd_dq_entry_size(size);
        uint32_t at;
        if (!find_room(r->queue_byte_count, head, tail, entry_size, &at)) {
            uint32_t seen = head;
            head = atomic_load_explicit(&h->head, memory_order_acquire);
            if (head > r->queue_byte_count) {
                ret = kIOReturnError;
                break;
            }
            if (head != seen) {
                continue; /* the consumer made room since: look again, as the next enqueue would */
            }
            set_need_serviced(h);
            ret = kIOReturnOverrun;
            break;
        }
        block(ctx, n, ENTRIES(r) + at + JD_DQ_ENTRY_HEADER_SIZE, size);
        tail = seal_entry(r, tail, at, size, entry_size);
        n++;
    }
    if (n > 0 && publish_tail(h, tail, old_tail, old_head)) {
        *send_data_available = true;
    }
    if (ret == kIOReturnOverrun) {
        *send_data_available = true; /* wake the consumer so that it makes room */
    }
    *count = n;
    return ret;
}

/* Locates the entry at head: its offset and data size, validated. kIOReturnUnderrun when empty. */
static jd_ioreturn locate(const jd_dq_region *r, uint32_t head, uint32_t tail, uint32_t *at, uint32_t *size) {
    const uint32_t qbc = r->queue_byte_count;
    if (head > qbc || tail > qbc) {
        return kIOReturnError;
    }
    if (head == tail) {
        return kIOReturnUnderrun;
    }
    uint32_t offset = head;
    uint32_t data_size = 0;
    bool wrapped = (uint64_t)qbc - head < JD_DQ_ENTRY_HEADER_SIZE;
    if (!wrapped) {
        data_size = load_size(r, head);
        wrapped = jd_dq_entry_size(data_size) > (uint64_t)qbc - head;
    }
    if (wrapped) {
        if (head < tail) { /* entries lie in [head, tail): a wrap here is a lie */
            return kIOReturnError;
        }
        offset = 0;
        if (tail < JD_DQ_ENTRY_HEADER_SIZE) {
            return kIOReturnError;
        }
        data_size = load_size(r, 0);
    }
    /* The entry must end at or before tail when tail is ahead of it, else before the end of the region. */
    uint64_t end = offset < tail ? tail : qbc;
    if (jd_dq_entry_size(data_size) > end - offset) {
        return kIOReturnError;
    }
    *at = offset;
    *size = data_size;
    return kIOReturnSuccess;
}

/* The end of a dequeue: a producer ran out of room, so tell it there is room now (also on underrun, so that it
 * never waits forever). Only reported: the flag stays set until SendDataServiced clears it, as in DriverKit. */
static void report_need_serviced(struct jd_dq_header *h, bool *send_data_serviced) {
    if (atomic_load_explicit(&h->need_serviced_callback, memory_order_relaxed)) {
        *send_data_serviced = true;
    }
}

void jd_dq_core_clear_need_serviced(const jd_dq_region *r) {
    atomic_store_explicit(&HDR(r)->need_serviced_callback, 0, memory_order_relaxed);
}

jd_ioreturn jd_dq_core_dequeue(const jd_dq_region *r, jd_dq_dequeue_block block, void *ctx, bool *send_data_serviced) {
    struct jd_dq_header *h = HDR(r);
    uint32_t head = atomic_load_explicit(&h->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&h->tail, memory_order_acquire);
    uint32_t at, size;
    jd_ioreturn ret = locate(r, head, tail, &at, &size);
    if (ret == kIOReturnSuccess) {
        if (block) {
            block(ctx, ENTRIES(r) + at + JD_DQ_ENTRY_HEADER_SIZE, size);
        }
        uint32_t new_head = at + (uint32_t)jd_dq_entry_size(size);
        atomic_store_explicit(&h->head, new_head, memory_order_release);
        if (new_head == tail) {
            /* Emptied: pairs with the producer's fence so that one of us sees the other's store. */
            atomic_thread_fence(memory_order_seq_cst);
        }
    } else if (ret != kIOReturnUnderrun) {
        return ret;
    }
    report_need_serviced(h, send_data_serviced);
    return ret;
}

jd_ioreturn jd_dq_core_dequeue_batch(const jd_dq_region *r, uint32_t max, jd_dq_dequeue_block block, void *ctx,
                                     uint32_t *count, bool *send_data_serviced) {
    struct jd_dq_header *h = HDR(r);
    *count = 0;
    if (max == 0) {
        return kIOReturnBadArgument;
    }
    uint32_t head = atomic_load_explicit(&h->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&h->tail, memory_order_acquire);
    uint32_t published = head;
    uint32_t n = 0;
    jd_ioreturn ret = kIOReturnSuccess;
    while (n < max) {
        uint32_t at, size;
        ret = locate(r, head, tail, &at, &size);
        if (ret == kIOReturnUnderrun && head != published) {
            /* Caught up with the tail seen so far: publish, fence (as dequeue does on emptying), look again. */
            atomic_store_explicit(&h->head, head, memory_order_release);
            published = head;
            atomic_thread_fence(memory_order_seq_cst);
            tail = atomic_load_explicit(&h->tail, memory_order_acquire);
            continue;
        }
        if (ret != kIOReturnSuccess) {
            break;
        }
        if (block) {
            block(ctx, ENTRIES(r) + at + JD_DQ_ENTRY_HEADER_SIZE, size);
        }
        head = at + (uint32_t)jd_dq_entry_size(size);
        n++;
    }
    if (head != published) {
        atomic_store_explicit(&h->head, head, memory_order_release);
        if (head == tail) {
            atomic_thread_fence(memory_order_seq_cst);
        }
    }
    *count = n;
    report_need_serviced(h, send_data_serviced);
    return n > 0 && ret == kIOReturnUnderrun ? kIOReturnSuccess : ret;
}

jd_ioreturn jd_dq_core_peek(const jd_dq_region *r, jd_dq_dequeue_block block, void *ctx) {
    struct jd_dq_header *h = HDR(r);
    uint32_t head = atomic_load_explicit(&h->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&h->tail, memory_order_acquire);
    uint32_t at, size;
    jd_ioreturn ret = locate(r, head, tail, &at, &size);
    if (ret == kIOReturnSuccess && block) {
        block(ctx, ENTRIES(r) + at + JD_DQ_ENTRY_HEADER_SIZE, size);
    }
    return ret;
}

bool jd_dq_core_is_data_available(const jd_dq_region *r) {
    struct jd_dq_header *h = HDR(r);
    uint32_t head = atomic_load_explicit(&h->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&h->tail, memory_order_acquire);
    return head != tail;
}

bool jd_dq_core_can_enqueue(const jd_dq_region *r, uint32_t size, uint32_t count) {
    uint32_t head, tail;
    if (!load_for_enqueue(r, &head, &tail)) {
        return false;
    }
    uint64_t entry_size = jd_dq_entry_size(size);
    /* Simulate the producer: each entry goes where enqueue would put it. */
    for (uint32_t i = 0; i < count; i++) {
        uint32_t at;
        if (!find_room(r->queue_byte_count, head, tail, entry_size, &at)) {
            return false;
        }
        tail = at + (uint32_t)entry_size;
    }
    return true;
}
