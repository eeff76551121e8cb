#include "jd_main_queue.h"

#include <errno.h>

#ifdef __linux__
#include <poll.h>
#include <sys/eventfd.h>

/* Exported by swift-corelibs-libdispatch (src/queue.c, DISPATCH_COCOA_COMPAT); declared in no installed header. */
int _dispatch_get_main_queue_handle_4CF(void);
void _dispatch_main_queue_callback_4CF(void *ignored);
#endif

static void tag(void *main_queue) {
    dispatch_queue_set_specific((dispatch_queue_t)main_queue, main_queue, main_queue, NULL);
}

dispatch_queue_t jd_main_queue(void) {
    static dispatch_once_t once;
    dispatch_queue_t main_queue = dispatch_get_main_queue();
    dispatch_once_f(&once, main_queue, tag);
    return main_queue;
}

int32_t jd_main_queue_is_current_thread(void) {
    /* Labels are compared by address: the main queue's is a constant string of libdispatch's own. */
    return dispatch_queue_get_label(DISPATCH_CURRENT_QUEUE_LABEL) == dispatch_queue_get_label(dispatch_get_main_queue());
}

int32_t jd_main_queue_supported(void) {
#ifdef __linux__
    return 1;
#else
    return 0;
#endif
}

void jd_main_queue_drain(void) {
#ifdef __linux__
    _dispatch_main_queue_callback_4CF(NULL);
#endif
}

int32_t jd_main_queue_wait(void) {
#ifdef __linux__
    int fd = _dispatch_get_main_queue_handle_4CF();
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int rc;
    while ((rc = poll(&p, 1, -1)) < 0 && errno == EINTR) {
    }
    if (rc < 0) {
        return -errno;
    }
    eventfd_t value;
    if (eventfd_read(fd, &value) < 0 && errno != EAGAIN) { /* nonblocking: EAGAIN when another read took it */
        return -errno;
    }
    return 0;
#else
    return -ENOSYS;
#endif
}

int32_t jd_main_queue_wake(void) {
#ifdef __linux__
    int rc;
    while ((rc = eventfd_write(_dispatch_get_main_queue_handle_4CF(), 1)) < 0 && errno == EINTR) {
    }
    return rc < 0 ? -errno : 0;
#else
    return -ENOSYS;
#endif
}
