package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.QueueNative;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A dispatch_group_t: tracks a set of tasks ({@link #async}) and of explicit {@link #enter()}/{@link #leave()}
 * pairs; {@link #wait(DispatchTime)} blocks and {@link #notify(DispatchQueue, Runnable)} schedules work for
 * when all of them are done.
 *
 * <p>libdispatch aborts the process on a {@code leave} without its {@code enter}; this class counts the
 * explicit enters and refuses such a leave with an {@link IllegalStateException}. {@link #close()} is refused
 * while explicit enters are outstanding (their leave() would come after the close); tasks started with
 * {@link #async} need no such care. Note the no-argument {@code wait()} and {@code notify()} are
 * {@link Object}'s: use {@code wait(DispatchTime.FOREVER)}.
 */
public final class DispatchGroup extends DispatchObject {
    private final Enters enters;

    private DispatchGroup(long address, Enters enters) {
        super(address, enters);
        this.enters = enters;
    }

    /** {@return a new, empty group} (dispatch_group_create) */
    public static DispatchGroup create() {
        long g = QueueNative.dispatch_group_create();
        return new DispatchGroup(g, new Enters(g));
    }

    /**
     * The explicit enters not yet left (guarded by itself), shared with the Cleaner: must not reference the
     * wrapper. libdispatch retains an entered group until its last leave, so a group dropped with enters
     * outstanding would never be freed: disposing leaves them first (its notify tasks run then).
     */
    private static final class Enters implements Runnable {
        final long address;
        long entered;

        Enters(long address) {
            this.address = address;
        }

        @Override
        public synchronized void run() {
            for (; entered > 0; entered--) {
                QueueNative.dispatch_group_leave(address);
            }
            JDispatchNative.dispatch_release(address);
        }
    }

    /** dispatch_group_enter: one more piece of work the group waits for, until its {@link #leave()}. */
    public void enter() {
        call("dispatch_group_enter", g -> {
            synchronized (enters) {
                QueueNative.dispatch_group_enter(g);
                enters.entered++;
            }
        });
    }

    /** dispatch_group_leave, balancing one {@link #enter()}; refused when there is none to balance. */
    public void leave() {
        call("dispatch_group_leave", g -> {
            synchronized (enters) {
                if (enters.entered == 0) {
                    throw new IllegalStateException("dispatch_group_leave on " + this + " without a matching "
                            + "dispatch_group_enter (libdispatch aborts the process on an unbalanced leave)");
                }
                enters.entered--;
                QueueNative.dispatch_group_leave(g);
            }
        });
    }

    /**
     * dispatch_group_async_f: runs {@code task} on {@code queue} as part of this group.
     *
     * @param queue where the task runs
     * @param task what runs; the group is not empty until it returned
     */
    public void async(DispatchQueue queue, Runnable task) {
        Objects.requireNonNull(queue, "dispatch_group_async: queue is null");
        Objects.requireNonNull(task, "dispatch_group_async: task is null");
        if (!queue.drained()) {
            callWith("dispatch_group_async", queue, (g, q) -> QueueNative.jd_group_async(g, q, queue.register(task)));
            return;
        }
        call("dispatch_group_async", g -> {
            // Keep FIFO order with the queue's other tasks: enter here, leave when the task ran (the enter keeps
            // the native group alive even if this wrapper is closed meanwhile).
            QueueNative.dispatch_group_enter(g);
            try {
                queue.async(() -> {
                    try {
                        task.run(); // the drain reports what it throws, with the queue's label
                    } finally {
                        QueueNative.dispatch_group_leave(g);
                    }
                });
            } catch (Throwable refused) { // closed queue, or no memory for the task: undo the enter
                QueueNative.dispatch_group_leave(g);
                throw refused;
            }
        });
    }

    /**
     * dispatch_group_notify_f: runs {@code task} on {@code queue} once the group is empty (at once if it is
     * empty now). A group that never empties keeps the task.
     *
     * @param queue where the task runs
     * @param task what runs once the group is empty
     */
    public void notify(DispatchQueue queue, Runnable task) {
        Objects.requireNonNull(queue, "dispatch_group_notify: queue is null");
        Objects.requireNonNull(task, "dispatch_group_notify: task is null");
        callWith("dispatch_group_notify", queue, (g, q) -> QueueNative.jd_group_notify(g, q, queue.register(task)));
    }

    /**
     * dispatch_group_async(group, queue, item): one execution of the work item on {@code queue} as part of this
     * group (on a serial queue created here, in FIFO order with its other tasks); a cancelled execution leaves
     * the group too.
     *
     * @param queue where the item runs
     * @param item  the work item
     * @throws IllegalStateException when the item may not be executed again (it is waited for or observed)
     */
    public void async(DispatchQueue queue, DispatchWorkItem item) {
        Objects.requireNonNull(queue, "dispatch_group_async: queue is null");
        Objects.requireNonNull(item, "dispatch_group_async: item is null");
        item.groupAsync(this, queue, queue.workItemFifo());
    }

    /**
     * dispatch_group_notify(group, queue, item): submits the work item to {@code queue} once the group is empty
     * (at once if it is empty now); that submission counts as an execution of the item.
     *
     * @param queue where the item runs
     * @param item  the work item
     */
    public void notify(DispatchQueue queue, DispatchWorkItem item) {
        Objects.requireNonNull(queue, "dispatch_group_notify: queue is null");
        Objects.requireNonNull(item, "dispatch_group_notify: item is null");
        item.groupNotify(this, queue);
    }

    /**
     * dispatch_group_wait: waits until the group is empty or {@code timeout} passes. On a virtual thread the
     * wait parks in Java (its carrier stays free): a dispatch_group_notify wakes it.
     *
     * @param timeout the deadline ({@link DispatchTime#FOREVER} waits as long as it takes)
     * @return true when the group emptied before {@code timeout}, false on timeout
     */
    public boolean wait(DispatchTime timeout) {
        Objects.requireNonNull(timeout, "dispatch_group_wait: timeout is null");
        return waitFor(timeout, -1);
    }

    /**
     * dispatch_group_wait(group, dispatch_time(DISPATCH_TIME_NOW, timeout)).
     *
     * @param timeout how long to wait at most
     * @param unit the unit of {@code timeout}
     * @return true when the group emptied in time, false on timeout
     */
    public boolean wait(long timeout, TimeUnit unit) {
        Objects.requireNonNull(unit, "dispatch_group_wait: unit is null");
        return wait(Duration.ofNanos(unit.toNanos(timeout)));
    }

    /**
     * dispatch_group_wait(dispatch_time(DISPATCH_TIME_NOW, timeout)): false when the group was not empty
     * within {@code timeout} (zero or negative: only whether it is empty now).
     *
     * @param timeout how long to wait at most
     * @return true when the group emptied in time, false on timeout
     */
    public boolean wait(Duration timeout) {
        Objects.requireNonNull(timeout, "dispatch_group_wait: timeout is null");
        return VirtualThreads.current() ? waitFor(null, Math.max(0, DispatchTime.saturatedNanos(timeout)))
                : waitFor(DispatchTime.fromNow(timeout), -1);
    }

    /** The wait, until {@code timeout}, or (virtual threads only, timeout null) for {@code timeoutNanos}. */
    private boolean waitFor(DispatchTime timeout, long timeoutNanos) {
        return callFor("dispatch_group_wait", g -> {
            if (VirtualThreads.current()) {
                return parkedWait(g, timeout, timeoutNanos);
            }
            while (QueueNative.dispatch_group_wait(g, timeout.rawValue()) != 0) {
                if (!timeout.pending()) { // libdispatch may give up a little early (DispatchTime.pending)
                    return false;
                }
            }
            return true;
        });
    }

    /**
     * A virtual thread's wait: done if the group is empty now, else parked until a notify (queued now, so it
     * runs when the group next becomes empty, as a native waiter would wake) or the timeout. A notify whose
     * wait timed out stays with the group until it empties, then does nothing.
     */
    private static boolean parkedWait(long g, DispatchTime timeout, long timeoutNanos) {
        long now = DispatchTime.NOW.rawValue();
        if (QueueNative.dispatch_group_wait(g, now) == 0) {
            return true;
        }
        if (timeoutNanos == 0 || (timeout != null && timeout.rawValue() == now)) {
            return false;
        }
        ParkedWaiter w = new ParkedWaiter();
        QueueNative.jd_group_notify(g, ParkedWaiter.wakeupQueue(), Handles.register((Runnable) w::grant));
        return timeout != null ? w.await(timeout) : w.awaitNanos(timeoutNanos);
    }

    /** Releases the group; refused while explicit {@link #enter()}s are not yet balanced by {@link #leave()}. */
    @Override
    public void close() {
        synchronized (enters) {
            if (enters.entered > 0 && !isClosed()) {
                throw new IllegalStateException("close() of " + this + " with " + enters.entered + " enter() not yet "
                        + "balanced by leave(): leave() first (it cannot be called after close)");
            }
            super.close();
        }
    }

    @Override
    public String toString() {
        return "DispatchGroup@" + Integer.toHexString(System.identityHashCode(this));
    }
}
