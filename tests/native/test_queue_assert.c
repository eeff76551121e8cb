/*
 * What DispatchQueue.assertQueue/assertQueueNot/assertQueueBarrier decide (jd_queue_on_frames, jd_queue_in_barrier,
 * jd_queue_frame_depth: jd_queue.h) against what libdispatch's dispatch_assert_queue* do, which abort the process
 * when they fail. Each case runs in a forked child twice:
 *  - "model": at the probe point the child checks the shim's answers against the expected ones, then makes the
 *    libdispatch calls the Java side would make on those answers (dispatch_assert_queue when on the frames,
 *    dispatch_assert_queue_barrier when also a barrier, dispatch_assert_queue_not when not on them, outside any
 *    recorded frame, for a queue created here). Any of them aborting means the binding would crash the process.
 *  - "libdispatch": the child calls dispatch_assert_queue itself, to show libdispatch's own answer beside the
 *    model's; the cases where they differ are the ones the Javadoc names (the model says no, libdispatch yes).
 * Work runs through the shims (jd_queue_sync, jd_queue_barrier_async ...) with this program's task function.
 */
#include "jd_queue.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

enum mode { MODEL, LIBDISPATCH };
static enum mode mode;

/* The queues a case builds, and the one it probes. */
static dispatch_queue_t p, q, c, target, probed;
static int probed_serial, probed_created;
static int want_on, want_barrier;

/* Work items are ids into this table (jd_task_trampoline calls run_task with the id). */
typedef void (*step_fn)(void);
enum { PROBE = 1, SYNC_Q_THEN_PROBE, ASYNC_AND_WAIT_Q_THEN_PROBE, SYNC_GLOBAL_THEN_PROBE, APPLY_C_THEN_PROBE, DONE };
static step_fn steps[DONE + 1];
static dispatch_semaphore_t finished;

static void run_task(int64_t id) {
    steps[id]();
}

static void apply_probe(int64_t id, int64_t index) {
    (void)id;
    (void)index;
    steps[PROBE]();
}

static void probe(void) {
    if (mode == LIBDISPATCH) {
        dispatch_assert_queue(probed);
        return;
    }
    int on = jd_queue_on_frames(probed);
    int barrier = jd_queue_in_barrier(probed);
    /* What DispatchQueue calls on these answers, first: each must return (else the child dies: CRASHED). */
    if (on) {
        dispatch_assert_queue(probed);
        if (probed_serial || (probed_created && barrier)) {
            dispatch_assert_queue_barrier(probed);
        }
    } else if (probed_created && jd_queue_frame_depth() == 0) {
        dispatch_assert_queue_not(probed);
    }
    if (want_on >= 0 && (on != want_on || barrier != want_barrier)) {
        fprintf(stdout, "  model: on_frames %d in_barrier %d, expected %d %d\n", on, barrier, want_on, want_barrier);
        fflush(stdout);
        _exit(2);
    }
}

static void sync_q_then_probe(void) { jd_queue_sync(q, PROBE); }
static void async_and_wait_q_then_probe(void) { jd_queue_async_and_wait(q, PROBE); }
static void sync_global_then_probe(void) { jd_queue_sync(dispatch_get_global_queue(0, 0), PROBE); }
static void apply_c_then_probe(void) { jd_queue_apply(8, c, 0); }
static void done(void) { dispatch_semaphore_signal(finished); }

/* Runs `first` as a work item of `on` (async, or barrier async), then waits until the queue ran DONE after it. */
static void async_on(dispatch_queue_t on, int barrier, int64_t first) {
    if (barrier) {
        jd_queue_barrier_async(on, first);
    } else {
        jd_queue_async(on, first);
    }
    jd_queue_barrier_async(on, DONE);
    dispatch_semaphore_wait(finished, DISPATCH_TIME_FOREVER);
}

static dispatch_queue_t serial(const char *label) { return jd_queue_create(label, jd_queue_attr(0)); }
static dispatch_queue_t concurrent(const char *label) { return jd_queue_create(label, jd_queue_attr(1)); }

static void expect(dispatch_queue_t queue, int is_serial, int created, int on, int barrier) {
    probed = queue;
    probed_serial = is_serial;
    probed_created = created;
    want_on = on;
    want_barrier = barrier;
}

/* ---- the cases: where the probe runs, and what the model must answer there ---- */

static void plain_thread(void) { p = serial("p"); expect(p, 1, 1, 0, 0); probe(); }
static void task_of_queue(void) { p = serial("p"); expect(p, 1, 1, 1, 0); async_on(p, 0, PROBE); }
static void task_of_queue_targeting_it(void) {
    target = serial("target");
    p = serial("p");
    dispatch_set_target_queue(p, target);
    expect(target, 1, 1, 1, 0);
    async_on(p, 0, PROBE);
}
static void sync_from_plain_thread(void) { p = serial("p"); expect(p, 1, 1, 1, 0); jd_queue_sync(p, PROBE); }
static void sync_called_from_task_probes_caller_queue(void) {
    p = serial("p");
    q = serial("q");
    expect(p, 1, 1, 1, 0);
    async_on(p, 0, SYNC_Q_THEN_PROBE);
}
static void sync_called_from_task_probes_other_queue(void) {
    p = serial("p");
    q = serial("q");
    dispatch_queue_t other = serial("other");
    expect(other, 1, 1, 0, 0);
    async_on(p, 0, SYNC_Q_THEN_PROBE);
}
static void sync_called_from_task_probes_target_of_caller_queue(void) { /* the documented gap: libdispatch says yes */
    target = serial("target");
    p = serial("p");
    dispatch_set_target_queue(p, target);
    q = serial("q");
    expect(target, 1, 1, 0, 0);
    async_on(p, 0, SYNC_Q_THEN_PROBE);
}
static void async_and_wait_called_from_task(void) {
    p = serial("p");
    q = serial("q");
    expect(p, 1, 1, 1, 0);
    async_on(p, 0, ASYNC_AND_WAIT_Q_THEN_PROBE);
}
static void task_of_global_queue(void) {
    expect(dispatch_get_global_queue(0, 0), 0, 0, 1, 0);
    jd_queue_async(dispatch_get_global_queue(0, 0), PROBE);
    jd_queue_async(dispatch_get_global_queue(0, 0), DONE);
    dispatch_semaphore_wait(finished, DISPATCH_TIME_FOREVER);
}
static void task_of_concurrent_queue_probes_global(void) { /* the documented gap: libdispatch says yes */
    c = concurrent("c");
    expect(dispatch_get_global_queue(0, 0), 0, 0, 0, 0);
    async_on(c, 0, PROBE);
}
static void task_of_serial_queue_probes_global(void) {
    p = serial("p");
    expect(dispatch_get_global_queue(0, 0), 0, 0, 0, 0);
    async_on(p, 0, PROBE);
}
static void sync_onto_global_from_task(void) {
    p = serial("p");
    expect(p, 1, 1, 1, 0);
    async_on(p, 0, SYNC_GLOBAL_THEN_PROBE);
}
static void plain_task_of_concurrent_queue(void) { c = concurrent("c"); expect(c, 0, 1, 1, 0); async_on(c, 0, PROBE); }
static void barrier_task_of_concurrent_queue(void) { c = concurrent("c"); expect(c, 0, 1, 1, 1); async_on(c, 1, PROBE); }
static void barrier_sync_onto_concurrent_queue(void) { c = concurrent("c"); expect(c, 0, 1, 1, 1); jd_queue_barrier_sync(c, PROBE); }
static void plain_sync_onto_concurrent_queue(void) { c = concurrent("c"); expect(c, 0, 1, 1, 0); jd_queue_sync(c, PROBE); }
static void barrier_async_and_wait_onto_concurrent_queue(void) {
    c = concurrent("c");
    expect(c, 0, 1, 1, 1);
    jd_queue_barrier_async_and_wait(c, PROBE);
}
static void sync_called_from_barrier_task(void) {
    c = concurrent("c");
    q = serial("q");
    expect(c, 0, 1, 1, 1);
    async_on(c, 1, SYNC_Q_THEN_PROBE);
}
static void apply_called_from_task(void) { /* iterations on the caller and on workers: the answers differ by thread */
    p = serial("p");
    c = concurrent("c");
    expect(p, 1, 1, -1, 0);
    async_on(p, 0, APPLY_C_THEN_PROBE);
}

struct scenario {
    const char *name;
    void (*run)(void);
    int libdispatch_returns; /* dispatch_assert_queue(probed) at the probe point */
};
static const struct scenario scenarios[] = {
    {"plain_thread", plain_thread, 0},
    {"task_of_queue", task_of_queue, 1},
    {"task_of_queue_targeting_it", task_of_queue_targeting_it, 1},
    {"sync_from_plain_thread", sync_from_plain_thread, 1},
    {"sync_called_from_task_probes_caller_queue", sync_called_from_task_probes_caller_queue, 1},
    {"sync_called_from_task_probes_other_queue", sync_called_from_task_probes_other_queue, 0},
    {"sync_called_from_task_probes_target_of_caller_queue", sync_called_from_task_probes_target_of_caller_queue, 1},
    {"async_and_wait_called_from_task", async_and_wait_called_from_task, 1},
    {"task_of_global_queue", task_of_global_queue, 1},
    {"task_of_concurrent_queue_probes_global", task_of_concurrent_queue_probes_global, 1},
    {"task_of_serial_queue_probes_global", task_of_serial_queue_probes_global, 0},
    {"sync_onto_global_from_task", sync_onto_global_from_task, 1},
    {"plain_task_of_concurrent_queue", plain_task_of_concurrent_queue, 1},
    {"barrier_task_of_concurrent_queue", barrier_task_of_concurrent_queue, 1},
    {"barrier_sync_onto_concurrent_queue", barrier_sync_onto_concurrent_queue, 1},
    {"plain_sync_onto_concurrent_queue", plain_sync_onto_concurrent_queue, 1},
    {"barrier_async_and_wait_onto_concurrent_queue", barrier_async_and_wait_onto_concurrent_queue, 1},
    {"sync_called_from_barrier_task", sync_called_from_barrier_task, 1},
    {"apply_called_from_task", apply_called_from_task, -1},
};

/* 0: returned, 2: the model's answers were not the expected ones, else a crash. */
static int run_child(const struct scenario *s, enum mode m) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (devnull >= 0) dup2(devnull, 2); /* libdispatch's crash message is expected noise */
        alarm(60);
        mode = m;
        finished = dispatch_semaphore_create(0);
        steps[PROBE] = probe;
        steps[SYNC_Q_THEN_PROBE] = sync_q_then_probe;
        steps[ASYNC_AND_WAIT_Q_THEN_PROBE] = async_and_wait_q_then_probe;
        steps[SYNC_GLOBAL_THEN_PROBE] = sync_global_then_probe;
        steps[APPLY_C_THEN_PROBE] = apply_c_then_probe;
        steps[DONE] = done;
        jd_callbacks_install(run_task, apply_probe);
        s->run();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

int main(void) {
    int failures = 0;
    printf("%-52s %-16s %s\n", "case", "model", "libdispatch's dispatch_assert_queue");
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        const struct scenario *s = &scenarios[i];
        int model = run_child(s, MODEL);
        const char *verdict = model == 0 ? "ok" : model == 2 ? "WRONG ANSWER" : "CRASHED";
        const char *own = "-";
        int own_ok = 1;
        if (s->libdispatch_returns >= 0) {
            int rc = run_child(s, LIBDISPATCH);
            own = rc == 0 ? "returns" : rc == 2 ? "?" : "aborts";
            own_ok = (rc == 0) == (s->libdispatch_returns == 1) && rc != 2;
        }
        printf("%-52s %-16s %s%s\n", s->name, verdict, own, own_ok ? "" : " (UNEXPECTED)");
        failures += model != 0 || !own_ok;
    }
    return failures ? 1 : 0;
}
