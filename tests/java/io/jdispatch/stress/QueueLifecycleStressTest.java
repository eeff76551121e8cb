package io.jdispatch.stress;

import io.jdispatch.DispatchQueue;
import io.jdispatch.LibdispatchRefs;
import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ProcessStats;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Queues created, used and closed 100,000 times, and queues dropped without close: nothing accumulates. */
class QueueLifecycleStressTest {
    @Test
    void createUseCloseCyclesLeaveFdsRssAndHeapFlat() throws Exception {
        int cycles = Stress.count(100_000);
        // Bounded caches fill first: native memory in use rises ~12 MB over the first few hundred thousand cycles,
        // then stays flat (measured: 3M further cycles after 1M moved it by -72 KiB).
        cycle(2 * cycles);
        int handlesBefore = Handles.size(); // other test classes in this JVM may hold some
        long[] ran = {0};
        Stress.Slopes per = Stress.leakSlopes("queue create/async/close", 5, cycles, () -> ran[0] += cycle(cycles));
        assertEquals(6L * cycles, ran[0]); // the warm-up round and 5 measured ones
        // A task's handle goes just after it returned, which may be after the round's latch let the test go on.
        ProcessStats.awaitHandlesAtMost(handlesBefore, "task handles left registered (" + handlesBefore + " before)");
        // A leaked queue holds >= 100 bytes of malloc'd memory and its wrapper >= 100 bytes of heap.
        Stress.assertFlat(per, 16, 16, "queue create/async/close");
    }

    /** n create/async/close cycles, at most BATCH queues in flight (so memory measures leaks, not backlog). */
    private static long cycle(int n) throws InterruptedException {
        final int batch = 1000;
        AtomicLong ran = new AtomicLong();
        for (int start = 0; start < n; start += batch) {
            int size = Math.min(batch, n - start);
            CountDownLatch done = new CountDownLatch(size);
            for (int i = 0; i < size; i++) {
                try (DispatchQueue q = DispatchQueue.createSerial("stress-" + (start + i))) {
                    q.async(() -> {
                        ran.incrementAndGet();
                        done.countDown();
                    });
                }
            }
            assertTrue(done.await(60, TimeUnit.SECONDS), "not every task ran");
        }
        return ran.get();
    }

    @Test
    void suspendedSerialQueuesDroppedWithATaskAreResumedAndReleasedByTheCleaner() throws Exception {
        int n = Stress.count(20_000);
        int handlesBefore = Handles.size(); // other test classes in this JVM may hold some
        AtomicLong ran = new AtomicLong();
        for (int i = 0; i < n; i++) {
            DispatchQueue q = DispatchQueue.createSerial("dropped-suspended-" + i);
            q.suspend();
            q.async(ran::incrementAndGet); // queues the drain on the suspended queue; never closed, never resumed
        }
        // Each GC lets the Cleaner resume and release more of them; their tasks run, their handles go.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int rounds = 0;
        while (ran.get() < n && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(100);
            rounds++;
        }
        long ranAll = ran.get();
        assertEquals(n, ranAll, "tasks of dropped suspended queues that never ran");
        int handles = ProcessStats.awaitHandlesCollected(handlesBefore, "handles left registered (" + handlesBefore + " before)");
        Stress.report("suspended queues dropped with a task", String.format("%d queues; %d ran, handles %d -> %d after %d GC rounds",
                n, ranAll, handlesBefore, handles, rounds));
    }

    /**
     * The queues' releases are counted by libdispatch itself: each holds one internal reference on its target
     * queue and gives it back only when it is disposed, after its dispatch_release (see {@link LibdispatchRefs}).
     * All of them target one queue, whose count must come back to its idle value.
     */
    @Test
    void queuesDroppedWithoutCloseAreReleasedByTheCleaner() throws Exception {
        int n = Stress.count(20_000);
        int rounds = 7;
        int held = 100;
        int handlesBefore = Handles.size();
        try (DispatchQueue target = DispatchQueue.createSerial("dropped.target")) {
            int idle = LibdispatchRefs.internalRefs(target);
            // The reading is libdispatch's count only if it rises by one per queue that targets this one.
            List<DispatchQueue> alive = new ArrayList<>();
            CountDownLatch heldRan = new CountDownLatch(held);
            for (int i = 0; i < held; i++) {
                DispatchQueue q = targeting(target, "held-" + i);
                q.async(heldRan::countDown);
                alive.add(q);
            }
            assertTrue(heldRan.await(60, TimeUnit.SECONDS), heldRan.getCount() + " tasks of held queues never ran");
            awaitRefs(target, idle + held, "with " + held + " open queues targeting it (idle: " + idle
                    + "); if it never gets there, do_ref_cnt is not where LibdispatchRefs reads it");
            alive.clear(); // dropped too, never closed: released with the others below

            Stress.Slopes per = Stress.leakSlopes("queues dropped without close", rounds, n, () -> {
                CountDownLatch done = new CountDownLatch(n);
                for (int i = 0; i < n; i++) {
                    targeting(target, "dropped-" + i).async(done::countDown); // never closed
                }
                assertTrue(done.await(60, TimeUnit.SECONDS), done.getCount() + " tasks of dropped queues never ran");
            });
            int dropped = held + (rounds + 1) * n; // the warm-up round and the measured ones
            int refs = awaitRefs(target, idle, "after " + dropped + " queues targeting it were "
                    + "dropped without close (idle: " + idle + "): each reference above idle is a queue never released");
            Stress.report("queues dropped without close", String.format(
                    "%d dropped; their target's do_ref_cnt: %d idle, %d with %d held open, %d once all were dropped",
                    dropped, idle, idle + held, held, refs));
            // A queue never released would also keep its memory: the slopes say so (a kept wrapper is >= 150 B).
            Stress.assertFlat(per, 16, 48, "queues dropped without close");
        }
        ProcessStats.awaitHandlesCollected(handlesBefore, "handles left registered (" + handlesBefore + " before)");
    }

    /** A queue whose tasks run on {@code target} (retargeted before activation, the order libdispatch asks for). */
    private static DispatchQueue targeting(DispatchQueue target, String label) {
        DispatchQueue q = DispatchQueue.create(label, DispatchQueue.Attributes.SERIAL.initiallyInactive());
        q.setTargetQueue(target);
        q.activate();
        return q;
    }

    /**
     * Waits up to 60 s, collecting garbage between reads (the Cleaner releases what a collection found
     * unreachable), until the queue's do_ref_cnt is {@code expected}; returns it. Work in flight holds references
     * for a moment, so only the end of the wait decides.
     */
    private static int awaitRefs(DispatchQueue queue, int expected, String when) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int refs;
        while ((refs = LibdispatchRefs.internalRefs(queue)) != expected && System.nanoTime() < end) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(expected, refs, queue + ": do_ref_cnt " + when + " (waited 60 s)");
        return refs;
    }
}
