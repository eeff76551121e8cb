package io.jdispatch.stress;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSpecificKey;
import io.jdispatch.DispatchWorkItem;
import io.jdispatch.DispatchWorkloop;
import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ChildJvm;
import io.jdispatch.testutil.ProcessStats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The issue-17 objects dropped without close() by the hundred thousand in a 64 MB heap (a child JVM): work items
 * queued then dropped, workloops with a task, specific keys, and serial queues with specifics, a context and a
 * finalizer. Judged by the slope over rounds (native memory, heap, fds; handles back to where they were), and
 * every queue's finalizer ran exactly once, after the queue's task.
 */
class DroppedIssue17ObjectsStressTest {
    @Test
    void workItemsWorkloopsKeysAndFinalizedQueuesDroppedWithoutCloseLeaveNothing(@TempDir Path home) throws Exception {
        ChildJvm.Result r = ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path"), "-Xms64m",
                "-Xmx64m", "-Djdispatch.stress=" + System.getProperty("jdispatch.stress", "short")),
                Child.class.getName());
        System.out.print(r.output()); // the STRESS line
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("ok dropped issue-17 objects"), r.output());
    }

    /** The child: rounds of cycles, then the slopes and the finalizer counts. */
    public static final class Child {
        private static final AtomicLong TASKS = new AtomicLong();
        private static final AtomicLong FINALIZED = new AtomicLong();
        private static final AtomicLong EARLY = new AtomicLong(); // a finalizer before its queue's task
        private static final AtomicLong TWICE = new AtomicLong(); // a finalizer run again
        private static long made;

        private Child() {}

        public static void main(String[] args) throws Exception {
            int cycles = Stress.count(40_000);
            int handlesBefore = Handles.size();
            // As in QueueContextStressTest: malloc's and libdispatch's bounded caches (queues are freed on worker
            // threads) fill over the first few hundred thousand cycles, and shorter rounds swing by megabytes.
            round(5 * cycles);
            Stress.Slopes per = Stress.leakSlopes("dropped issue-17 objects", 5, cycles, () -> round(cycles));
            String figures = "made " + made + " queues, finalized " + FINALIZED.get() + ", early " + EARLY.get()
                    + ", twice " + TWICE.get() + ", handles " + handlesBefore + " -> " + Handles.size();
            System.out.println("figures: " + figures);
            if (FINALIZED.get() != made || EARLY.get() != 0 || TWICE.get() != 0) {
                System.out.println("FAIL finalizers: " + figures);
                System.exit(1);
            }
            // A leaked queue holds >= 200 B of malloc'd memory, a leaked block ~100 B, a leaked id its Handles slot
            // and its task (heap); the same bounds as QueueContextStressTest.
            Stress.assertFlat(per, 48, 32, "dropped issue-17 objects");
            ProcessStats.awaitHandlesCollected(handlesBefore, "handles left registered (" + handlesBefore + " before)");
            System.out.println("ok dropped issue-17 objects");
            System.exit(0);
        }

        /**
         * n cycles, each: a work item queued on a shared queue and dropped; a fresh key, a serial queue with two
         * values under it, a context and a finalizer, and a task, dropped; every fourth cycle a workloop with a
         * task, dropped. Returns once every task ran and every queue made so far was finalized (collecting).
         */
        private static void round(int n) throws Exception {
            long tasksBefore = TASKS.get();
            try (DispatchQueue shared = DispatchQueue.createSerial("dropped.shared")) {
                for (int i = 0; i < n; i++) {
                    shared.async(DispatchWorkItem.create(TASKS::incrementAndGet));
                    DispatchSpecificKey<byte[]> key = new DispatchSpecificKey<>();
                    DispatchQueue q = DispatchQueue.createSerial("dropped.q");
                    q.setSpecific(key, new byte[64]);
                    q.setSpecific(key, new byte[64]);
                    q.setContext(new byte[64]);
                    AtomicBoolean ran = new AtomicBoolean();
                    AtomicBoolean finalized = new AtomicBoolean();
                    q.setFinalizer(() -> {
                        if (!ran.get()) {
                            EARLY.incrementAndGet();
                        }
                        if (!finalized.compareAndSet(false, true)) {
                            TWICE.incrementAndGet();
                        }
                        FINALIZED.incrementAndGet();
                    });
                    q.async(() -> {
                        ran.set(true);
                        TASKS.incrementAndGet();
                    });
                    made++;
                    if (i % 4 == 0) {
                        DispatchWorkloop.create("dropped.wl").async(TASKS::incrementAndGet);
                    }
                }
                CountDownLatch drained = new CountDownLatch(1);
                shared.async(drained::countDown);
                if (!drained.await(60, TimeUnit.SECONDS)) {
                    throw new AssertionError("the shared queue's work items did not run");
                }
            }
            long expected = tasksBefore + 2L * n + (n + 3) / 4;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((TASKS.get() < expected || FINALIZED.get() < made) && System.nanoTime() < end) {
                System.gc();
                Thread.sleep(10);
            }
            if (TASKS.get() != expected) {
                throw new AssertionError("tasks: " + TASKS.get() + " ran, " + expected + " expected");
            }
        }
    }
}
