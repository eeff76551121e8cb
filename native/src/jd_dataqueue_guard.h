/*
 * Internal to the data queue: the SIGBUS guard of jd_dataqueue_guard.c (the public calls are in jd_dataqueue.h).
 */
#ifndef JD_DATAQUEUE_GUARD_H
#define JD_DATAQUEUE_GUARD_H

#include "jd_dataqueue.h"

#include <stdatomic.h>

struct jd_dq_mapping {
    _Atomic(uintptr_t) base; /* 0: a free slot */
    _Atomic(size_t) len;
    _Atomic uint32_t faults; /* SIGBUS faults repaired in [base, base + len) */
};

/*
 * True once an access to the mapping faulted (its file was truncated). Call it after the accesses to judge:
 * the signal fence keeps the compiler from moving the load before them (the handler runs on this thread).
 */
/* mmap(fd, 0..len, shared, read/write), registered with the SIGBUS guard. NULL on failure (errno). */
jd_dq_mapping *jd_dq_map_fd(int fd, size_t len);

static inline bool jd_dq_mapping_lost(const jd_dq_mapping *m) {
    atomic_signal_fence(memory_order_seq_cst);
    return atomic_load_explicit(&m->faults, memory_order_relaxed) != 0;
}

#endif /* JD_DATAQUEUE_GUARD_H */
