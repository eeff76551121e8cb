package io.jdispatch;

/**
 * A queue's Java-side task buffer ({@link SerialDrain}, {@link GlobalDrain}): {@code async} offers the task,
 * and the drain, a libdispatch work item on the queue, runs many tasks per JNI upcall.
 */
interface Drain extends Runnable {
    /** Buffers the task; true when the caller must queue this drain on the queue (dispatch_async_f). */
    boolean offer(Runnable task);
}
