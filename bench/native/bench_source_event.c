/*
 * C floor for DispatchSourceEventBenchmark: the same DATA_ADD source programs in C on the same libdispatch.
 *   ping-pong: merge 1 -> handler (on a serial queue) stores a flag -> the merging thread spins on it.
 *   coalesced: merge 1 as fast as possible while the handler sums getData; merges per second.
 * Prints RESULT lines (bench_util.h) for bench/run.
 */
#include <dispatch/dispatch.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"

static _Atomic uint64_t seen;

static void handler(void *context) {
    atomic_fetch_add_explicit(&seen, dispatch_source_get_data((dispatch_source_t)context), memory_order_release);
}

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 200000;
    dispatch_queue_t q = dispatch_queue_create("bench", DISPATCH_QUEUE_SERIAL);
    dispatch_source_t s = dispatch_source_create(DISPATCH_SOURCE_TYPE_DATA_ADD, 0, 0, q);
    dispatch_set_context(s, s);
    dispatch_source_set_event_handler_f(s, handler);
    dispatch_activate(s);

    for (int pass = 0; pass < 2 && bench_wanted("c.source.pingpong"); pass++) { /* pass 0 warms up */
        atomic_store(&seen, 0);
        uint64_t t0 = bench_now_ns();
        for (long i = 1; i <= rounds; i++) {
            dispatch_source_merge_data(s, 1);
            while (atomic_load_explicit(&seen, memory_order_acquire) < (uint64_t)i) {
            }
        }
        uint64_t t1 = bench_now_ns();
        if (pass) {
            bench_result("c.source.pingpong", (double)(t1 - t0) / rounds, "ns/op");
        }
    }
    for (int pass = 0; pass < 2 && bench_wanted("c.source.coalesced_merge"); pass++) {
        atomic_store(&seen, 0);
        long merges = rounds * 20;
        uint64_t t0 = bench_now_ns();
        for (long i = 0; i < merges; i++) {
            dispatch_source_merge_data(s, 1);
        }
        while (atomic_load_explicit(&seen, memory_order_acquire) < (uint64_t)merges) {
        }
        uint64_t t1 = bench_now_ns();
        if (pass) {
            bench_result("c.source.coalesced_merge", (double)(t1 - t0) / merges, "ns/op");
        }
    }
    dispatch_source_cancel(s);
    dispatch_release(s);
    return 0;
}
