/* The epoll sets of DispatchChannel's loops: see jd_loop.h. */
#include "jd_loop.h"

#include <errno.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>

int32_t jd_loop_create(int32_t fds[2]) {
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        return -errno;
    }
    int wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakefd < 0) {
        int e = errno;
        close(epfd);
        return -e;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = JD_LOOP_WAKE_ID};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev) < 0) {
        int e = errno;
        close(wakefd);
        close(epfd);
        return -e;
    }
    fds[0] = epfd;
    fds[1] = wakefd;
    return epfd;
}

int32_t jd_loop_add(int32_t epfd, int32_t fd, int64_t id) {
    if (id == JD_LOOP_WAKE_ID) {
        return -EINVAL;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u64 = (uint64_t)id};
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int32_t jd_loop_del(int32_t epfd, int32_t fd) {
    struct epoll_event unused = {0}; /* kernels before 2.6.9 want one */
    return epoll_ctl(epfd, EPOLL_CTL_DEL, fd, &unused) < 0 ? -errno : 0;
}

int32_t jd_loop_wake(int32_t wakefd) {
    while (eventfd_write(wakefd, 1) < 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    return 0;
}

int32_t jd_loop_wait(int32_t epfd, int32_t wakefd, int64_t *events, int32_t max) {
    struct epoll_event ready[JD_LOOP_BATCH];
    int n;
    do {
        n = epoll_wait(epfd, ready, max < JD_LOOP_BATCH ? max : JD_LOOP_BATCH, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        return -errno;
    }
    for (int i = 0; i < n; i++) {
        uint32_t e = ready[i].events;
        if (ready[i].data.u64 == JD_LOOP_WAKE_ID) {
            eventfd_t ignored;
            (void)eventfd_read(wakefd, &ignored); /* EAGAIN: another wait took it; either way it is reset */
        }
        events[2 * i] = (int64_t)ready[i].data.u64;
        events[2 * i + 1] = ((e & EPOLLIN) ? JD_LOOP_IN : 0) | ((e & EPOLLOUT) ? JD_LOOP_OUT : 0) |
                            ((e & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) ? JD_LOOP_HANGUP : 0);
    }
    return n;
}

void jd_loop_close(int32_t epfd, int32_t wakefd) {
    close(wakefd);
    close(epfd);
}

#else /* no epoll: DispatchChannel uses its sources */

int32_t jd_loop_create(int32_t fds[2]) { (void)fds; return -ENOSYS; }
int32_t jd_loop_add(int32_t epfd, int32_t fd, int64_t id) { (void)epfd; (void)fd; (void)id; return -ENOSYS; }
int32_t jd_loop_del(int32_t epfd, int32_t fd) { (void)epfd; (void)fd; return -ENOSYS; }
int32_t jd_loop_wake(int32_t wakefd) { (void)wakefd; return -ENOSYS; }
int32_t jd_loop_wait(int32_t epfd, int32_t wakefd, int64_t *events, int32_t max) {
    (void)epfd; (void)wakefd; (void)events; (void)max;
    return -ENOSYS;
}
void jd_loop_close(int32_t epfd, int32_t wakefd) { (void)epfd; (void)wakefd; }

#endif
