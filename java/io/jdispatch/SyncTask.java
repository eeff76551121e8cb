package io.jdispatch;

import io.jdispatch.internal.Upcalls;

import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;

/**
 * Runs a Callable for sync on the caller's thread (dispatch_sync_f runs it there), keeping its value or
 * failure for the caller, and counting it done (it runs while the queue is held, like any of its tasks).
 */
final class SyncTask<T> implements Upcalls.OnCaller {
    private final Object task;
    private final Callable<T> body;
    private final QueueStats stats;
    private final Thread caller = Thread.currentThread();
    private T value;
    private Throwable failure;

    /** {@code task}: what the user passed (named in a SlowTask event); {@code body} calls it. */
    SyncTask(Object task, Callable<T> body, QueueStats stats) {
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
}
