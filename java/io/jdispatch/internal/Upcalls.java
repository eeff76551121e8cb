package io.jdispatch.internal;

import io.jdispatch.Dispatch;

import java.util.function.LongConsumer;

/**
 * Where the native trampolines land in Java, and the one place where user code (tasks, handlers, apply
 * bodies) runs: its exceptions go to {@link Dispatch#reportException} and never reach native code.
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

    /** Loads, while memory is there, what reporting an exception needs (called where the trampolines are installed). */
    static void preload() {
        Dispatch.getUncaughtExceptionHandler();
    }

    static void task(long id) {
        Object task = id == RETRY ? retry : Handles.remove(id);
        if (task instanceof Runnable) {
            runReporting((Runnable) task);
        }
    }

    static void apply(long id, long index) {
        Object body = Handles.get(id);
        if (body instanceof LongConsumer) {
            acceptReporting((LongConsumer) body, index);
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

    /** Runs user code; what it throws goes to {@link Dispatch#reportException}. */
    public static void runReporting(Runnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            Dispatch.reportException(t);
        }
    }

    /** One iteration of an apply body; what it throws goes to {@link Dispatch#reportException}. */
    public static void acceptReporting(LongConsumer body, long index) {
        try {
            body.accept(index);
        } catch (Throwable t) {
            Dispatch.reportException(t);
        }
    }
}
