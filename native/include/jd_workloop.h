/*
 * Workloops (dispatch_workloop_t), mapped by io.jdispatch.internal.WorkloopNative; io.jdispatch.DispatchWorkloop
 * is the API. swift-corelibs-libdispatch 6.0.3 builds and exports them on Linux (nm -D libdispatch.so:
 * dispatch_workloop_create, _create_inactive, _set_qos_class_floor, _set_autorelease_frequency, ...) but
 * declares them only in private/workloop_private.h, which it does not install: the prototypes below are that
 * header's, with dispatch_queue_t for its dispatch_workloop_t subclass (the same pointer).
 *
 * What Linux libdispatch 6.0.3 does with a workloop (tests/native/test_workloop_rules.c checks each): async,
 * barrier async, after, group async/notify, async_and_wait, sources on it and work items on it run; it aborts on
 * dispatch_sync and dispatch_apply onto it, on work submitted while it is inactive, on releasing it inactive and
 * on an attribute setter after activation; a serial queue targeting it crashes when it runs; suspend, resume
 * and retargeting it are ignored; dispatch_workloop_is_current is false inside its asynchronous tasks (true only
 * where dispatch_async_and_wait runs the work on the caller: Linux has no kernel workloops to bind a worker to).
 */
#ifndef JD_WORKLOOP_H
#define JD_WORKLOOP_H

#include "jdispatch.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifndef __APPLE__
dispatch_queue_t dispatch_workloop_create(const char *label);
dispatch_queue_t dispatch_workloop_create_inactive(const char *label);
void dispatch_workloop_set_qos_class_floor(dispatch_queue_t workloop, dispatch_qos_class_t qos, int relpri,
                                           uint64_t flags);
/* QOS_MIN_RELATIVE_PRIORITY: Darwin's <sys/qos.h>; Linux libdispatch has it in a private header (shims/priority.h). */
#ifndef QOS_MIN_RELATIVE_PRIORITY
#define QOS_MIN_RELATIVE_PRIORITY (-15)
#endif
#endif

/*
 * A workloop, active: dispatch_workloop_create, or (qos != 0) dispatch_workloop_create_inactive,
 * dispatch_workloop_set_qos_class_floor(qos, relpri) and dispatch_activate, since libdispatch takes attributes
 * only while inactive and aborts on work submitted before activation. Tagged like jd_queue_create's queues for
 * jd_queue_is_current (dispatch_queue_set_specific works on workloops, in every task).
 */
dispatch_queue_t jd_workloop_create(const char *label, int32_t qos, int32_t relpri);

/* dispatch_queue_get_qos_class: the floor's class (0: none) and, in *relpri, its relative priority. */
int32_t jd_workloop_qos_class(dispatch_queue_t workloop, int32_t *relpri);

#ifdef __cplusplus
}
#endif
#endif /* JD_WORKLOOP_H */
