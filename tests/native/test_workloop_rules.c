/*
 * What swift-corelibs-libdispatch on Linux does with a workloop (jd_workloop.h), each case in a forked child as in
 * test_queue_rules.c: the calls io.jdispatch.DispatchWorkloop offers must return, the ones it refuses crash,
 * hang or are ignored here. A case "returns" only if it also saw what it checks (else: exit 3, WRONG).
 */
#include "jd_workloop.h"
#include "jd_test_rules.h"

#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void dispatch_async_and_wait_f(dispatch_queue_t queue, void *context, dispatch_function_t work);
bool dispatch_workloop_is_current(dispatch_queue_t workloop);
void dispatch_workloop_set_autorelease_frequency(dispatch_queue_t workloop, unsigned long frequency);


static atomic_int count;
static void inc(void *ctx) { (void)ctx; atomic_fetch_add(&count, 1); }
static void inc_applied(void *ctx, size_t i) { (void)ctx; (void)i; atomic_fetch_add(&count, 1); }
static void expect(bool ok) { if (!ok) exit(3); }
static void wait_for(int n) {
    for (int i = 0; i < 5000 && atomic_load(&count) < n; i++) usleep(1000);
    expect(atomic_load(&count) >= n);
}

static void async_in_order(void) {
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    for (int i = 0; i < 1000; i++) dispatch_async_f(w, NULL, inc);
    dispatch_async_and_wait_f(w, NULL, inc);
    expect(atomic_load(&count) == 1001);
    dispatch_release(w);
}
static void barrier_after_group_source(void) {
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    dispatch_barrier_async_f(w, NULL, inc);
    dispatch_after_f(dispatch_time(DISPATCH_TIME_NOW, 1000000), w, NULL, inc);
    dispatch_group_t g = dispatch_group_create();
    dispatch_group_async_f(g, w, NULL, inc);
    dispatch_group_notify_f(g, w, NULL, inc);
    dispatch_source_t s = dispatch_source_create(DISPATCH_SOURCE_TYPE_DATA_ADD, 0, 0, w);
    dispatch_source_set_event_handler_f(s, inc);
    dispatch_resume(s);
    dispatch_source_merge_data(s, 1);
    wait_for(5);
}
static void tagged_current(void *ctx) {
    dispatch_queue_t w = ctx;
    expect(dispatch_get_specific(w) == w); /* jd_workloop_create's tag: DispatchWorkloop.isCurrent */
    atomic_fetch_add(&count, 1);
}
static void tagged_not_workloop_current(void *ctx) {
    dispatch_queue_t w = ctx;
    expect(dispatch_get_specific(w) == w);
    expect(!dispatch_workloop_is_current(w)); /* Linux: false in an asynchronous task of the workloop */
    atomic_fetch_add(&count, 1);
}
static void is_current(void) {
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    expect(dispatch_get_specific(w) == NULL);
    dispatch_async_f(w, w, tagged_not_workloop_current);
    wait_for(1);
    dispatch_async_and_wait_f(w, w, tagged_current); /* (there dispatch_workloop_is_current is true) */
    expect(atomic_load(&count) == 2);
}
static void qos_floor_reads_back(void) {
    dispatch_queue_t w = jd_workloop_create("rules", 0x19, -5);
    int rel = 1;
    expect(jd_workloop_qos_class(w, &rel) == 0x19 && rel == -5);
    dispatch_async_and_wait_f(w, NULL, inc);
    dispatch_queue_t plain = jd_workloop_create("rules", 0, 0);
    expect(jd_workloop_qos_class(plain, &rel) == 0 && rel == 0);
    dispatch_release(w);
    dispatch_release(plain);
}
static void release_with_work_queued(void) {
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    for (int i = 0; i < 100; i++) dispatch_async_f(w, NULL, inc);
    dispatch_release(w);
    wait_for(100);
}
static void concurrent_queue_targeting_workloop(void) {
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    dispatch_queue_t q = dispatch_queue_create("rules", DISPATCH_QUEUE_CONCURRENT);
    dispatch_set_target_queue(q, w);
    for (int i = 0; i < 100; i++) dispatch_async_f(q, NULL, inc);
    wait_for(100);
}
static void serial_queue_targeting_workloop(void) {
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    dispatch_queue_t q = dispatch_queue_create("rules", NULL);
    dispatch_set_target_queue(q, w);
    for (int i = 0; i < 100; i++) dispatch_async_f(q, NULL, inc);
    wait_for(100);
}
static void sync_onto_workloop(void) {
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    dispatch_sync_f(w, NULL, inc);
}
static void barrier_sync_onto_workloop(void) {
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    dispatch_barrier_sync_f(w, NULL, inc);
}
static void apply_onto_workloop(void) {
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    dispatch_apply_f(4, w, NULL, inc_applied);
}
static void async_onto_inactive_workloop(void) {
    dispatch_queue_t w = dispatch_workloop_create_inactive("rules");
    dispatch_async_f(w, NULL, inc);
    dispatch_activate(w);
    wait_for(1);
}
static void release_inactive_workloop(void) {
    dispatch_release(dispatch_workloop_create_inactive("rules"));
}
static void attribute_after_activation(void) {
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    dispatch_workloop_set_autorelease_frequency(w, 1);
}
static void suspend_is_ignored(void) { /* "returns": the task ran while the workloop was "suspended" */
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    dispatch_suspend(w);
    dispatch_async_f(w, NULL, inc);
    wait_for(1);
    dispatch_resume(w);
}
static void retarget_is_ignored(void) { /* the task still runs, with the workloop current */
    dispatch_queue_t w = jd_workloop_create("rules", 0, 0);
    dispatch_set_target_queue(w, dispatch_queue_create("other", NULL));
    dispatch_async_and_wait_f(w, w, tagged_current);
}

static const struct rule rules[] = {
    {"async_in_order", async_in_order, RETURNS},
    {"barrier_after_group_source", barrier_after_group_source, RETURNS},
    {"is_current", is_current, RETURNS},
    {"qos_floor_reads_back", qos_floor_reads_back, RETURNS},
    {"release_with_work_queued", release_with_work_queued, RETURNS},
    {"concurrent_queue_targeting_workloop", concurrent_queue_targeting_workloop, RETURNS},
    {"serial_queue_targeting_workloop", serial_queue_targeting_workloop, CRASHES},
    {"sync_onto_workloop", sync_onto_workloop, CRASHES},
    {"barrier_sync_onto_workloop", barrier_sync_onto_workloop, CRASHES},
    {"apply_onto_workloop", apply_onto_workloop, CRASHES},
    {"async_onto_inactive_workloop", async_onto_inactive_workloop, CRASHES},
    {"release_inactive_workloop", release_inactive_workloop, CRASHES},
    {"attribute_after_activation", attribute_after_activation, CRASHES},
    {"suspend_is_ignored", suspend_is_ignored, RETURNS},
    {"retarget_is_ignored", retarget_is_ignored, RETURNS},
};

int main(void) {
    return run_rules(rules, sizeof rules / sizeof rules[0]) ? 1 : 0;
}
