/*
 * libFuzzer target: the data queue over a region whose header and entries are whatever the input says (a
 * hostile peer), then a sequence of dequeue/dequeue_batch/peek/enqueue/enqueue_batch/can_enqueue driven by the
 * input. AddressSanitizer guards the exact-size heap region; a block that sees bytes outside the entry area, or a
 * return code other than the documented ones (or a batch count that disagrees with it), aborts.
 */
#define JD_DQ_NO_DISPATCH
#include "jd_dataqueue.h"

#include <stdlib.h>
#include <string.h>

static const jd_dq_region *current;

static void inside(const void *data, size_t size) {
    const uint8_t *p = data, *lo = current->base + JD_DQ_HEADER_SIZE;
    if (p < lo + JD_DQ_ENTRY_HEADER_SIZE || p + size > lo + current->queue_byte_count) {
        abort();
    }
}

static void read_all(void *ctx, const void *data, size_t size) {
    volatile uint8_t sum = 0;
    (void)ctx;
    inside(data, size);
    for (size_t i = 0; i < size; i++) sum += ((const uint8_t *)data)[i];
}

static void write_all(void *ctx, void *data, size_t size) {
    (void)ctx;
    inside(data, size);
    memset(data, 0xA5, size);
}

/* Batch entry sizes from one input byte: varied, 0..255. */
static uint32_t batch_size(void *ctx, uint32_t index) {
    return (*(const uint8_t *)ctx + 37u * index) & 0xFFu;
}

static void write_nth(void *ctx, uint32_t index, void *data, size_t size) {
    if (size != batch_size(ctx, index)) {
        abort();
    }
    write_all(NULL, data, size);
}

static void expect(jd_ioreturn r) {
    if (r != kIOReturnSuccess && r != kIOReturnUnderrun && r != kIOReturnOverrun && r != kIOReturnError) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) {
        return 0;
    }
    uint32_t qbc = 4u * (1u + data[0] % 128u);
    size_t len = JD_DQ_HEADER_SIZE + qbc;
    uint8_t *mem = malloc(len);
    memset(mem, 0, len);
    size_t initial = size - 1 < len ? size - 1 : len;
    memcpy(mem, data + 1, initial);
    jd_dq_region r = {mem, qbc};
    current = &r;
    bool send;
    uint32_t count;
    for (size_t i = 1 + initial; i + 1 < size; i += 2) {
        switch (data[i] % 7) {
        case 0: expect(jd_dq_core_dequeue(&r, read_all, NULL, &send)); break;
        case 1: expect(jd_dq_core_peek(&r, read_all, NULL)); break;
        case 2: expect(jd_dq_core_enqueue(&r, data[i + 1], write_all, NULL, &send)); break;
        case 3: (void)jd_dq_core_can_enqueue(&r, data[i + 1], data[i + 1] % 8); break;
        case 4: expect(jd_dq_core_dequeue_batch(&r, 1u + data[i + 1] % 16, read_all, NULL, &count, &send)); break;
        case 5: {
            uint32_t max = 1u + data[i + 1] % 16;
            void *seed = (void *)&data[i + 1];
            jd_ioreturn ret = jd_dq_core_enqueue_batch(&r, max, batch_size, write_nth, seed, &count, &send);
            expect(ret);
            if (count > max || (ret == kIOReturnSuccess) != (count == max) || ret == kIOReturnUnderrun) {
                abort();
            }
            break;
        }
        default: mem[data[i + 1] % 12] = data[i]; break; /* the peer scribbles on head/tail/flag meanwhile */
        }
    }
    expect(jd_dq_core_dequeue(&r, read_all, NULL, &send));
    free(mem);
    return 0;
}
