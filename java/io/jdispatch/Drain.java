package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.QueueNative;
import io.jdispatch.internal.Upcalls;

import java.util.concurrent.atomic.AtomicReference;

/**
 * A queue's Java-side task buffer ({@link SerialDrain}, {@link GlobalDrain}): {@code async} offers the task,
 * and the drain, a libdispatch work item on the queue, runs many tasks per JNI upcall.
 *
 * <p>Out of memory: queueing a drain needs a {@link Handles} id, and registering one allocates when the table
 * grows. By then the task is in the buffer and the drain is claimed (its scheduled flag is set, so nobody
 * else queues it): neither may be dropped, or the queue would never run again. So {@link #schedule} never
 * throws: a drain it cannot queue waits on a list that a libdispatch timer retries every 10 ms until memory
 * is back. An {@code async} therefore either throws before its task is buffered (it was not accepted) or
 * its task runs. The retry path allocates nothing.
 */
abstract class Drain implements Runnable {
    private static final long RETRY_NS = 10_000_000;
    private static final long RETRY_QUEUE = JDispatchNative.dispatch_get_global_queue(0, 0);
    /** Drains waiting for memory: a stack linked through {@link #nextWaiting}. */
    private static final AtomicReference<Drain> WAITING = new AtomicReference<>();

    static {
        Upcalls.setRetry(Drain::retry);
        // The JVM links a native method on its first call, and that allocates: call the ones the retry path
        // uses once now, while there is memory (an empty retry round, a no-op retain/release of a global queue).
        JDispatchNative.dispatch_retain(RETRY_QUEUE);
        JDispatchNative.dispatch_release(RETRY_QUEUE);
        // So does the first call of each AtomicReference method (its VarHandle access is linked then): the first
        // waitForMemory, under a full heap, threw from WAITING.compareAndSet and the drain was lost (seen with
        // -Xlog:exceptions in OutOfMemoryTest, about 1 run in 30). Linked now; the list stays empty.
        WAITING.compareAndSet(null, null);
        WAITING.getAndSet(null);
        armRetry();
    }

    /** The queue's label and counters. */
    final DispatchQueue.Stats stats;
    private Drain nextWaiting;
    private long waitingQueue;

    Drain(DispatchQueue.Stats stats) {
        this.stats = stats;
    }

    /** Runs as a libdispatch work item on the queue, its worker named after the queue meanwhile. */
    @Override
    public final void run() {
        String saved = TaskRunner.nameWorker(stats.label);
        try {
            drain();
        } finally {
            TaskRunner.restoreName(saved);
        }
    }

    /** Runs buffered tasks until the buffer is empty or the drain gives its worker back. */
    abstract void drain();

    /** Buffers the task; true when the caller must {@link #schedule} this drain. Throws only before buffering. */
    abstract boolean offer(Runnable task);

    /** dispatch_async_f of this drain on {@code queue}; never throws (see the class comment). */
    final void schedule(long queue) {
        long id = 0;
        try {
            id = Handles.register(this);
            JDispatchNative.jd_queue_async(queue, id);
        } catch (Throwable noMemory) {
            if (id != 0) {
                Handles.remove(id);
            }
            JDispatchNative.dispatch_retain(queue); // it may be closed meanwhile: keep it until the drain is on it
            waitingQueue = queue;
            waitForMemory(this);
        }
    }

    private static void waitForMemory(Drain d) {
        Drain head;
        do {
            head = WAITING.get();
            d.nextWaiting = head;
        } while (!WAITING.compareAndSet(head, d));
        if (head == null) { // whoever makes the list non-empty arms the timer; a round empties it first
            armRetry();
        }
    }

    private static void armRetry() {
        QueueNative.jd_queue_after(QueueNative.dispatch_time(DispatchTime.NOW.rawValue(), RETRY_NS), RETRY_QUEUE,
                Upcalls.RETRY);
    }

    /** One round of the retry timer: queues every waiting drain it can; the others wait for the next round. */
    private static void retry() {
        for (Drain d = WAITING.getAndSet(null); d != null; ) {
            Drain next = d.nextWaiting;
            d.nextWaiting = null;
            long id = 0;
            try {
                id = Handles.register(d);
                JDispatchNative.jd_queue_async(d.waitingQueue, id);
                JDispatchNative.dispatch_release(d.waitingQueue); // the work item holds the queue now
            } catch (Throwable stillNoMemory) {
                if (id != 0) {
                    Handles.remove(id);
                }
                waitForMemory(d);
            }
            d = next;
        }
    }
}
