/*
 * Security of the data queue's kernel objects, seen from outside:
 *  - no fd leaks into a child: the fd listing of a freshly exec'ed child (ls /proc/self/fd, spawned with
 *    posix_spawn, which closes nothing itself) is the same before and after this process created queues by both
 *    routes, attached by path and by fds, and installed handlers (libdispatch sources);
 *  - the region and FIFOs are owner-only (0600), and create never reuses an existing path;
 *  - attachment slots: a third attach is refused with EBUSY; a slot is free again after jd_dq_free.
 */
#include "jd_dataqueue.h"

#include <dispatch/dispatch.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

extern char **environ;

/* CLOCK_MONOTONIC in seconds: deadlines of hang detectors. */
static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* What a fresh child inherits: its /proc/self/fd listing (0, 1, 2 and ls's own directory fd if nothing leaks). */
static void child_fds(char *out, size_t n) {
    int p[2];
    CHECK(pipe2(p, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    char *argv[] = {"ls", "/proc/self/fd", NULL};
    pid_t pid;
    CHECK(posix_spawn(&pid, "/bin/ls", &fa, NULL, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    size_t len = 0;
    ssize_t r;
    while (len + 1 < n && (r = read(p[0], out + len, n - 1 - len)) > 0) len += (size_t)r;
    out[len] = 0;
    close(p[0]);
    int st;
    CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static int count_fds(void) {
    char buf[4096];
    snprintf(buf, sizeof buf, "ls /proc/%d/fd | wc -l", (int)getpid());
    FILE *f = popen(buf, "r");
    int n = -1;
    CHECK(f && fscanf(f, "%d", &n) == 1);
    pclose(f);
    return n;
}

static void nop(void *ctx, int32_t event) {
    (void)ctx;
    (void)event;
}

static mode_t mode_of(const char *path) {
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return st.st_mode & 07777;
}

int main(void) {
    dispatch_queue_t queue = dispatch_queue_create("cloexec", NULL);
    dispatch_sync_f(queue, NULL, (dispatch_function_t)(void (*)(void *))nop); /* libdispatch is up */
    char before[1024], after[1024];
    child_fds(before, sizeof before);
    int fds_before = count_fds();

    int32_t status[2];
    char path[128];
    snprintf(path, sizeof path, "/dev/shm/test_dataqueue_cloexec-%d", (int)getpid());
    umask(0); /* the modes below come from create itself, not from a umask */
    jd_dataqueue *anon = jd_dq_create(4096, queue, NULL, status);
    jd_dataqueue *named = jd_dq_create(4096, queue, path, status);
    CHECK(anon && named);
    CHECK(jd_dq_set_data_available_handler(anon, nop, NULL) == kIOReturnSuccess);
    CHECK(jd_dq_set_data_serviced_handler(named, nop, NULL) == kIOReturnSuccess);
    jd_dataqueue *by_path = jd_dq_attach_path(path, queue, status);
    CHECK(by_path);
    CHECK(jd_dq_set_data_available_handler(by_path, nop, NULL) == kIOReturnSuccess);
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
    CHECK(jd_dq_send_fds(anon, sv[0]) == 0);
    jd_dataqueue *by_fds = jd_dq_receive_fds(sv[1], queue, status);
    CHECK(by_fds);
    close(sv[0]);
    close(sv[1]);
    CHECK(count_fds() >= fds_before + 12); /* 3 per descriptor (+ libdispatch's own): the check below can fail */

    child_fds(after, sizeof after);
    if (strcmp(before, after) != 0) {
        fprintf(stderr, "a child inherited fds: before\n%s\nafter\n%s\n", before, after);
        return 1;
    }

    /* Owner-only, and never reuses an existing path (region, or a stale FIFO name: left untouched). */
    char name[160];
    CHECK(mode_of(path) == 0600);
    snprintf(name, sizeof name, "%s.avail", path);
    CHECK(mode_of(name) == 0600);
    snprintf(name, sizeof name, "%s.serviced", path);
    CHECK(mode_of(name) == 0600);
    CHECK(!jd_dq_create(4096, queue, path, status) && status[1] == EEXIST);
    CHECK(mode_of(path) == 0600); /* still there, still ours */
    char stale[160], stale_fifo[170];
    snprintf(stale, sizeof stale, "%s-stale", path);
    snprintf(stale_fifo, sizeof stale_fifo, "%s.avail", stale);
    int fd = open(stale_fifo, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
    CHECK(fd >= 0);
    close(fd);
    CHECK(!jd_dq_create(4096, queue, stale, status) && status[1] == EEXIST);
    CHECK(access(stale_fifo, F_OK) == 0 && mode_of(stale_fifo) == 0644); /* someone else's file: left alone */
    CHECK(access(stale, F_OK) != 0);                                     /* what create made: removed */
    CHECK(unlink(stale_fifo) == 0);

    /* Slots: the creator and one peer are attached; a third is refused; freeing one frees its slot. */
    CHECK(jd_dq_peer_attached(named) == 1 && jd_dq_peer_attached(by_path) == 1);
    CHECK(!jd_dq_attach_path(path, queue, status) && status[0] == kIOReturnNotReady && status[1] == EBUSY);
    jd_dq_free(by_path);
    /* The free completes asynchronously (on a loaded or sanitized run it can take seconds): a 30 s hang detector. */
    int attached;
    double deadline = now_s() + 30;
    while ((attached = jd_dq_peer_attached(named)) != 0 && now_s() < deadline) usleep(1000);
    CHECK(attached == 0);
    by_path = jd_dq_attach_path(path, queue, status);
    CHECK(by_path && jd_dq_peer_attached(named) == 1);
    CHECK(jd_dq_peer_attached(anon) == 1 && jd_dq_peer_attached(by_fds) == 1); /* fds route: own descriptions */

    jd_dq_free(by_path);
    jd_dq_free(by_fds);
    jd_dq_free(named);
    jd_dq_free(anon);
    CHECK(jd_dq_unlink(path) == 0);
    dispatch_sync_f(queue, NULL, (dispatch_function_t)(void (*)(void *))nop);
    dispatch_release(queue);
    printf("test_dataqueue_cloexec: OK (child fds %s)\n", before);
    return 0;
}
