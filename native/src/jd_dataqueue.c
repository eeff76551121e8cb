/*
 * IODataQueueDispatchSource: the queue of jd_dataqueue_core.c in shared memory, with its two notifications
 * (DataAvailable, DataServiced) as doorbells: an eventfd (memfd route) or a FIFO (path route). The process
 * that installs a handler watches the doorbell with a libdispatch READ source; ringing it from any process
 * that holds the fd runs the handler on the dispatch queue given at creation. Every fd is CLOEXEC.
 */
#include "jd_dataqueue.h"
#include "jd_dataqueue_guard.h"

#include "jd_resources.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum { AVAIL = 0, SERVICED = 1 };

struct doorbell {
    jd_dataqueue *q;
    int fd;
    int32_t event;
    dispatch_source_t source; /* created when the first handler is installed */
    jd_dq_handler_fn fn;      /* guarded by q->lock */
    void *ctx;
};

struct completion {
    jd_dq_handler_fn fn;
    void *ctx;
    struct completion *next;
};

struct jd_dataqueue {
    jd_dq_region region;
    jd_dq_mapping *mapping; /* region.base, guarded against SIGBUS */
    size_t map_len;
    int memory_fd; /* its own open file description, which holds the attachment lock */
    int slot;      /* 0 or 1: the byte of the region file this descriptor holds locked */
    struct doorbell bell[2];
    dispatch_queue_t queue;
    dispatch_group_t cancelling; /* entered once per source at cancel, left by its cancel handler */
    pthread_mutex_t lock;        /* handlers, enabled, cancelled, running, disabled_completions */
    bool enabled;
    bool cancelled;
    int running;                               /* source handlers that passed the enabled gate and still run */
    struct completion *disabled_completions;   /* SetEnableWithCompletion(false) waiting for running == 0 */
};

static void set_status(int32_t status[2], jd_ioreturn ret, int err) {
    if (status) {
        status[0] = ret;
        status[1] = err;
    }
}

/* ---- construction --------------------------------------------------------------------------------------- */

/*
 * Who is attached. Each descriptor holds an OFD write lock (F_OFD_SETLK) on one byte of the region file, byte 0
 * or 1: its slot. The kernel drops the lock when that open file description is closed, also when the process
 * dies (SIGKILL included), so the survivor sees at once that its peer is gone (jd_dq_peer_attached) and a new
 * peer can take the free slot. A third process finds both slots taken: EBUSY (one producer, one consumer).
 * OFD locks, not POSIX record locks: a POSIX lock is dropped when the process closes ANY fd of the file (the
 * JVM opens /proc/self/fd/N to map the region), and never conflicts within one process.
 */
static int take_slot(int fd) {
    for (int slot = 0; slot < 2; slot++) {
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = slot, .l_len = 1};
        if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
            return slot;
        }
        if (errno != EAGAIN && errno != EACCES) {
            return -1;
        }
    }
    errno = EBUSY;
    return -1;
}

int jd_dq_peer_attached(jd_dataqueue *q) {
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 1 - q->slot, .l_len = 1};
    if (fcntl(q->memory_fd, F_OFD_GETLK, &fl) != 0) {
        return -errno;
    }
    return fl.l_type != F_UNLCK;
}

static jd_dataqueue *assemble(int memory_fd, int avail_fd, int serviced_fd, uint64_t queue_byte_count,
                              dispatch_queue_t queue, int32_t status[2]) {
    jd_dataqueue *q = calloc(1, sizeof *q);
    if (!q) {
        set_status(status, kIOReturnNoMemory, ENOMEM);
        return NULL;
    }
    q->slot = take_slot(memory_fd);
    if (q->slot < 0) {
        set_status(status, kIOReturnNotReady, errno);
        free(q);
        return NULL;
    }
    size_t len = JD_DQ_HEADER_SIZE + (size_t)queue_byte_count;
    q->mapping = jd_dq_map_fd(memory_fd, len);
    if (!q->mapping) {
        set_status(status, kIOReturnNoMemory, errno);
        free(q);
        return NULL;
    }
    q->region.base = jd_dq_mapping_base(q->mapping);
    q->region.queue_byte_count = (uint32_t)queue_byte_count;
    q->map_len = len;
    q->memory_fd = memory_fd;
    int fds[2] = {avail_fd, serviced_fd};
    for (int i = 0; i < 2; i++) {
        q->bell[i].q = q;
        q->bell[i].fd = fds[i];
        q->bell[i].event = i == AVAIL ? JD_DQ_EVENT_DATA_AVAILABLE : JD_DQ_EVENT_DATA_SERVICED;
    }
    dispatch_retain(queue);
    q->queue = queue;
    q->cancelling = dispatch_group_create();
    pthread_mutex_init(&q->lock, NULL);
    q->enabled = true;
    set_status(status, kIOReturnSuccess, 0);
    return q;
}

static void close_all(int a, int b, int c) {
    if (a >= 0) close(a);
    if (b >= 0) close(b);
    if (c >= 0) close(c);
}

static char *suffixed(const char *path, const char *suffix) {
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *s = malloc(n);
    if (s) {
        snprintf(s, n, "%s%s", path, suffix);
    }
    return s;
}

static int open_fifo(const char *path, const char *suffix, bool create) {
    char *name = suffixed(path, suffix);
    if (!name) {
        errno = ENOMEM;
        return -1;
    }
    int fd = -1;
    if (!create || mkfifo(name, 0600) == 0) {
        /* O_RDWR: never blocks waiting for the other end, and the FIFO never reports EOF. */
        fd = open(name, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISFIFO(st.st_mode))) {
            close(fd);
            fd = -1;
            errno = EINVAL;
        }
        if (create && fd < 0) {
            int err = errno;
            unlink(name); /* the FIFO this call made */
            errno = err;
        }
    }
    free(name);
    return fd;
}

/* Gives the region its size with every page allocated now: a sparse file on a full tmpfs would make the first
   access to a page (the header, at creation) a SIGBUS instead of an error. posix_fallocate returns its error
   instead of setting errno. */
static int reserve(int fd, off_t size) {
    int err;
    while ((err = posix_fallocate(fd, 0, size)) == EINTR) {
    }
    errno = err;
    return err == 0 ? 0 : -1;
}

/* On a failed create: removes the first n of the region file and its FIFOs, the ones this create made (never a
   file it found there: that may be another queue's). */
static void remove_created(const char *path, int n) {
    static const char *const suffixes[] = {"", ".avail", ".serviced"};
    for (int i = 0; i < n; i++) {
        char *name = suffixed(path, suffixes[i]);
        if (name) unlink(name);
        free(name);
    }
}

jd_dataqueue *jd_dq_create(uint32_t queue_byte_count, dispatch_queue_t queue, const char *path, int32_t status[2]) {
    jd_ioreturn ret = jd_dq_check_queue_byte_count(queue_byte_count);
    if (ret != kIOReturnSuccess || !queue) {
        set_status(status, kIOReturnBadArgument, 0);
        return NULL;
    }
    int mem = -1, avail = -1, serviced = -1;
    off_t size = (off_t)JD_DQ_HEADER_SIZE + queue_byte_count;
    if (!path) {
        mem = memfd_create("jdispatch-dataqueue", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mem < 0 || reserve(mem, size) != 0 ||
            fcntl(mem, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
            goto fail;
        }
        avail = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        serviced = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (avail < 0 || serviced < 0) {
            goto fail;
        }
    } else {
        mem = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (mem < 0) {
            goto fail;
        }
        int made = 1; /* how many of region, .avail, .serviced this call made */
        if (reserve(mem, size) == 0 && (avail = open_fifo(path, ".avail", true)) >= 0) {
            made = 2;
            serviced = open_fifo(path, ".serviced", true);
        }
        if (serviced < 0) {
            int err = errno;
            remove_created(path, made);
            errno = err;
            goto fail;
        }
    }
    jd_dataqueue *q = assemble(mem, avail, serviced, queue_byte_count, queue, status);
    if (!q) {
        if (path) jd_dq_unlink(path);
        close_all(mem, avail, serviced);
        return NULL;
    }
    jd_dq_core_reset(&q->region);
    return q;
fail:
    set_status(status, kIOReturnError, errno);
    close_all(mem, avail, serviced);
    return NULL;
}

/* The queue size of a mapped region is its file size minus the header, checked like a Create argument. */
static jd_ioreturn region_byte_count(int memory_fd, uint64_t *queue_byte_count, int *err) {
    struct stat st;
    if (fstat(memory_fd, &st) != 0) {
        *err = errno;
        return kIOReturnError;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= JD_DQ_HEADER_SIZE ||
        jd_dq_check_queue_byte_count((uint64_t)st.st_size - JD_DQ_HEADER_SIZE) != kIOReturnSuccess) {
        *err = EINVAL;
        return kIOReturnBadArgument;
    }
    *queue_byte_count = (uint64_t)st.st_size - JD_DQ_HEADER_SIZE;
    return kIOReturnSuccess;
}

/* A received or dup'ed fd shares its open file description (and so its slot lock) with the sender: open the
   region again for a description of our own. */
static int own_description(int fd) {
    char name[32];
    snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
    int fresh = open(name, O_RDWR | O_CLOEXEC);
    int err = errno;
    close(fd);
    errno = err;
    return fresh;
}

static jd_dataqueue *attach_owned(int mem, int avail, int serviced, dispatch_queue_t queue, int32_t status[2]) {
    uint64_t qbc = 0;
    int err = 0;
    jd_ioreturn ret = queue ? region_byte_count(mem, &qbc, &err) : kIOReturnBadArgument;
    jd_dataqueue *q = ret == kIOReturnSuccess ? assemble(mem, avail, serviced, qbc, queue, status) : NULL;
    if (!q) {
        if (ret != kIOReturnSuccess) set_status(status, ret, err);
        close_all(mem, avail, serviced);
    }
    return q;
}

jd_dataqueue *jd_dq_attach_path(const char *path, dispatch_queue_t queue, int32_t status[2]) {
    int mem = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    uint64_t qbc;
    int err = 0;
    jd_ioreturn ret = mem < 0 ? kIOReturnSuccess : region_byte_count(mem, &qbc, &err);
    if (ret != kIOReturnSuccess) { /* not a region: say so before looking for its doorbells */
        set_status(status, ret, err);
        close(mem);
        return NULL;
    }
    int avail = mem < 0 ? -1 : open_fifo(path, ".avail", false);
    int serviced = avail < 0 ? -1 : open_fifo(path, ".serviced", false);
    if (serviced < 0) {
        set_status(status, kIOReturnError, errno);
        close_all(mem, avail, serviced);
        return NULL;
    }
    return attach_owned(mem, avail, serviced, queue, status);
}

jd_dataqueue *jd_dq_attach_fds(int memory_fd, int data_available_fd, int data_serviced_fd, dispatch_queue_t queue,
                               int32_t status[2]) {
    int mem = fcntl(memory_fd, F_DUPFD_CLOEXEC, 0);
    mem = mem < 0 ? -1 : own_description(mem);
    int avail = mem < 0 ? -1 : fcntl(data_available_fd, F_DUPFD_CLOEXEC, 0);
    int serviced = avail < 0 ? -1 : fcntl(data_serviced_fd, F_DUPFD_CLOEXEC, 0);
    if (serviced < 0) {
        set_status(status, kIOReturnError, errno);
        close_all(mem, avail, serviced);
        return NULL;
    }
    return attach_owned(mem, avail, serviced, queue, status);
}

int jd_dq_send_fds(jd_dataqueue *q, int socket_fd) {
    int fds[3] = {q->memory_fd, q->bell[AVAIL].fd, q->bell[SERVICED].fd};
    char tag = 'Q';
    struct iovec iov = {.iov_base = &tag, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof fds);
    memcpy(CMSG_DATA(c), fds, sizeof fds);
    return sendmsg(socket_fd, &msg, MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

jd_dataqueue *jd_dq_receive_fds(int socket_fd, dispatch_queue_t queue, int32_t status[2]) {
    char tag = 0;
    struct iovec iov = {.iov_base = &tag, .iov_len = 1};
    union {
        char buf[CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf, .msg_controllen = sizeof control.buf};
    ssize_t n = recvmsg(socket_fd, &msg, MSG_CMSG_CLOEXEC);
    struct cmsghdr *c = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(3 * sizeof(int)) ||
        tag != 'Q' || (msg.msg_flags & MSG_CTRUNC)) {
        int err = n < 0 ? errno : EPROTO;
        if (c && c->cmsg_type == SCM_RIGHTS) { /* do not leak what did arrive */
            int got = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
            for (int i = 0; i < got; i++) close(((int *)(void *)CMSG_DATA(c))[i]);
        }
        set_status(status, kIOReturnError, err);
        return NULL;
    }
    int fds[3];
    memcpy(fds, CMSG_DATA(c), sizeof fds);
    fds[0] = own_description(fds[0]);
    if (fds[0] < 0) {
        set_status(status, kIOReturnError, errno);
        close_all(-1, fds[1], fds[2]);
        return NULL;
    }
    return attach_owned(fds[0], fds[1], fds[2], queue, status);
}

const char *jd_dq_explain(int32_t errnum) {
    switch (errnum) {
    case EPERM:
    case EACCES: return ": the region and its FIFOs are owner-only (0600)";
    case ENOENT: return ": no queue was created at this path";
    case EBUSY: return ": a producer and a consumer are already attached (one of each)";
    case EEXIST: return ": the path exists: create never reuses a file (remove it, or attach)";
    default: return "";
    }
}

static int unix_address(const char *path, struct sockaddr_un *addr) {
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr->sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(addr->sun_path, path);
    return 0;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The fds go only to, and come only from, a process of our own user. */
static int same_user(int sock) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
        return -1;
    }
    if (cred.uid != geteuid()) {
        errno = EACCES;
        return -1;
    }
    return 0;
}

/* poll for `events` until deadline (CLOCK_MONOTONIC ms): 0 when ready, -1 with ETIMEDOUT or poll's errno. */
static int wait_for(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - now_ms();
        struct pollfd p = {.fd = fd, .events = events};
        int n = poll(&p, 1, left > 0 ? (int)(left < INT_MAX ? left : INT_MAX) : 0);
        if (n > 0) return 0;
        if (n == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        if (errno != EINTR) return -1;
    }
}

int jd_dq_send_fds_to(jd_dataqueue *q, const char *socket_path, int32_t timeout_ms) {
    struct sockaddr_un addr;
    if (unix_address(socket_path, &addr) != 0) {
        return -errno;
    }
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) {
            return -errno;
        }
        if (connect(s, (struct sockaddr *)&addr, sizeof addr) == 0) {
            int ret = same_user(s) == 0 ? jd_dq_send_fds(q, s) : -errno;
            close(s);
            return ret;
        }
        int err = errno;
        close(s);
        if (err != ENOENT && err != ECONNREFUSED) {
            return -err;
        }
        if (now_ms() >= deadline) {
            return -ETIMEDOUT;
        }
        usleep(10 * 1000); /* nobody listens there yet */
    }
}

jd_dataqueue *jd_dq_receive_fds_at(const char *socket_path, int32_t timeout_ms, dispatch_queue_t queue,
                                   int32_t status[2]) {
    struct sockaddr_un addr;
    if (!queue || unix_address(socket_path, &addr) != 0) {
        set_status(status, kIOReturnBadArgument, queue ? errno : 0);
        return NULL;
    }
    int64_t deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    jd_dataqueue *q = NULL;
    int conn = -1;
    int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0) {
        goto fail;
    }
    /* Owner-only before anyone can connect: connecting needs write permission, and nobody listens yet. */
    if (chmod(socket_path, 0600) != 0 || listen(listener, 1) != 0 || wait_for(listener, POLLIN, deadline) != 0 ||
        (conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) < 0 || same_user(conn) != 0 ||
        wait_for(conn, POLLIN, deadline) != 0) {
        unlink(socket_path);
        goto fail;
    }
    unlink(socket_path);
    q = jd_dq_receive_fds(conn, queue, status);
    close(conn);
    close(listener);
    return q;
fail:
    set_status(status, kIOReturnError, errno);
    int err = errno;
    if (conn >= 0) close(conn);
    if (listener >= 0) close(listener);
    errno = err;
    return NULL;
}

int jd_dq_unlink(const char *path) {
    int ret = 0;
    const char *suffixes[] = {"", ".avail", ".serviced"};
    for (int i = 0; i < 3; i++) {
        char *name = suffixed(path, suffixes[i]);
        if (!name || (unlink(name) != 0 && errno != ENOENT)) {
            ret = name ? -errno : -ENOMEM;
        }
        free(name);
    }
    return ret;
}

/* ---- handlers ---------------------------------------------------------------------------------------------- */

int jd_dq_ring(int fd) {
    uint64_t one = 1;
    if (write(fd, &one, sizeof one) == (ssize_t)sizeof one || errno == EAGAIN) {
        return 0; /* EAGAIN: the doorbell is already full of rings the receiver has not drained */
    }
    return -errno;
}

static void call_handler(struct doorbell *b) {
    pthread_mutex_lock(&b->q->lock);
    jd_dq_handler_fn fn = b->fn;
    void *ctx = b->ctx;
    pthread_mutex_unlock(&b->q->lock);
    if (fn) {
        fn(ctx, b->event);
    }
}

static void run_completion(void *context) {
    struct completion c = *(struct completion *)context;
    free(context);
    c.fn(c.ctx, JD_DQ_EVENT_COMPLETION);
}

static struct completion *new_completion(jd_dq_handler_fn fn, void *ctx) {
    struct completion *c = malloc(sizeof *c);
    if (c) {
        c->fn = fn;
        c->ctx = ctx;
        c->next = NULL;
    }
    return c;
}

/* Under q->lock, once no source handler runs: the disable completions may run now. */
static void post_disabled_completions_locked(jd_dataqueue *q) {
    while (q->disabled_completions) {
        struct completion *c = q->disabled_completions;
        q->disabled_completions = c->next;
        dispatch_async_f(q->queue, c, run_completion);
    }
}

/*
 * A source's event handler. A suspended source stops delivering, but on a concurrent queue an invocation
 * already dequeued still runs after dispatch_suspend returned: the gate on `enabled` keeps it from starting
 * the handler, and `running` lets SetEnableWithCompletion(false) wait for the handlers that did start. The
 * doorbell is drained only past the gate, so a ring that arrives while disabled is seen after re-enabling.
 */
static void on_ring(void *context) {
    struct doorbell *b = context;
    jd_dataqueue *q = b->q;
    pthread_mutex_lock(&q->lock);
    if (!q->enabled || q->cancelled) {
        pthread_mutex_unlock(&q->lock);
        return;
    }
    q->running++;
    pthread_mutex_unlock(&q->lock);
    uint64_t drain[8];
    while (read(b->fd, drain, sizeof drain) > 0) {
    }
    call_handler(b);
    pthread_mutex_lock(&q->lock);
    if (--q->running == 0) {
        post_disabled_completions_locked(q);
    }
    pthread_mutex_unlock(&q->lock);
}

static void on_source_cancelled(void *context) {
    dispatch_group_leave(((struct doorbell *)context)->q->cancelling);
}

static jd_ioreturn set_handler(jd_dataqueue *q, int which, jd_dq_handler_fn fn, void *ctx) {
    struct doorbell *b = &q->bell[which];
    pthread_mutex_lock(&q->lock);
    if (q->cancelled) {
        pthread_mutex_unlock(&q->lock);
        return kIOReturnNotReady;
    }
    b->fn = fn;
    b->ctx = ctx;
    if (fn && !b->source) {
        b->source = dispatch_source_create(DISPATCH_SOURCE_TYPE_READ, (uintptr_t)b->fd, 0, q->queue);
        if (!b->source) {
            b->fn = NULL;
            pthread_mutex_unlock(&q->lock);
            return kIOReturnNoMemory;
        }
        dispatch_set_context(b->source, b);
        dispatch_source_set_event_handler_f(b->source, on_ring);
        dispatch_source_set_cancel_handler_f(b->source, on_source_cancelled);
        if (q->enabled) {
            dispatch_activate(b->source);
        }
    }
    pthread_mutex_unlock(&q->lock);
    if (fn && which == AVAIL) {
        bool queued = jd_dq_core_is_data_available(&q->region);
        if (jd_dq_mapping_lost(q->mapping)) {
            return kIOReturnVMError;
        }
        if (queued) {
            jd_dq_ring(b->fd); /* data is already queued: the handler fires at once, on its queue */
        }
    }
    return kIOReturnSuccess;
}

jd_ioreturn jd_dq_set_data_available_handler(jd_dataqueue *q, jd_dq_handler_fn fn, void *ctx) {
    return set_handler(q, AVAIL, fn, ctx);
}

jd_ioreturn jd_dq_set_data_serviced_handler(jd_dataqueue *q, jd_dq_handler_fn fn, void *ctx) {
    return set_handler(q, SERVICED, fn, ctx);
}

jd_ioreturn jd_dq_send_data_available(jd_dataqueue *q) {
    return jd_dq_ring(q->bell[AVAIL].fd) == 0 ? kIOReturnSuccess : kIOReturnError;
}

jd_ioreturn jd_dq_send_data_serviced(jd_dataqueue *q) {
    /* Clear, then ring (as DriverKit): a producer that overruns after the clear sets the flag again. */
    jd_dq_core_clear_need_serviced(&q->region);
    return jd_dq_ring(q->bell[SERVICED].fd) == 0 ? kIOReturnSuccess : kIOReturnError;
}

void jd_dq_data_available(jd_dataqueue *q) {
    call_handler(&q->bell[AVAIL]);
}

void jd_dq_data_serviced(jd_dataqueue *q) {
    call_handler(&q->bell[SERVICED]);
}

jd_ioreturn jd_dq_set_enable_with_completion(jd_dataqueue *q, bool enable, jd_dq_handler_fn completion, void *ctx) {
    struct completion *c = completion ? new_completion(completion, ctx) : NULL;
    if (completion && !c) {
        return kIOReturnNoMemory;
    }
    pthread_mutex_lock(&q->lock);
    if (q->cancelled) {
        pthread_mutex_unlock(&q->lock);
        free(c);
        return kIOReturnNotReady;
    }
    if (enable != q->enabled) { /* balanced: libdispatch crashes on a resume without a suspend */
        for (int i = 0; i < 2; i++) {
            if (q->bell[i].source) {
                if (enable) dispatch_resume(q->bell[i].source);
                else dispatch_suspend(q->bell[i].source);
            }
        }
        q->enabled = enable;
    }
    if (c && !enable && q->running > 0) {
        /* After the handlers that already started: the last one to finish posts it. */
        struct completion **end = &q->disabled_completions;
        while (*end) end = &(*end)->next;
        *end = c;
        c = NULL;
    }
    pthread_mutex_unlock(&q->lock);
    if (c) {
        dispatch_async_f(q->queue, c, run_completion);
    }
    return kIOReturnSuccess;
}

static void cancel_locked(jd_dataqueue *q) {
    if (q->cancelled) {
        return;
    }
    q->cancelled = true;
    for (int i = 0; i < 2; i++) {
        dispatch_source_t s = q->bell[i].source;
        if (s) {
            dispatch_group_enter(q->cancelling);
            if (!q->enabled) {
                dispatch_resume(s); /* a suspended source never runs its cancel handler */
            }
            dispatch_source_cancel(s);
        }
    }
}

jd_ioreturn jd_dq_cancel(jd_dataqueue *q, jd_dq_handler_fn completion, void *ctx) {
    struct completion *c = completion ? new_completion(completion, ctx) : NULL;
    if (completion && !c) {
        return kIOReturnNoMemory;
    }
    pthread_mutex_lock(&q->lock);
    cancel_locked(q);
    pthread_mutex_unlock(&q->lock);
    if (c) {
        dispatch_group_notify_f(q->cancelling, q->queue, c, run_completion);
    }
    return kIOReturnSuccess;
}

static void release(void *context) {
    jd_dataqueue *q = context;
    for (int i = 0; i < 2; i++) {
        if (q->bell[i].source) dispatch_release(q->bell[i].source);
    }
    jd_dq_unmap_region(q->mapping);
    close_all(q->memory_fd, q->bell[AVAIL].fd, q->bell[SERVICED].fd);
    dispatch_release(q->cancelling);
    dispatch_release(q->queue);
    pthread_mutex_destroy(&q->lock);
    free(q);
    jd_release_end();
}

void jd_dq_free(jd_dataqueue *q) {
    if (!q) {
        return;
    }
    jd_release_begin(); /* its fds and mapping go back only in release() */
    pthread_mutex_lock(&q->lock);
    cancel_locked(q);
    pthread_mutex_unlock(&q->lock);
    /* After every cancel handler: no handler can touch q any more. A global queue, so that freeing never
       waits behind (or deadlocks with) work on the handler queue. */
    dispatch_group_notify_f(q->cancelling, dispatch_get_global_queue(0, 0), q, release);
}

/* ---- the queue operations ---------------------------------------------------------------------------------- */

const jd_dq_region *jd_dq_region_of(jd_dataqueue *q) {
    return &q->region;
}

uint32_t jd_dq_queue_byte_count(jd_dataqueue *q) {
    return q->region.queue_byte_count;
}

int jd_dq_memory_fd(jd_dataqueue *q) {
    return q->memory_fd;
}

bool jd_dq_truncated(jd_dataqueue *q) {
    return jd_dq_mapping_lost(q->mapping);
}

int64_t jd_dq_region_file_size(jd_dataqueue *q) {
    struct stat st;
    return fstat(q->memory_fd, &st) == 0 ? (int64_t)st.st_size : -errno;
}

jd_dq_mapping *jd_dq_map_region(jd_dataqueue *q) {
    /* Through a description of its own: a mapping keeps its open file description alive, and q's holds the
       attachment lock, which must go when q is freed, not when this mapping is unmapped. */
    char name[32];
    snprintf(name, sizeof name, "/proc/self/fd/%d", q->memory_fd);
    int fd = open(name, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    jd_dq_mapping *m = jd_dq_map_fd(fd, q->map_len);
    int err = errno;
    close(fd);
    errno = err;
    return m;
}

/* An operation's result, or kIOReturnVMError when one of its accesses faulted (the region was truncated). */
static jd_ioreturn checked(jd_dataqueue *q, jd_ioreturn ret) {
    return jd_dq_mapping_lost(q->mapping) ? kIOReturnVMError : ret;
}

jd_ioreturn jd_dq_enqueue_with_coalesce(jd_dataqueue *q, uint32_t size, bool *send_data_available,
                                        jd_dq_enqueue_block block, void *ctx) {
    return checked(q, jd_dq_core_enqueue(&q->region, size, block, ctx, send_data_available));
}

jd_ioreturn jd_dq_enqueue(jd_dataqueue *q, uint32_t size, jd_dq_enqueue_block block, void *ctx) {
    bool send = false;
    jd_ioreturn ret = jd_dq_enqueue_with_coalesce(q, size, &send, block, ctx);
    if (send && ret != kIOReturnVMError) {
        jd_dq_send_data_available(q);
    }
    return ret;
}

jd_ioreturn jd_dq_enqueue_batch(jd_dataqueue *q, uint32_t max, jd_dq_batch_size_fn size_of,
                                jd_dq_batch_enqueue_block block, void *ctx, uint32_t *count) {
    bool send = false;
    jd_ioreturn ret = checked(q, jd_dq_core_enqueue_batch(&q->region, max, size_of, block, ctx, count, &send));
    if (send && ret != kIOReturnVMError) {
        jd_dq_send_data_available(q);
    }
    return ret;
}

jd_ioreturn jd_dq_dequeue_with_coalesce(jd_dataqueue *q, bool *send_data_serviced, jd_dq_dequeue_block block, void *ctx) {
    return checked(q, jd_dq_core_dequeue(&q->region, block, ctx, send_data_serviced));
}

jd_ioreturn jd_dq_dequeue(jd_dataqueue *q, jd_dq_dequeue_block block, void *ctx) {
    bool send = false;
    jd_ioreturn ret = jd_dq_dequeue_with_coalesce(q, &send, block, ctx);
    if (send && ret != kIOReturnVMError) {
        jd_dq_send_data_serviced(q);
    }
    return ret;
}

jd_ioreturn jd_dq_dequeue_batch(jd_dataqueue *q, uint32_t max, jd_dq_dequeue_block block, void *ctx, uint32_t *count) {
    bool send = false;
    jd_ioreturn ret = checked(q, jd_dq_core_dequeue_batch(&q->region, max, block, ctx, count, &send));
    if (send && ret != kIOReturnVMError) {
        jd_dq_send_data_serviced(q);
    }
    return ret;
}

jd_ioreturn jd_dq_peek(jd_dataqueue *q, jd_dq_dequeue_block block, void *ctx) {
    return checked(q, jd_dq_core_peek(&q->region, block, ctx));
}

bool jd_dq_is_data_available(jd_dataqueue *q) {
    bool available = jd_dq_core_is_data_available(&q->region);
    return available && !jd_dq_mapping_lost(q->mapping);
}

bool jd_dq_can_enqueue_data(jd_dataqueue *q, uint32_t size, uint32_t count) {
    bool fits = jd_dq_core_can_enqueue(&q->region, size, count);
    return fits && !jd_dq_mapping_lost(q->mapping);
}

uint32_t jd_dq_get_data_queue_entry_header_size(void) {
    return JD_DQ_ENTRY_HEADER_SIZE;
}
