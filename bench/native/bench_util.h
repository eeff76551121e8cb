/* Shared by the C floor programs: a monotonic clock and the RESULT line that bench/run collects. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One measurement: `RESULT <name> <value> <unit>` on stdout, the format bench/run parses. */
static inline void bench_result(const char *name, double value, const char *unit) {
    printf("RESULT %s %.3f %s\n", name, value, unit);
    fflush(stdout);
}

/* Whether to measure the case that prints `name`: a paired run asks for one (BENCH_ONLY=<name>), so that a
 * program of several cases measures only the one it is paired for; unset, every case runs. */
static inline int bench_wanted(const char *name) {
    const char *only = getenv("BENCH_ONLY");
    return only == NULL || strcmp(only, name) == 0;
}
#endif
