package io.jdispatch.stress;

import io.jdispatch.Dispatch;
import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSemaphore;
import io.jdispatch.DispatchTime;
import io.jdispatch.LibdispatchRefs;
import io.jdispatch.testutil.ProcessStats;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Queues under load: millions of tasks from 4 threads (exact counts, per-thread FIFO on a serial queue), tasks
 * throwing at a high rate, group and semaphore churn with native memory flat, and concurrent queues, groups and
 * semaphores dropped without close (the Cleaner releases them, also an entered group and a waited-on semaphore),
 * and async mixed with inline syncs from 4 threads on one serial queue that is suspended and resumed meanwhile.
 */
class QueueStressTest {
    private static final int THREADS = 4;
    private static final long MAX_BACKLOG = 200_000; // submitted, not yet run: keeps the fixed heap small

    @Test
    void millionsOfAsyncTasksFromFourThreadsRunExactlyOnceOnSerialAndGlobalQueues() throws Exception {
        long perThread = Stress.count(1_000_000); // 4M tasks per queue kind; 40M in the long form
        long total = perThread * THREADS;
        ProcessStats before = ProcessStats.now();
        long t0 = System.nanoTime();

        // Serial: a plain (non-atomic) counter and per-thread order checks, touched only by tasks: exact only if
        // the queue ran every task once, one at a time, each producer's tasks in the order submitted.
        long[] serialRan = {0};
        long[] lastSeen = new long[THREADS];
        java.util.Arrays.fill(lastSeen, -1);
        long[] outOfOrder = {0};
        try (DispatchQueue serial = DispatchQueue.createSerial("stress.serial")) {
            LongAdder done = new LongAdder();
            runProducers(perThread, done, (t, i) -> serial.async(() -> {
                if (lastSeen[t] != i - 1) {
                    outOfOrder[0]++;
                }
                lastSeen[t] = i;
                serialRan[0]++;
                done.increment();
            }));
            serial.sync(() -> {}); // after every task: their writes are visible here
        }
        long serialMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(total, serialRan[0]);
        assertEquals(0, outOfOrder[0], "tasks of one producer ran out of order");

        long t1 = System.nanoTime();
        LongAdder globalRan = new LongAdder();
        DispatchQueue global = DispatchQueue.global();
        runProducers(perThread, globalRan, (t, i) -> global.async(globalRan::increment));
        waitFor(globalRan, total);
        long globalMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t1);
        assertEquals(total, globalRan.sum());

        ProcessStats after = ProcessStats.now();
        Stress.report("async x" + total + " serial + global", String.format("serial %d ms (%.1f M/s), global %d ms (%.1f M/s); before %s; after %s",
                serialMs, total / 1e3 / serialMs, globalMs, total / 1e3 / globalMs, before, after));
        // No memory bound here: libdispatch's per-thread continuation caches grow with the backlog (up to
        // MAX_BACKLOG tasks); the churn and lifecycle tests are the leak checks.
        ProcessStats.awaitFdsAtMost(before.openFds() + 2, "fds grew (before " + before + ")");
    }

    @Test
    void asyncAndSyncFromFourThreadsWhileSuspendedAndResumedKeepFifoAndRunOneAtATime() throws Exception {
        int perThread = Stress.count(200_000);
        long[] ran = {0}; // plain: exact only if the queue's tasks, async and inline sync alike, never overlap
        long[] lastAsync = new long[THREADS];
        java.util.Arrays.fill(lastAsync, -1);
        long[] violations = {0};
        try (DispatchQueue q = DispatchQueue.createSerial("stress.sync")) {
            AtomicBoolean producing = new AtomicBoolean(true);
            Thread toggler = new Thread(() -> { // suspension must hold up the drain and the inline syncs alike
                while (producing.get()) {
                    q.suspend();
                    Thread.yield();
                    q.resume();
                    LockSupport.parkNanos(1_000_000); // a suspension per ms: the tasks must still make progress
                }
            }, "stress.toggler");
            toggler.start();
            Thread[] producers = new Thread[THREADS];
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                producers[t] = new Thread(() -> {
                    Thread self = Thread.currentThread();
                    for (long i = 0; i < perThread; i++) {
                        long n = i;
                        if (i % 8 == 7) { // a sync runs on its caller, after that caller's earlier async tasks
                            q.sync(() -> {
                                if (Thread.currentThread() != self || lastAsync[thread] != n - 1) {
                                    violations[0]++;
                                }
                                ran[0]++;
                            });
                        } else {
                            q.async(() -> {
                                if (lastAsync[thread] >= n) {
                                    violations[0]++;
                                }
                                lastAsync[thread] = n;
                                ran[0]++;
                            });
                        }
                    }
                }, "stress.sync-producer-" + t);
                producers[t].start();
            }
            long t0 = System.nanoTime();
            for (Thread p : producers) {
                p.join(TimeUnit.SECONDS.toMillis(120));
                assertTrue(!p.isAlive(), p + " still running after 120 s");
            }
            producing.set(false);
            toggler.join();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            long total = q.sync(() -> ran[0]);
            Stress.report("async+sync x" + THREADS * perThread, String.format("%d tasks (1 in 8 a sync) from %d threads, "
                    + "queue suspended and resumed meanwhile, in %d ms", total, THREADS, ms));
            assertEquals((long) THREADS * perThread, total);
            assertEquals(0, q.sync(() -> violations[0]), "tasks out of FIFO order, or a sync not on its caller's thread");
        }
    }

    private interface Submit {
        void submit(int thread, long i);
    }

    private static void runProducers(long perThread, LongAdder done, Submit submit) throws Exception {
        Thread[] producers = new Thread[THREADS];
        AtomicLong submitted = new AtomicLong();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            producers[t] = new Thread(() -> {
                for (long i = 0; i < perThread; i++) {
                    submit.submit(thread, i);
                    if ((submitted.incrementAndGet() & 4095) == 0) {
                        while (submitted.get() - done.sum() > MAX_BACKLOG) {
                            Thread.onSpinWait();
                        }
                    }
                }
            }, "stress.producer-" + t);
            producers[t].start();
        }
        for (Thread p : producers) {
            p.join();
        }
        waitFor(done, perThread * THREADS);
    }

    private static void waitFor(LongAdder counter, long expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (counter.sum() < expected) {
            assertTrue(System.nanoTime() < deadline, "ran " + counter.sum() + " of " + expected);
            Thread.sleep(1);
        }
    }

    @Test
    void tasksThrowingAtAHighRateReachTheHandlerAndTheQueuesKeepRunning() throws Exception {
        int n = Stress.count(100_000);
        Thread.UncaughtExceptionHandler previous = Dispatch.getUncaughtExceptionHandler();
        LongAdder reported = new LongAdder();
        RuntimeException[] wrong = {null};
        RuntimeException boom = new IllegalStateException("boom"); // one instance: the rate, not stack traces, is tested
        Dispatch.setUncaughtExceptionHandler((thread, e) -> {
            if (e != boom) {
                wrong[0] = new RuntimeException("unexpected exception", e);
            }
            reported.increment();
        });
        long t0 = System.nanoTime();
        try (DispatchQueue serial = DispatchQueue.createSerial("stress.throwing");
             DispatchQueue concurrent = DispatchQueue.createConcurrent("stress.throwing.concurrent")) {
            for (int i = 0; i < n; i++) {
                (i % 3 == 0 ? serial : i % 3 == 1 ? concurrent : DispatchQueue.global()).async(() -> {
                    throw boom;
                });
            }
            waitFor(reported, n);
            // The queues still run tasks, in order on the serial queue.
            assertEquals("after", serial.sync(() -> "after"));
            assertEquals("after", concurrent.sync(() -> "after"));
            CountDownLatch global = new CountDownLatch(1);
            DispatchQueue.global().async(global::countDown);
            assertTrue(global.await(60, TimeUnit.SECONDS));
        } finally {
            Dispatch.setUncaughtExceptionHandler(previous);
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertEquals(n, reported.sum());
        assertSame(null, wrong[0]);
        Stress.report("throwing tasks x" + n, String.format("%d exceptions reported in %d ms on serial, concurrent and global queues", n, ms));
    }

    @Test
    void groupAndSemaphoreChurnLeavesNativeMemoryFlat() throws Exception {
        int cycles = Stress.count(20_000);
        try (DispatchQueue queue = DispatchQueue.createConcurrent("stress.churn")) {
            Stress.Slopes per = Stress.leakSlopes("group+semaphore churn", 7, cycles, () -> churn(cycles, queue));
            // A leaked group or semaphore holds >= 64 bytes of malloc'd memory, a leaked task's handle a heap object.
            Stress.assertFlat(per, 16, 16, "group+semaphore churn");
        }
    }

    /** n cycles of: a group with one async task and one enter/leave, waited for; a semaphore signalled and waited. */
    private static void churn(int n, DispatchQueue queue) {
        LongAdder ran = new LongAdder();
        for (int i = 0; i < n; i++) {
            try (DispatchGroup group = DispatchGroup.create();
                 DispatchSemaphore semaphore = DispatchSemaphore.create(0)) {
                group.enter();
                group.async(queue, () -> {
                    ran.increment();
                    semaphore.signal();
                });
                group.leave();
                assertTrue(semaphore.wait(DispatchTime.FOREVER));
                assertTrue(group.wait(DispatchTime.FOREVER));
            }
        }
        assertEquals(n, ran.sum());
    }

    /**
     * Every dropped queue, group and semaphore targets one queue, whose do_ref_cnt counts those not yet released
     * ({@link LibdispatchRefs}): it must fall back to idle.
     */
    @Test
    void concurrentQueuesGroupsAndSemaphoresDroppedWithoutCloseAreReleasedByTheCleaner() throws Exception {
        int n = Stress.count(20_000);
        int rounds = 7;
        try (DispatchQueue target = DispatchQueue.createSerial("dropped.target")) {
            int idle = LibdispatchRefs.checkedIdleRefs(target);
            Stress.Slopes per = Stress.leakSlopes("dropped queues/groups/semaphores", rounds, n, () -> {
                CountDownLatch notified = drop(n, target);
                // An entered group's Cleaner leaves it, so its notify runs. The Cleaner sees only what a
                // collection found unreachable (a wrapper still referenced by a task that was returning escapes
                // it), so collect until every notify ran, not once.
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                boolean all;
                while (!(all = notified.await(100, TimeUnit.MILLISECONDS)) && System.nanoTime() < deadline) {
                    System.gc();
                }
                assertTrue(all, notified.getCount() + " of " + n / 2 + " entered groups dropped without close were never left");
            });
            int dropped = 3 * (rounds + 1) * n; // a queue, a group and a semaphore per cycle, warm-up round included
            int refs = LibdispatchRefs.awaitRefs(target, idle, "after " + dropped + " queues, groups and semaphores "
                    + "targeting it were dropped without close (idle: " + idle + "): each reference above idle is one "
                    + "never released");
            Stress.report("dropped queues/groups/semaphores", String.format(
                    "%d dropped; their target's do_ref_cnt back to %d (idle)", dropped, refs));
            // Any leaked queue, group or semaphore is >= 100 bytes of malloc'd memory (3 per cycle).
            Stress.assertFlat(per, 32, 64, "dropped queues/groups/semaphores");
        }
    }

    /**
     * n concurrent queues, groups (half still entered, with a notify) and semaphores (half waited below their
     * initial value), all targeting {@code target}, never closed. Returns the latch the entered groups' notifies
     * count down.
     */
    private static CountDownLatch drop(int n, DispatchQueue target) throws InterruptedException {
        CountDownLatch ran = new CountDownLatch(n);
        CountDownLatch notified = new CountDownLatch(n / 2);
        for (int i = 0; i < n; i++) {
            DispatchQueue queue = LibdispatchRefs.targeting(target, DispatchQueue.Attributes.CONCURRENT, "dropped-" + i);
            DispatchGroup group = DispatchGroup.create();
            group.setTargetQueue(target);
            group.async(queue, ran::countDown);
            DispatchSemaphore semaphore = DispatchSemaphore.create(1);
            semaphore.setTargetQueue(target);
            if (i % 2 == 0) {
                group.enter(); // never left: the Cleaner must balance it (libdispatch aborts on releasing it so)
                group.notify(queue, notified::countDown);
                assertTrue(semaphore.wait(DispatchTime.NOW)); // value 0 < 1: likewise
            }
        }
        assertTrue(ran.await(60, TimeUnit.SECONDS), ran.getCount() + " tasks of dropped queues never ran");
        Thread.sleep(50); // the last tasks return, releasing their queues' and groups' references
        return notified;
    }
}
