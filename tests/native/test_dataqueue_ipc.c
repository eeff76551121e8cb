/*
 * Attach route (a) across processes: the parent creates a memfd queue and passes its fds over a Unix socket
 * (SCM_RIGHTS); a forked child (which had not used libdispatch before the fork) receives them and consumes
 * 100k entries in its DataAvailable handler while the parent produces, waiting for DataServiced when full.
 */
#include "jd_dataqueue.h"

#include <dispatch/dispatch.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#define COUNT 100000u

struct side {
    jd_dataqueue *q;
    uint32_t next;
    int failed;
    dispatch_semaphore_t signal;
};

static uint32_t size_of(uint32_t n) {
    return (n * 2654435761u) % 301u;
}

static void fill(void *ctx, void *data, size_t size) {
    uint32_t n = ((struct side *)ctx)->next;
    for (size_t i = 0; i < size; i++) ((uint8_t *)data)[i] = (uint8_t)(n + i);
}

static void check(void *ctx, const void *data, size_t size) {
    struct side *s = ctx;
    if (size != size_of(s->next)) s->failed = 1;
    for (size_t i = 0; i < size; i++) {
        if (((const uint8_t *)data)[i] != (uint8_t)(s->next + i)) s->failed = 1;
    }
}

static void on_available(void *ctx, int32_t event) {
    (void)event;
    struct side *s = ctx;
    while (s->next < COUNT && jd_dq_dequeue(s->q, check, s) == kIOReturnSuccess) s->next++;
    if (s->next == COUNT || s->failed) dispatch_semaphore_signal(s->signal);
}

static void on_serviced(void *ctx, int32_t event) {
    (void)event;
    dispatch_semaphore_signal(((struct side *)ctx)->signal);
}

static int child(int sock) {
    dispatch_queue_t queue = dispatch_queue_create("ipc.consumer", NULL);
    int32_t status[2];
    struct side s = {.signal = dispatch_semaphore_create(0)};
    s.q = jd_dq_receive_fds(sock, queue, status);
    if (!s.q) {
        fprintf(stderr, "child: receive failed 0x%08X errno %d\n", (unsigned)status[0], status[1]);
        return 1;
    }
    /* Received fds are close-on-exec. */
    if (!(fcntl(jd_dq_memory_fd(s.q), F_GETFD) & FD_CLOEXEC)) return 1;
    jd_dq_set_data_available_handler(s.q, on_available, &s);
    if (dispatch_semaphore_wait(s.signal, dispatch_time(DISPATCH_TIME_NOW, 60 * NSEC_PER_SEC)) != 0) {
        fprintf(stderr, "child: stuck at %u\n", s.next);
        return 1;
    }
    if (s.failed || s.next != COUNT) {
        fprintf(stderr, "child: failed at entry %u\n", s.next);
        return 1;
    }
    return 0;
}

int main(void) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        _exit(child(sv[1]));
    }
    close(sv[1]);
    dispatch_queue_t queue = dispatch_queue_create("ipc.producer", NULL);
    int32_t status[2];
    struct side s = {.signal = dispatch_semaphore_create(0)};
    s.q = jd_dq_create(4096, queue, NULL, status);
    if (!s.q || jd_dq_send_fds(s.q, sv[0]) != 0) {
        fprintf(stderr, "parent: create/send failed\n");
        return 1;
    }
    jd_dq_set_data_serviced_handler(s.q, on_serviced, &s);
    unsigned overruns = 0;
    while (s.next < COUNT) {
        jd_ioreturn ret = jd_dq_enqueue(s.q, size_of(s.next), fill, &s);
        if (ret == kIOReturnSuccess) {
            s.next++;
        } else if (ret == kIOReturnOverrun) {
            overruns++;
            if (dispatch_semaphore_wait(s.signal, dispatch_time(DISPATCH_TIME_NOW, 30 * NSEC_PER_SEC)) != 0) {
                fprintf(stderr, "parent: no DataServiced at %u\n", s.next);
                kill(pid, SIGKILL);
                return 1;
            }
        } else {
            fprintf(stderr, "parent: enqueue 0x%08X\n", (unsigned)ret);
            return 1;
        }
    }
    int st = 0;
    waitpid(pid, &st, 0);
    jd_dq_free(s.q);
    dispatch_release(s.signal);
    dispatch_release(queue);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "child failed (status %d)\n", st);
        return 1;
    }
    printf("test_dataqueue_ipc: %u entries across processes via SCM_RIGHTS, %u overruns waited out by DataServiced\n",
           COUNT, overruns);
    return overruns == 0; /* a 4 KiB queue must have filled up, else DataServiced was not exercised */
}
