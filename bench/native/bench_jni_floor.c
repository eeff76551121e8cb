/* C floor for the JNI-crossing row: the cost of the raw C call that JNI wraps (jd_noop, not inlined). */
#include "jdispatch.h"
#include "bench_util.h"

int main(void) {
    void (*volatile noop)(void) = jd_noop;   /* volatile: the compiler may not inline or drop the call */
    const long n = 200000000;
    for (long i = 0; i < n / 10; i++) noop();   /* warm up */
    uint64_t t0 = bench_now_ns();
    for (long i = 0; i < n; i++) noop();
    bench_result("c.noop_call", (double)(bench_now_ns() - t0) / n, "ns/op");
    return 0;
}
