/*
 * Mappings of a data queue region that survive a peer truncating the region's file.
 *
 * Truncating a file takes its pages away from every mapping: the next access is a SIGBUS (BUS_ADRERR), which
 * kills the process (in a JVM: a crash when C touches the region, HotSpot's asynchronous InternalError, thrown
 * later in unrelated code, when Java does). A memfd region is sealed against that; a path region cannot be.
 *
 * Every mapping of a region (jd_dataqueue's own and the one Java reads through) is registered here. One SIGBUS
 * handler, installed with the first mapping, looks the faulting address up:
 *  - inside a registered mapping, it maps private zero pages over the whole mapping and counts the fault in the
 *    mapping's word. The faulting access runs again and succeeds, and so does every later one (on memory that
 *    is no longer shared), so the code that faulted (ours, or the caller's block filling an entry) simply runs
 *    to its end: no longjmp through code that may hold locks. Each operation reads the word when its accesses
 *    are done and reports the region as truncated instead of its result (jd_dq_mapping_lost).
 *  - anywhere else it calls the handler installed before it (the JVM's, which turns a fault in its own
 *    MappedByteBuffers into an InternalError), exactly as the kernel would have: same arguments, with that
 *    handler's signal mask, and the default action when there was none.
 * The handler only reads the slots with atomic loads and makes one system call (mmap, a plain syscall on Linux).
 */
#include "jd_dataqueue_guard.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { SLOTS_PER_CHUNK = 64 };

/* Slots live in chunks that are never freed, so the handler can always read them; a slot is reused. */
struct chunk {
    struct jd_dq_mapping slot[SLOTS_PER_CHUNK];
    struct chunk *_Atomic next;
};

static struct chunk *_Atomic chunks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* adding slots and chunks, installing */
static struct sigaction previous;
static bool installed;

static void call_previous(int sig, siginfo_t *info, void *uc) {
    if (!(previous.sa_flags & SA_SIGINFO) && (previous.sa_handler == SIG_DFL || previous.sa_handler == SIG_IGN)) {
        /* Nobody handles it: the kernel's default action (an ignored fault signal is not ignored either).
           Returning runs the faulting access again, which now terminates the process. */
        struct sigaction dfl;
        memset(&dfl, 0, sizeof dfl);
        dfl.sa_handler = SIG_DFL;
        sigaction(sig, &dfl, NULL);
        return;
    }
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, &previous.sa_mask, &mask);
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, info, uc);
    } else {
        previous.sa_handler(sig);
    }
    pthread_sigmask(SIG_SETMASK, &mask, NULL);
}

static void on_sigbus(int sig, siginfo_t *info, void *uc) {
    if (info->si_code == BUS_ADRERR) {
        uintptr_t addr = (uintptr_t)info->si_addr;
        for (struct chunk *c = atomic_load_explicit(&chunks, memory_order_acquire); c;
             c = atomic_load_explicit(&c->next, memory_order_acquire)) {
            for (int i = 0; i < SLOTS_PER_CHUNK; i++) {
                struct jd_dq_mapping *m = &c->slot[i];
                uintptr_t base = atomic_load_explicit(&m->base, memory_order_acquire);
                size_t len = atomic_load_explicit(&m->len, memory_order_relaxed);
                if (base != 0 && addr - base < len) {
                    int saved = errno;
                    void *p = mmap((void *)base, len, PROT_READ | PROT_WRITE,
                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
                    errno = saved;
                    if (p == MAP_FAILED) {
                        goto chain; /* cannot repair it: as if we were not here */
                    }
                    atomic_fetch_add_explicit(&m->faults, 1, memory_order_relaxed);
                    return;
                }
            }
        }
    }
chain:
    call_previous(sig, info, uc);
}

/* Under lock. Installed once; the previous handler (the JVM's, if any) is kept for call_previous. */
static int install_locked(void) {
    if (installed) {
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    /* `previous` is complete before the first SIGBUS can reach on_sigbus. */
    if (sigaction(SIGBUS, NULL, &previous) != 0 || sigaction(SIGBUS, &sa, NULL) != 0) {
        return -1;
    }
    installed = true;
    return 0;
}

/* Under lock: a free slot, adding a chunk when every slot is taken. */
static struct jd_dq_mapping *free_slot_locked(void) {
    for (struct chunk *c = atomic_load_explicit(&chunks, memory_order_relaxed); c;
         c = atomic_load_explicit(&c->next, memory_order_relaxed)) {
        for (int i = 0; i < SLOTS_PER_CHUNK; i++) {
            if (atomic_load_explicit(&c->slot[i].base, memory_order_relaxed) == 0) {
                return &c->slot[i];
            }
        }
    }
    struct chunk *c = calloc(1, sizeof *c);
    if (!c) {
        errno = ENOMEM;
        return NULL;
    }
    atomic_store_explicit(&c->next, atomic_load_explicit(&chunks, memory_order_relaxed), memory_order_relaxed);
    atomic_store_explicit(&chunks, c, memory_order_release);
    return &c->slot[0];
}

jd_dq_mapping *jd_dq_map_fd(int fd, size_t len) {
    void *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        return NULL;
    }
    pthread_mutex_lock(&lock);
    struct jd_dq_mapping *m = install_locked() == 0 ? free_slot_locked() : NULL;
    if (m) {
        atomic_store_explicit(&m->faults, 0, memory_order_relaxed);
        atomic_store_explicit(&m->len, len, memory_order_relaxed);
        atomic_store_explicit(&m->base, (uintptr_t)base, memory_order_release);
    }
    pthread_mutex_unlock(&lock);
    if (!m) {
        int err = errno;
        munmap(base, len);
        errno = err;
    }
    return m;
}

void *jd_dq_mapping_base(jd_dq_mapping *m) {
    return (void *)atomic_load_explicit(&m->base, memory_order_relaxed);
}

const volatile uint32_t *jd_dq_mapping_faults(jd_dq_mapping *m) {
    return (const volatile uint32_t *)(const void *)&m->faults;
}

void jd_dq_unmap_region(jd_dq_mapping *m) {
    void *base = jd_dq_mapping_base(m);
    size_t len = atomic_load_explicit(&m->len, memory_order_relaxed);
    /* Unregistered first: once unmapped, the addresses may be given to someone else's mapping. */
    pthread_mutex_lock(&lock);
    atomic_store_explicit(&m->base, 0, memory_order_release);
    pthread_mutex_unlock(&lock);
    munmap(base, len);
}
