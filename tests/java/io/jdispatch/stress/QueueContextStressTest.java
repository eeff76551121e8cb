package io.jdispatch.stress;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSpecificKey;
import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ProcessStats;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Queue-specific values and contexts are let go when replaced and when libdispatch frees their queue, closed or
 * dropped: over rounds of queues that each replace values, nothing grows (heap, native memory, handles).
 */
class QueueContextStressTest {
    private static final DispatchSpecificKey<byte[]> KEY = new DispatchSpecificKey<>();
    private static final DispatchSpecificKey<byte[]> OTHER = new DispatchSpecificKey<>();

    @Test
    void replacedValuesAndTheValuesOfFreedQueuesLeaveNothingBehind() throws Exception {
        int cycles = Stress.count(100_000);
        int handlesBefore = Handles.size(); // other test classes in this JVM may hold some
        AtomicLong finalized = new AtomicLong();
        long[] made = {0};
        // As in QueueLifecycleStressTest: bounded caches (malloc, libdispatch) fill over the first few hundred
        // thousand cycles; rounds of 20,000 after less warm-up grow native memory ~40-70 B/cycle with or without values.
        made[0] += cycle(2 * cycles, finalized);
        Stress.Slopes per = Stress.leakSlopes("queue specifics and contexts", 5, cycles, () -> {
            made[0] += cycle(cycles, finalized);
        });
        // Every queue's finalizer ran: libdispatch freed them all, closed or dropped, and let their values go.
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (finalized.get() < made[0] && System.nanoTime() < end) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(made[0], finalized.get(), "queues whose finalizer never ran");
        ProcessStats.awaitHandlesCollected(handlesBefore, "handles left registered (" + handlesBefore + " before)");
        // A kept value is a 256-byte array (plus its holder): a leak of one per cycle grows the heap >= 270 B/cycle.
        // A queue kept with its specifics holds >= 200 B of malloc'd memory; measured without a leak: +8 to +15 B.
        Stress.assertFlat(per, 48, 32, "queue specifics and contexts");
    }

    /**
     * n queues that each get two values under one key (the first replaced), one under another, a context set
     * twice and a finalizer; a task; then close(), or (every fourth) dropped for the Cleaner.
     */
    private static long cycle(int n, AtomicLong finalized) throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            DispatchQueue q = DispatchQueue.createSerial("specifics-" + i);
            q.setSpecific(KEY, new byte[256]);
            q.setSpecific(KEY, new byte[256]);
            q.setSpecific(OTHER, new byte[256]);
            q.setContext(new byte[256]);
            q.setContext(new byte[256]);
            q.setFinalizer(finalized::incrementAndGet);
            q.async(ran::countDown);
            if (i % 4 != 0) {
                q.close();
            }
        }
        assertTrue(ran.await(60, TimeUnit.SECONDS), ran.getCount() + " tasks never ran");
        return n;
    }
}
