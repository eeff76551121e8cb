package io.jdispatch;

import io.jdispatch.internal.WorkloopNative;

import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.LongConsumer;

/**
 * A workloop (dispatch_workloop_t): a queue that runs its work items one at a time, in priority order and FIFO
 * within a priority (on Linux, on libdispatch's worker threads, as any queue). It takes what a queue takes for asynchronous work
 * ({@code async}, {@code execute}, {@code submit}, {@code barrierAsync}, {@code after}, groups, work items,
 * sources and data queues delivering on it); {@link #isCurrent()} works inside its tasks.
 *
 * <p>What swift-corelibs-libdispatch 6.0.3 on Linux does not do with a workloop (tests/native/test_workloop_rules.c
 * checks each) is refused here with an {@link UnsupportedOperationException}, or an
 * {@link IllegalArgumentException} for a queue targeting one:
 * <ul>
 * <li>{@code sync}, {@code barrierSync} and {@code apply}: libdispatch aborts ("Queue type doesn't support
 *     dispatch_sync");</li>
 * <li>{@code suspend}, {@code resume} and {@code setTargetQueue}: libdispatch ignores them on a workloop (a task
 *     submitted to a "suspended" workloop runs), so they would lie;</li>
 * <li>a queue targeting a workloop ({@link DispatchQueue#setTargetQueue}): a serial queue that targets one
 *     crashes (SIGSEGV in _dispatch_lane_serial_drain) when it runs.</li>
 * </ul>
 * A workloop is never inactive here: libdispatch aborts on work submitted to an inactive workloop and on releasing
 * one, and takes attributes only while inactive, so {@link #create(String, QoSClass, int)} does
 * dispatch_workloop_create_inactive, sets the attribute and activates in one call.
 *
 * <p>Not mapped: dispatch_workloop_set_autorelease_frequency (Objective-C autorelease pools, which Linux has
 * none of), _set_scheduler_priority (not built on Linux), _set_cpupercent (recorded, applied only by Darwin's
 * kernel workloops), dispatch_workloop_is_current and _copy_current (false and NULL on Linux inside the
 * workloop's asynchronous tasks: use {@link #isCurrent()}). Tasks are not buffered in Java as on serial queues: each is a
 * libdispatch work item of its own.
 */
public final class DispatchWorkloop extends DispatchQueue {

    private DispatchWorkloop(long address, String label) {
        super(address, new Lifecycle(address, false), label, Attributes.CONCURRENT);
    }

    /**
     * dispatch_workloop_create(label).
     *
     * @param label the workloop's label (dispatch_queue_get_label), for debugging
     * @return the new workloop, active
     */
    public static DispatchWorkloop create(String label) {
        return create("dispatch_workloop_create", label, 0, 0);
    }

    /**
     * dispatch_workloop_create_inactive(label), dispatch_workloop_set_qos_class_floor(qos, relativePriority, 0),
     * dispatch_activate: a workloop whose work runs at {@code qosClassFloor} or above. Linux has no thread QoS, so
     * there the floor changes no thread's priority; {@link #getQosClassFloor()} reads back what libdispatch holds.
     *
     * @param label            the workloop's label, for debugging
     * @param qosClassFloor    the lowest QoS class its work runs at
     * @param relativePriority within that class, from {@link QoSClass#MIN_RELATIVE_PRIORITY} to 0
     * @return the new workloop, active
     * @throws IllegalArgumentException for a relative priority out of range
     */
    public static DispatchWorkloop create(String label, QoSClass qosClassFloor, int relativePriority) {
        Objects.requireNonNull(qosClassFloor, "dispatch_workloop_set_qos_class_floor: qos class is null");
        if (relativePriority < QoSClass.MIN_RELATIVE_PRIORITY || relativePriority > 0) {
            throw new IllegalArgumentException("dispatch_workloop_set_qos_class_floor: relative priority "
                    + relativePriority + " is outside [" + QoSClass.MIN_RELATIVE_PRIORITY + ", 0] (QOS_MIN_RELATIVE_PRIORITY..0)");
        }
        return create("dispatch_workloop_create_inactive", label, qosClassFloor.value, relativePriority);
    }

    private static DispatchWorkloop create(String call, String label, int qos, int relativePriority) {
        long address = WorkloopNative.jd_workloop_create(label, qos, relativePriority);
        if (address == 0) {
            throw new IllegalStateException(call + "(\"" + label + "\") returned NULL");
        }
        return new DispatchWorkloop(address, label);
    }

    /**
     * A QoS floor: the class and the relative priority within it.
     *
     * @param qosClass         the QoS class
     * @param relativePriority from QOS_MIN_RELATIVE_PRIORITY (-15) to 0
     */
    public record QosFloor(QoSClass qosClass, int relativePriority) {}

    /**
     * dispatch_queue_get_qos_class of the workloop: the floor it was created with, as libdispatch holds it.
     *
     * @return the floor, or null for a workloop created without one
     */
    public QosFloor getQosClassFloor() {
        return callFor("dispatch_queue_get_qos_class", w -> {
            int[] relativePriority = new int[1];
            int qos = WorkloopNative.jd_workloop_qos_class(w, relativePriority);
            for (QoSClass c : QoSClass.values()) {
                if (c.value == qos) {
                    return new QosFloor(c, relativePriority[0]);
                }
            }
            return null; // QOS_CLASS_UNSPECIFIED
        });
    }

    // ---- what a workloop refuses -------------------------------------------------------------------------

    private UnsupportedOperationException refused(String call, String why) {
        return new UnsupportedOperationException(call + " on " + this + ": " + why);
    }

    private UnsupportedOperationException syncRefused(String call) {
        return refused(call, "libdispatch aborts on the dispatch_sync family onto a workloop (\"Queue type doesn't "
                + "support dispatch_sync\"); use async and wait, e.g. with a DispatchGroup or a work item's wait");
    }

    /**
     * Refused: libdispatch aborts on dispatch_sync onto a workloop.
     *
     * @param task not run
     * @throws UnsupportedOperationException always
     */
    @Override
    public void sync(Runnable task) {
        throw syncRefused("dispatch_sync");
    }

    /**
     * Refused: libdispatch aborts on dispatch_sync onto a workloop.
     *
     * @param <T>  the task's result type
     * @param task not run
     * @return never
     * @throws UnsupportedOperationException always
     */
    @Override
    public <T> T sync(Callable<T> task) {
        throw syncRefused("dispatch_sync");
    }

    /**
     * Refused: libdispatch aborts on dispatch_barrier_sync onto a workloop.
     *
     * @param task not run
     * @throws UnsupportedOperationException always
     */
    @Override
    public void barrierSync(Runnable task) {
        throw syncRefused("dispatch_barrier_sync");
    }

    /**
     * Refused: libdispatch aborts on dispatch_barrier_sync onto a workloop.
     *
     * @param <T>  the task's result type
     * @param task not run
     * @return never
     * @throws UnsupportedOperationException always
     */
    @Override
    public <T> T barrierSync(Callable<T> task) {
        throw syncRefused("dispatch_barrier_sync");
    }

    /**
     * Refused: libdispatch aborts on dispatch_sync onto a workloop.
     *
     * @param item not executed
     * @throws UnsupportedOperationException always
     */
    @Override
    public void sync(DispatchWorkItem item) {
        throw syncRefused("dispatch_sync");
    }

    /**
     * Refused: libdispatch aborts on dispatch_barrier_sync onto a workloop.
     *
     * @param item not executed
     * @throws UnsupportedOperationException always
     */
    @Override
    public void barrierSync(DispatchWorkItem item) {
        throw syncRefused("dispatch_barrier_sync");
    }

    /**
     * Refused: libdispatch aborts on dispatch_apply onto a workloop.
     *
     * @param iterations not run
     * @param body       not called
     * @throws UnsupportedOperationException always
     */
    @Override
    public void apply(long iterations, LongConsumer body) {
        throw refused("dispatch_apply", "libdispatch aborts on dispatch_apply onto a workloop; use applyAuto or a "
                + "concurrent queue");
    }

    /**
     * Refused: libdispatch ignores dispatch_suspend on a workloop (its work keeps running).
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public void suspend() {
        throw refused("dispatch_suspend", "libdispatch ignores it on a workloop, whose work would keep running");
    }

    /**
     * Refused: a workloop is never suspended (see {@link #suspend()}).
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public void resume() {
        throw refused("dispatch_resume", "a workloop cannot be suspended (libdispatch ignores it)");
    }

    /**
     * Refused: libdispatch ignores dispatch_set_target_queue on a workloop.
     *
     * @param target ignored
     * @throws UnsupportedOperationException always
     */
    @Override
    public void setTargetQueue(DispatchQueue target) {
        throw refused("dispatch_set_target_queue", "libdispatch ignores it on a workloop (a root of the queue "
                + "hierarchy)");
    }

    /**
     * A workloop runs its items one at a time: an asyncAndWait onto it from its own task would wait for itself
     * (libdispatch aborts), as onto a serial queue.
     */
    @Override
    boolean runsOneAtATime() {
        return true;
    }

    /** {@return {@code DispatchWorkloop[<label>]}} */
    @Override
    public String toString() {
        return "DispatchWorkloop[" + getLabel() + "]";
    }
}
