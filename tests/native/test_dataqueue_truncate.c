/*
 * A peer that truncates a path region's file: every jd_dq_* call either works (before the truncation, or on
 * pages that are still there) or returns kIOReturnVMError, and keeps returning it; the process never dies of
 * SIGBUS. A forked peer truncates the file at a random moment to a random page-aligned size (a size inside a
 * page also zeroes the rest of that page, which the queue cannot tell from a peer writing zeros), while this
 * process enqueues, dequeues (checking every entry), peeks, asks IsDataAvailable / CanEnqueueData, runs
 * batches and installs a DataAvailable handler. Also: a SIGBUS elsewhere still reaches the handler that was
 * installed before the data queue's (as the JVM's must).
 */
#include "jd_dataqueue.h"

#include <dispatch/dispatch.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 60
#define QBC (64u * 1024u)
#define PAGE 4096u
#define WAIT_S 30 /* how long a round's calls may go on before one meets the truncation: a hang detector */

static int failures;
#define CHECK(cond, ...)                                                                                      \
    do {                                                                                                      \
        if (!(cond)) {                                                                                        \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                                              \
            fprintf(stderr, __VA_ARGS__);                                                                     \
            fprintf(stderr, "\n");                                                                            \
            failures++;                                                                                       \
        }                                                                                                     \
    } while (0)

/* ---- the handler that was there before: it must still see a SIGBUS that is not in a region ---- */

static sigjmp_buf before_jump;
static volatile sig_atomic_t before_armed;
static void *volatile before_addr;

static void before_handler(int sig, siginfo_t *info, void *uc) {
    (void)uc;
    if (!before_armed) { /* a fault the test did not expect: die of it */
        signal(sig, SIG_DFL);
        return;
    }
    before_addr = info->si_addr;
    siglongjmp(before_jump, 1);
}

static void earlier_handler_still_gets_other_faults(void) {
    char path[] = "/dev/shm/jd-truncate-other-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0 && ftruncate(fd, PAGE) == 0, "temp file");
    volatile uint8_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED, "mmap");
    p[0] = 1;
    CHECK(ftruncate(fd, 0) == 0, "truncate");
    before_addr = NULL;
    if (sigsetjmp(before_jump, 1) == 0) {
        before_armed = 1;
        (void)p[0]; /* SIGBUS: not a data queue's mapping */
        CHECK(0, "the access to a truncated mapping did not fault");
    }
    before_armed = 0;
    CHECK(before_addr == (void *)p, "the earlier handler saw %p, the fault was at %p", before_addr, (void *)p);
    munmap((void *)p, PAGE);
    close(fd);
    unlink(path);
}

/* ---- the queue under a truncating peer ---- */

struct side {
    uint64_t next_in, next_out; /* sequence numbers */
    int bad;                    /* an entry read wrong in the current call */
};

static uint32_t size_of(uint64_t n) {
    return 8 + (uint32_t)((n * 2654435761u) % 500u);
}

static void fill(void *ctx, void *data, size_t size) {
    uint64_t n = ((struct side *)ctx)->next_in;
    memcpy(data, &n, sizeof n);
    memset((uint8_t *)data + sizeof n, (int)(n & 0xff), size - sizeof n);
}

static void check(void *ctx, const void *data, size_t size) {
    struct side *s = ctx;
    uint64_t n;
    memcpy(&n, data, sizeof n);
    int ok = size == size_of(s->next_out) && n == s->next_out;
    for (size_t i = sizeof n; ok && i < size; i++) ok = ((const uint8_t *)data)[i] == (uint8_t)(s->next_out & 0xff);
    s->bad = !ok;
}

static uint32_t batch_size(void *ctx, uint32_t index) {
    return size_of(((struct side *)ctx)->next_in + index);
}

static void batch_fill(void *ctx, uint32_t index, void *data, size_t size) {
    struct side *s = ctx;
    uint64_t saved = s->next_in;
    s->next_in += index;
    fill(s, data, size);
    s->next_in = saved;
}

static void batch_check(void *ctx, const void *data, size_t size) {
    struct side *s = ctx;
    if (s->bad) return;
    check(s, data, size);
    if (!s->bad) s->next_out++;
}

static void no_op(void *ctx, int32_t event) {
    (void)ctx;
    (void)event;
}

/* One call of the mix; returns its IOReturn (for the two questions: VMError when jd_dq_truncated). */
static jd_ioreturn step(jd_dataqueue *q, struct side *s, uint64_t i) {
    jd_ioreturn ret;
    uint32_t count = 0;
    s->bad = 0;
    switch (i % 8) {
    case 0:
    case 1:
        ret = jd_dq_enqueue(q, size_of(s->next_in), fill, s);
        if (ret == kIOReturnSuccess) s->next_in++;
        return ret == kIOReturnOverrun ? kIOReturnSuccess : ret;
    case 2:
        ret = jd_dq_dequeue(q, check, s);
        CHECK(ret != kIOReturnSuccess || !s->bad, "dequeue succeeded with a wrong entry %llu", (unsigned long long)s->next_out);
        if (ret == kIOReturnSuccess) s->next_out++;
        return ret == kIOReturnUnderrun ? kIOReturnSuccess : ret;
    case 3:
        ret = jd_dq_peek(q, check, s);
        CHECK(ret != kIOReturnSuccess || !s->bad, "peek succeeded with a wrong entry %llu", (unsigned long long)s->next_out);
        return ret == kIOReturnUnderrun ? kIOReturnSuccess : ret;
    case 4:
        return jd_dq_is_data_available(q) || !jd_dq_truncated(q) ? kIOReturnSuccess : kIOReturnVMError;
    case 5:
        return jd_dq_can_enqueue_data(q, 64, 2) || !jd_dq_truncated(q) ? kIOReturnSuccess : kIOReturnVMError;
    case 6:
        ret = jd_dq_enqueue_batch(q, 4, batch_size, batch_fill, s, &count);
        if (ret != kIOReturnVMError) s->next_in += count;
        return ret == kIOReturnOverrun ? kIOReturnSuccess : ret;
    default:
        if (i % 64 == 7) {
            return jd_dq_set_data_available_handler(q, no_op, NULL);
        }
        ret = jd_dq_dequeue_batch(q, 8, batch_check, s, &count);
        CHECK(ret == kIOReturnVMError || !s->bad, "dequeue_batch passed a wrong entry %llu", (unsigned long long)s->next_out);
        return ret == kIOReturnUnderrun ? kIOReturnSuccess : ret;
    }
}

static void round_with_truncation(dispatch_queue_t queue, int round, unsigned seed) {
    char path[96];
    snprintf(path, sizeof path, "/dev/shm/jd-truncate-%d-%d", (int)getpid(), round);
    int32_t status[2];
    jd_dataqueue *q = jd_dq_create(QBC, queue, path, status);
    CHECK(q, "create %s: 0x%08X errno %d", path, (unsigned)status[0], status[1]);
    if (!q) return;
    size_t full = JD_DQ_HEADER_SIZE + QBC;
    off_t size = (off_t)(rand_r(&seed) % (full / PAGE + 1)) * PAGE; /* 0 .. the last whole page */
    useconds_t delay = (useconds_t)(rand_r(&seed) % 3000);
    pid_t peer = fork();
    if (peer == 0) {
        usleep(delay);
        _exit(truncate(path, size) == 0 ? 0 : 1);
    }
    struct side s = {0};
    uint64_t i = 0;
    jd_ioreturn ret = kIOReturnSuccess;
    /* Bounded by time, not by a count of calls: how soon the forked peer truncates depends on the scheduler. */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;; i++) {
        ret = step(q, &s, i);
        if (ret != kIOReturnSuccess) break;
        if (i % 1024 == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if (t.tv_sec - t0.tv_sec > WAIT_S) break;
        }
    }
    CHECK(ret == kIOReturnVMError, "round %d (truncated to %lld after %u us): call %llu returned 0x%08X, not kIOReturnVMError",
          round, (long long)size, (unsigned)delay, (unsigned long long)i, (unsigned)ret);
    CHECK(jd_dq_truncated(q), "round %d: jd_dq_truncated", round);
    /* It stays so: every call that touches the region says it. */
    CHECK(jd_dq_enqueue(q, 8, fill, &s) == kIOReturnVMError, "enqueue after the truncation");
    CHECK(jd_dq_dequeue(q, NULL, NULL) == kIOReturnVMError, "dequeue after the truncation");
    CHECK(jd_dq_peek(q, check, &s) == kIOReturnVMError, "peek after the truncation");
    CHECK(!jd_dq_is_data_available(q) && !jd_dq_can_enqueue_data(q, 4, 1), "questions after the truncation");
    CHECK(jd_dq_set_data_available_handler(q, no_op, NULL) == kIOReturnVMError, "set handler after the truncation");
    CHECK(jd_dq_region_file_size(q) == size, "file size %lld, truncated to %lld", (long long)jd_dq_region_file_size(q),
          (long long)size);
    int st = 0;
    CHECK(waitpid(peer, &st, 0) == peer && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the truncating peer failed");
    jd_dq_free(q);
    jd_dq_unlink(path);
}

int main(void) {
    struct sigaction before;
    memset(&before, 0, sizeof before);
    before.sa_sigaction = before_handler;
    before.sa_flags = SA_SIGINFO;
    sigemptyset(&before.sa_mask);
    sigaction(SIGBUS, &before, NULL);

    dispatch_queue_t queue = dispatch_queue_create("truncate", NULL);
    unsigned seed = (unsigned)getpid();
    printf("seed %u\n", seed);
    for (int round = 0; round < ROUNDS; round++) {
        round_with_truncation(queue, round, seed + (unsigned)round * 7919u);
        if (round == 0) {
            earlier_handler_still_gets_other_faults(); /* the data queue's handler is installed by now */
        }
    }
    dispatch_release(queue);
    if (failures) {
        fprintf(stderr, "%d failures\n", failures);
        return 1;
    }
    printf("test_dataqueue_truncate: OK (%d rounds)\n", ROUNDS);
    return 0;
}
