package io.jdispatch;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Java side of a global queue's {@code async}: tasks wait in a lock-free queue and drains (libdispatch
 * work items on the global queue) take them one by one, many per JNI upcall, as many drains at once as
 * libdispatch runs. A global queue has no order and no barrier to keep, so a Java queue in front of it
 * changes nothing but the cost.
 *
 * <p>No task is stranded: a task is offered before the offering thread reads {@code queued}, and a drain
 * decrements {@code queued} before it polls, so either the offer queues a drain or a queued drain will see
 * the task. A drain that is about to run a task while others wait makes sure a drain is queued for them, so
 * a task that blocks never holds up the ones behind it (libdispatch's thread pool takes it from there).
 */
final class GlobalDrain extends Drain {
    /** Like {@link SerialDrain}: give the worker back after a 1 ms slice, checked every 1024 tasks. */
    private static final long TIME_SLICE_NS = 1_000_000;
    private static final int CHECK_EVERY = 1024;

    private final long queue;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Drains queued on libdispatch that have not started yet. */
    private final AtomicInteger queued = new AtomicInteger();

    GlobalDrain(long queue, DispatchQueue.Stats stats) {
        super(stats);
        this.queue = queue;
    }

    @Override
    public boolean offer(Runnable task) {
        tasks.offer(task);
        return claim();
    }

    /** True when the caller must queue a drain: none is queued yet. */
    private boolean claim() {
        return queued.get() == 0 && queued.compareAndSet(0, 1);
    }

    /** Queues a drain for the tasks waiting, unless none waits or one is queued already. */
    private void scheduleForTheRest() {
        if (!tasks.isEmpty() && claim()) {
            schedule(queue);
        }
    }

    /**
     * Runs buffered tasks. Should anything but a task throw here (see {@link SerialDrain#drain}), the tasks
     * left get a drain before the error is reported: with no later {@code async} nobody else would queue one.
     */
    @Override
    void drain() {
        queued.decrementAndGet();
        try {
            long start = System.nanoTime();
            for (int ran = 1; ran % CHECK_EVERY != 0 || System.nanoTime() - start < TIME_SLICE_NS; ran++) {
                Runnable task = tasks.poll();
                if (task == null) {
                    return;
                }
                scheduleForTheRest(); // a task that blocks must not hold up the ones behind it
                TaskRunner.run(task, stats.label, stats);
            }
        } catch (Throwable outsideTheTasks) {
            scheduleForTheRest();
            throw outsideTheTasks;
        }
        scheduleForTheRest(); // the slice is over: give the worker back
    }
}
