/*
 * A data queue peer process, for the cross-process tests and the C floor of the data queue benchmarks.
 *
 *   dq_peer produce <path> <count> <seed> <max_size>   attach by path, enqueue count entries
 *                                                     (max_size "=N": every entry has N bytes)
 *   dq_peer consume <path> <count> <seed> <max_size>   attach by path, dequeue count entries in batches
 *                                                     (woken only by DataAvailable), verify each
 *   dq_peer produce-coalesce <path> <count> <seed> <max_size>   as produce, with DriverKit's coalescing pattern:
 *                                                     rounds of k EnqueueWithCoalesce calls with one flag, then
 *                                                     one SendDataAvailable if it is set; every 8th round waits
 *                                                     (polling) for the consumer to empty the queue first, so a
 *                                                     lost DataAvailable fails instead of hiding behind an overrun
 *   dq_peer consume-coalesce <path> <count> <seed> <max_size>   as consume, with DriverKit's coalescing pattern:
 *                                                     DequeueWithCoalesce with one flag until underrun, then one
 *                                                     SendDataServiced if it is set
 *   dq_peer c2c <count> <size>                        floor: creates a 1 MiB queue under /dev/shm, spawns
 *                                                     `dq_peer consume` on it, produces, prints entries/s
 *   dq_peer produce-seq <path> <first> <count> [die]  fault tests: enqueue self-describing entries first..;
 *                                                     `die`: then write entry first+count completely and
 *                                                     SIGKILL itself before publishing it (before tail moves)
 *   dq_peer consume-seq <path> <last>                 fault tests: dequeue self-describing entries from
 *                                                     wherever head is until entry <last>, verify each, and
 *                                                     write each dequeued sequence number to stdout at once
 *   dq_peer resize unix:<socket>                      receive a queue's fds and try to shrink and to grow its
 *                                                     region (ftruncate): a sealed memfd refuses both (EPERM)
 * Wherever a <path> is asked for, unix:<socket> receives the queue's fds there instead (jd_dq_receive_fds_at:
 * listens at <socket> until the creator sends them, 30 s at most).
 *
 * Entry n has size splitmix64(seed ^ n) % (max_size + 1) and byte i = (uint8_t)(n * 131 + i * 7): the consumer
 * checks every entry (nothing lost, duplicated or reordered) and both sides print a checksum.
 * A self-describing entry n (tests/java/io/jdispatch/stress/SeqEntry.java is the Java side): 16 + (splitmix64(n)
 * >> 40) % 200 bytes: u64 n, u64 splitmix64(n) (little endian), then byte i = (uint8_t)(n * 131 + i * 7).
 * Exit status 0 on success; the line printed last says what happened.
 */
#include "jd_dataqueue.h"

#include <dispatch/dispatch.h>
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t splitmix64(uint64_t x) {
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

struct peer {
    jd_dataqueue *q;
    uint64_t count, seed, max_size, fixed_size;
    uint64_t first;    /* consume-seq: the first entry this consumer saw */
    uint64_t next;     /* sequence number of the next entry */
    uint64_t checksum; /* over every size and byte, in order */
    uint64_t wakeups;
    uint64_t overruns; /* producer: waits for DataServiced */
    int failed;
    bool seq;          /* self-describing entries */
    bool coalesce;     /* produce-coalesce / consume-coalesce */
    uint64_t die_at;   /* produce-seq die: the entry written but never published */
    dispatch_semaphore_t done, room;
};

static uint32_t size_of(struct peer *p, uint64_t n) {
    if (p->seq) return (uint32_t)(16 + (splitmix64(n) >> 40) % 200);
    return p->fixed_size != UINT64_MAX ? (uint32_t)p->fixed_size : (uint32_t)(splitmix64(p->seed ^ n) % (p->max_size + 1));
}

static void fill(void *ctx, void *data, size_t size) {
    struct peer *p = ctx;
    uint8_t *b = data;
    size_t i = 0;
    if (p->seq) {
        uint64_t words[2] = {p->next, splitmix64(p->next)};
        memcpy(b, words, sizeof words);
        i = sizeof words;
    }
    for (; i < size; i++) b[i] = (uint8_t)(p->next * 131 + i * 7);
    if (p->next == p->die_at) {
        kill(getpid(), SIGKILL); /* the entry is complete in the region, but tail was never stored */
    }
}

/* A self-describing entry: the first one seen sets where this consumer starts. */
static void check_seq(struct peer *p, const uint8_t *b, size_t size) {
    uint64_t words[2] = {0, 0};
    if (size >= sizeof words) memcpy(words, b, sizeof words);
    if (p->first == UINT64_MAX) p->first = p->next = words[0];
    int bad = size != size_of(p, p->next) || words[0] != p->next || words[1] != splitmix64(p->next);
    for (size_t i = sizeof words; i < size && !bad; i++) bad = b[i] != (uint8_t)(p->next * 131 + i * 7);
    if (bad && !p->failed) {
        fprintf(stderr, "dq_peer: expected entry %llu, got size %zu seq %llu\n", (unsigned long long)p->next, size,
                (unsigned long long)words[0]);
        p->failed = 1;
    }
}

static void check(void *ctx, const void *data, size_t size) {
    struct peer *p = ctx;
    const uint8_t *b = data;
    if (p->seq) {
        check_seq(p, b, size);
        return;
    }
    if (size != size_of(p, p->next)) {
        fprintf(stderr, "dq_peer: entry %llu has size %zu, expected %u\n", (unsigned long long)p->next, size,
                size_of(p, p->next));
        p->failed = 1;
    }
    for (size_t i = 0; i < size; i++) {
        if (b[i] != (uint8_t)(p->next * 131 + i * 7) && !p->failed) {
            fprintf(stderr, "dq_peer: entry %llu byte %zu is wrong\n", (unsigned long long)p->next, i);
            p->failed = 1;
        }
        p->checksum = p->checksum * 31 + b[i];
    }
    p->checksum = p->checksum * 31 + size;
    p->next++;
}

static void on_data_available(void *ctx, int32_t event) {
    (void)event;
    struct peer *p = ctx;
    p->wakeups++;
    while (p->next < p->count && !p->failed) {
        /* Entry by entry where a test kills us and must know exactly what was dequeued; else in batches. */
        uint32_t n;
        jd_ioreturn ret = p->seq ? jd_dq_dequeue(p->q, check, p) : jd_dq_dequeue_batch(p->q, 256, check, p, &n);
        if (ret == kIOReturnUnderrun) return;
        if (ret != kIOReturnSuccess) {
            fprintf(stderr, "dq_peer: dequeue returned 0x%08X\n", (unsigned)ret);
            p->failed = 1;
            break;
        }
        if (p->seq) {
            dprintf(1, "%llu\n", (unsigned long long)p->next); /* progress, for a test that kills us */
            p->next++;
        }
    }
    dispatch_semaphore_signal(p->done);
}

/* DriverKit's coalescing consumer: one flag for the whole drain, one SendDataServiced at the end. Signals `done`
   on every wake-up: consume() then fails after 60 s without one. */
static void on_data_available_coalesced(void *ctx, int32_t event) {
    (void)event;
    struct peer *p = ctx;
    p->wakeups++;
    bool serviced = false;
    jd_ioreturn ret;
    while ((ret = jd_dq_dequeue_with_coalesce(p->q, &serviced, check, p)) == kIOReturnSuccess) {
    }
    if (serviced) jd_dq_send_data_serviced(p->q);
    if (ret != kIOReturnUnderrun && !p->failed) {
        fprintf(stderr, "dq_peer: dequeue_with_coalesce returned 0x%08X\n", (unsigned)ret);
        p->failed = 1;
    }
    dispatch_semaphore_signal(p->done);
}

static void on_data_serviced(void *ctx, int32_t event) {
    (void)event;
    dispatch_semaphore_signal(((struct peer *)ctx)->room);
}

/* Entry p->next (of `size` bytes) was enqueued: into the checksum, on to the next. */
static void produced(struct peer *p, uint32_t size) {
    for (uint32_t i = 0; i < size; i++) p->checksum = p->checksum * 31 + (uint8_t)(p->next * 131 + i * 7);
    p->checksum = p->checksum * 31 + size;
    p->next++;
}

/* After an overrun: wait for DataServiced; the timeout only turns a lost wake-up into a failure, not a hang. */
static bool wait_room(struct peer *p) {
    p->overruns++;
    if (dispatch_semaphore_wait(p->room, dispatch_time(DISPATCH_TIME_NOW, 30 * NSEC_PER_SEC)) != 0) {
        fprintf(stderr, "dq_peer: no DataServiced in 30 s at entry %llu\n", (unsigned long long)p->next);
        p->failed = 1;
        return false;
    }
    return true;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Polls until the consumer (woken only by DataAvailable) has emptied the queue; fails after 30 s: a lost wake-up. */
static bool wait_drained(struct peer *p) {
    double deadline = now() + 30;
    while (jd_dq_is_data_available(p->q)) {
        if (now() > deadline) {
            fprintf(stderr, "dq_peer: the consumer left the queue non-empty for 30 s at entry %llu (no DataAvailable?)\n",
                    (unsigned long long)p->next);
            p->failed = 1;
            return false;
        }
        usleep(20);
    }
    return true;
}

static void produce_coalesced(struct peer *p) {
    jd_dq_set_data_serviced_handler(p->q, on_data_serviced, p);
    for (uint64_t round = 0; p->next < p->count; round++) {
        if (round % 8 == 0 && !wait_drained(p)) return;
        uint32_t k = 2 + (uint32_t)(splitmix64(p->seed + round) % 31); /* 2..32 calls */
        bool send = false;
        jd_ioreturn ret = kIOReturnSuccess;
        for (uint32_t i = 0; i < k && p->next < p->count && ret == kIOReturnSuccess; i++) {
            uint32_t size = size_of(p, p->next);
            ret = jd_dq_enqueue_with_coalesce(p->q, size, &send, fill, p);
            if (ret == kIOReturnSuccess) produced(p, size);
        }
        if (send) jd_dq_send_data_available(p->q);
        if (ret == kIOReturnOverrun) {
            if (!wait_room(p)) return;
        } else if (ret != kIOReturnSuccess) {
            fprintf(stderr, "dq_peer: enqueue_with_coalesce returned 0x%08X\n", (unsigned)ret);
            p->failed = 1;
            return;
        }
    }
    wait_drained(p);
}

static void produce(struct peer *p) {
    if (p->coalesce) {
        produce_coalesced(p);
        return;
    }
    jd_dq_set_data_serviced_handler(p->q, on_data_serviced, p);
    for (p->next = p->first; p->next < p->count;) {
        uint32_t size = size_of(p, p->next);
        jd_ioreturn ret = jd_dq_enqueue(p->q, size, fill, p);
        if (ret == kIOReturnSuccess) {
            produced(p, size);
        } else if (ret == kIOReturnOverrun) {
            if (!wait_room(p)) return;
        } else {
            fprintf(stderr, "dq_peer: enqueue returned 0x%08X\n", (unsigned)ret);
            p->failed = 1;
            return;
        }
    }
}

static void consume(struct peer *p) {
    jd_dq_set_data_available_handler(p->q, p->coalesce ? on_data_available_coalesced : on_data_available, p);
    while (p->next < p->count && !p->failed) {
        if (dispatch_semaphore_wait(p->done, dispatch_time(DISPATCH_TIME_NOW, 60 * NSEC_PER_SEC)) != 0) {
            fprintf(stderr, "dq_peer: no DataAvailable in 60 s at entry %llu\n", (unsigned long long)p->next);
            p->failed = 1;
        }
    }
}

static int finish(struct peer *p, dispatch_queue_t queue, int status) {
    jd_dq_free(p->q);
    dispatch_release(p->done);
    dispatch_release(p->room);
    dispatch_release(queue);
    return status;
}

extern char **environ;

/* By path, or with unix:<socket> by fds sent to that socket. */
static jd_dataqueue *attach(const char *where, dispatch_queue_t queue, int32_t status[2]) {
    if (strncmp(where, "unix:", 5) == 0) {
        return jd_dq_receive_fds_at(where + 5, 30 * 1000, queue, status);
    }
    return jd_dq_attach_path(where, queue, status);
}

static const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
    const char *name = strerrorname_np(err);
    if (name) return name;
#endif
    return err ? "an error" : "no error";
}

/* Prints "<what>: EPERM (Operation not permitted)" or "<what>: allowed"; true when refused with EPERM. */
static bool refused(const char *what, int ret) {
    int err = ret == 0 ? 0 : errno;
    printf("%s: %s%s%s%s\n", what, ret == 0 ? "allowed" : errno_name(err), ret == 0 ? "" : " (",
           ret == 0 ? "" : strerror(err), ret == 0 ? "" : ")");
    return ret != 0 && err == EPERM;
}

int main(int argc, char **argv) {
    struct peer p = {.done = dispatch_semaphore_create(0), .room = dispatch_semaphore_create(0), .fixed_size = UINT64_MAX,
                     .die_at = UINT64_MAX};
    dispatch_queue_t queue = dispatch_queue_create("dq_peer", NULL);
    int32_t status[2];
    if (argc == 6 && (!strcmp(argv[1], "produce") || !strcmp(argv[1], "consume") ||
                      !strcmp(argv[1], "produce-coalesce") || !strcmp(argv[1], "consume-coalesce"))) {
        p.coalesce = strchr(argv[1], '-') != NULL;
        p.count = strtoull(argv[3], NULL, 10);
        p.seed = strtoull(argv[4], NULL, 10);
        if (argv[5][0] == '=') p.fixed_size = strtoull(argv[5] + 1, NULL, 10);
        else p.max_size = strtoull(argv[5], NULL, 10);
        p.q = attach(argv[2], queue, status);
        if (!p.q) {
            fprintf(stderr, "dq_peer: attach %s failed: 0x%08X errno %d (%s)\n", argv[2], (unsigned)status[0], status[1],
                    strerror(status[1]));
            return 2;
        }
        double t0 = now();
        if (argv[1][0] == 'p') produce(&p);
        else consume(&p);
        double secs = now() - t0;
        printf("%s %llu checksum %llu wakeups %llu overruns %llu entries/s %.0f %s\n", argv[1] + 0,
               (unsigned long long)p.next, (unsigned long long)p.checksum, (unsigned long long)p.wakeups,
               (unsigned long long)p.overruns, p.next / secs, p.failed ? "FAILED" : "OK");
        fflush(stdout);
        return finish(&p, queue, p.failed);
    }
    bool produce_seq = (argc == 5 || argc == 6) && !strcmp(argv[1], "produce-seq");
    if (produce_seq || (argc == 4 && !strcmp(argv[1], "consume-seq"))) {
        p.seq = true;
        if (produce_seq) {
            p.first = strtoull(argv[3], NULL, 10);
            p.count = p.first + strtoull(argv[4], NULL, 10);
            if (argc == 6) p.die_at = p.count++;
        } else {
            p.first = UINT64_MAX;
            p.count = strtoull(argv[3], NULL, 10) + 1;
        }
        p.q = attach(argv[2], queue, status);
        if (!p.q) {
            fprintf(stderr, "dq_peer: attach %s failed: 0x%08X errno %d (%s)\n", argv[2], (unsigned)status[0],
                    status[1], strerror(status[1]));
            return 2;
        }
        if (produce_seq) produce(&p);
        else consume(&p);
        printf("%s first %llu next %llu %s\n", argv[1], (unsigned long long)(produce_seq ? strtoull(argv[3], NULL, 10) : p.first),
               (unsigned long long)p.next, p.failed ? "FAILED" : "OK");
        fflush(stdout);
        return finish(&p, queue, p.failed);
    }
    if (argc == 3 && !strcmp(argv[1], "resize")) {
        p.q = attach(argv[2], queue, status);
        if (!p.q) {
            fprintf(stderr, "dq_peer: attach %s failed: 0x%08X errno %d (%s)\n", argv[2], (unsigned)status[0],
                    status[1], strerror(status[1]));
            return 2;
        }
        off_t size = (off_t)JD_DQ_HEADER_SIZE + jd_dq_queue_byte_count(p.q);
        bool shrink = refused("ftruncate to 0", ftruncate(jd_dq_memory_fd(p.q), 0));
        bool grow = refused("ftruncate to twice the size", ftruncate(jd_dq_memory_fd(p.q), 2 * size));
        printf("resize %s\n", shrink && grow ? "refused OK" : "FAILED");
        fflush(stdout);
        return finish(&p, queue, !(shrink && grow));
    }
    if (argc == 4 && !strcmp(argv[1], "c2c")) {
        /* The same route as C -> Java: a region under /dev/shm with FIFO doorbells; the consumer is a fresh
           process (this program, exec'ed), this one produces. */
        char path[64], count[32], size[32];
        snprintf(path, sizeof path, "/dev/shm/dq_peer-c2c-%d", (int)getpid());
        snprintf(count, sizeof count, "%s", argv[2]);
        snprintf(size, sizeof size, "=%s", argv[3]);
        p.count = strtoull(argv[2], NULL, 10);
        p.fixed_size = strtoull(argv[3], NULL, 10);
        p.q = jd_dq_create(1 << 20, queue, path, status);
        if (!p.q) return 2;
        double t0 = now();
        char *child_argv[] = {"dq_peer", "consume", path, count, "1", size, NULL};
        pid_t child;
        if (posix_spawn(&child, "/proc/self/exe", NULL, NULL, child_argv, environ) != 0) {
            jd_dq_unlink(path);
            return 2;
        }
        produce(&p);
        int st = 0;
        waitpid(child, &st, 0);
        double secs = now() - t0;
        jd_dq_unlink(path);
        int failed = p.failed || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
        printf("c2c size %llu entries %llu entries/s %.0f %s\n", (unsigned long long)p.fixed_size,
               (unsigned long long)p.count, p.count / secs, failed ? "FAILED" : "OK");
        return finish(&p, queue, failed);
    }
    fprintf(stderr, "usage: dq_peer produce|consume|produce-coalesce|consume-coalesce <path> <count> <seed> <max_size>"
                    " | dq_peer c2c <count> <size> | dq_peer produce-seq|consume-seq ... | dq_peer resize unix:<socket>"
                    " (see the comment at the top)\n");
    return 2;
}
