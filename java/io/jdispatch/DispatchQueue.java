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
 * /{@code apply} (and {@code asyncAndWait}) onto the serial queue (or a serial queue targeted by it) that runs the
 * caller, suspending or retargeting a global queue, retargeting an active queue created inactive or with an
 * autorelease frequency, and a failed {@code assertQueue}, {@code assertQueueNot} or {@code assertQueueBarrier}.
 * {@link #close()} of a suspended or inactive queue first resumes it as many times as it was suspended and
 * activates it (so its queued work runs, as with any close), because libdispatch aborts on releasing a suspended
 * or inactive queue.
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
    /**
     * dispatch_queue_attr_t: serial or concurrent, active or initially inactive, with a QoS class and relative
     * priority or none, and an autorelease frequency. Built like its C counterpart, one
     * dispatch_queue_attr_make_* step at a time: {@code SERIAL.withQoSClass(QoSClass.UTILITY, -2).initiallyInactive()}.
     *
     * @param concurrent           DISPATCH_QUEUE_CONCURRENT rather than DISPATCH_QUEUE_SERIAL
     * @param inactive             dispatch_queue_attr_make_initially_inactive
     * @param qosClass             dispatch_queue_attr_make_with_qos_class's class, or null for none (the queue
     *                             takes its target's)
     * @param relativePriority     and its relative priority, {@link QoSClass#MIN_RELATIVE_PRIORITY}..0 (0 without a class)
     * @param autoreleaseFrequency dispatch_queue_attr_make_with_autorelease_frequency's value
     */
    public record Attributes(boolean concurrent, boolean inactive, QoSClass qosClass, int relativePriority,
                             AutoreleaseFrequency autoreleaseFrequency) {
        /** DISPATCH_QUEUE_SERIAL. */
        public static final Attributes SERIAL = new Attributes(false, false);
        /** DISPATCH_QUEUE_CONCURRENT. */
        public static final Attributes CONCURRENT = new Attributes(true, false);

        /**
         * Refuses what libdispatch would silently ignore: dispatch_queue_attr_make_with_qos_class returns its input
         * attribute unchanged for a relative priority out of range.
         *
         * @param concurrent           DISPATCH_QUEUE_CONCURRENT rather than DISPATCH_QUEUE_SERIAL
         * @param inactive             dispatch_queue_attr_make_initially_inactive
         * @param qosClass             the QoS class, or null for none
         * @param relativePriority     its relative priority, {@link QoSClass#MIN_RELATIVE_PRIORITY}..0 (0 without a class)
         * @param autoreleaseFrequency the autorelease frequency
         * @throws IllegalArgumentException for a relative priority outside
         *         {@link QoSClass#MIN_RELATIVE_PRIORITY}..0, or one without a QoS class
         * @throws NullPointerException for a null autorelease frequency
         */
        public Attributes {
            Objects.requireNonNull(autoreleaseFrequency, "dispatch_queue_attr_make_with_autorelease_frequency: "
                    + "frequency is null");
            if (relativePriority < QoSClass.MIN_RELATIVE_PRIORITY || relativePriority > 0) {
                throw new IllegalArgumentException("dispatch_queue_attr_make_with_qos_class: relative_priority "
                        + relativePriority + " is outside QOS_MIN_RELATIVE_PRIORITY (" + QoSClass.MIN_RELATIVE_PRIORITY
                        + ") .. 0 (libdispatch would ignore the QoS class)");
            }
            if (qosClass == null && relativePriority != 0) {
                throw new IllegalArgumentException("dispatch_queue_attr_make_with_qos_class: relative_priority "
                        + relativePriority + " without a QoS class");
            }
        }

        /**
         * Serial or concurrent, maybe initially inactive; no QoS class, autorelease frequency INHERIT.
         *
         * @param concurrent DISPATCH_QUEUE_CONCURRENT rather than DISPATCH_QUEUE_SERIAL
         * @param inactive   dispatch_queue_attr_make_initially_inactive
         */
        public Attributes(boolean concurrent, boolean inactive) {
            this(concurrent, inactive, null, 0, AutoreleaseFrequency.INHERIT);
        }

        /**
         * dispatch_queue_attr_make_initially_inactive: the queue runs nothing until {@link #activate()}.
         *
         * @return these attributes, initially inactive
         */
        public Attributes initiallyInactive() {
            return new Attributes(concurrent, true, qosClass, relativePriority, autoreleaseFrequency);
        }

        /**
         * dispatch_queue_attr_make_with_qos_class: the queue's QoS class and relative priority, which take
         * precedence over its target's unless that would lower them. On Linux libdispatch has no kernel QoS:
         * the class picks which of its root queues the queue runs on, and USER_INTERACTIVE runs (and reads back,
         * {@link #getQoSClass()}) as USER_INITIATED.
         *
         * @param qos              the class
         * @param relativePriority {@link QoSClass#MIN_RELATIVE_PRIORITY} (-15) .. 0, an offset below the class's
         *                         highest priority
         * @return these attributes with that class and relative priority
         * @throws IllegalArgumentException for a relative priority out of range
         */
        public Attributes withQoSClass(QoSClass qos, int relativePriority) {
            Objects.requireNonNull(qos, "dispatch_queue_attr_make_with_qos_class: qos_class is null");
            return new Attributes(concurrent, inactive, qos, relativePriority, autoreleaseFrequency);
        }

        /**
         * dispatch_queue_attr_make_with_autorelease_frequency. Linux has no Objective-C autorelease pools, so the
         * frequency changes nothing there but one rule: a queue created with WORK_ITEM or NEVER (or inactive)
         * cannot be retargeted once active ({@link #setTargetQueue} refuses it; libdispatch aborts).
         *
         * @param frequency INHERIT (the default), WORK_ITEM or NEVER
         * @return these attributes with that frequency
         */
        public Attributes withAutoreleaseFrequency(AutoreleaseFrequency frequency) {
            return new Attributes(concurrent, inactive, qosClass, relativePriority, frequency);
        }

        /** The dispatch_queue_attr_t, made step by step as in C (libdispatch's attributes are static: no release). */
        long make() {
            long attr = QueueNative.jd_queue_attr(concurrent ? 1 : 0);
            if (inactive) {
                attr = QueueNative.dispatch_queue_attr_make_initially_inactive(attr);
            }
            if (qosClass != null) {
                attr = QueueNative.dispatch_queue_attr_make_with_qos_class(attr, qosClass.value, relativePriority);
            }
            if (autoreleaseFrequency != AutoreleaseFrequency.INHERIT) {
                attr = QueueNative.dispatch_queue_attr_make_with_autorelease_frequency(attr, autoreleaseFrequency.value);
            }
            return attr;
        }

        /** libdispatch's "legacy" queue, whose target may change after activation: not inactive, frequency INHERIT. */
        boolean retargetableOnceActive() {
            return !inactive && autoreleaseFrequency == AutoreleaseFrequency.INHERIT;
        }
    }

    /** dispatch_autorelease_frequency_t, for {@link Attributes#withAutoreleaseFrequency}. */
    public enum AutoreleaseFrequency {
        /** DISPATCH_AUTORELEASE_FREQUENCY_INHERIT (0): the target queue's behaviour; the default. */
        INHERIT(0),
        /** DISPATCH_AUTORELEASE_FREQUENCY_WORK_ITEM (1): a pool around each asynchronously submitted task. */
        WORK_ITEM(1),
        /** DISPATCH_AUTORELEASE_FREQUENCY_NEVER (2): no pool of its own, as on the global queues. */
        NEVER(2);

        /** The dispatch_autorelease_frequency_t value. */
        public final int value;

        AutoreleaseFrequency(int value) {
            this.value = value;
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
    /** Attributes#withQoSClass's class and relative priority, or null and 0. */
    private final QoSClass qos;
    private final int relativePriority;
    /** False for the queues libdispatch refuses to retarget once active (inactive or autorelease attributes). */
    private final boolean retargetableOnceActive;

    /** A serial queue this wrapper owns ({@code owned}), or a global queue. */
    DispatchQueue(long address, boolean owned, String label) {
        this(address, owned ? new Lifecycle(address, false) : null, label, owned ? Attributes.SERIAL : null);
    }

    /**
     * A queue this wrapper owns ({@code lifecycle}; null: a global queue); a serial one drains a Java FIFO.
     * {@code attributes}: what the queue was created with; null for a global queue.
     */
    DispatchQueue(long address, Lifecycle lifecycle, String label, Attributes attributes) {
        super(address, lifecycle);
        boolean serial = attributes != null && !attributes.concurrent;
        this.label = label;
        this.serial = serial;
        this.lifecycle = lifecycle;
        this.qos = attributes == null ? null : attributes.qosClass;
        this.relativePriority = attributes == null ? 0 : attributes.relativePriority;
        this.retargetableOnceActive = attributes == null || attributes.retargetableOnceActive();
        this.stats = new Stats(label, serial);
        this.drain = lifecycle == null ? new GlobalDrain(address, stats) : serial ? new SerialDrain(lifecycle, stats) : null;
    }

    /**
     * dispatch_queue_create(label, attributes).
     *
     * @param label the queue's label (dispatch_queue_get_label), for debugging
     * @param attributes {@link Attributes#SERIAL} or {@link Attributes#CONCURRENT}, maybe initially inactive,
     *                   with a QoS class or an autorelease frequency
     * @return the new queue
     */
    public static DispatchQueue create(String label, Attributes attributes) {
        Objects.requireNonNull(attributes, "dispatch_queue_create: attributes are null");
        long q = QueueNative.jd_queue_create(label, attributes.make());
        if (q == 0) {
            throw new IllegalStateException("dispatch_queue_create(\"" + label + "\") returned NULL");
        }
        return new DispatchQueue(q, new Lifecycle(q, attributes.inactive), label, attributes);
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
        runSync(Wait.SYNC, new SyncTask<>(task, () -> {
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
        return runSync(Wait.SYNC, new SyncTask<>(task, task, stats));
    }

    /**
     * dispatch_barrier_sync_f: like {@link #barrierAsync}, and waits.
     *
     * @param task what runs; its exception is rethrown here
     */
    public void barrierSync(Runnable task) {
        Objects.requireNonNull(task, "dispatch_barrier_sync: task is null");
        runSync(Wait.BARRIER_SYNC, new SyncTask<>(task, () -> {
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
        return runSync(Wait.BARRIER_SYNC, new SyncTask<>(task, task, stats));
    }

    /** The calls that run a task on the queue while the caller waits for it. */
    private enum Wait {
        SYNC("dispatch_sync", false),
        BARRIER_SYNC("dispatch_barrier_sync", true),
        ASYNC_AND_WAIT("dispatch_async_and_wait", false),
        BARRIER_ASYNC_AND_WAIT("dispatch_barrier_async_and_wait", true);

        final String call;
        final boolean barrier;

        Wait(String call, boolean barrier) {
            this.call = call;
            this.barrier = barrier;
        }

        /** On a serial queue every task is a barrier: the plain call. */
        Wait plain() {
            return this == BARRIER_SYNC ? SYNC : this == BARRIER_ASYNC_AND_WAIT ? ASYNC_AND_WAIT : this;
        }

        /** The native call with the work item {@code id}; returns when it ran. */
        void enter(long q, long id) {
            switch (this) {
                case SYNC -> JDispatchNative.jd_queue_sync(q, id);
                case BARRIER_SYNC -> QueueNative.jd_queue_barrier_sync(q, id);
                case ASYNC_AND_WAIT -> QueueNative.jd_queue_async_and_wait(q, id);
                case BARRIER_ASYNC_AND_WAIT -> QueueNative.jd_queue_barrier_async_and_wait(q, id);
            }
        }
    }

    private <T> T runSync(Wait wait, SyncTask<T> task) {
        refuseIfCurrent(wait.call, wait.barrier);
        long q = acquire(wait.call); // held while waiting: close() resumes a queue at once and only defers the release
        try {
            stats.submitted();
            boolean virtual = VirtualThreads.current();
            if (drain instanceof SerialDrain serialDrain) {
                // behind the tasks already in the FIFO
                Wait plain = wait.plain();
                serialDrain.sync(virtual ? () -> VirtualThreads.syncHeld(this, false, id -> plain.enter(q, id), task)
                        : () -> plain.enter(q, Handles.register(task)));
            } else if (virtual && lifecycle == null) {
                VirtualThreads.runAsTaskOf(this, false, task); // a global queue: nothing to wait for or to hold
            } else if (virtual) {
                VirtualThreads.syncHeld(this, wait.barrier, id -> wait.enter(q, id), task);
            } else {
                wait.enter(q, Handles.register(task));
            }
        } finally {
            releaseUse();
        }
        return task.result();
    }

    // ---- dispatch_async_and_wait ------------------------------------------------------------------------

    /**
     * dispatch_async_and_wait_f: runs {@code task} on this queue and waits for it, like {@link #sync(Runnable)}
     * (the same FIFO order with {@code async}, the same refusal when the caller runs on a serial queue it would
     * wait for, its exception rethrown here, no pinned carrier on a virtual thread), but as an asynchronous work
     * item, subject to the queue's attributes as an {@code async} task is: libdispatch runs it on the calling
     * thread when no thread services the queue at that moment, and otherwise on the thread that does, while the
     * caller waits.
     *
     * @param task what runs
     */
    public void asyncAndWait(Runnable task) {
        Objects.requireNonNull(task, "dispatch_async_and_wait: task is null");
        runSync(Wait.ASYNC_AND_WAIT, new SyncTask<>(task, () -> {
            task.run();
            return null;
        }, stats));
    }

    /**
     * dispatch_async_and_wait_f returning the task's value; a checked exception comes wrapped in
     * CompletionException.
     *
     * @param <T> the task's result type
     * @param task what runs
     * @return what the task returned
     */
    public <T> T asyncAndWait(Callable<T> task) {
        Objects.requireNonNull(task, "dispatch_async_and_wait: task is null");
        return runSync(Wait.ASYNC_AND_WAIT, new SyncTask<>(task, task, stats));
    }

    /**
     * dispatch_barrier_async_and_wait_f: like {@link #asyncAndWait(Runnable)}, run as a barrier (alone, after the
     * tasks before it, on a concurrent queue).
     *
     * @param task what runs; its exception is rethrown here
     */
    public void barrierAsyncAndWait(Runnable task) {
        Objects.requireNonNull(task, "dispatch_barrier_async_and_wait: task is null");
        runSync(Wait.BARRIER_ASYNC_AND_WAIT, new SyncTask<>(task, () -> {
            task.run();
            return null;
        }, stats));
    }

    /**
     * dispatch_barrier_async_and_wait_f returning the task's value; a checked exception comes wrapped in
     * CompletionException.
     *
     * @param <T> the task's result type
     * @param task what runs
     * @return what the task returned
     */
    public <T> T barrierAsyncAndWait(Callable<T> task) {
        Objects.requireNonNull(task, "dispatch_barrier_async_and_wait: task is null");
        return runSync(Wait.BARRIER_ASYNC_AND_WAIT, new SyncTask<>(task, task, stats));
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
        call("dispatch_apply", q -> apply(iterations, q, body));
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
                    throw new IllegalStateException("dispatch_resume of " + name() + ", which is not suspended: every "
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
     * libdispatch keeps the target alive, so closing the target's wrapper afterwards is fine. A queue created
     * initially inactive or with an autorelease frequency other than INHERIT can be retargeted only before
     * {@link #activate()} (libdispatch aborts afterwards: refused).
     *
     * @param target the queue this one's tasks run on, or null for the default global queue
     */
    @Override
    public void setTargetQueue(DispatchQueue target) {
        Lifecycle lc = owned("dispatch_set_target_queue");
        synchronized (DispatchQueue.class) { // so two retargets cannot build a cycle together
            synchronized (lc) { // and activate() cannot come between the check and the retarget
                super.setTargetQueue(target);
            }
        }
    }

    @Override
    void refuseRetarget(DispatchQueue target) {
        if (target instanceof DispatchWorkloop) {
            throw new IllegalArgumentException("dispatch_set_target_queue(" + name() + ", " + target.name() + "): a "
                    + "queue cannot target a workloop here (Linux libdispatch 6.0.3 crashes running a serial queue "
                    + "that targets one); submit to the workloop itself");
        }
        if (!retargetableOnceActive && !lifecycle.inactive) {
            throw new IllegalStateException("dispatch_set_target_queue(" + name() + ", " + (target == null ? "default"
                    : target.name()) + "): " + name() + " was created inactive or with an autorelease frequency, "
                    + "and is active: libdispatch aborts on changing its target after activation");
        }
        for (DispatchQueue t = target; t != null; t = t.target) {
            if (t == this) {
                throw new IllegalArgumentException("dispatch_set_target_queue(" + name() + ", " + target.name()
                        + "): the target already runs on " + name() + ", that would be a cycle");
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
        return callFor("dispatch_get_specific", this::runsCaller);
    }

    // ---- queue-specific data (dispatch_queue_set_specific, dispatch_queue_get_specific, dispatch_get_specific) --

    /**
     * dispatch_queue_set_specific: associates {@code value} with {@code key} on this queue (null removes it).
     * The value is held for libdispatch, not by this wrapper: it stays while the queue lives (past the owner's
     * {@link #close()}, while queued or running work still holds the queue), and is let go when it is replaced or
     * removed, or when libdispatch frees the queue (then libdispatch's destructor, on a global queue, drops it a
     * moment later). A global queue is never freed: its values stay until replaced. A value must not reference
     * its queue's wrapper if the queue is to be collected without {@code close()}.
     *
     * @param <T> the key's value type
     * @param key the key
     * @param value the value, or null to remove the key's value
     */
    public <T> void setSpecific(DispatchSpecificKey<T> key, T value) {
        Objects.requireNonNull(key, "dispatch_queue_set_specific: key is null");
        call("dispatch_queue_set_specific", q -> {
            QueueNative.jd_queue_set_specific(q, key.value, value == null ? 0 : Handles.register(new Specific(value)));
        });
    }

    /**
     * dispatch_queue_get_specific: the value set on this queue for {@code key} (not its targets'), or null.
     *
     * @param <T> the key's value type
     * @param key the key
     * @return the value, or null
     */
    public <T> T getSpecific(DispatchSpecificKey<T> key) {
        Objects.requireNonNull(key, "dispatch_queue_get_specific: key is null");
        return callFor("dispatch_queue_get_specific", q -> Specific.lookUp(q, key));
    }

    /**
     * dispatch_get_specific: the value for {@code key} of the queue the calling code runs on, else of its target,
     * and so on up the target chain (null when none has one, or when the caller runs on no queue). Inside a sync
     * task that is the sync's queue. On a virtual thread running a sync task it walks the target chain this
     * binding knows (the queues given to {@link #setTargetQueue}; a global queue only when set as a target).
     *
     * @param <T> the key's value type
     * @param key the key
     * @return the value, or null
     */
    public static <T> T getCurrentSpecific(DispatchSpecificKey<T> key) {
        Objects.requireNonNull(key, "dispatch_get_specific: key is null");
        if (!VirtualThreads.current()) {
            return Specific.lookUp(0, key);
        }
        // The sync task's queue is held open by its sync, and libdispatch keeps its targets: their addresses hold.
        for (DispatchQueue q = VirtualThreads.heldQueue(); q != null; q = q.target) {
            T value = Specific.lookUp(q.address(), key);
            if (value != null) {
                return value;
            }
        }
        return null;
    }

    /**
     * A queue-specific value, held in {@link Handles} under the id that is its C value. Not a task: when
     * libdispatch drops the value it calls its destructor, the task trampoline, which only removes the id.
     */
    private record Specific(Object value) {
        /** The value for {@code key} on {@code queue} (0: dispatch_get_specific's current queue), or null. */
        @SuppressWarnings("unchecked") // setSpecific(key, value) took a T for this key
        static <T> T lookUp(long queue, DispatchSpecificKey<T> key) {
            while (true) {
                long id = queue == 0 ? QueueNative.jd_get_specific(key.value) : QueueNative.jd_queue_get_specific(queue, key.value);
                if (id == 0) {
                    return null;
                }
                if (Handles.get(id) instanceof Specific s) {
                    return (T) s.value;
                }
                // Replaced since the read, and the old value's destructor ran already: read the new one.
            }
        }
    }

    // ---- context and finalizer (dispatch_set_context, dispatch_get_context, dispatch_set_finalizer_f) -------

    /**
     * dispatch_set_context: the queue's application-defined context (null clears it). Like a queue-specific
     * value it is held for libdispatch and let go when libdispatch frees the queue (after its queued work),
     * when the {@linkplain #setFinalizer finalizer} has run. Refused on a global queue (libdispatch owns those
     * and never frees them).
     *
     * @param context the context, or null
     */
    public void setContext(Object context) {
        Lifecycle lc = owned("dispatch_set_context");
        call("dispatch_set_context", q -> {
            synchronized (lc) {
                queueContext(q).context = context;
            }
        });
    }

    /**
     * dispatch_get_context: the context set with {@link #setContext}, or null (always null on a global queue).
     *
     * @return the context, or null
     */
    public Object getContext() {
        if (lifecycle == null) {
            return null; // a global queue's context is libdispatch's own, not an id of ours
        }
        return callFor("dispatch_get_context", q -> {
            return Handles.get(QueueNative.jd_queue_get_context(q)) instanceof QueueContext c ? c.context : null;
        });
    }

    /**
     * dispatch_set_finalizer_f: {@code finalizer} runs once libdispatch frees the queue, that is after the
     * owner's {@link #close()} (or the Cleaner's, for a dropped queue) and after the last of its queued and
     * running work, on the queue's target queue. As in C it runs only if the queue then has a non-null
     * {@linkplain #setContext context}. What it throws goes to {@link Dispatch#setUncaughtExceptionHandler}. It
     * must not reference this wrapper if the queue is to be collected without {@code close()}. Refused on a
     * global queue (never freed).
     *
     * @param finalizer what runs, or null for nothing
     */
    public void setFinalizer(Runnable finalizer) {
        Lifecycle lc = owned("dispatch_set_finalizer_f");
        call("dispatch_set_finalizer_f", q -> {
            synchronized (lc) {
                queueContext(q).finalizer = finalizer;
            }
        });
    }

    /**
     * The queue's context holder, found through dispatch_get_context, made and handed to libdispatch on first use
     * (holding the lifecycle). Not kept in this wrapper: a closed wrapper must not hold the context alive.
     */
    private static QueueContext queueContext(long q) {
        if (Handles.get(QueueNative.jd_queue_get_context(q)) instanceof QueueContext c) {
            return c;
        }
        QueueContext c = new QueueContext();
        QueueNative.jd_queue_set_context(q, Handles.register(c));
        return c;
    }

    /**
     * What dispatch_set_context holds: the context and finalizer, under one {@link Handles} id that is the C
     * context; libdispatch's finalizer function (the task trampoline) removes the id and runs this, once.
     * Never references the wrapper.
     */
    private static final class QueueContext implements Runnable {
        volatile Object context;
        volatile Runnable finalizer;

        @Override
        public void run() {
            Runnable f = finalizer;
            if (f != null && context != null) {
                f.run();
            }
        }
    }

    // ---- assertions (dispatch_assert_queue, dispatch_assert_queue_not, dispatch_assert_queue_barrier) ------

    /**
     * dispatch_assert_queue: returns when the calling code runs on this queue, and throws otherwise (libdispatch
     * aborts the process; the binding decides first and calls it only when it returns). "On this queue": a task
     * of this queue or of a queue targeting it (as {@link #isCurrent()}), or code inside a sync, barrier sync,
     * async-and-wait or apply that was called from such a task (libdispatch's enclosing queue frames), on
     * platform and virtual threads alike. For a global queue: a task submitted to it directly, or a sync onto it.
     * Where this binding cannot see what libdispatch sees it throws although libdispatch would return: a queue
     * that is only a target of an enclosing frame's queue, a global queue reached through targets.
     *
     * @throws IllegalStateException naming the queue and the rule, when the caller does not run on it
     */
    public void assertQueue() {
        call("dispatch_assert_queue", q -> {
            if (!onFrames(q)) {
                throw new IllegalStateException("dispatch_assert_queue(" + name() + "): the calling code does not run"
                        + " on " + name() + " (a task of it or of a queue targeting it, or inside a sync called from"
                        + " one); libdispatch would abort the process");
            }
            if (!VirtualThreads.current()) { // a virtual thread's frames are ours (its carrier has none)
                QueueNative.dispatch_assert_queue(q);
            }
        });
    }

    /**
     * dispatch_assert_queue_not: throws when the calling code runs on this queue in the sense of
     * {@link #assertQueue()}, returns otherwise. libdispatch is asked too only where its answer is known to be
     * the same (a queue created here, outside any enclosing sync, on a platform thread).
     *
     * @throws IllegalStateException naming the queue and the rule, when the caller runs on it
     */
    public void assertQueueNot() {
        call("dispatch_assert_queue_not", q -> {
            if (onFrames(q)) {
                throw new IllegalStateException("dispatch_assert_queue_not(" + name() + "): the calling code runs on "
                        + name() + " (a task of it or of a queue targeting it, or inside a sync called from one); "
                        + "libdispatch would abort the process");
            }
            if (lifecycle != null && !VirtualThreads.current() && QueueNative.jd_queue_frame_depth() == 0) {
                QueueNative.dispatch_assert_queue_not(q);
            }
        });
    }

    /**
     * dispatch_assert_queue_barrier: {@link #assertQueue()}, and the calling code runs as a barrier of this
     * queue: always on a serial queue; on a concurrent queue inside a {@link #barrierAsync}, {@link #barrierSync}
     * or {@link #barrierAsyncAndWait} task of it, or a work item it runs as a barrier (or code those call
     * synchronously). Never on a global queue
     * (it has no barriers).
     *
     * @throws IllegalStateException naming the queue and the rule, when the caller does not run on it as a barrier
     */
    public void assertQueueBarrier() {
        call("dispatch_assert_queue_barrier", q -> {
            if (!onFrames(q)) {
                throw new IllegalStateException("dispatch_assert_queue_barrier(" + name() + "): the calling code does "
                        + "not run on " + name() + "; libdispatch would abort the process");
            }
            boolean virtual = VirtualThreads.current();
            if (!serial && (lifecycle == null || !(virtual ? VirtualThreads.inBarrier(this) : QueueNative.jd_queue_in_barrier(q) != 0))) {
                throw new IllegalStateException("dispatch_assert_queue_barrier(" + name() + "): the calling code runs "
                        + "on " + name() + " but not as a barrier (" + (lifecycle == null ? "a global queue has none"
                        : "only barrierAsync, barrierSync and barrierAsyncAndWait tasks of a concurrent queue are")
                        + "); libdispatch would abort the process");
            }
            if (!virtual) {
                QueueNative.dispatch_assert_queue_barrier(q);
            }
        });
    }

    /** Whether this queue is on the calling thread's queue frames as far as the binding sees them (jd_queue.h). */
    private boolean onFrames(long q) {
        return VirtualThreads.current() ? VirtualThreads.onFrames(this) : QueueNative.jd_queue_on_frames(q) != 0;
    }

    // ---- QoS (dispatch_queue_get_qos_class) -----------------------------------------------------------------

    /**
     * dispatch_queue_get_qos_class: the class the queue was created with ({@link Attributes#withQoSClass}), as
     * libdispatch reads it back (on Linux USER_INTERACTIVE reads back as USER_INITIATED), or null for none. For a
     * global queue, what libdispatch reports for its root queue, which on Linux (6.0.3) is not always the class
     * it was asked by: DEFAULT reads as none, USER_INITIATED as BACKGROUND.
     *
     * @return the class, or null
     */
    public QoSClass getQoSClass() {
        int value = callFor("dispatch_queue_get_qos_class", q -> QueueNative.dispatch_queue_get_qos_class(q, null));
        for (QoSClass c : QoSClass.values()) {
            if (c.value == value) {
                return c;
            }
        }
        return null;
    }

    /**
     * dispatch_queue_get_qos_class's relative priority: what {@link Attributes#withQoSClass} set, 0 without a class.
     *
     * @return {@link QoSClass#MIN_RELATIVE_PRIORITY} .. 0
     */
    public int getRelativePriority() {
        int[] relativePriority = new int[1];
        call("dispatch_queue_get_qos_class", q -> QueueNative.dispatch_queue_get_qos_class(q, relativePriority));
        return relativePriority[0];
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

    /**
     * In the spirit of dispatch_debug: {@code DispatchQueue[<label>] = { serial | concurrent | global, target =
     * DispatchQueue[<label>] | default, qos = UTILITY relative priority -2, suspended = 1, inactive, closed }}
     * (the last four only when they apply; qos as set by {@link Attributes#withQoSClass}). Error messages name a
     * queue by {@code DispatchQueue[<label>]} alone.
     */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(name()).append(" = { ");
        b.append(lifecycle == null ? "global" : serial ? "serial" : "concurrent");
        if (lifecycle != null) {
            DispatchQueue t = target;
            b.append(", target = ").append(t == null ? "default" : t.name());
        }
        if (qos != null) {
            b.append(", qos = ").append(qos).append(" relative priority ").append(relativePriority);
        }
        Lifecycle lc = lifecycle;
        if (lc != null) {
            int suspended = lc.suspendCount;
            if (suspended > 0) {
                b.append(", suspended = ").append(suspended);
            }
            if (isInactive()) {
                b.append(", inactive");
            }
        }
        if (isClosed()) {
            b.append(", closed");
        }
        return b.append(" }").toString();
    }

    /** {@code DispatchQueue[<label>]}: how error messages name the queue. */
    @Override
    String name() {
        return "DispatchQueue[" + label + "]";
    }

    /** A global queue: libdispatch's own, with no lifecycle, specifics of ours or barriers. */
    boolean isGlobal() {
        return lifecycle == null;
    }

    /**
     * dispatch_get_specific's answer for the calling thread: on a virtual thread (never a libdispatch thread,
     * and its carrier's answer is not its own) the queue of the sync task it runs, and that queue's targets.
     */
    private boolean runsCaller(long q) {
        return VirtualThreads.current() ? VirtualThreads.runsTaskOf(this) : QueueNative.jd_queue_is_current(q) != 0;
    }

    /**
     * A sync onto a serial queue or workloop that runs the caller (directly or through targets) never returns; nor does one onto
     * a concurrent queue (or a queue targeting it) whose barrier the calling thread holds: libdispatch aborts on
     * both ("dispatch_sync called on queue already owned by current thread").
     */
    private void refuseIfCurrent(String call, boolean barrier) {
        for (DispatchQueue q = this; q != null; q = q.target) {
            if (q.lifecycle == null) {
                continue;
            }
            // A one-at-a-time queue is held by its task also inside a sync that task made onto another queue.
            if ((q.runsOneAtATime() && q.onFrames(q.address())) || (barrier && q == this && q.runsCaller(q.address()))) {
                throw new IllegalStateException(call + " onto " + name() + (q == this ? "" : ", which targets " + q.name())
                        + ", from a task running on " + q.name() + ": it would wait for itself (libdispatch aborts the "
                        + "process on that); use async, or call the code directly");
            }
            if (!q.runsOneAtATime() && q.holdsBarrier(q.address())) {
                throw new IllegalStateException(call + " onto " + name() + (q == this ? "" : ", which targets " + q.name())
                        + ", from a barrier task of " + q.name() + ": the barrier holds " + q.name() + " alone, so the "
                        + "call would wait for itself (libdispatch aborts the process on that); use async, or call the "
                        + "code directly");
            }
        }
    }

    /** {@return whether the queue runs its work one item at a time (serial; a workloop overrides)} */
    boolean runsOneAtATime() {
        return serial;
    }

    /**
     * Whether the calling thread runs a barrier of this concurrent queue now (a barrierAsync, barrierSync or
     * barrierAsyncAndWait task, a work item run as a barrier, or code those call synchronously), as
     * {@link #assertQueueBarrier()} sees it.
     */
    private boolean holdsBarrier(long q) {
        return VirtualThreads.current() ? VirtualThreads.inBarrier(this) : QueueNative.jd_queue_in_barrier(q) != 0;
    }

    private Lifecycle owned(String call) {
        if (lifecycle == null) {
            throw new IllegalStateException(call + " on " + name() + ": global queues cannot be suspended, resumed, "
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
                throw new IllegalStateException(call + ": " + queue.name() + " is closed");
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
        private final Thread caller = Thread.currentThread();
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
            if (Thread.currentThread() != caller) {
                Thread.interrupted(); // async-and-wait on the queue's worker: nothing left from its last task
            }
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
            rethrow(failure);
            return value;
        }
    }

    /** Rethrows what a task run for a waiting caller threw: unchecked as it is, checked in a CompletionException. */
    static void rethrow(Throwable failure) {
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new CompletionException(failure);
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

        static {
            // Done with the first queue, while there is memory, not first thing on a worker that may meet a full
            // heap: a static initializer that fails there leaves its class unusable for good (every later task
            // threw "Could not initialize class io.jdispatch.TaskRunner": OutOfMemoryTest with -Xlog:exceptions),
            // and the first run of each VarHandle access links it, which allocates.
            TaskRunner.init();
            new Stats("", true).completed();
            new Stats("", false).completed();
        }

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
