/*
 * The libdispatch misuse rules that io.jdispatch refuses in Java, checked on the real library: each case runs
 * in a forked child (a DISPATCH_CLIENT_CRASH kills the process), and the parent checks how it ended.
 * If libdispatch ever stops crashing (or starts crashing) on one of these, this test says which rule moved.
 */
#include "jdispatch.h" /* QOS_CLASS_* on Linux */
#include "jd_test_rules.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>


static void nop(void *ctx) { (void)ctx; }

static void resume_active_queue(void) {
    dispatch_queue_t q = dispatch_queue_create("rules", NULL);
    dispatch_resume(q);
}
static void release_suspended_queue(void) {
    dispatch_queue_t q = dispatch_queue_create("rules", NULL);
    dispatch_suspend(q);
    dispatch_release(q);
}
static void release_inactive_queue(void) {
    dispatch_queue_t q = dispatch_queue_create("rules", dispatch_queue_attr_make_initially_inactive(NULL));
    dispatch_release(q);
}
static void release_resumed_and_activated_queue(void) {
    dispatch_queue_t q = dispatch_queue_create("rules", dispatch_queue_attr_make_initially_inactive(NULL));
    dispatch_suspend(q);
    dispatch_resume(q);
    dispatch_activate(q);
    dispatch_activate(q); /* a second activate is a no-op */
    dispatch_sync_f(q, NULL, nop);
    dispatch_release(q);
}
static void resume_inactive_queue(void) { /* not a synonym of activate: a crash */
    dispatch_queue_t q = dispatch_queue_create("rules", dispatch_queue_attr_make_initially_inactive(NULL));
    dispatch_resume(q);
    dispatch_sync_f(q, NULL, nop);
    dispatch_release(q);
}
static void release_semaphore_below_initial(void) {
    dispatch_semaphore_t s = dispatch_semaphore_create(1);
    dispatch_semaphore_wait(s, DISPATCH_TIME_FOREVER);
    dispatch_release(s);
}
static void release_semaphore_above_initial(void) {
    dispatch_semaphore_t s = dispatch_semaphore_create(1);
    dispatch_semaphore_signal(s);
    dispatch_release(s);
}
static void group_leave_unbalanced(void) {
    dispatch_group_t g = dispatch_group_create();
    dispatch_group_leave(g);
}
static void release_entered_group_then_leave(void) {
    dispatch_group_t g = dispatch_group_create();
    dispatch_group_enter(g);
    dispatch_retain(g); /* the user's second reference, used to leave later */
    dispatch_release(g);
    dispatch_group_leave(g);
    dispatch_release(g);
}
static void release_entered_group(void) {
    dispatch_group_t g = dispatch_group_create();
    dispatch_group_enter(g);
    dispatch_release(g);
}
static dispatch_queue_t current;
static void sync_again(void *ctx) { (void)ctx; dispatch_sync_f(current, NULL, nop); }
static void sync_on_current_serial_queue(void) {
    current = dispatch_queue_create("rules", NULL);
    dispatch_sync_f(current, NULL, sync_again);
}
static void sync_on_current_concurrent_queue(void) {
    current = dispatch_queue_create("rules", DISPATCH_QUEUE_CONCURRENT);
    dispatch_sync_f(current, NULL, sync_again);
}
static void sync_on_serial_target_of_current(void) {
    dispatch_queue_t target = dispatch_queue_create("target", NULL);
    dispatch_queue_t q = dispatch_queue_create("rules", NULL);
    dispatch_set_target_queue(q, target);
    current = target;
    dispatch_sync_f(q, NULL, sync_again);
}
static void retarget_active_queue(void) {
    dispatch_queue_t q = dispatch_queue_create("rules", NULL);
    dispatch_sync_f(q, NULL, nop);
    dispatch_set_target_queue(q, dispatch_queue_create("target", NULL));
    dispatch_sync_f(q, NULL, nop);
}
static void retarget_active_queue_that_is_a_target(void) {
    dispatch_queue_t q = dispatch_queue_create("rules", NULL);
    dispatch_queue_t child = dispatch_queue_create("child", NULL);
    dispatch_set_target_queue(child, q);
    dispatch_sync_f(child, NULL, nop);
    dispatch_set_target_queue(q, dispatch_queue_create("target", NULL));
    dispatch_sync_f(child, NULL, nop);
}
static void retarget_activated_inactive_queue(void) {
    dispatch_queue_t q = dispatch_queue_create("rules", dispatch_queue_attr_make_initially_inactive(NULL));
    dispatch_activate(q);
    dispatch_sync_f(q, NULL, nop);
    dispatch_set_target_queue(q, dispatch_queue_create("target", NULL));
    dispatch_sync_f(q, NULL, nop);
}
static void retarget_inactive_queue_then_activate(void) {
    dispatch_queue_t q = dispatch_queue_create("rules", dispatch_queue_attr_make_initially_inactive(NULL));
    dispatch_set_target_queue(q, dispatch_queue_create("target", NULL));
    dispatch_activate(q);
    dispatch_sync_f(q, NULL, nop);
}
static void retarget_queue_with_frequency(dispatch_autorelease_frequency_t frequency) {
    dispatch_queue_t q = dispatch_queue_create("rules", dispatch_queue_attr_make_with_autorelease_frequency(NULL, frequency));
    dispatch_set_target_queue(q, dispatch_queue_create("target", NULL));
    dispatch_sync_f(q, NULL, nop);
}
static void retarget_autorelease_inherit_queue(void) { retarget_queue_with_frequency(DISPATCH_AUTORELEASE_FREQUENCY_INHERIT); }
static void retarget_autorelease_work_item_queue(void) { retarget_queue_with_frequency(DISPATCH_AUTORELEASE_FREQUENCY_WORK_ITEM); }
static void retarget_autorelease_never_queue(void) { retarget_queue_with_frequency(DISPATCH_AUTORELEASE_FREQUENCY_NEVER); }
static void retarget_active_qos_queue(void) {
    dispatch_queue_t q = dispatch_queue_create("rules", dispatch_queue_attr_make_with_qos_class(NULL, QOS_CLASS_UTILITY, -3));
    dispatch_sync_f(q, NULL, nop);
    dispatch_set_target_queue(q, dispatch_queue_create("target", NULL));
    dispatch_sync_f(q, NULL, nop);
}
static int specific_key;
static void set_specific_on_global_queue(void) {
    dispatch_queue_set_specific(dispatch_get_global_queue(0, 0), &specific_key, &specific_key, NULL);
    if (dispatch_queue_get_specific(dispatch_get_global_queue(0, 0), &specific_key) != &specific_key) exit(3);
}
static void assert_queue_off_queue(void) { dispatch_assert_queue(dispatch_queue_create("rules", NULL)); }
static void assert_queue_not_on_queue_fn(void *q) { dispatch_assert_queue_not(q); }
static void assert_queue_not_on_queue(void) {
    dispatch_queue_t q = dispatch_queue_create("rules", NULL);
    dispatch_sync_f(q, q, assert_queue_not_on_queue_fn);
}
static void assert_barrier_fn(void *q) { dispatch_assert_queue_barrier(q); }
static void assert_queue_barrier_in_sync_on_global_queue(void) {
    dispatch_sync_f(dispatch_get_global_queue(0, 0), dispatch_get_global_queue(0, 0), assert_barrier_fn);
}
static void assert_queue_barrier_in_barrier_sync_on_global_queue(void) { /* a global queue has no barriers */
    dispatch_barrier_sync_f(dispatch_get_global_queue(0, 0), dispatch_get_global_queue(0, 0), assert_barrier_fn);
}
static void global_queues_by_qos(void) {
    long ok[] = {0x21, 0x19, 0x15, 0x11, 0x09, 2, 0, -2, -32768};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        dispatch_queue_global_t q = dispatch_get_global_queue(ok[i], 0);
        if (q == NULL || (intptr_t)q == -1) {
            fprintf(stderr, "dispatch_get_global_queue(0x%lx) = %p\n", ok[i], (void *)q);
            exit(3);
        }
        dispatch_sync_f(q, NULL, nop);
    }
}
static const struct rule rules[] = {
    {"resume_active_queue", resume_active_queue, CRASHES},
    {"release_suspended_queue", release_suspended_queue, CRASHES},
    {"release_inactive_queue", release_inactive_queue, CRASHES},
    {"release_resumed_and_activated_queue", release_resumed_and_activated_queue, RETURNS},
    {"resume_inactive_queue", resume_inactive_queue, CRASHES},
    {"release_semaphore_below_initial", release_semaphore_below_initial, CRASHES},
    {"release_semaphore_above_initial", release_semaphore_above_initial, RETURNS},
    {"group_leave_unbalanced", group_leave_unbalanced, CRASHES},
    {"release_entered_group_then_leave", release_entered_group_then_leave, RETURNS},
    {"release_entered_group", release_entered_group, RETURNS},
    {"sync_on_current_serial_queue", sync_on_current_serial_queue, CRASHES},
    {"sync_on_current_concurrent_queue", sync_on_current_concurrent_queue, RETURNS},
    {"sync_on_serial_target_of_current", sync_on_serial_target_of_current, CRASHES},
    {"retarget_active_queue", retarget_active_queue, RETURNS},
    {"retarget_active_queue_that_is_a_target", retarget_active_queue_that_is_a_target, RETURNS},
    {"retarget_activated_inactive_queue", retarget_activated_inactive_queue, CRASHES},
    {"retarget_inactive_queue_then_activate", retarget_inactive_queue_then_activate, RETURNS},
    {"retarget_autorelease_inherit_queue", retarget_autorelease_inherit_queue, RETURNS},
    {"retarget_autorelease_work_item_queue", retarget_autorelease_work_item_queue, CRASHES},
    {"retarget_autorelease_never_queue", retarget_autorelease_never_queue, CRASHES},
    {"retarget_active_qos_queue", retarget_active_qos_queue, RETURNS},
    {"set_specific_on_global_queue", set_specific_on_global_queue, RETURNS},
    {"assert_queue_off_queue", assert_queue_off_queue, CRASHES},
    {"assert_queue_not_on_queue", assert_queue_not_on_queue, CRASHES},
    {"assert_queue_barrier_in_sync_on_global_queue", assert_queue_barrier_in_sync_on_global_queue, CRASHES},
    {"assert_queue_barrier_in_barrier_sync_on_global", assert_queue_barrier_in_barrier_sync_on_global_queue, CRASHES},
    {"global_queues_by_qos", global_queues_by_qos, RETURNS},
};

int main(void) {
    return run_rules(rules, sizeof rules / sizeof rules[0]) ? 1 : 0;
}
