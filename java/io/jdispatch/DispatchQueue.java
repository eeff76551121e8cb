package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.QueueNative;
import io.jdispatch.internal.Upcalls;

import java.time.Duration;
import java.time.Instant;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * A libdispatch queue (dispatch_queue_t): serial (FIFO, one task at a time) or concurrent, created here
 * with a label, or one of the global concurrent queues by {@link QoSClass}. Tasks run on libdispatch's
 * worker threads, except that, as in C, a {@code sync} or {@code barrierSync} task (and {@code apply} on a
 * serial queue) runs on the calling thread, once the queue is its own. A queue is an {@link Executor}.
 *
 * <p>A task on a worker starts with the thread's interrupt status cleared (as in ThreadPoolExecutor), so an
 * interrupt one task leaves behind never reaches the next; a task run on the calling thread sees and leaves
 * that thread's own status.
 *
 * <p>Exceptions: a task submitted with {@code async}, {@code barrierAsync}, {@code after} (or through a
 * {@link DispatchGroup}) that throws goes to {@link Dispatch#reportException}; the queue keeps running.
 * {@code sync} rethrows in its caller (who is waiting for it), {@code submit} completes its future
 * exceptionally, and an {@code apply} iteration that throws is reported and the other iterations still run.
 *
 * <p>libdispatch aborts the process on misuse; this class refuses it first with an
 * {@link IllegalStateException} naming the queue and the rule: {@code resume()} without a matching
 * {@code suspend()} (including on an inactive queue: use {@code activate()}), {@code sync}/{@code barrierSync}
 * /{@code apply} onto the serial queue (or a serial queue targeted by it) that runs the caller, suspending or
 * retargeting a global queue. {@link #close()} of a suspended or inactive queue first resumes it as many times
 * as it was suspended and activates it (so its queued work runs, as with any close), because libdispatch
 * aborts on releasing a suspended or inactive queue.
 *
 * <p>Serial queues created here and the global queues buffer {@code async} tasks in Java ({@link SerialDrain},
 * {@link GlobalDrain}): one libdispatch work item runs many of them per JNI upcall. Queues created concurrent
 * submit one work item per task, since their barriers must be ordered with it.
 *
 * <p>Virtual threads (Java 21+): no call blocks a virtual thread inside a native frame (which would pin its
 * carrier). {@code sync}, {@code barrierSync} and {@code apply} wait in Java; see {@link #sync(Runnable)} and
 * {@link #apply}. A platform thread takes the native path, as in C.
 *
 * <p>Observability: while a worker runs this queue's tasks it is named {@code "<worker> [<label>]"} (so thread
 * dumps and the default exception report show the queue); {@link #getCounters()} counts tasks; slow tasks and
 * exceptions are JFR events ({@code io.jdispatch.SlowTask}, {@code io.jdispatch.TaskException}).
 */
public class DispatchQueue extends DispatchObject implements Executor {
    /** dispatch_queue_attr_t: serial or concurrent, active or initially inactive. */
    public record Attributes(boolean concurrent, boolean inactive) {
        /** DISPATCH_QUEUE_SERIAL. */
        public static final Attributes SERIAL = new Attributes(false, false);
        /** DISPATCH_QUEUE_CONCURRENT. */
        public static final Attributes CONCURRENT = new Attributes(true, false);

        /**
         * dispatch_queue_attr_make_initially_inactive: the queue runs nothing until {@link #activate()}.
         *
         * @return these attributes, initially inactive
         */
        public Attributes initiallyInactive() {
            return new Attributes(concurrent, true);
        }
    }

    private final String label;
    private final boolean serial;
    /** Suspend count and activation, to refuse an unbalanced resume and to release safely; null: global. */
    private final Lifecycle lifecycle;
    private volatile DispatchQueue target;
    /** Serial queues created here and global queues: the Java buffer whose drain runs many tasks per upcall. */
    private final Drain drain;
    private final Stats stats;

    /** A serial queue this wrapper owns ({@code owned}), or a global queue. */
    DispatchQueue(long address, boolean owned, String label) {
        this(address, owned ? new Lifecycle(address, false) : null, label, owned);
    }

    /** A queue this wrapper owns ({@code lifecycle}; null: a global queue); a serial one drains a Java FIFO. */
    DispatchQueue(long address, Lifecycle lifecycle, String label, boolean serial) {
        super(address, lifecycle);
        this.label = label;
        this.serial = serial;
        this.lifecycle = lifecycle;
        this.stats = new Stats(label, serial);
        this.drain = lifecycle == null ? new GlobalDrain(address, stats) : serial ? new SerialDrain(lifecycle, stats) : null;
    }

    /**
     * dispatch_queue_create(label, attributes).
     *
     * @param label the queue's label (dispatch_queue_get_label), for debugging
     * @param attributes {@link Attributes#SERIAL} or {@link Attributes#CONCURRENT}, maybe initially inactive
     * @return the new queue
     */
    public static DispatchQueue create(String label, Attributes attributes) {
        Objects.requireNonNull(attributes, "dispatch_queue_create: attributes are null");
        long q = QueueNative.jd_queue_create(label, attributes.concurrent ? 1 : 0, attributes.inactive ? 1 : 0);
        if (q == 0) {
            throw new IllegalStateException("dispatch_queue_create(\"" + label + "\") returned NULL");
        }
        return new DispatchQueue(q, new Lifecycle(q, attributes.inactive), label, !attributes.concurrent);
    }

    /**
     * dispatch_queue_create(label, DISPATCH_QUEUE_SERIAL).
     *
     * @param label the queue's label (dispatch_queue_get_label), for debugging
     * @return the new serial queue
     */
    public static DispatchQueue createSerial(String label) {
        return create(label, Attributes.SERIAL);
    }

    /**
     * dispatch_queue_create(label, DISPATCH_QUEUE_CONCURRENT).
     *
     * @param label the queue's label (dispatch_queue_get_label), for debugging
     * @return the new concurrent queue
     */
    public static DispatchQueue createConcurrent(String label) {
        return create(label, Attributes.CONCURRENT);
    }

    /** {@return the default global concurrent queue} (dispatch_get_global_queue(QOS_CLASS_DEFAULT, 0)) */
    public static DispatchQueue global() {
        return Globals.QUEUES[QoSClass.DEFAULT.ordinal()];
    }

    /**
     * dispatch_get_global_queue(qos, 0). Global queues are never released; close() on them does nothing.
     *
     * @param qos the quality-of-service class
     * @return the global concurrent queue of that class
     */
    public static DispatchQueue global(QoSClass qos) {
        return Globals.QUEUES[Objects.requireNonNull(qos, "dispatch_get_global_queue: qos is null").ordinal()];
    }

    // ---- the main queue (MainQueue) ------------------------------------------------------------------------

    /**
     * dispatch_get_main_queue(): the serial queue libdispatch binds to one thread, in a JVM the thread that loaded
     * JDispatch ({@link Dispatch#getMainQueueThread()}). Its tasks run on that thread while it runs
     * {@link Dispatch#runMainQueue()} or {@link Dispatch#drainMainQueue()}, and nowhere else; once that thread has
     * ended, libdispatch runs the main queue on its workers like any serial queue. A {@code sync} onto it from
     * another thread runs its task on the main queue's thread (as in C), and waits until that thread services the
     * queue; from the main queue's own thread {@code sync} is refused (it would wait for itself: libdispatch
     * aborts), as {@link #isCurrent()} is true there. close() does nothing; suspend, resume, activate and
     * retargeting are refused (libdispatch ignores them on the main queue).
     *
     * @return the main queue
     */
    public static DispatchQueue main() {
        return MainQueue.get();
    }

    // ---- submitting work ---------------------------------------------------------------------------------

    /**
     * dispatch_async_f: runs {@code task} on this queue.
     *
     * @param task what runs; what it throws goes to {@link Dispatch#setUncaughtExceptionHandler}
     */
    public void async(Runnable task) {
        Objects.requireNonNull(task, "dispatch_async: task is null");
        enqueue(task);
    }

    private void enqueue(Runnable task) {
        // Written out, not call(...): a submit allocates nothing. Also for a buffered task: an async racing with
        // close() either runs or is refused.
        long q = acquire("dispatch_async");
        try {
            if (drain == null) {
                JDispatchNative.jd_queue_async(q, register(task));
                return;
            }
            stats.submitted();
            if (drain.offer(task)) {
                drain.schedule(q);
            }
        } finally {
            releaseUse();
        }
    }

    /**
     * Registers {@code task} as a work item of its own on this queue (counted as submitted), with the queue's
     * {@link Stats} as its context: it names the worker after this queue, reports with its label and counts
     * its completion. Allocates nothing (a full heap must not refuse it). For the caller's acquire() period.
     */
    long register(Runnable task) {
        long id = Handles.register(task, stats);
        stats.submitted();
        return id;
    }

    /** Whether tasks go through a {@link SerialDrain}: then everything ordered with async must, too. */
    boolean drained() {
        return drain instanceof SerialDrain;
    }

    @Override
    public void execute(Runnable command) {
        async(command);
    }

    /**
     * dispatch_barrier_async_f: on a concurrent queue, runs {@code task} alone (after the tasks before it).
     *
     * @param task what runs; what it throws goes to {@link Dispatch#setUncaughtExceptionHandler}
     */
    public void barrierAsync(Runnable task) {
        Objects.requireNonNull(task, "dispatch_barrier_async: task is null");
        if (drained()) { // on a serial queue every task is a barrier
            enqueue(task);
            return;
        }
        long q = acquire("dispatch_barrier_async"); // written out: a submit allocates nothing
        try {
            QueueNative.jd_queue_barrier_async(q, register(task));
        } finally {
            releaseUse();
        }
    }

    /**
     * dispatch_sync_f: runs {@code task} on this queue, on the calling thread, after the tasks submitted before
     * it; its exception is rethrown here. Waits (not interruptibly) while the queue is suspended or inactive.
     *
     * <p>On a virtual thread the task runs on that thread too, but no native frame is left under it (a task
     * that sleeps or waits would pin the carrier): the wait for the queue parks in Java, and a platform
     * "holder" thread ({@code jdispatch-sync-holder-N}) enters the queue with dispatch_sync_f and holds it
     * while the virtual thread runs the task; {@link #isCurrent()} is true inside it as usual. On a global
     * queue the task simply runs at once, as dispatch_sync_f would run it. The difference: such a sync costs
     * a platform thread for as long as it runs (not a carrier, not a libdispatch worker).
     *
     * @param task what runs
     */
    public void sync(Runnable task) {
        Objects.requireNonNull(task, "dispatch_sync: task is null");
        runSync("dispatch_sync", false, new SyncTask<>(task, () -> {
            task.run();
            return null;
        }, stats));
    }

    /**
     * dispatch_sync_f returning the task's value; a checked exception comes wrapped in CompletionException.
     *
     * @param <T> the task's result type
     * @param task what runs
     * @return what the task returned
     */
    public <T> T sync(Callable<T> task) {
        Objects.requireNonNull(task, "dispatch_sync: task is null");
        return runSync("dispatch_sync", false, new SyncTask<>(task, task, stats));
    }

    /**
     * dispatch_barrier_sync_f: like {@link #barrierAsync}, and waits.
     *
     * @param task what runs; its exception is rethrown here
     */
    public void barrierSync(Runnable task) {
        Objects.requireNonNull(task, "dispatch_barrier_sync: task is null");
        runSync("dispatch_barrier_sync", true, new SyncTask<>(task, () -> {
            task.run();
            return null;
        }, stats));
    }

    /**
     * dispatch_barrier_sync_f returning the task's value; a checked exception comes wrapped in CompletionException.
     *
     * @param <T> the task's result type
     * @param task what runs
     * @return what the task returned
     */
    public <T> T barrierSync(Callable<T> task) {
        Objects.requireNonNull(task, "dispatch_barrier_sync: task is null");
        return runSync("dispatch_barrier_sync", true, new SyncTask<>(task, task, stats));
    }

    private <T> T runSync(String call, boolean barrier, SyncTask<T> task) {
        refuseIfCurrent(call, barrier);
        long q = acquire(call); // held while waiting: close() resumes a queue at once and only defers the release
        try {
            stats.submitted();
            boolean virtual = VirtualThreads.current();
            if (drain instanceof SerialDrain serialDrain) {
                // behind the tasks already in the FIFO
                serialDrain.sync(virtual ? () -> VirtualThreads.syncHeld(q, false, this, task)
                        : () -> JDispatchNative.jd_queue_sync(q, Handles.register(task)));
            } else if (virtual && lifecycle == null) {
                VirtualThreads.runAsTaskOf(this, task); // a global queue: nothing to wait for or to hold
            } else if (virtual) {
                VirtualThreads.syncHeld(q, barrier, this, task);
            } else {
                long id = Handles.register(task);
                if (barrier) {
                    QueueNative.jd_queue_barrier_sync(q, id);
                } else {
                    JDispatchNative.jd_queue_sync(q, id);
                }
            }
        } finally {
            releaseUse();
        }
        return task.result();
    }

    /**
     * dispatch_async_f returning a future completed with the task's outcome (exceptions go to the future).
     *
     * @param task what runs
     * @return a future completed when the task returned or threw
     */
    public CompletableFuture<Void> submit(Runnable task) {
        Objects.requireNonNull(task, "submit: task is null");
        CompletableFuture<Void> f = new CompletableFuture<>();
        async(() -> {
            try {
                task.run();
                f.complete(null);
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /**
     * dispatch_async_f returning a future completed with the task's value (exceptions go to the future).
     *
     * @param <T> the task's result type
     * @param task what runs
     * @return a future completed with what the task returned, or exceptionally with what it threw
     */
    public <T> CompletableFuture<T> submit(Callable<T> task) {
        Objects.requireNonNull(task, "submit: task is null");
        CompletableFuture<T> f = new CompletableFuture<>();
        async(() -> {
            try {
                f.complete(task.call());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            }
        });
        return f;
    }

    /**
     * dispatch_after_f(dispatch_time(DISPATCH_TIME_NOW, delay)): runs {@code task} no earlier than the delay.
     *
     * @param delay how long from now, at least 0
     * @param unit the unit of {@code delay}
     * @param task what runs
     */
    public void after(long delay, TimeUnit unit, Runnable task) {
        Objects.requireNonNull(unit, "dispatch_after: unit is null");
        if (delay < 0) {
            throw new IllegalArgumentException("dispatch_after: delay " + delay + " " + unit + " is negative");
        }
        after(DispatchTime.fromNow(delay, unit), task);
    }

    /**
     * dispatch_after_f(dispatch_time(DISPATCH_TIME_NOW, delay)): runs {@code task} no earlier than the delay.
     *
     * @param delay how long from now, not negative
     * @param task what runs
     */
    public void after(Duration delay, Runnable task) {
        if (delay.isNegative()) {
            throw new IllegalArgumentException("dispatch_after: delay " + delay + " is negative");
        }
        after(DispatchTime.fromNow(delay), task);
    }

    /**
     * dispatch_after_f(dispatch_walltime(deadline)): runs {@code task} no earlier than a wall-clock instant.
     *
     * @param deadline the wall-clock instant
     * @param task what runs
     */
    public void after(Instant deadline, Runnable task) {
        after(DispatchTime.walltime(deadline), task);
    }

    /**
     * dispatch_after_f(when, ...); {@link DispatchTime#FOREVER} never runs the task (and keeps it).
     *
     * @param when the deadline, on the uptime or the wall clock
     * @param task what runs
     */
    public void after(DispatchTime when, Runnable task) {
        Objects.requireNonNull(when, "dispatch_after: when is null");
        Objects.requireNonNull(task, "dispatch_after: task is null");
        long q = acquire("dispatch_after"); // written out: a submit allocates nothing
        try {
            QueueNative.jd_queue_after(when.rawValue(), q, register(task));
        } finally {
            releaseUse();
        }
    }

    /**
     * dispatch_apply_f: calls {@code body} with every index in [0, iterations), in parallel on a concurrent
     * queue, and returns when all are done. On a virtual thread, dispatch_apply_f runs on a holder platform
     * thread (which, with libdispatch's workers, runs the iterations) while the virtual thread parks; on a
     * serial queue the iterations run on the virtual thread, as a sync task.
     *
     * @param iterations how many indexes, at least 0
     * @param body called once per index; an exception goes to {@link Dispatch#setUncaughtExceptionHandler}
     */
    public void apply(long iterations, LongConsumer body) {
        refuseIfCurrent("dispatch_apply", false);
        checkApply(iterations, body);
        if (drained()) { // a serial queue runs the iterations in order anyway: one task, in FIFO order
            sync(() -> {
                for (long i = 0; i < iterations; i++) {
                    Upcalls.acceptReporting(body, i);
                }
            });
            return;
        }
        call("dispatch_apply", q -> {
            apply(iterations, q, body);
        });
    }

    /**
     * dispatch_apply_f(iterations, DISPATCH_APPLY_AUTO, ...): libdispatch picks the queue (a global one).
     *
     * @param iterations how many indexes, at least 0
     * @param body called once per index; an exception goes to {@link Dispatch#setUncaughtExceptionHandler}
     */
    public static void applyAuto(long iterations, LongConsumer body) {
        apply(iterations, 0, body);
    }

    private static void checkApply(long iterations, LongConsumer body) {
        Objects.requireNonNull(body, "dispatch_apply: body is null");
        if (iterations < 0) {
            throw new IllegalArgumentException("dispatch_apply: iterations " + iterations + " is negative");
        }
    }

    private static void apply(long iterations, long queue, LongConsumer body) {
        checkApply(iterations, body);
        if (VirtualThreads.current()) {
            VirtualThreads.onHolder("dispatch_apply", () -> apply(iterations, queue, body));
            return;
        }
        long id = Handles.register(new Upcalls.Apply(body, Thread.currentThread()));
        try {
            QueueNative.jd_queue_apply(iterations, queue, id);
        } finally {
            Handles.remove(id);
        }
    }

    // ---- work items (DispatchWorkItem): the block forms of async, sync and after ----------------------------

    /**
     * dispatch_async(queue, item): one execution of the work item on this queue (on a serial queue created here,
     * in FIFO order with its other tasks). What its task throws goes to {@link Dispatch#setUncaughtExceptionHandler}.
     *
     * @param item the work item
     * @throws IllegalStateException when the item may not be executed again (it is waited for or observed)
     */
    public void async(DispatchWorkItem item) {
        Objects.requireNonNull(item, "dispatch_async: item is null");
        item.async("dispatch_async", this, workItemFifo(), false);
    }

    /**
     * dispatch_barrier_async(queue, item): like {@link #async(DispatchWorkItem)}, alone on a concurrent queue (as
     * the item's {@link DispatchWorkItem#BARRIER} flag does with {@code async}).
     *
     * @param item the work item
     */
    public void barrierAsync(DispatchWorkItem item) {
        Objects.requireNonNull(item, "dispatch_barrier_async: item is null");
        item.async("dispatch_barrier_async", this, workItemFifo(), true);
    }

    /**
     * dispatch_sync(queue, item): one execution of the work item on this queue, on the calling thread, after the
     * tasks submitted before it; its exception is rethrown here. Refused as {@link #sync(Runnable)} is onto the
     * queue that runs the caller; on a virtual thread the item's task runs on the virtual thread, as there.
     *
     * @param item the work item
     */
    public void sync(DispatchWorkItem item) {
        Objects.requireNonNull(item, "dispatch_sync: item is null");
        refuseIfCurrent("dispatch_sync", false);
        item.sync("dispatch_sync", this, workItemFifo(), false);
    }

    /**
     * dispatch_barrier_sync(queue, item): like {@link #sync(DispatchWorkItem)}, alone on a concurrent queue.
     *
     * @param item the work item
     */
    public void barrierSync(DispatchWorkItem item) {
        Objects.requireNonNull(item, "dispatch_barrier_sync: item is null");
        refuseIfCurrent("dispatch_barrier_sync", true);
        item.sync("dispatch_barrier_sync", this, workItemFifo(), true);
    }

    /**
     * dispatch_after(when, queue, item): one execution of the work item no earlier than {@code when};
     * {@link DispatchTime#FOREVER} never runs it (and keeps it).
     *
     * @param when the deadline, on the uptime or the wall clock
     * @param item the work item
     */
    public void after(DispatchTime when, DispatchWorkItem item) {
        Objects.requireNonNull(when, "dispatch_after: when is null");
        Objects.requireNonNull(item, "dispatch_after: item is null");
        item.after(when, this);
    }

    /** The FIFO whose order work items submitted here must keep (a serial queue created here), or null. */
    SerialDrain workItemFifo() {
        return drain instanceof SerialDrain serialDrain ? serialDrain : null;
    }

    // ---- state -------------------------------------------------------------------------------------------

    /** dispatch_suspend: no new task starts until the matching {@link #resume()}. Counted. */
    public void suspend() {
        Lifecycle lc = owned("dispatch_suspend");
        call("dispatch_suspend", q -> {
            synchronized (lc) {
                lc.refuseIfClosing("dispatch_suspend", this);
                QueueNative.dispatch_suspend(q);
                lc.suspendCount++;
            }
        });
    }

    /** dispatch_resume, balancing one {@link #suspend()}; refused when there is none to balance. */
    public void resume() {
        Lifecycle lc = owned("dispatch_resume");
        call("dispatch_resume", q -> {
            synchronized (lc) {
                lc.refuseIfClosing("dispatch_resume", this);
                if (lc.suspendCount == 0) {
                    throw new IllegalStateException("dispatch_resume of " + this + ", which is not suspended: every "
                            + "resume must balance a suspend (libdispatch aborts the process on an extra resume)"
                            + (lc.inactive ? "; start an inactive queue with activate()" : ""));
                }
                QueueNative.dispatch_resume(q);
                lc.suspendCount--;
            }
        });
    }

    /** dispatch_activate: starts a queue created {@linkplain Attributes#initiallyInactive() inactive}; later calls do nothing. */
    public void activate() {
        Lifecycle lc = owned("dispatch_activate");
        call("dispatch_activate", q -> {
            synchronized (lc) {
                if (lc.inactive) {
                    QueueNative.dispatch_activate(q);
                    lc.inactive = false;
                }
            }
        });
    }

    /** {@return true while a {@link #suspend()} is not yet balanced by a {@link #resume()}} */
    public boolean isSuspended() {
        Lifecycle lc = lifecycle;
        return lc != null && lc.isSuspended();
    }

    /** {@return true while a queue created initially inactive waits for {@link #activate()}} */
    public boolean isInactive() {
        Lifecycle lc = lifecycle;
        if (lc == null) {
            return false;
        }
        synchronized (lc) {
            return lc.inactive;
        }
    }

    /**
     * dispatch_set_target_queue: this queue's tasks run on {@code target} (null: the default global queue).
     * libdispatch keeps the target alive, so closing the target's wrapper afterwards is fine.
     *
     * @param target the queue this one's tasks run on, or null for the default global queue
     */
    @Override
    public void setTargetQueue(DispatchQueue target) {
        owned("dispatch_set_target_queue");
        synchronized (DispatchQueue.class) { // so two retargets cannot build a cycle together
            super.setTargetQueue(target);
        }
    }

    @Override
    void refuseRetarget(DispatchQueue target) {
        if (target instanceof DispatchWorkloop) {
            throw new IllegalArgumentException("dispatch_set_target_queue(" + this + ", " + target + "): a queue "
                    + "cannot target a workloop here (Linux libdispatch 6.0.3 crashes running a serial queue that "
                    + "targets one); submit to the workloop itself");
        }
        for (DispatchQueue t = target; t != null; t = t.target) {
            if (t == this) {
                throw new IllegalArgumentException("dispatch_set_target_queue(" + this + ", " + target
                        + "): the target already runs on " + this + ", that would be a cycle");
            }
        }
    }

    @Override
    void retargeted(DispatchQueue target) {
        this.target = target;
    }

    /** {@return the queue set with {@link #setTargetQueue}, or null for the default} */
    public DispatchQueue getTargetQueue() {
        return target;
    }

    /**
     * True when the calling thread runs a task of this queue or of a queue that targets it
     * (dispatch_get_specific with a key private to this queue). Refused for global queues (they carry no key).
     *
     * @return whether the calling thread runs on this queue
     */
    public boolean isCurrent() {
        owned("dispatch_get_specific");
        return callFor("dispatch_get_specific", q -> {
            return runsCaller(q);
        });
    }

    /**
     * Tasks submitted to this queue through this object (async, execute, submit, barrierAsync, sync,
     * barrierSync, after, DispatchGroup.async and notify; an apply counts as one sync on a serial queue and
     * not at all on a concurrent one; source handlers are not tasks) and how many of them completed (ran,
     * threw or not). Pending = submitted - completed: queued, waiting for a deadline or a group, or running.
     *
     * @param submitted tasks accepted so far
     * @param completed tasks that finished running
     * @param pending   {@code submitted - completed}
     */
    public record Counters(long submitted, long completed, long pending) {}

    /**
     * The queue's task counters, read without stopping it (each figure is exact for some instant during the
     * call; completed is read first, so pending is never negative). Cheap enough to poll; still readable
     * after close().
     *
     * @return the counters now
     */
    public Counters getCounters() {
        long completed = stats.completedCount();
        long submitted = stats.submittedCount();
        return new Counters(submitted, completed, submitted - completed);
    }

    /** {@return true for a serial queue (DISPATCH_QUEUE_SERIAL), false for a concurrent or global one} */
    public boolean isSerial() {
        return serial;
    }

    /** {@return the label the queue was created with} (dispatch_queue_get_label) */
    public String getLabel() {
        return label;
    }

    /**
     * Releases the queue once (later calls do nothing); a suspended or inactive queue is resumed and
     * activated first, so its queued work runs. Does nothing on a global queue (libdispatch owns those).
     */
    @Override
    public void close() {
        if (lifecycle != null) {
            super.close();
        }
    }

    /**
     * A task of this queue (or of a queue that targets it) keeps using it after the owner's close(), as in C:
     * libdispatch retains a queue while its work runs, and work submitted from there keeps it retained.
     */
    @Override
    boolean aliveAfterClose() {
        return lifecycle != null && QueueNative.jd_queue_is_current(address()) != 0;
    }

    /**
     * Resumes and activates at once, not when the last call in flight ends: that call may be a sync or apply
     * waiting for exactly this (only dispatch_release waits for it).
     */
    @Override
    void beforeRelease() {
        lifecycle.startClosing();
    }

    @Override
    public String toString() {
        return "DispatchQueue[" + label + "]";
    }

    /**
     * dispatch_get_specific's answer for the calling thread: on a virtual thread (never a libdispatch thread,
     * and its carrier's answer is not its own) the queue of the sync task it runs, and that queue's targets.
     */
    private boolean runsCaller(long q) {
        return VirtualThreads.current() ? VirtualThreads.runsTaskOf(this) : QueueNative.jd_queue_is_current(q) != 0;
    }

    /** A sync onto a serial queue that runs the caller (directly or through targets) never returns. */
    private void refuseIfCurrent(String call, boolean barrier) {
        for (DispatchQueue q = this; q != null; q = q.target) {
            if (q.lifecycle != null && (q.serial || (barrier && q == this))
                    && q.runsCaller(q.address())) {
                throw new IllegalStateException(call + " onto " + this + (q == this ? "" : ", which targets " + q)
                        + ", from a task running on " + q + ": it would wait for itself (libdispatch aborts the "
                        + "process on that); use async, or call the code directly");
            }
        }
    }

    private Lifecycle owned(String call) {
        if (lifecycle == null) {
            throw new IllegalStateException(call + " on " + this + ": global queues cannot be suspended, resumed, "
                    + "activated or retargeted");
        }
        return lifecycle;
    }

    /**
     * The native queue's state, shared with the Cleaner and with the queue's {@link SerialDrain}: must not
     * reference the wrapper (a queued drain would keep a dropped queue reachable). Guarded by its own monitor.
     */
    static final class Lifecycle implements Runnable {
        final long address;
        private volatile int suspendCount; // written under the monitor; read without it by the drain
        private boolean inactive;
        /** close() began: the queue is being resumed for good, a suspend would undo that. */
        private boolean closing;

        Lifecycle(long address, boolean inactive) {
            this.address = address;
            this.inactive = inactive;
        }

        boolean isSuspended() {
            return suspendCount > 0;
        }

        void refuseIfClosing(String call, DispatchQueue queue) {
            if (closing) {
                throw new IllegalStateException(call + ": " + queue + " is closed");
            }
        }

        /** close(): undoes suspension and inactivity now; the release follows when no call is in flight. */
        synchronized void startClosing() {
            closing = true;
            undoSuspension();
        }

        /** Releases the queue, first undoing what libdispatch refuses to release (suspension, inactivity). */
        @Override
        public synchronized void run() {
            undoSuspension();
            JDispatchNative.dispatch_release(address);
        }

        private void undoSuspension() {
            for (; suspendCount > 0; suspendCount--) {
                QueueNative.dispatch_resume(address);
            }
            if (inactive) {
                QueueNative.dispatch_activate(address);
                inactive = false;
            }
        }
    }

    /**
     * Runs a Callable for sync on the caller's thread (dispatch_sync_f runs it there), keeping its value or
     * failure for the caller, and counting it done (it runs while the queue is held, like any of its tasks).
     */
    private static final class SyncTask<T> implements Upcalls.OnCaller {
        private final Object task;
        private final Callable<T> body;
        private final Stats stats;
        private T value;
        private Throwable failure;

        /** {@code task}: what the user passed (named in a SlowTask event); {@code body} calls it. */
        SyncTask(Object task, Callable<T> body, Stats stats) {
            this.task = task;
            this.body = body;
            this.stats = stats;
        }

        @Override
        public void run() {
            Object timing = Jfr.AVAILABLE ? Jfr.beginSlowTask() : null;
            call();
            if (timing != null) {
                Jfr.endSlowTask(timing, task, stats.label);
            }
        }

        private void call() {
            try {
                value = body.call();
            } catch (Throwable t) {
                failure = t;
            } finally {
                stats.completed();
            }
        }

        T result() {
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            if (failure != null) {
                throw new CompletionException(failure);
            }
            return value;
        }
    }

    /**
     * The queue's label and task counts, shared with its drain (not the wrapper, like {@link Lifecycle}). The
     * two counts sit 128 bytes apart in one array: submitters and the workers that complete tasks never write
     * the same cache line (two counter objects side by side on the heap would make every task bounce one).
     * On a serial queue every task completes while the queue is owned (drain, sync, after, notify alike), one
     * at a time, so the completed count needs no atomic add there.
     */
    static final class Stats implements Upcalls.TaskContext {
        private static final VarHandle COUNTS = MethodHandles.arrayElementVarHandle(long[].class);
        private static final int SUBMITTED = 8, COMPLETED = 24;
        final String label;
        private final boolean serial;
        private final long[] counts = new long[COMPLETED + 8];

        Stats(String label, boolean serial) {
            this.label = label;
            this.serial = serial;
        }

        void submitted() {
            COUNTS.getAndAdd(counts, SUBMITTED, 1L);
        }

        void completed() {
            if (serial) {
                COUNTS.setRelease(counts, COMPLETED, (long) COUNTS.getOpaque(counts, COMPLETED) + 1);
            } else {
                COUNTS.getAndAdd(counts, COMPLETED, 1L);
            }
        }

        long submittedCount() {
            return (long) COUNTS.getVolatile(counts, SUBMITTED);
        }

        long completedCount() {
            return (long) COUNTS.getVolatile(counts, COMPLETED);
        }

        /** A task submitted as a libdispatch work item of its own (not through a drain). */
        @Override
        public void run(Runnable task) {
            String saved = TaskRunner.nameWorker(label);
            TaskRunner.run(task, label, this);
            TaskRunner.restoreName(saved);
        }
    }

    private static final class Globals {
        static final DispatchQueue[] QUEUES = new DispatchQueue[QoSClass.values().length];

        static {
            for (QoSClass qos : QoSClass.values()) {
                QUEUES[qos.ordinal()] = new DispatchQueue(JDispatchNative.dispatch_get_global_queue(qos.value, 0),
                        false, "global-" + qos.name().toLowerCase(java.util.Locale.ROOT));
            }
        }
    }
}
