package io.jdispatch;

import io.jdispatch.internal.BlockNative;
import io.jdispatch.internal.Handles;
import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.QueueNative;
import io.jdispatch.internal.Upcalls;

import java.time.Duration;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * A work item: a dispatch block object (dispatch_block_create(3)) whose body is a Java task, Swift's
 * {@code DispatchWorkItem}. It can be submitted to queues any number of times ({@link DispatchQueue#async(DispatchWorkItem)},
 * {@code sync}, {@code after}, {@link DispatchGroup#async(DispatchQueue, DispatchWorkItem)}, {@code notify}),
 * executed directly ({@link #perform()}), cancelled ({@link #cancel()}: executions that have not started return
 * at once), waited for ({@link #wait(DispatchTime)}) and observed ({@link #notify(DispatchQueue, Runnable)}).
 * The flags ({@link #BARRIER} and the QoS ones) are dispatch_block_flags_t.
 *
 * <p>libdispatch's rules (block.h), which it enforces by aborting the process, are refused here with an
 * {@link IllegalStateException}: a work item that is waited for or observed may be executed only once, and
 * waited for only once (a wait that timed out does not count); {@code wait} from the item's own task would wait
 * for itself. Every submission and direct execution counts as an execution, even one that cancellation skips.
 *
 * <p>Where the task runs and where its exception goes: submitted for asynchronous execution ({@code async},
 * {@code after}, groups, notifications), on a libdispatch worker, named after the queue meanwhile, with its
 * exception reported to {@link Dispatch#setUncaughtExceptionHandler} (the queue keeps running); {@code sync}
 * and {@link #perform()} run it on the calling thread and rethrow its exception there. On a virtual thread,
 * {@code sync} and {@code perform} run the task on the virtual thread while a holder platform thread makes the
 * native call, and {@code wait} parks in Java: no native frame pins the carrier. On a serial queue created
 * here, {@code async} keeps FIFO order with the queue's other tasks. Work items are not counted in
 * {@link DispatchQueue#getCounters()} (a cancelled execution never reaches Java, so its end could not be
 * counted).
 *
 * <p>{@link #close()} is Block_release: libdispatch keeps the block while submissions of it are pending, and the
 * task stays reachable until the last of them ran. A Cleaner releases an item that was never closed, unless its
 * task refers to the item (then the item stays until closed). Once closed, the owner's calls are refused; the
 * item's own task may still use it ({@link #isCancelled()}, {@link #cancel()}, submitting it again).
 *
 * <p>On Linux the QoS flags are accepted and passed on, but Linux libdispatch has no thread QoS, so they change
 * nothing a program can observe; {@link #BARRIER} acts on a queue created concurrent.
 */
public final class DispatchWorkItem extends DispatchObject {
    /** DISPATCH_BLOCK_BARRIER: submitted to a concurrent queue, the item runs alone (dispatch_barrier_async). */
    public static final long BARRIER = 0x1;
    /** DISPATCH_BLOCK_DETACHED: runs disassociated from the submitter's execution context (activities, QoS). */
    public static final long DETACHED = 0x2;
    /** DISPATCH_BLOCK_ASSIGN_CURRENT: takes the execution context current at creation, not at submission. */
    public static final long ASSIGN_CURRENT = 0x4;
    /** DISPATCH_BLOCK_NO_QOS_CLASS: assigns no QoS class; runs with the queue's (or the caller's, directly). */
    public static final long NO_QOS_CLASS = 0x8;
    /** DISPATCH_BLOCK_INHERIT_QOS_CLASS: prefers the queue's QoS over the item's (the default for async). */
    public static final long INHERIT_QOS_CLASS = 0x10;
    /** DISPATCH_BLOCK_ENFORCE_QOS_CLASS: prefers the item's QoS over the queue's (the default for sync). */
    public static final long ENFORCE_QOS_CLASS = 0x20;

    private static final long ALL_FLAGS = BARRIER | DETACHED | ASSIGN_CURRENT | NO_QOS_CLASS | INHERIT_QOS_CLASS
            | ENFORCE_QOS_CLASS;
    private static final String[] FLAG_NAMES = {"BARRIER", "DETACHED", "ASSIGN_CURRENT", "NO_QOS_CLASS",
            "INHERIT_QOS_CLASS", "ENFORCE_QOS_CLASS"};

    /** On each thread: the work items whose task runs there now, innermost first. */
    private static final ThreadLocal<Running> RUNNING = new ThreadLocal<>();
    /** On each thread: the synchronous execution (sync, perform) whose body libdispatch is about to run there. */
    private static final ThreadLocal<Direct> DIRECT = new ThreadLocal<>();

    private final long flags;
    private final Body body;
    private final Uses uses = new Uses();

    private DispatchWorkItem(long block, long flags, Body body) {
        super(block, new Release(block));
        this.flags = flags;
        this.body = body;
    }

    /**
     * dispatch_block_create(0, task).
     *
     * @param task what each execution runs
     * @return the new work item
     */
    public static DispatchWorkItem create(Runnable task) {
        return create(0, task);
    }

    /**
     * dispatch_block_create(flags, task).
     *
     * @param flags a bitwise OR of {@link #BARRIER}, {@link #DETACHED}, {@link #ASSIGN_CURRENT},
     *              {@link #NO_QOS_CLASS}, {@link #INHERIT_QOS_CLASS}, {@link #ENFORCE_QOS_CLASS}, or 0
     * @param task  what each execution runs
     * @return the new work item
     * @throws IllegalArgumentException for bits that are none of these flags
     */
    public static DispatchWorkItem create(long flags, Runnable task) {
        Objects.requireNonNull(task, "dispatch_block_create: task is null");
        checkFlags("dispatch_block_create", flags);
        Body body = new Body(task);
        long runId = Handles.register(body, Upcalls.KEPT);
        long disposeId = 0;
        long block = 0;
        try {
            disposeId = Handles.register(new Dispose(runId));
            block = BlockNative.jd_block_create(flags, runId, disposeId);
        } finally {
            if (block == 0) { // idempotent: the dispose may have run already
                Handles.remove(runId);
                if (disposeId != 0) {
                    Handles.remove(disposeId);
                }
            }
        }
        if (block == 0) {
            throw new IllegalStateException("dispatch_block_create(" + flagNames(flags) + ") returned NULL (no "
                    + "memory for the work item)");
        }
        return new DispatchWorkItem(block, flags, body);
    }

    /**
     * dispatch_block_perform(flags, task): runs {@code task} once, now, on the calling thread, as a temporary work
     * item with these flags; its exception is rethrown here (a checked one wrapped in CompletionException).
     *
     * @param flags as for {@link #create(long, Runnable)}
     * @param task  what runs
     * @throws IllegalArgumentException for bits that are none of the flags (libdispatch aborts on them)
     */
    public static void perform(long flags, Runnable task) {
        Objects.requireNonNull(task, "dispatch_block_perform: task is null");
        checkFlags("dispatch_block_perform", flags);
        Throwable[] failure = new Throwable[1];
        if (VirtualThreads.current()) {
            VirtualThreads.handOver("dispatch_block_perform", hand -> performOnce(flags, hand),
                    () -> failure[0] = runCaught(task));
        } else {
            performOnce(flags, (Upcalls.OnCaller) () -> failure[0] = runCaught(task));
        }
        DispatchQueue.rethrow(failure[0]);
    }

    private static void performOnce(long flags, Upcalls.OnCaller body) {
        long id = Handles.register(body);
        try {
            BlockNative.jd_block_perform_task(flags, id);
        } finally {
            Handles.remove(id); // the body removed it already, unless it never ran
        }
    }

    // ---- executing -----------------------------------------------------------------------------------

    /**
     * Executes the item now, on the calling thread, as calling the block does in C ({@code block()}); its
     * exception is rethrown here. Does nothing more than count as an execution once the item is cancelled.
     */
    public void perform() {
        call("perform", b -> {
            uses.execution(this, "perform");
            executeHere("perform", null, false, () -> BlockNative.jd_block_invoke(b));
        });
    }

    /**
     * dispatch_block_cancel: executions that have not started return at once, without running the task (an
     * execution in progress goes on). Cannot be undone.
     */
    public void cancel() {
        call("dispatch_block_cancel", BlockNative::jd_block_cancel);
    }

    /** {@return true once {@link #cancel()} was called} (dispatch_block_testcancel) */
    public boolean isCancelled() {
        return callForLong("dispatch_block_testcancel", BlockNative::jd_block_testcancel) != 0;
    }

    /** {@return the dispatch_block_flags_t the item was created with} */
    public long getFlags() {
        return flags;
    }

    // ---- waiting and observing ---------------------------------------------------------------------------

    /**
     * dispatch_block_wait: waits until the item's first execution completed (at once if it has; a cancelled
     * execution completes too), or until {@code timeout}. On a virtual thread the wait parks in Java.
     *
     * @param timeout the deadline ({@link DispatchTime#FOREVER} waits as long as it takes)
     * @return true when the execution completed, false on timeout (which does not count as the one wait)
     * @throws IllegalStateException when the item was executed more than once, was waited for already, or the
     *                               caller runs the item's own task (libdispatch aborts, or waits forever)
     */
    public boolean wait(DispatchTime timeout) {
        Objects.requireNonNull(timeout, "dispatch_block_wait: timeout is null");
        return waitFor(timeout, -1);
    }

    /**
     * dispatch_block_wait(dispatch_time(DISPATCH_TIME_NOW, timeout)): see {@link #wait(DispatchTime)}.
     *
     * @param timeout how long to wait at most (zero or negative: only whether it completed already)
     * @return true when the execution completed, false on timeout
     */
    public boolean wait(Duration timeout) {
        Objects.requireNonNull(timeout, "dispatch_block_wait: timeout is null");
        return VirtualThreads.current() ? waitFor(null, Math.max(0, DispatchTime.saturatedNanos(timeout)))
                : waitFor(DispatchTime.fromNow(timeout), -1);
    }

    /**
     * dispatch_block_wait(dispatch_time(DISPATCH_TIME_NOW, timeout)): see {@link #wait(DispatchTime)}.
     *
     * @param timeout how long to wait at most
     * @param unit    the unit of {@code timeout}
     * @return true when the execution completed, false on timeout
     */
    public boolean wait(long timeout, TimeUnit unit) {
        Objects.requireNonNull(unit, "dispatch_block_wait: unit is null");
        return wait(Duration.ofNanos(unit.toNanos(timeout)));
    }

    /** The wait, until {@code timeout}, or (virtual threads only, timeout null) for {@code timeoutNanos}. */
    private boolean waitFor(DispatchTime timeout, long timeoutNanos) {
        if (runsHere(body)) {
            throw new IllegalStateException("dispatch_block_wait of " + this + " from its own task: it would wait "
                    + "for itself");
        }
        return callFor("dispatch_block_wait", b -> {
            uses.beginWait(this);
            boolean completed = false;
            try {
                completed = VirtualThreads.current() ? parkedWait(b, timeout, timeoutNanos) : nativeWait(b, timeout);
            } finally {
                uses.endWait(completed);
            }
            return completed;
        });
    }

    private static boolean nativeWait(long b, DispatchTime timeout) {
        while (BlockNative.jd_block_wait(b, timeout.rawValue()) != 0) {
            if (!timeout.pending()) { // libdispatch may give up a little early (DispatchTime.pending)
                return false;
            }
        }
        return true;
    }

    /**
     * A virtual thread's wait: done if the execution completed (dispatch_block_wait(NOW)), else parked until a
     * dispatch_block_notify on the wakeup queue or the timeout. A notify whose wait timed out stays with the item
     * until its execution completes (or the block is freed), then does nothing.
     */
    private static boolean parkedWait(long b, DispatchTime timeout, long timeoutNanos) {
        long now = DispatchTime.NOW.rawValue();
        if (BlockNative.jd_block_wait(b, now) == 0) {
            return true;
        }
        if (timeoutNanos == 0 || (timeout != null && timeout.rawValue() == now)) {
            return false;
        }
        ParkedWaiter w = new ParkedWaiter();
        BlockNative.jd_block_notify_task(b, ParkedWaiter.wakeupQueue(), Handles.register((Runnable) w::grant));
        return timeout != null ? w.await(timeout) : w.awaitNanos(timeoutNanos);
    }

    /**
     * dispatch_block_notify: runs {@code task} on {@code queue} once the item's first execution completed (at
     * once if it has). Any number of notifications may observe an item executed at most once.
     *
     * @param queue where the task runs
     * @param task  what runs; what it throws goes to {@link Dispatch#setUncaughtExceptionHandler}
     * @throws IllegalStateException when the item was executed more than once (libdispatch aborts)
     */
    public void notify(DispatchQueue queue, Runnable task) {
        Objects.requireNonNull(queue, "dispatch_block_notify: queue is null");
        Objects.requireNonNull(task, "dispatch_block_notify: task is null");
        callWith("dispatch_block_notify", queue, (b, q) -> {
            uses.observe(this);
            BlockNative.jd_block_notify_task(b, q, queue.register(task));
        });
    }

    /**
     * dispatch_block_notify with a work item: submits {@code item} to {@code queue} once this item's first
     * execution completed. That submission counts as an execution of {@code item}.
     *
     * @param queue where {@code item} runs
     * @param item  the work item to submit
     * @throws IllegalStateException when this item was executed more than once, or {@code item} may not be
     *                               executed again (see the class comment)
     */
    public void notify(DispatchQueue queue, DispatchWorkItem item) {
        Objects.requireNonNull(queue, "dispatch_block_notify: queue is null");
        Objects.requireNonNull(item, "dispatch_block_notify: item is null");
        callWith("dispatch_block_notify", queue, (b, q) -> item.call("dispatch_block_notify", other -> {
            uses.observe(this);
            item.uses.execution(item, "dispatch_block_notify");
            BlockNative.jd_block_notify_block(b, q, other);
        }));
    }

    // ---- submitting (DispatchQueue and DispatchGroup call these) -------------------------------------------

    /**
     * dispatch_async or dispatch_barrier_async of this item onto {@code queue}; on a serial queue created here
     * (a {@link SerialDrain}) made from the FIFO, in order with the queue's other tasks.
     */
    void async(String call, DispatchQueue queue, SerialDrain drain, boolean barrier) {
        callWith(call, queue, (b, q) -> {
            if (drain == null) {
                uses.execution(this, call);
                if (barrier) {
                    BlockNative.jd_block_barrier_async(q, b);
                } else {
                    BlockNative.jd_block_async(q, b);
                }
                return;
            }
            // A serial queue runs every item alone: the barrier form changes nothing there.
            long held = BlockNative.jd_block_retain(b); // the FIFO's reference, until the drain submitted it
            fromFifo(call, drain, q, held, () -> {}, queueAddress -> {
                BlockNative.jd_block_async(queueAddress, held);
                BlockNative.jd_block_release(held);
            });
        });
    }

    /** dispatch_group_async(group, queue, this item); FIFO-ordered on a serial queue created here. */
    void groupAsync(DispatchGroup group, DispatchQueue queue, SerialDrain drain) {
        group.callWith("dispatch_group_async", queue, (g, q) -> call("dispatch_group_async", b -> {
            if (drain == null) {
                uses.execution(this, "dispatch_group_async");
                BlockNative.jd_block_group_async(g, q, b);
                return;
            }
            // Entered now, so that the group waits for the item while it is in the FIFO (the enter also keeps
            // the native group alive if its wrapper is closed meanwhile); left once libdispatch holds the item.
            long held = BlockNative.jd_block_retain(b);
            QueueNative.dispatch_group_enter(g);
            fromFifo("dispatch_group_async", drain, q, held, () -> QueueNative.dispatch_group_leave(g),
                    queueAddress -> {
                        BlockNative.jd_block_group_async(g, queueAddress, held);
                        QueueNative.dispatch_group_leave(g);
                        BlockNative.jd_block_release(held);
                    });
        }));
    }

    /** Offers a FIFO submission; when it cannot be offered, undoes the execution, {@code undo} and the hold. */
    private void fromFifo(String call, SerialDrain drain, long q, long held, Runnable undo, LongConsumer submit) {
        boolean counted = false;
        try {
            uses.execution(this, call);
            counted = true;
            if (drain.offerSubmission(submit)) {
                drain.schedule(q);
            }
        } catch (Throwable refused) { // no memory for the FIFO node, or a rule: nothing was submitted
            if (counted) {
                uses.undoExecution();
            }
            undo.run();
            BlockNative.jd_block_release(held);
            throw refused;
        }
    }

    /** dispatch_group_notify(group, queue, this item). */
    void groupNotify(DispatchGroup group, DispatchQueue queue) {
        group.callWith("dispatch_group_notify", queue, (g, q) -> call("dispatch_group_notify", b -> {
            uses.execution(this, "dispatch_group_notify");
            BlockNative.jd_block_group_notify(g, q, b);
        }));
    }

    /** dispatch_after(when, queue, this item). */
    void after(DispatchTime when, DispatchQueue queue) {
        callWith("dispatch_after", queue, (b, q) -> {
            uses.execution(this, "dispatch_after");
            BlockNative.jd_block_after(when.rawValue(), q, b);
        });
    }

    /**
     * dispatch_sync or dispatch_barrier_sync of this item onto {@code queue}, which runs it on the calling thread
     * (on a serial queue created here once the FIFO before it ran); the caller checked that it does not wait for
     * itself.
     */
    void sync(String call, DispatchQueue queue, SerialDrain drain, boolean barrier) {
        callWith(call, queue, (b, q) -> { // held while waiting, as DispatchQueue.sync holds the queue
            uses.execution(this, call);
            Runnable enter = barrier ? () -> BlockNative.jd_block_barrier_sync(q, b)
                    : () -> BlockNative.jd_block_sync(q, b);
            // libdispatch runs a BARRIER item as a barrier with dispatch_sync too
            boolean asBarrier = barrier || (flags & BARRIER) != 0;
            if (drain != null) {
                drain.sync(() -> executeHere(call, queue, asBarrier, enter));
            } else {
                executeHere(call, queue, asBarrier, enter);
            }
        });
    }

    /**
     * A synchronous execution: {@code enter} makes libdispatch run the block on this thread, and its body runs
     * the task here (a {@link Direct}); on a virtual thread a holder makes that call while this thread runs the
     * task (as the task of {@code queue}, for {@link DispatchQueue#isCurrent()}; null: no queue), as a barrier of
     * it when {@code barrier} (the native body records that on the thread it runs on). The task's failure is
     * rethrown; nothing runs when the item is cancelled.
     */
    private void executeHere(String call, DispatchQueue queue, boolean barrier, Runnable enter) {
        Direct direct = new Direct(body);
        if (VirtualThreads.current()) {
            Runnable task = () -> direct.failure = body.runHere();
            VirtualThreads.handOver(call, hand -> {
                direct.hand = hand;
                withDirect(direct, enter);
            }, queue == null ? task : () -> VirtualThreads.runAsTaskOf(queue, barrier, task));
        } else {
            withDirect(direct, enter);
        }
        DispatchQueue.rethrow(direct.failure);
    }

    private static void withDirect(Direct direct, Runnable enter) {
        Direct outer = DIRECT.get();
        DIRECT.set(direct);
        try {
            enter.run();
        } finally {
            if (outer == null) {
                DIRECT.remove();
            } else {
                DIRECT.set(outer);
            }
        }
    }

    // ---- the object --------------------------------------------------------------------------------------

    /**
     * A work item is a block, not a dispatch object: it has no target queue.
     *
     * @param target ignored
     * @throws UnsupportedOperationException always
     */
    @Override
    public void setTargetQueue(DispatchQueue target) {
        throw new UnsupportedOperationException("dispatch_set_target_queue on " + this + ": a work item "
                + "(dispatch_block_t) is not a dispatch object; submit it to the queue instead");
    }

    /** Its own task may keep using the item after the owner's close(): libdispatch holds the block while it runs. */
    @Override
    boolean aliveAfterClose() {
        return runsHere(body);
    }

    /** {@return {@code DispatchWorkItem@<identity hash>[<flag names>]}} */
    @Override
    public String toString() {
        return "DispatchWorkItem@" + Integer.toHexString(System.identityHashCode(this)) + "[" + flagNames(flags) + "]";
    }

    private static void checkFlags(String call, long flags) {
        if ((flags & ~ALL_FLAGS) != 0) {
            throw new IllegalArgumentException(call + ": flags 0x" + Long.toHexString(flags) + " have bits 0x"
                    + Long.toHexString(flags & ~ALL_FLAGS) + " that are none of the public DISPATCH_BLOCK_* flags ("
                    + flagNames(ALL_FLAGS) + "; libdispatch returns NULL or aborts on unknown bits and gives its "
                    + "private ones, 0x40 and 0x80, other meanings)");
        }
    }

    private static String flagNames(long flags) {
        StringJoiner names = new StringJoiner("|");
        for (int bit = 0; bit < FLAG_NAMES.length; bit++) {
            if ((flags & (1L << bit)) != 0) {
                names.add(FLAG_NAMES[bit]);
            }
        }
        return flags == 0 ? "0" : names.toString();
    }

    private static boolean runsHere(Body body) {
        for (Running r = RUNNING.get(); r != null; r = r.outer) {
            if (r.body == body) {
                return true;
            }
        }
        return false;
    }

    private static Throwable runCaught(Runnable task) {
        try {
            task.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }

    /** A task of a work item running on a thread, and the ones it runs inside (a perform from a task). */
    private record Running(Body body, Running outer) {}

    /**
     * What the block's body runs, each time libdispatch runs the block and it is not cancelled: registered
     * with {@link Upcalls#KEPT} until the block is freed. Must not reference the wrapper (Handles holds it).
     */
    private static final class Body implements Runnable {
        private final Runnable task;

        Body(Runnable task) {
            this.task = task;
        }

        @Override
        public void run() {
            Direct direct = null;
            try {
                direct = DIRECT.get();
            } catch (Throwable noMemory) { // only a thread without a ThreadLocal map yet allocates: none was set
                // an asynchronous execution, then
            }
            if (direct != null && direct.body == this && !direct.claimed) {
                direct.claimed = true;
                direct.run();
                return;
            }
            onWorker();
        }

        /**
         * An asynchronous execution, on a libdispatch worker: named after its queue, failures reported. The task
         * runs even when there is no memory for the bookkeeping (then only its use of a closed item is refused).
         */
        private void onWorker() {
            String label = currentLabel();
            String saved = label == null ? null : TaskRunner.nameWorker(label);
            Running outer = null;
            boolean pushed = false;
            try {
                outer = RUNNING.get();
                RUNNING.set(new Running(this, outer));
                pushed = true;
            } catch (Throwable noMemory) {
                // run it unmarked
            }
            try {
                TaskRunner.run(task, label, null); // never throws
            } finally {
                if (pushed) {
                    RUNNING.set(outer);
                }
                TaskRunner.restoreName(saved);
            }
        }

        /** Runs the task on the calling thread (a synchronous execution); returns what it threw. */
        Throwable runHere() {
            Running outer = RUNNING.get();
            RUNNING.set(new Running(this, outer));
            try {
                return runCaught(task);
            } finally {
                if (outer == null) {
                    RUNNING.remove();
                } else {
                    RUNNING.set(outer);
                }
            }
        }

        /** The label of the queue running this worker's current work (dispatch_queue_get_label(NULL)), or null. */
        private static String currentLabel() {
            try {
                return JDispatchNative.dispatch_queue_get_label(0);
            } catch (Throwable noMemory) {
                return null;
            }
        }
    }

    /**
     * A synchronous execution waiting for the block's body on the thread that makes the native call (the
     * caller, or a virtual thread's holder, which then hands over to the virtual thread).
     */
    private static final class Direct {
        final Body body;
        Upcalls.OnCaller hand;
        boolean claimed;
        Throwable failure;

        Direct(Body body) {
            this.body = body;
        }

        void run() {
            if (hand != null) {
                hand.run(); // parks the holder while the virtual thread runs the task
            } else {
                failure = body.runHere();
            }
        }
    }

    /** Runs once, when libdispatch freed the block: no execution can come any more, so the body goes. */
    private record Dispose(long runId) implements Upcalls.OnCaller {
        @Override
        public void run() {
            Handles.remove(runId);
        }
    }

    /** Block_release of the owner's reference (close or Cleaner). Must not reference the wrapper. */
    private record Release(long block) implements Runnable {
        @Override
        public void run() {
            BlockNative.jd_block_release(block);
        }
    }

    /**
     * libdispatch's rules on one block (block.h), which it aborts on: an item waited for or observed may run only
     * once, and may be waited for only once. Executions are counted when submitted, which is never less than
     * libdispatch's own count of runs, so what passes here passes there.
     */
    private static final class Uses {
        private long executions;
        private boolean waiting;
        private boolean waited;
        private boolean observed;

        synchronized void execution(DispatchWorkItem item, String call) {
            if (executions > 0 && (waiting || waited || observed)) {
                throw new IllegalStateException(call + " of " + item + ": it was executed already and is "
                        + (observed && !waiting && !waited ? "observed (dispatch_block_notify)" : "waited for")
                        + "; a work item that is waited for or observed may be executed only once (libdispatch "
                        + "aborts the process on a second execution)");
            }
            executions++;
        }

        synchronized void undoExecution() {
            executions--;
        }

        synchronized void beginWait(DispatchWorkItem item) {
            if (waiting || waited) {
                throw new IllegalStateException("dispatch_block_wait of " + item + ": it is " + (waiting
                        ? "being waited for by another thread" : "waited for already") + "; a work item may be "
                        + "waited for only once (libdispatch aborts the process on a second wait)");
            }
            refuseIfRunMoreThanOnce("dispatch_block_wait", item);
            waiting = true;
        }

        synchronized void endWait(boolean completed) {
            waiting = false;
            waited |= completed;
        }

        synchronized void observe(DispatchWorkItem item) {
            refuseIfRunMoreThanOnce("dispatch_block_notify", item);
            observed = true;
        }

        private void refuseIfRunMoreThanOnce(String call, DispatchWorkItem item) {
            if (executions > 1) {
                throw new IllegalStateException(call + " of " + item + ", executed " + executions + " times: only "
                        + "a work item executed at most once can be waited for or observed (libdispatch aborts the "
                        + "process)");
            }
        }
    }
}
