package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.JDispatchNative;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;

/**
 * The Java side of a serial queue: tasks wait in a lock-free FIFO (many producers, one consumer) and one
 * libdispatch work item, this drain, runs many of them per JNI upcall. Without it every task costs a JNI
 * upcall from the worker thread, which made a serial queue several times slower than ThreadPoolExecutor(1).
 *
 * <p>At most one drain is queued or running per queue ({@code scheduled}), so tasks still run one at a time,
 * in FIFO order, on the queue (its targets, dispatch_get_specific and suspension apply to the drain as to any
 * work item). Everything that must be ordered with {@code async} on a serial queue (sync, barriers,
 * group async, apply, work items) goes through this FIFO too. A drain gives the worker back after a 1 ms time slice
 * (re-queueing every 1024 tasks cost a thread hand-off each time on a loaded machine), and as soon as the
 * queue is suspended, by queueing itself again on the queue.
 *
 * <p>A sync task runs on its caller's thread, as in C (a sync that parked its caller and took a worker would
 * cost a thread of libdispatch's pool per nesting level, and nested syncs would exhaust it). The caller
 * queues a {@link Turn}; when the FIFO before it has run, the drain hands the FIFO to the caller (it stays
 * {@code scheduled}) and returns. The caller then runs its task with dispatch_sync_f, which libdispatch runs
 * on the calling thread once it owns the queue and every queue it targets (so the hierarchy, suspension and
 * dispatch_get_specific hold as for any work item), and gives the FIFO back. (A virtual thread has a holder
 * thread make that dispatch_sync_f call and runs the task itself meanwhile: see {@link VirtualThreads}.)
 *
 * <p>The worker running a drain is named after the queue for the batch ({@link TaskRunner}).
 */
final class SerialDrain extends Drain {
    /** A drain gives the worker back after this long (checked every {@link #CHECK_EVERY} tasks). */
    private static final long TIME_SLICE_NS = 1_000_000;
    private static final int CHECK_EVERY = 1024;
    private static final int IDLE_SPINS = 256;
    private static final VarHandle TAIL;

    static {
        try {
            TAIL = MethodHandles.lookup().findVarHandle(SerialDrain.class, "tail", Node.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        // Loaded now: the drain's first `instanceof Turn` would otherwise load the class, and under a full heap
        // that throws (see Upcalls.preload).
        Objects.requireNonNull(Turn.class);
        Objects.requireNonNull(Submission.class);
    }

    private static class Node {
        Runnable task;
        volatile Node next;

        Node(Runnable task) {
            this.task = task;
        }
    }

    /** A sync caller's place in the FIFO: the drain reaching it hands the FIFO to the caller. */
    private static final class Turn extends Node {
        private final Thread caller = Thread.currentThread();
        private volatile boolean granted;

        Turn() {
            super(null);
        }

        void grant() {
            granted = true;
            LockSupport.unpark(caller);
        }

        /** Parks until granted; like dispatch_sync not interruptible, and the interrupt status is kept. */
        void await() {
            boolean interrupted = false;
            while (!granted) {
                LockSupport.park(this);
                interrupted |= Thread.interrupted();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * A native submission that keeps its place in the FIFO (dispatch_async of a work item's block): the drain
     * reaching it makes the call on the queue, then queues itself again, behind what it submitted.
     */
    private static final class Submission extends Node {
        private LongConsumer submit;

        Submission(LongConsumer submit) {
            super(null);
            this.submit = submit;
        }
    }

    /** Not the wrapper: a queued drain is reachable from Handles and must not keep a dropped queue alive. */
    private final DispatchQueue.Lifecycle queue;
    private final AtomicInteger scheduled = new AtomicInteger();
    /**
     * Consumer side (only the running drain, or the sync caller whose turn it is, touches it): the last node
     * taken; its successor is next.
     */
    private Node head;
    @SuppressWarnings("unused") // through TAIL
    private volatile Node tail;

    SerialDrain(DispatchQueue.Lifecycle queue, DispatchQueue.Stats stats) {
        super(stats);
        this.queue = queue;
        head = new Node(null);
        tail = head;
    }

    /**
     * Appends a task (Vyukov's MPSC queue: swap the tail, then link). Returns true when no drain is queued or
     * running (nor a sync caller's turn): the caller must then queue this drain on the queue (dispatch_async_f).
     */
    @Override
    public boolean offer(Runnable task) {
        return link(new Node(task));
    }

    /**
     * Appends a native submission onto this queue ({@code submit} gets the queue's address; it must not throw),
     * made once the tasks before it ran: libdispatch then runs what it submitted before the tasks after it.
     * Returns true when the caller must {@link #schedule} this drain, as {@link #offer} does.
     */
    boolean offerSubmission(LongConsumer submit) {
        return link(new Submission(submit));
    }

    private boolean link(Node n) {
        Node prev = (Node) TAIL.getAndSet(this, n);
        prev.next = n;
        return scheduled.get() == 0 && scheduled.compareAndSet(0, 1);
    }

    /**
     * Runs {@code inQueue} after every task queued before it, with the FIFO handed to the caller:
     * {@code inQueue} enters the native queue (dispatch_sync_f, on the caller or on a virtual thread's holder)
     * and runs the sync task there. The caller holds a use of the queue (it stays allocated).
     */
    void sync(Runnable inQueue) {
        Turn turn = new Turn();
        if (!link(turn)) {
            turn.await(); // a drain is queued or running: it hands over on reaching the turn
        } else if (head.next == turn) {
            head = turn; // the FIFO was empty and is ours: no hand-off needed
        } else {
            // A task offered just before ours is not taken yet (its producer lost the claim to us): drain it first.
            schedule(queue.address);
            turn.await();
        }
        try {
            inQueue.run();
        } finally {
            giveBack();
        }
    }

    /** Ends a sync's turn: the next sync caller in line gets the FIFO directly, queued tasks get a drain. */
    private void giveBack() {
        if (head.next instanceof Turn next) {
            head = next;
            next.grant();
            return;
        }
        scheduled.set(0);
        // As at the end of run(): take over a node linked before the set, by a producer that saw 1.
        if (head.next != null && scheduled.compareAndSet(0, 1)) {
            schedule(queue.address);
        }
    }

    /**
     * Runs the FIFO. Should anything but a task throw here (the tasks' own failures are caught by
     * {@link TaskRunner}; an OutOfMemoryError can still surface in compiled code, e.g. where a deoptimization
     * reallocates an eliminated object), a drain that still owns the FIFO queues itself again before the error
     * is reported, or the queue would never run again. Ownership ends where the FIFO is handed on (to a sync
     * caller, to a queued drain, or given up with {@code scheduled} cleared): from there nothing is touched.
     */
    @Override
    void drain() {
        boolean owned = true;
        try {
            long start = System.nanoTime();
            int ran = 0;
            int spins = 0;
            while (true) {
                Node next = head.next;
                if (next == null) {
                    // After a burst (more than one task in this drain) more may follow: spinning a little is far
                    // cheaper than going idle and being queued again. After a lone task it is not: the spin would
                    // only take a core from the threads that do the work (a group's tasks, the one waiting for them).
                    if (ran > 1 && spins++ < IDLE_SPINS) {
                        Thread.onSpinWait();
                        continue;
                    }
                    owned = false;
                    scheduled.set(0);
                    // A producer that linked its node before our set (and saw scheduled == 1) queued no drain:
                    // take its task here. One still between its swap and its link will see 0 and queue a drain
                    // itself, so the drain never waits for a producer that was preempted mid-offer.
                    if (head.next == null || !scheduled.compareAndSet(0, 1)) {
                        return;
                    }
                    owned = true;
                    spins = 0;
                    continue;
                }
                if (queue.isSuspended() || (++ran % CHECK_EVERY == 0 && System.nanoTime() - start > TIME_SLICE_NS)) {
                    // Still scheduled: queue the drain again (behind the queue's other work, or until resume).
                    owned = false;
                    schedule(queue.address);
                    return;
                }
                if (next instanceof Turn turn) {
                    head = next;
                    owned = false;
                    turn.grant(); // the FIFO, still scheduled, is the sync caller's now: touch nothing after this
                    return;
                }
                if (next instanceof Submission submission) {
                    head = next;
                    LongConsumer submit = submission.submit;
                    submission.submit = null;
                    submit.accept(queue.address);
                    owned = false;
                    schedule(queue.address); // still scheduled: the FIFO goes on behind the submitted work
                    return;
                }
                head = next;
                Runnable task = next.task;
                next.task = null; // the task is released as soon as it ran
                spins = 0;
                TaskRunner.run(task, stats.label, stats);
            }
        } catch (Throwable outsideTheTasks) {
            if (owned) {
                schedule(queue.address);
            }
            throw outsideTheTasks;
        }
    }
}
