/*
 * The HTTP benchmark's C floor: the same HTTP/1.1 keep-alive server as bench/java/io/jdispatch/bench/http
 * (Http11: a request ends at its blank line; every request gets the same 13-byte response), written directly
 * on libdispatch in C with the topology of the Java example: a READ source per connection on a serial queue
 * of its own, all targeting the default global queue. It reads what the event announced (and after a hangup
 * until EAGAIN/EOF), as DispatchChannel does. What the Java server costs beyond this program is the Java
 * layer's; what this costs beyond Netty is libdispatch's event delivery on Linux.
 *
 * Usage: http_floor [port]. Prints "LISTENING <port>" and serves until its standard input ends.
 */
#include <dispatch/dispatch.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char RESPONSE[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!";
#define RESPONSE_LEN (sizeof(RESPONSE) - 1)
#define BATCH 64
static char responses[RESPONSE_LEN * BATCH];

struct conn {
    int fd;
    int matched; /* how much of "\r\n\r\n" the bytes so far end with */
    dispatch_source_t read;
    dispatch_queue_t queue;
};

static void fail(const char *call) {
    perror(call);
    exit(1);
}

/* Blocking until sent: responses are small, a full socket buffer is rare here and only waits. */
static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EAGAIN) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            poll(&pfd, 1, -1);
        } else if (!(w < 0 && errno == EINTR)) {
            return -1;
        }
    }
    return 0;
}

static void on_read(void *ctx) {
    struct conn *c = ctx;
    unsigned long announced = dispatch_source_get_data(c->read);
    unsigned long got = 0;
    char buf[16 * 1024];
    for (;;) {
        ssize_t n = read(c->fd, buf, sizeof buf);
        if (n < 0 && errno == EAGAIN) {
            return;
        }
        if (n <= 0) {
            dispatch_source_cancel(c->read);
            return;
        }
        int requests = 0;
        for (ssize_t i = 0; i < n; i++) {
            char b = buf[i];
            if (b == '\r') {
                c->matched = c->matched == 2 ? 3 : 1;
            } else if (b == '\n' && (c->matched == 1 || c->matched == 3)) {
                if (c->matched == 3) {
                    requests++;
                    c->matched = 0;
                } else {
                    c->matched = 2;
                }
            } else {
                c->matched = 0;
            }
        }
        for (; requests > 0; requests -= BATCH) {
            int k = requests < BATCH ? requests : BATCH;
            if (send_all(c->fd, responses, RESPONSE_LEN * (size_t)k) < 0) {
                dispatch_source_cancel(c->read);
                return;
            }
        }
        got += (unsigned long)n;
        if (announced > 0 && got >= announced && (size_t)n < sizeof buf) {
            return; /* the rest, if any, re-arms the source */
        }
    }
}

static void on_cancel(void *ctx) {
    struct conn *c = ctx;
    close(c->fd);
    dispatch_release(c->read);
    dispatch_release(c->queue);
    free(c);
}

static void on_accept(void *ctx) {
    int listener = (int)(intptr_t)ctx;
    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            return; /* EAGAIN, or out of fds: the source fires again */
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->queue = dispatch_queue_create("http.connection", DISPATCH_QUEUE_SERIAL);
        dispatch_set_target_queue(c->queue, dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0));
        c->read = dispatch_source_create(DISPATCH_SOURCE_TYPE_READ, (uintptr_t)fd, 0, c->queue);
        dispatch_set_context(c->read, c);
        dispatch_source_set_event_handler_f(c->read, on_read);
        dispatch_source_set_cancel_handler_f(c->read, on_cancel);
        dispatch_activate(c->read);
    }
}

int main(int argc, char **argv) {
    for (int i = 0; i < BATCH; i++) {
        memcpy(responses + i * RESPONSE_LEN, RESPONSE, RESPONSE_LEN);
    }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listener < 0) {
        fail("socket");
    }
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(argc > 1 ? (uint16_t)atoi(argv[1]) : 0),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) {
        fail("bind");
    }
    if (listen(listener, 4096) < 0) {
        fail("listen");
    }
    socklen_t len = sizeof addr;
    getsockname(listener, (struct sockaddr *)&addr, &len);
    dispatch_queue_t q = dispatch_queue_create("http.listener", DISPATCH_QUEUE_SERIAL);
    dispatch_source_t accepts = dispatch_source_create(DISPATCH_SOURCE_TYPE_READ, (uintptr_t)listener, 0, q);
    dispatch_set_context(accepts, (void *)(intptr_t)listener);
    dispatch_source_set_event_handler_f(accepts, on_accept);
    dispatch_activate(accepts);
    printf("LISTENING %d\n", ntohs(addr.sin_port));
    fflush(stdout);
    char b;
    while (read(0, &b, 1) > 0) {
        /* the driver never writes: this waits for the end of the stream */
    }
    return 0;
}
