/*
 * The source-type table of jd_source.c: one row per JD_TYPE_* code, named as DispatchSource.Type's constants,
 * mask bits named and valued as in <dispatch/source.h>, supported masks that jd_source_create (and, for
 * libdispatch's own types, libdispatch) agrees with, and the explanations jd_source_explain gives. Exits non-zero
 * on the first failure.
 */
#include "jd_source.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond, ...)                                                                                  \
    do {                                                                                                  \
        if (!(cond)) {                                                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                               \
            fprintf(stderr, __VA_ARGS__);                                                                 \
            fputc('\n', stderr);                                                                          \
            exit(1);                                                                                      \
        }                                                                                                 \
    } while (0)

/* DispatchSource.Type's constants in declaration order: the code of each is its position + 1. */
#define TYPE(name) {JD_TYPE_##name, #name}
static const struct {
    int32_t code;
    const char *name;
} java_types[] = {
    TYPE(DATA_ADD), TYPE(DATA_OR), TYPE(DATA_REPLACE), TYPE(MACH_SEND), TYPE(MACH_RECV), TYPE(MEMORYPRESSURE),
    TYPE(PROC), TYPE(READ), TYPE(SIGNAL), TYPE(TIMER), TYPE(VNODE), TYPE(WRITE),
};
#define N_TYPES ((int32_t)(sizeof java_types / sizeof java_types[0]))

/* The mask bits dispatch_source_create(3) defines, by type, with the header's names and values. */
typedef struct {
    uint64_t bit;
    const char *name;
} header_bit;
#define HEADER(name) {name, #name}
static const header_bit proc_bits[] = {HEADER(DISPATCH_PROC_EXIT), HEADER(DISPATCH_PROC_FORK),
                                       HEADER(DISPATCH_PROC_EXEC), HEADER(DISPATCH_PROC_SIGNAL), {0}};
static const header_bit vnode_bits[] = {HEADER(DISPATCH_VNODE_DELETE), HEADER(DISPATCH_VNODE_WRITE),
                                        HEADER(DISPATCH_VNODE_EXTEND), HEADER(DISPATCH_VNODE_ATTRIB),
                                        HEADER(DISPATCH_VNODE_LINK), HEADER(DISPATCH_VNODE_RENAME),
                                        HEADER(DISPATCH_VNODE_REVOKE), HEADER(DISPATCH_VNODE_FUNLOCK), {0}};
static const header_bit memorypressure_bits[] = {HEADER(DISPATCH_MEMORYPRESSURE_NORMAL),
                                                 HEADER(DISPATCH_MEMORYPRESSURE_WARN),
                                                 HEADER(DISPATCH_MEMORYPRESSURE_CRITICAL), {0}};
static const header_bit timer_bits[] = {HEADER(DISPATCH_TIMER_STRICT), {0}};
static const header_bit mach_send_bits[] = {HEADER(DISPATCH_MACH_SEND_DEAD), {0}};
static const header_bit no_bits[] = {{0}};

static const header_bit *header_bits(int32_t type) {
    switch (type) {
    case JD_TYPE_PROC: return proc_bits;
    case JD_TYPE_VNODE: return vnode_bits;
    case JD_TYPE_MEMORYPRESSURE: return memorypressure_bits;
    case JD_TYPE_TIMER: return timer_bits;
    case JD_TYPE_MACH_SEND: return mach_send_bits;
    default: return no_bits;
    }
}

/* What Linux observes: PROC_EXIT (pidfd), VNODE all but FUNLOCK (inotify), the three PSI levels, TIMER_STRICT. */
static uint64_t linux_supported(int32_t type) {
    switch (type) {
    case JD_TYPE_PROC: return DISPATCH_PROC_EXIT;
    case JD_TYPE_VNODE: return (uint64_t)DISPATCH_VNODE_DELETE | DISPATCH_VNODE_WRITE | DISPATCH_VNODE_EXTEND
                               | DISPATCH_VNODE_ATTRIB | DISPATCH_VNODE_LINK | DISPATCH_VNODE_RENAME
                               | DISPATCH_VNODE_REVOKE;
    case JD_TYPE_MEMORYPRESSURE: return (uint64_t)DISPATCH_MEMORYPRESSURE_NORMAL | DISPATCH_MEMORYPRESSURE_WARN
                                        | DISPATCH_MEMORYPRESSURE_CRITICAL;
    case JD_TYPE_TIMER: return DISPATCH_TIMER_STRICT;
    default: return 0;
    }
}

/* The explanations jd_source_explain gives (the rest is ""): errnum 0 is any errno not listed before it. */
static const struct {
    int32_t type;
    int errnum;
    const char *text;
} explanations[] = {
    {JD_TYPE_PROC, ESRCH, " (pidfd_open: no process has this id)"},
    {JD_TYPE_PROC, EMFILE, " (pidfd_open: a PROC source needs 1 fd)"},
    {JD_TYPE_PROC, ENFILE, " (pidfd_open: a PROC source needs 1 fd)"},
    {JD_TYPE_PROC, 0, " (pidfd_open failed)"},
    {JD_TYPE_VNODE, ESTALE, " (inotify watches a path: the fd's path no longer names its file (deleted, renamed "
                            "away), or the fd is a pipe/socket)"},
    {JD_TYPE_VNODE, EMFILE, " (no inotify instance left: each VNODE source uses one, and the kernel allows "
                            "fs.inotify.max_user_instances per user (often 128); or the fd limit is reached)"},
    {JD_TYPE_VNODE, ENOSPC, " (inotify watch limit reached: fs.inotify.max_user_watches)"},
    {JD_TYPE_VNODE, 0, " (inotify could not watch the fd's path)"},
    {JD_TYPE_MEMORYPRESSURE, ENOENT, " (no PSI here: /proc/pressure/memory is missing)"},
    {JD_TYPE_MEMORYPRESSURE, EMFILE, " (a MEMORYPRESSURE source needs 3 fds: an epoll fd and two PSI triggers)"},
    {JD_TYPE_MEMORYPRESSURE, ENFILE, " (a MEMORYPRESSURE source needs 3 fds: an epoll fd and two PSI triggers)"},
    {JD_TYPE_MEMORYPRESSURE, 0, " (writing a PSI memory trigger to /proc/pressure/memory was refused)"},
    {JD_TYPE_SIGNAL, EMFILE, " (the first source of a signal opens an eventfd for its count: the fd limit is reached)"},
    {JD_TYPE_SIGNAL, ENFILE, " (the first source of a signal opens an eventfd for its count: the fd limit is reached)"},
    {JD_TYPE_READ, EMFILE, " (libdispatch watches a regular file with an eventfd: 1 fd)"},
    {JD_TYPE_READ, ENFILE, " (libdispatch watches a regular file with an eventfd: 1 fd)"},
    {JD_TYPE_WRITE, EMFILE, " (libdispatch watches a regular file with an eventfd: 1 fd)"},
    {JD_TYPE_WRITE, ENFILE, " (libdispatch watches a regular file with an eventfd: 1 fd)"},
};
#define N_EXPLANATIONS (sizeof explanations / sizeof explanations[0])

static const char *expected_explanation(int32_t type, int errnum) {
    for (size_t i = 0; i < N_EXPLANATIONS; i++) {
        if (explanations[i].type == type && (explanations[i].errnum == errnum || explanations[i].errnum == 0)) {
            return explanations[i].text;
        }
    }
    return "";
}

static _Atomic int cancels;

static void on_source(int64_t id, int32_t kind) {
    (void)id;
    if (kind == JD_SOURCE_CANCEL) {
        atomic_fetch_add(&cancels, 1);
    }
}

/* A handle each type accepts. */
static uint64_t handle_for(int32_t type, int file) {
    switch (type) {
    case JD_TYPE_PROC: return (uint64_t)getpid();
    case JD_TYPE_READ:
    case JD_TYPE_WRITE:
    case JD_TYPE_VNODE: return (uint64_t)file;
    case JD_TYPE_SIGNAL: return SIGUSR1;
    default: return 0;
    }
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
    jd_source_install(on_source);
    dispatch_queue_t q = dispatch_queue_create("test_source_table", DISPATCH_QUEUE_SERIAL);
    char path[] = "/tmp/test_source_table_XXXXXX";
    int file = mkstemp(path);
    CHECK(file >= 0, "mkstemp: %s", strerror(errno));
    int psi = access("/proc/pressure/memory", W_OK) == 0;

    /* One row per code 1 .. JD_TYPE_LAST, named as the Java constant at that position. */
    CHECK(N_TYPES == JD_TYPE_LAST, "%d Java constants listed, JD_TYPE_LAST is %d", N_TYPES, JD_TYPE_LAST);
    for (int32_t i = 0; i < N_TYPES; i++) {
        CHECK(java_types[i].code == i + 1, "JD_TYPE_%s is %d, DispatchSource.Type.%s's code is %d", java_types[i].name,
              java_types[i].code, java_types[i].name, i + 1);
        int32_t code = jd_source_type_code(java_types[i].name);
        CHECK(code == java_types[i].code, "jd_source_type_code(\"%s\") = %d, expected %d", java_types[i].name, code,
              java_types[i].code);
    }
    const char *unknown[] = {"", "data_add", "PROC ", "DISPATCH_SOURCE_TYPE_PROC", "MACH", NULL};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        CHECK(jd_source_type_code(unknown[i]) == -1, "jd_source_type_code(\"%s\") = %d, expected -1",
              unknown[i] ? unknown[i] : "(null)", jd_source_type_code(unknown[i]));
    }
    int32_t outside[] = {0, -1, JD_TYPE_LAST + 1};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        CHECK(jd_source_known_mask(outside[i]) == 0 && jd_source_supported_mask(outside[i]) == 0
              && jd_source_mask_bit_name(outside[i], DISPATCH_PROC_EXIT) == NULL,
              "code %d has no row, yet masks %#llx / %#llx", outside[i],
              (unsigned long long)jd_source_known_mask(outside[i]),
              (unsigned long long)jd_source_supported_mask(outside[i]));
        CHECK(jd_source_create(outside[i], 0, 0, 0, q, 1) == -ENOTSUP, "create of code %d: ENOTSUP", outside[i]);
        CHECK(strcmp(jd_source_explain(outside[i], EMFILE), "") == 0, "no explanation for code %d", outside[i]);
    }

    int expected_cancels = 0;
    for (int32_t type = 1; type <= JD_TYPE_LAST; type++) {
        const char *name = java_types[type - 1].name;
        uint64_t known = jd_source_known_mask(type), supported = jd_source_supported_mask(type);

        /* The header's bits for the type, by name and value, and no others. */
        uint64_t header = 0;
        for (const header_bit *b = header_bits(type); b->name; b++) {
            const char *got = jd_source_mask_bit_name(type, b->bit);
            CHECK(got && strcmp(got, b->name) == 0, "%s bit %#llx is named %s, the header calls it %s", name,
                  (unsigned long long)b->bit, got ? got : "(null)", b->name);
            header |= b->bit;
        }
        CHECK(known == header, "%s: known mask %#llx, the header defines %#llx", name, (unsigned long long)known,
              (unsigned long long)header);
        for (int i = 0; i < 64; i++) {
            uint64_t bit = 1ull << i;
            CHECK(!!jd_source_mask_bit_name(type, bit) == !!(known & bit), "%s bit %#llx: name %s, known mask %#llx",
                  name, (unsigned long long)bit, jd_source_mask_bit_name(type, bit) ? "given" : "missing",
                  (unsigned long long)known);
        }
        CHECK(jd_source_mask_bit_name(type, 0) == NULL, "%s: bit 0 has no name", name);
        if (known & (known - 1)) { /* two bits at once are no bit */
            CHECK(jd_source_mask_bit_name(type, known) == NULL, "%s: mask %#llx is not one bit", name,
                  (unsigned long long)known);
        }

        /* Supported within known, and what Linux observes (the masks jd_kernel_watch_create used to hold). */
        CHECK((supported & ~known) == 0, "%s: supported %#llx outside known %#llx", name,
              (unsigned long long)supported, (unsigned long long)known);
        CHECK(supported == linux_supported(type), "%s: supported %#llx, Linux observes %#llx", name,
              (unsigned long long)supported, (unsigned long long)linux_supported(type));

        /* Linux creates every type but the Mach ones, which observe nothing here. */
        int64_t plain = jd_source_create(type, handle_for(type, file), 0, 0, q, 1);
        if (type == JD_TYPE_MACH_SEND || type == JD_TYPE_MACH_RECV) {
            CHECK(plain == -ENOTSUP && supported == 0, "%s: created %lld, supported %#llx; expected -ENOTSUP and 0",
                  name, (long long)plain, (unsigned long long)supported);
        } else if (type == JD_TYPE_MEMORYPRESSURE && !psi) {
            CHECK(plain < 0 && plain != -ENOTSUP, "%s with no PSI: %lld, expected an error of PSI", name,
                  (long long)plain);
        } else {
            CHECK(plain > 0, "%s with mask 0: %s", name, plain < 0 ? strerror((int)-plain) : "no source");
            dispatch_source_t source = (dispatch_source_t)(intptr_t)plain;
            dispatch_activate(source);
            dispatch_source_cancel(source);
            dispatch_release(source);
            expected_cancels++;
        }

        /* jd_source_create agrees bit by bit: a supported bit creates (libdispatch itself agrees for its own types),
         * a known one this OS cannot observe is refused with ENOTSUP. */
        uint64_t handle = handle_for(type, file);
        for (int i = 0; i < 64; i++) {
            uint64_t bit = 1ull << i;
            if (!(known & bit)) {
                continue;
            }
            int64_t s = jd_source_create(type, handle, bit, 0, q, 1);
            if (!(supported & bit)) {
                CHECK(s == -ENOTSUP, "%s with %s (known, not observed here): %lld, expected -ENOTSUP (%d)", name,
                      jd_source_mask_bit_name(type, bit), (long long)s, -ENOTSUP);
            } else if (type == JD_TYPE_MEMORYPRESSURE && !psi) {
                CHECK(s < 0 && s != -ENOTSUP, "%s with %s and no PSI: %lld, expected an error of PSI", name,
                      jd_source_mask_bit_name(type, bit), (long long)s);
            } else {
                CHECK(s > 0, "%s with %s (supported): %s", name, jd_source_mask_bit_name(type, bit),
                      s < 0 ? strerror((int)-s) : "no source");
                dispatch_source_t source = (dispatch_source_t)(intptr_t)s;
                dispatch_activate(source);
                dispatch_source_cancel(source);
                dispatch_release(source);
                expected_cancels++;
            }
        }

        /* jd_source_explain: the row's sentence for an errno, its fallback for the others. */
        const int errnos[] = {ESRCH, EMFILE, ENFILE, ESTALE, ENOSPC, ENOENT, EACCES, EPERM, EINVAL, ENOMEM, EBADF};
        for (size_t i = 0; i < sizeof errnos / sizeof errnos[0]; i++) {
            const char *got = jd_source_explain(type, errnos[i]), *want = expected_explanation(type, errnos[i]);
            CHECK(strcmp(got, want) == 0, "jd_source_explain(%s, %s) = \"%s\", expected \"%s\"", name,
                  strerror(errnos[i]), got, want);
        }
    }

    /* Unknown bits: refused with ENOTSUP where the type is emulated, as before the table (but for SIGNAL, whose
     * counter ignored its mask), and by libdispatch (EINVAL) for its own types. */
    const struct {
        int32_t type;
        uint64_t mask;
        int64_t rc;
    } unknown_bits[] = {
        {JD_TYPE_PROC, 0x1, -ENOTSUP},
        {JD_TYPE_VNODE, 0x200, -ENOTSUP},
        {JD_TYPE_MEMORYPRESSURE, 0x8, -ENOTSUP},
        {JD_TYPE_SIGNAL, 0x1, -ENOTSUP},
        {JD_TYPE_DATA_ADD, 0x1, -EINVAL},
        {JD_TYPE_READ, 0x1, -EINVAL},
        {JD_TYPE_TIMER, 0x4, -EINVAL},
    };
    for (size_t i = 0; i < sizeof unknown_bits / sizeof unknown_bits[0]; i++) {
        int32_t type = unknown_bits[i].type;
        int64_t rc = jd_source_create(type, handle_for(type, file), unknown_bits[i].mask, 0, q, 1);
        CHECK(rc == unknown_bits[i].rc, "%s with unknown bit %#llx: %lld, expected %lld", java_types[type - 1].name,
              (unsigned long long)unknown_bits[i].mask, (long long)rc, (long long)unknown_bits[i].rc);
    }

    /* Every source created above is cancelled once (a hang detector, 60 s). */
    double end = now_s() + 60;
    while (atomic_load(&cancels) < expected_cancels && now_s() < end) {
        usleep(1000);
    }
    CHECK(atomic_load(&cancels) == expected_cancels, "%d cancel handlers ran, %d sources were created",
          atomic_load(&cancels), expected_cancels);
    close(file);
    unlink(path);
    dispatch_release(q);
    puts("test_source_table: ok");
    return 0;
}
