/*
 * The epoll sets of DispatchChannel's loops (jd_loop.h), on a socketpair: each edge is reported once with its
 * registration's id and bits, a wake-up is reported once and reset, a removed fd reports nothing, bad ids
 * and fds are refused with -errno, and nothing is left open.
 */
#include "jd_loop.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                                 \
        }                                                                            \
    } while (0)

static int open_fds(void) {
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    while (readdir(d) != NULL) {
        n++;
    }
    closedir(d);
    return n;
}

int main(void) {
#ifndef __linux__
    printf("test_loop: no epoll here, every call is -ENOSYS\n");
    int none[2];
    CHECK(jd_loop_create(none) == -ENOSYS);
    return 0;
#else
    int before = open_fds();
    int fds[2];
    int epfd = jd_loop_create(fds);
    CHECK(epfd >= 0 && fds[0] == epfd && fds[1] >= 0);
    int wakefd = fds[1];
    int64_t ev[2 * JD_LOOP_BATCH];

    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 0); /* nothing ready */

    int sp[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp) == 0);
    CHECK(jd_loop_add(epfd, sp[0], JD_LOOP_WAKE_ID) == -EINVAL); /* the wake-up's id is not a registration's */
    CHECK(jd_loop_add(epfd, -1, 7) == -EBADF);
    const int64_t id = (int64_t)1 << 40;
    CHECK(jd_loop_add(epfd, sp[0], id) == 0);
    CHECK(jd_loop_add(epfd, sp[0], id) == -EEXIST);

    /* Registration reports what is ready now: writable. Then, edge-triggered, nothing until something new. */
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 1);
    CHECK(ev[0] == id && ev[1] == JD_LOOP_OUT);
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 0);

    /* Bytes: one event, although they stay unread; more bytes: another. */
    CHECK(write(sp[1], "ab", 2) == 2);
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 1);
    CHECK(ev[0] == id && (ev[1] & JD_LOOP_IN) && !(ev[1] & JD_LOOP_HANGUP));
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 0);
    CHECK(write(sp[1], "c", 1) == 1);
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 1 && (ev[1] & JD_LOOP_IN));

    /* A wake-up: reported once under JD_LOOP_WAKE_ID, however many were asked, and its eventfd reset. */
    CHECK(jd_loop_wake(wakefd) == 0 && jd_loop_wake(wakefd) == 0);
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 1 && ev[0] == JD_LOOP_WAKE_ID);
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 0);

    /* The peer closes: a hangup, with the unread bytes still readable. */
    close(sp[1]);
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 1);
    CHECK(ev[0] == id && (ev[1] & JD_LOOP_HANGUP) && (ev[1] & JD_LOOP_IN));
    char buf[8];
    CHECK(read(sp[0], buf, sizeof buf) == 3);

    /* Removed: no event of it, even a new one; removing twice is ENOENT. */
    CHECK(jd_loop_del(epfd, sp[0]) == 0);
    CHECK(jd_loop_del(epfd, sp[0]) == -ENOENT);
    CHECK(jd_loop_wake(wakefd) == 0);
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 1 && ev[0] == JD_LOOP_WAKE_ID);

    /* A batch is at most max events, and JD_LOOP_BATCH at most: 65 registrations report their room. */
    int pairs[JD_LOOP_BATCH + 1][2];
    for (int i = 0; i <= JD_LOOP_BATCH; i++) {
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pairs[i]) == 0);
        CHECK(jd_loop_add(epfd, pairs[i][0], 100 + i) == 0);
    }
    CHECK(jd_loop_wait(epfd, wakefd, ev, 2 * JD_LOOP_BATCH) == JD_LOOP_BATCH); /* JD_LOOP_BATCH is kept */
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 1);
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 0);
    for (int i = 0; i < 4; i++) {
        CHECK(write(pairs[i][1], "x", 1) == 1);
    }
    CHECK(jd_loop_wait(epfd, wakefd, ev, 3) == 3); /* max is kept */
    CHECK(jd_loop_wait(epfd, wakefd, ev, JD_LOOP_BATCH) == 1);
    for (int i = 0; i <= JD_LOOP_BATCH; i++) {
        close(pairs[i][0]);
        close(pairs[i][1]);
    }

    close(sp[0]);
    jd_loop_close(epfd, wakefd);
    CHECK(open_fds() == before);
    printf("test_loop: ok\n");
    return 0;
#endif
}
