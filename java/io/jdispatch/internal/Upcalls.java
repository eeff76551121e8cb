package io.jdispatch.internal;

import io.jdispatch.Dispatch;

import java.util.function.LongConsumer;

/**
 * Where the native trampolines land in Java, and the one place where user code (tasks, handlers, apply
 * bodies) runs: its exceptions go to {@link Dispatch#reportException} and never reach native code.
 *
 * <p>User code on a libdispatch worker starts with the thread's interrupt status cleared, as
 * ThreadPoolExecutor does: a task that leaves its thread interrupted must not interrupt the next task on
 * that worker (whose interruptible I/O would fail with ClosedByInterruptException). Code that libdispatch
 * runs on the thread that called into it ({@link OnCaller} tasks of dispatch_sync, {@link Apply} iterations
 * on the caller) sees and keeps that caller's own status.
 */
public final class Upcalls {
    /**
     * The task id of the drains' retry timer ({@code io.jdispatch.Drain}): not a {@link Handles} id (those are
     * positive), so queueing it needs no memory, and it is never removed.
     */
    public static final long RETRY = -1;
    private static volatile Runnable retry;

    private Upcalls() {}

    /** Installs what the {@link #RETRY} task runs. */
    public static void setRetry(Runnable task) {
        retry = task;
    }

    /**
     * Initializes this class and {@link Dispatch}, which every trampoline's catch block needs, and runs each path
     * of {@link #task} and {@link #apply} once, while fds and memory are there (called where the trampolines are
     * installed). The first run of an {@code instanceof} loads its class, and under a full heap that load throws
     * OutOfMemoryError after the task was taken from {@link Handles}: the task was lost, and when it was a
     * queue's drain the queue never ran again (OutOfMemoryTest, about 1 run in 20 beside a CPU hog, when no
     * {@code sync} had loaded {@link OnCaller} yet).
     */
    static void preload() {
        Dispatch.getUncaughtExceptionHandler();
        Runnable nothing = () -> {};
        task(Handles.register((OnCaller) () -> {}));
        task(Handles.register(nothing, (TaskContext) Runnable::run));
        task(Handles.register(nothing));
        long kept = Handles.register(nothing, KEPT);
        task(kept);
        Handles.remove(kept);
        long apply = Handles.register(new Apply(index -> {}, Thread.currentThread()));
        apply(apply, 0);
        Handles.remove(apply);
    }

    /**
     * The context of a task id that stays registered after it ran: a work item's body (jd_block.h), which
     * libdispatch runs each time the block runs; its owner removes the id when the block is freed. The task
     * catches its own failures.
     */
    public static final Object KEPT = new Object();

    /** A dispatch_sync task: it runs on its waiting caller's thread and catches its own failures. */
    public interface OnCaller extends Runnable {}

    /** A dispatch_apply body and the thread that called dispatch_apply (libdispatch runs iterations there too). */
    public record Apply(LongConsumer body, Thread caller) {}

    /**
     * What a queue's task runs with (naming the worker, counting, reporting with the queue's label): the
     * context of the task's {@link Handles} id, so that a submit allocates no wrapper.
     */
    public interface TaskContext {
        /**
         * Runs {@code task} on this worker; never throws.
         *
         * @param task the task
         */
        void run(Runnable task);
    }

    static void task(long id) {
        if (id == RETRY) {
            Runnable r = retry;
            if (r != null) {
                runReporting(r);
            }
            return;
        }
        Object context = Handles.context(id); // before remove(), which clears it
        if (context == KEPT) {
            if (Handles.get(id) instanceof Runnable body) {
                body.run();
            }
            return;
        }
        // Anything else (a queue-specific value, whose destructor is this trampoline) is only removed: released.
        Object task = Handles.remove(id);
        if (task instanceof OnCaller onCaller) {
            onCaller.run();
        } else if (task instanceof Runnable r) {
            if (context instanceof TaskContext c) {
                c.run(r);
            } else {
                runReporting(r);
            }
        }
    }

    static void apply(long id, long index) {
        if (Handles.get(id) instanceof Apply apply) {
            if (Thread.currentThread() != apply.caller()) {
                Thread.interrupted(); // a worker: nothing left over from the task or iteration before
            }
            acceptReporting(apply.body(), index);
        }
    }

    /** For a failure outside user code (e.g. OutOfMemoryError in the lookup): report it, never rethrow. */
    static void lastResort(Throwable t) {
        try {
            Dispatch.reportException(t);
        } catch (Throwable ignored) {
            // Nothing more can be done on a native thread.
        }
    }

    /**
     * Runs user code on a libdispatch worker, with the interrupt status an earlier task may have left cleared;
     * what it throws goes to {@link Dispatch#reportException}.
     */
    public static void runReporting(Runnable r) {
        Thread.interrupted();
        try {
            r.run();
        } catch (Throwable t) {
            Dispatch.reportException(t);
        }
    }

    /**
     * One iteration of an apply body, on whichever thread runs it (its interrupt status untouched); what it
     * throws goes to {@link Dispatch#reportException}.
     */
    public static void acceptReporting(LongConsumer body, long index) {
        try {
            body.accept(index);
        } catch (Throwable t) {
            Dispatch.reportException(t);
        }
    }
}
