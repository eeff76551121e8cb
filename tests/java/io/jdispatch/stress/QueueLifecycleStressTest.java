package io.jdispatch.stress;

import io.jdispatch.DispatchQueue;
import io.jdispatch.LibdispatchRefs;
import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ProcessStats;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Queues created, used and closed 100,000 times, and queues dropped without close: nothing accumulates. */
class QueueLifecycleStressTest {
    @Test
    void createUseCloseCyclesLeaveFdsNativeMemoryAndHeapFlat() throws Exception {
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

    /** Resumed: their tasks run. Released: their target's do_ref_cnt falls back to idle ({@link LibdispatchRefs}). */
    @Test
    void suspendedSerialQueuesDroppedWithATaskAreResumedAndReleasedByTheCleaner() throws Exception {
        int n = Stress.count(20_000);
        int handlesBefore = Handles.size(); // other test classes in this JVM may hold some
        AtomicLong ran = new AtomicLong();
        try (DispatchQueue target = DispatchQueue.createSerial("dropped-suspended.target")) {
            int idle = LibdispatchRefs.checkedIdleRefs(target);
            for (int i = 0; i < n; i++) {
                DispatchQueue q = LibdispatchRefs.targeting(target, DispatchQueue.Attributes.SERIAL, "dropped-suspended-" + i);
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
            int refs = LibdispatchRefs.awaitRefs(target, idle, "after " + n + " suspended queues targeting it were "
                    + "dropped (idle: " + idle + "): each reference above idle is a queue never released");
            int handles = ProcessStats.awaitHandlesCollected(handlesBefore, "handles left registered (" + handlesBefore + " before)");
            Stress.report("suspended queues dropped with a task", String.format("%d queues; %d ran, handles %d -> %d "
                    + "after %d GC rounds; their target's do_ref_cnt back to %d (idle)", n, ranAll, handlesBefore, handles,
                    rounds, refs));
        }
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
        int handlesBefore = Handles.size();
        try (DispatchQueue target = DispatchQueue.createSerial("dropped.target")) {
            int idle = LibdispatchRefs.checkedIdleRefs(target);
            Stress.Slopes per = Stress.leakSlopes("queues dropped without close", rounds, n, () -> {
                CountDownLatch done = new CountDownLatch(n);
                for (int i = 0; i < n; i++) {
                    LibdispatchRefs.targeting(target, DispatchQueue.Attributes.SERIAL, "dropped-" + i)
                            .async(done::countDown); // never closed
                }
                assertTrue(done.await(60, TimeUnit.SECONDS), done.getCount() + " tasks of dropped queues never ran");
            });
            int dropped = (rounds + 1) * n; // the warm-up round and the measured ones
            int refs = LibdispatchRefs.awaitRefs(target, idle, "after " + dropped + " queues targeting it were "
                    + "dropped without close (idle: " + idle + "): each reference above idle is a queue never released");
            Stress.report("queues dropped without close", String.format(
                    "%d dropped; their target's do_ref_cnt back to %d (idle)", dropped, refs));
            // A queue never released would also keep its memory: the slopes say so (a kept wrapper is >= 150 B).
            Stress.assertFlat(per, 16, 48, "queues dropped without close");
        }
        ProcessStats.awaitHandlesCollected(handlesBefore, "handles left registered (" + handlesBefore + " before)");
    }
}
