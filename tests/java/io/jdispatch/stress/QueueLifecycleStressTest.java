package io.jdispatch.stress;

import io.jdispatch.DispatchQueue;
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
    void createUseCloseCyclesLeaveFdsRssAndHeapFlat() throws Exception {
        int cycles = Stress.count(100_000);
        // Warm up until bounded caches are full: native memory in use rises ~12 MB over the first few hundred
        // thousand cycles, then stays flat (measured: 3M further cycles after 1M moved it by -72 KiB).
        cycle(3 * cycles);
        ProcessStats before = ProcessStats.now();
        int handlesBefore = Handles.size(); // other test classes in this JVM may hold some
        long t0 = System.nanoTime();
        long ran = cycle(3 * cycles);
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        ProcessStats after = ProcessStats.now();
        Stress.report("queue create/async/close", String.format("%d cycles in %d ms; before %s; after %s", 3 * cycles, ms, before, after));
        assertEquals(3 * cycles, ran);
        assertTrue(Handles.size() <= handlesBefore, "task handles left registered: " + handlesBefore + " -> " + Handles.size());
        assertTrue(after.openFds() <= before.openFds() + 2, "fds grew: " + before + " -> " + after);
        assertTrue(after.heapUsedKiB() <= before.heapUsedKiB() + 8 * 1024, "heap grew: " + before + " -> " + after);
        if (before.nativeMemoryMeasured()) {
            // A leaked queue holds >= 100 bytes of malloc'd memory: 300k of them would be 30 MB in use. Without a
            // leak the figure moves by -5..+2.4 MB between runs (libdispatch's per-thread caches): 8 MB still
            // catches any leak of 27 bytes or more per cycle.
            assertTrue(after.nativeKiB() <= before.nativeKiB() + 8 * 1024, "native memory grew: " + before + " -> " + after);
            // RSS climbs to malloc's high-water mark (as in a pure C loop over libdispatch): a coarse bound only.
            assertTrue(after.rssKiB() <= before.rssKiB() + 48 * 1024, "RSS grew: " + before + " -> " + after);
        }
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
        while ((ran.get() < n || Handles.size() > handlesBefore) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(100);
            rounds++;
        }
        Stress.report("suspended queues dropped with a task", String.format("%d queues; %d ran, handles %d -> %d after %d GC rounds",
                n, ran.get(), handlesBefore, Handles.size(), rounds));
        assertEquals(n, ran.get(), "tasks of dropped suspended queues that never ran");
        assertTrue(Handles.size() <= handlesBefore, "handles left registered: " + handlesBefore + " -> " + Handles.size());
    }

    @Test
    void queuesDroppedWithoutCloseAreReleasedByTheCleaner() throws Exception {
        int n = Stress.count(20_000);
        CountDownLatch done = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            DispatchQueue.createSerial("dropped-" + i).async(done::countDown); // never closed
        }
        assertTrue(done.await(60, TimeUnit.SECONDS));
        long rssBefore = ProcessStats.currentRssKiB();
        for (int i = 0; i < n; i++) {
            DispatchQueue.createSerial("dropped-again-" + i);
        }
        ProcessStats.heapAfterGc(); // lets the Cleaner run; no crash at GC is the first thing checked
        Thread.sleep(200);
        Stress.report("queues dropped without close", String.format("%d queues; rss %d -> %d KiB", 2 * n, rssBefore, ProcessStats.currentRssKiB()));
    }
}
