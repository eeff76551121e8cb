/*
 * Work items (jd_block.h) on the real library: the shim's lifetime contract (the body runs with its id, the
 * dispose id comes exactly once, when libdispatch frees the block) and the block rules io.jdispatch.DispatchWorkItem
 * refuses in Java, each run in a forked child as in test_queue_rules.c (a DISPATCH_CLIENT_CRASH kills it).
 */
#include "jd_block.h"
#include "jd_test_rules.h"

#include <dispatch/dispatch.h>

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

enum { RUN_ID = 1, DISPOSE_ID = 2, NOTIFY_ID = 3 };
static atomic_int runs, disposes, notifies;

/* Stands in for the Java trampoline. */
static void task(int64_t id) {
    if (id == RUN_ID) atomic_fetch_add(&runs, 1);
    else if (id == DISPOSE_ID) atomic_fetch_add(&disposes, 1);
    else if (id == NOTIFY_ID) atomic_fetch_add(&notifies, 1);
}
static void apply(int64_t id, int64_t index) { (void)id; (void)index; }

static int failures;
#define CHECK(cond, ...) do { if (!(cond)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); \
    printf("\n"); failures++; } } while (0)

static void *make(uint64_t flags) { return jd_block_create(flags, RUN_ID, DISPOSE_ID); }
static void nop(void *ctx) { (void)ctx; }

static void lifetime(void) {
    atomic_store(&runs, 0);
    atomic_store(&disposes, 0);
    void *b = make(0);
    CHECK(b != NULL, "jd_block_create(0) returned NULL");
    jd_block_release(b);
    CHECK(atomic_load(&disposes) == 1, "an unsubmitted block's release disposed %d times", atomic_load(&disposes));

    dispatch_queue_t q = dispatch_queue_create("lifetime", NULL);
    dispatch_suspend(q);
    b = make(0);
    jd_block_async(q, b);
    jd_block_async(q, b);
    jd_block_release(b); /* the two queued copies keep the block */
    CHECK(atomic_load(&disposes) == 1, "disposed while submissions were queued");
    dispatch_resume(q);
    dispatch_sync_f(q, NULL, nop);
    for (int i = 0; i < 1000 && atomic_load(&disposes) < 2; i++) usleep(1000); /* freed after the last invoke */
    CHECK(atomic_load(&runs) == 2, "the body ran %d times, not 2", atomic_load(&runs));
    CHECK(atomic_load(&disposes) == 2, "disposed %d times after the queued runs", atomic_load(&disposes) - 1);

    b = jd_block_create(0x100, RUN_ID, DISPOSE_ID); /* outside DISPATCH_BLOCK_API_MASK (0xff): NULL, disposed already */
    CHECK(b == NULL && atomic_load(&disposes) == 3, "bad flags: %p, disposes %d", b, atomic_load(&disposes));

    b = make(0);
    jd_block_cancel(b);
    CHECK(jd_block_testcancel(b) != 0, "testcancel after cancel");
    jd_block_notify_task(b, q, NOTIFY_ID);
    jd_block_sync(q, b);
    CHECK(atomic_load(&runs) == 2, "a cancelled block ran its body");
    CHECK(jd_block_wait(b, DISPATCH_TIME_NOW) == 0, "a cancelled execution did not complete");
    dispatch_sync_f(q, NULL, nop);
    CHECK(atomic_load(&notifies) == 1, "notify after a cancelled execution ran %d times", atomic_load(&notifies));
    jd_block_release(b);
    jd_block_perform_task(0, RUN_ID);
    CHECK(atomic_load(&runs) == 3, "dispatch_block_perform's body did not run once");
    dispatch_release(q);
}


static void wait_twice(void) {
    void *b = make(0);
    jd_block_invoke(b);
    jd_block_wait(b, DISPATCH_TIME_FOREVER);
    jd_block_wait(b, DISPATCH_TIME_NOW);
}
static void wait_after_two_runs(void) {
    void *b = make(0);
    jd_block_invoke(b);
    jd_block_invoke(b);
    jd_block_wait(b, DISPATCH_TIME_NOW);
}
static void run_after_wait(void) {
    void *b = make(0);
    jd_block_invoke(b);
    jd_block_wait(b, DISPATCH_TIME_FOREVER);
    jd_block_invoke(b);
}
static void notify_after_two_runs(void) {
    void *b = make(0);
    jd_block_invoke(b);
    jd_block_invoke(b);
    jd_block_notify_task(b, dispatch_get_global_queue(0, 0), NOTIFY_ID);
}
static void wait_after_timed_out_wait(void) { /* a wait that timed out does not count */
    void *b = make(0);
    jd_block_wait(b, dispatch_time(DISPATCH_TIME_NOW, 1000000));
    jd_block_invoke(b);
    jd_block_wait(b, DISPATCH_TIME_FOREVER);
    jd_block_release(b);
}
static void run_many_times_unobserved(void) {
    void *b = make(0);
    for (int i = 0; i < 5; i++) jd_block_invoke(b);
    jd_block_release(b);
}
static void perform_bad_flags(void) { jd_block_perform_task(0x100, RUN_ID); }

static const struct rule rules[] = {
    {"wait_twice", wait_twice, CRASHES},
    {"wait_after_two_runs", wait_after_two_runs, CRASHES},
    {"run_after_wait", run_after_wait, CRASHES},
    {"notify_after_two_runs", notify_after_two_runs, CRASHES},
    {"wait_after_timed_out_wait", wait_after_timed_out_wait, RETURNS},
    {"run_many_times_unobserved", run_many_times_unobserved, RETURNS},
    {"perform_bad_flags", perform_bad_flags, CRASHES},
};

int main(void) {
    jd_callbacks_install(task, apply);
    failures += run_rules(rules, sizeof rules / sizeof rules[0]);
    lifetime(); /* after the forks: the parent stays single-threaded until here */
    printf("%s\n", failures ? "FAILED" : "all ok");
    return failures ? 1 : 0;
}
