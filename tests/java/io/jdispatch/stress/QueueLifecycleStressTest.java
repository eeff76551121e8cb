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
        // A full round first: JIT, libdispatch's thread pool and malloc's high-water mark settle in it.
        cycle(cycles);
        Stress.Measured m = Stress.measure("queue create/async/close", cycles + " cycles", 8 * 1024, () -> {
            int handlesBefore = Handles.size(); // other test classes in this JVM may hold some
            assertEquals(cycles, cycle(cycles));
            assertEquals(handlesBefore, Handles.size(), "task handles left registered");
        });
        ProcessStats before = m.before(), after = m.after();
        assertTrue(after.openFds() <= before.openFds() + 2, "fds grew: " + before + " -> " + after);
        assertTrue(after.heapUsedKiB() <= before.heapUsedKiB() + 8 * 1024, "heap grew: " + before + " -> " + after);
        // A leaked queue costs ~200 bytes of native memory: 100k of them would be 20 MB.
        Stress.assertRssFlat(before, after, 8 * 1024, "queue create/async/close");
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
