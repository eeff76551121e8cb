package io.jdispatch;

import io.jdispatch.internal.Upcalls;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The queue's label and task counts, shared with its drain (not the wrapper, like {@link QueueLifecycle}). The
 * two counts sit 128 bytes apart in one array: submitters and the workers that complete tasks never write
 * the same cache line (two counter objects side by side on the heap would make every task bounce one).
 * On a serial queue every task completes while the queue is owned (drain, sync, after, notify alike), one
 * at a time, so the completed count needs no atomic add there.
 */
final class QueueStats implements Upcalls.TaskContext {
    private static final VarHandle COUNTS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int SUBMITTED = 8, COMPLETED = 24;
    final String label;
    private final boolean serial;
    private final long[] counts = new long[COMPLETED + 8];

    QueueStats(String label, boolean serial) {
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
