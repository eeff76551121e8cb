/*
 * The edge-triggered epoll sets under io.jdispatch.DispatchChannel's loops (Linux). A loop is one epoll set,
 * watched by one libdispatch READ source on its serial queue; its connections are registered here once,
 * edge-triggered, for reading and writing. libdispatch's own READ and WRITE sources re-arm each fd in epoll
 * after every event (EPOLLONESHOT) and read SIOCINQ for the estimate: this pays neither. Mapped by
 * io.jdispatch.internal.LoopNative. Every call returns 0 or a count, or -errno; none allocates.
 * Elsewhere (macOS) each returns -ENOSYS, and DispatchChannel keeps a READ and a WRITE source per channel.
 */
#ifndef JD_LOOP_H
#define JD_LOOP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What jd_loop_wait reports for an fd: bits of the second word of each event. */
#define JD_LOOP_IN 1     /* readable (or end of stream, or an error: reading tells) */
#define JD_LOOP_OUT 2    /* writable again */
#define JD_LOOP_HANGUP 4 /* EPOLLHUP, EPOLLRDHUP or EPOLLERR: read to the end now */
/* The id of the set's wake-up eventfd in jd_loop_wait's events: never a registration's. */
#define JD_LOOP_WAKE_ID 0
/* The most events one jd_loop_wait takes: a full batch means more may be ready. */
#define JD_LOOP_BATCH 64

/* A new epoll set (close-on-exec) holding a non-blocking eventfd as JD_LOOP_WAKE_ID: the set's fd, the
 * eventfd in fds[1]; or -errno (nothing left open). */
int32_t jd_loop_create(int32_t fds[2]);
/* Registers fd under id (not JD_LOOP_WAKE_ID), edge-triggered, for reading, writing and hangups. */
int32_t jd_loop_add(int32_t epfd, int32_t fd, int64_t id);
/* Removes fd: no event of it is reported by a later jd_loop_wait. */
int32_t jd_loop_del(int32_t epfd, int32_t fd);
/* Makes the next jd_loop_wait report JD_LOOP_WAKE_ID (the set's READ source then fires). */
int32_t jd_loop_wake(int32_t wakefd);
/* Takes up to max ready events without waiting: events[2i] the id, events[2i+1] JD_LOOP_* bits. A wake-up
 * is reported once and its eventfd reset. Returns the count (0: none ready), or -errno. */
int32_t jd_loop_wait(int32_t epfd, int32_t wakefd, int64_t *events, int32_t max);
/* Closes the set and its eventfd (a loop lives as long as the process; tests close theirs). */
void jd_loop_close(int32_t epfd, int32_t wakefd);

#ifdef __cplusplus
}
#endif
#endif /* JD_LOOP_H */
