package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ProcessStats;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DispatchQueueTest {
    private static final long WAIT_S = 30; // generous: only reached when something is broken

    @AfterEach
    void restoreHandler() {
        Dispatch.setUncaughtExceptionHandler(null);
    }

    @Test
    void closeEndsTheOwnersReferenceWhileTheQueuesOwnTasksKeepUsingIt() throws Exception {
        // libdispatch's own tests release a queue right after dispatch_async; its tasks still use it.
        for (DispatchQueue.Attributes kind : List.of(DispatchQueue.Attributes.SERIAL, DispatchQueue.Attributes.CONCURRENT)) {
            DispatchQueue queue = DispatchQueue.create("closed-by-owner", kind);
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<String> steps = java.util.Collections.synchronizedList(new ArrayList<>());
            queue.async(() -> {
                try {
                    release.await();
                    steps.add("current " + queue.isCurrent());
                    queue.async(() -> {
                        steps.add("nested ran, current " + queue.isCurrent());
                        queue.after(java.time.Duration.ofMillis(1), done::countDown);
                    });
                } catch (Throwable t) {
                    failure.set(t);
                    done.countDown();
                }
            });
            queue.close();
            release.countDown();
            assertTrue(done.await(30, TimeUnit.SECONDS), kind + ": the work submitted from inside never finished");
            assertEquals(null, failure.get(), kind + ": a task could not use its queue after the owner's close()");
            assertEquals(List.of("current true", "nested ran, current true"), steps, kind.toString());
            IllegalStateException owner = assertThrows(IllegalStateException.class, () -> queue.async(() -> { }));
            assertTrue(owner.getMessage().contains("is closed"), owner.getMessage());
            assertThrows(IllegalStateException.class, queue::isCurrent, "the owner's later calls still fail");
        }
    }

    @Test
    void serialQueueIsFifoUnderAMillionTasksAndKeepsNoTaskAfterItRan() throws Exception {
        int before = Handles.size();
        int n = 1_000_000;
        int[] next = {0};
        int[] outOfOrder = {0};
        try (DispatchQueue q = DispatchQueue.createSerial("fifo")) {
            for (int i = 0; i < n; i++) {
                int expected = i;
                q.async(() -> {
                    if (next[0]++ != expected) {
                        outOfOrder[0]++;
                    }
                });
            }
            int ran = q.sync(() -> next[0]);
            assertEquals(n, ran);
            assertEquals(0, q.sync(() -> outOfOrder[0]));
        }
        // <=: other test classes' sources may leave the table meanwhile; a per-task leak would add a million.
        ProcessStats.awaitHandlesAtMost(before, "every task's handle is removed once it ran (" + before + " before)");
    }

    @Test
    void concurrentQueueRunsTwoTasksAtOnce() throws Exception {
        try (DispatchQueue q = DispatchQueue.createConcurrent("parallel")) {
            // Each task waits until the other one has started: only possible if both run at the same time.
            CyclicBarrier bothRunning = new CyclicBarrier(2);
            CountDownLatch met = new CountDownLatch(2);
            for (int i = 0; i < 2; i++) {
                q.async(() -> {
                    try {
                        bothRunning.await(WAIT_S, TimeUnit.SECONDS);
                        met.countDown();
                    } catch (Exception e) {
                        throw new AssertionError(e);
                    }
                });
            }
            assertTrue(met.await(WAIT_S, TimeUnit.SECONDS), "the two tasks never ran at the same time");
        }
    }

    @Test
    void barrierRunsAloneAfterEarlierTasksAndBeforeLaterOnes() throws Exception {
        try (DispatchQueue q = DispatchQueue.createConcurrent("barrier")) {
            AtomicInteger running = new AtomicInteger();
            AtomicInteger finishedBefore = new AtomicInteger();
            AtomicInteger violations = new AtomicInteger();
            AtomicInteger inBarrier = new AtomicInteger();
            int tasks = 50;
            for (int round = 0; round < 5; round++) {
                for (int i = 0; i < tasks; i++) {
                    q.async(() -> {
                        running.incrementAndGet();
                        if (inBarrier.get() != 0) {
                            violations.incrementAndGet();
                        }
                        Thread.yield();
                        finishedBefore.incrementAndGet();
                        running.decrementAndGet();
                    });
                }
                int expectedFinished = (round + 1) * tasks;
                q.barrierAsync(() -> {
                    inBarrier.set(1);
                    if (running.get() != 0 || finishedBefore.get() != expectedFinished) {
                        violations.incrementAndGet();
                    }
                    Thread.yield();
                    if (running.get() != 0) {
                        violations.incrementAndGet();
                    }
                    inBarrier.set(0);
                });
            }
            assertEquals(5 * tasks, q.barrierSync(finishedBefore::get));
            assertEquals(0, violations.get());
        }
    }

    @Test
    void syncReturnsTheValueAndRethrowsInTheCaller() {
        try (DispatchQueue q = DispatchQueue.createSerial("sync")) {
            assertEquals("ok", q.sync(() -> "ok"));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.sync(() -> {
                throw new IllegalArgumentException("from the task");
            }));
            assertEquals("from the task", e.getMessage());
            CompletionException checked = assertThrows(CompletionException.class, () -> q.sync(() -> {
                throw new IOException("checked");
            }));
            assertInstanceOf(IOException.class, checked.getCause());
            assertEquals(3, q.sync(() -> 3), "the queue still works");
        }
    }

    @Test
    void syncOntoTheCurrentSerialQueueIsRefusedNotADeadlock() {
        try (DispatchQueue target = DispatchQueue.createSerial("outer");
             DispatchQueue q = DispatchQueue.createSerial("inner")) {
            q.setTargetQueue(target);
            AtomicReference<Throwable> direct = new AtomicReference<>();
            AtomicReference<Throwable> viaTarget = new AtomicReference<>();
            AtomicReference<Throwable> apply = new AtomicReference<>();
            q.sync(() -> {
                direct.set(catchIt(() -> q.sync(() -> {})));
                apply.set(catchIt(() -> q.apply(2, i -> {})));
            });
            q.sync(() -> viaTarget.set(catchIt(() -> target.sync(() -> {}))));
            assertInstanceOf(IllegalStateException.class, direct.get());
            assertTrue(direct.get().getMessage().contains("dispatch_sync onto DispatchQueue[inner]"), direct.get().getMessage());
            assertInstanceOf(IllegalStateException.class, apply.get());
            assertInstanceOf(IllegalStateException.class, viaTarget.get());
            assertTrue(q.sync(target::isCurrent), "a task of a queue runs on its target");
            assertFalse(target.isCurrent());
            assertEquals(1, q.sync(() -> 1), "next valid call works");
        }
        try (DispatchQueue c = DispatchQueue.createConcurrent("concurrent")) {
            // Allowed on a concurrent queue; a barrier onto it from inside would wait for itself.
            assertEquals(2, c.sync(() -> c.sync(() -> 2)));
            Throwable barrier = c.sync(() -> catchIt(() -> c.barrierSync(() -> {})));
            assertInstanceOf(IllegalStateException.class, barrier);
        }
    }

    @Test
    void afterIsNeverEarly() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("after")) {
            for (long delayMs : new long[] {0, 1, 5, 20, 50}) {
                AtomicLong ranAt = new AtomicLong();
                CountDownLatch done = new CountDownLatch(1);
                long start = System.nanoTime();
                q.after(delayMs, TimeUnit.MILLISECONDS, () -> {
                    ranAt.set(System.nanoTime());
                    done.countDown();
                });
                assertTrue(done.await(WAIT_S, TimeUnit.SECONDS));
                long elapsed = ranAt.get() - start;
                assertTrue(elapsed >= TimeUnit.MILLISECONDS.toNanos(delayMs),
                        "after(" + delayMs + " ms) ran after only " + elapsed + " ns");
            }
            // A wall-clock deadline: not before that instant.
            Instant deadline = Instant.now().plusMillis(30);
            AtomicReference<Instant> ranAt = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            q.after(deadline, () -> {
                ranAt.set(Instant.now());
                done.countDown();
            });
            assertTrue(done.await(WAIT_S, TimeUnit.SECONDS));
            assertFalse(ranAt.get().isBefore(deadline), "ran at " + ranAt.get() + ", deadline " + deadline);
            assertThrows(IllegalArgumentException.class, () -> q.after(-1, TimeUnit.MILLISECONDS, () -> {}));
        }
    }

    @Test
    void applyCoversEveryIndexExactlyOnce() {
        int n = 10_000;
        try (DispatchQueue c = DispatchQueue.createConcurrent("apply");
             DispatchQueue s = DispatchQueue.createSerial("apply-serial")) {
            for (int variant = 0; variant < 3; variant++) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                switch (variant) {
                    case 0 -> c.apply(n, i -> hits.incrementAndGet((int) i));
                    case 1 -> s.apply(n, i -> hits.incrementAndGet((int) i));
                    default -> DispatchQueue.applyAuto(n, i -> hits.incrementAndGet((int) i));
                }
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits.get(i), "variant " + variant + ", index " + i);
                }
            }
            c.apply(0, i -> {
                throw new AssertionError("no iteration expected");
            });
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.apply(-1, i -> {}));
            assertTrue(e.getMessage().contains("dispatch_apply: iterations -1 is negative"), e.getMessage());
            AtomicInteger after = new AtomicInteger();
            c.apply(3, i -> after.incrementAndGet());
            assertEquals(3, after.get(), "next valid call works");
        }
    }

    @Test
    void exceptionsReachTheHandlerAndTheNextTaskStillRuns() throws Exception {
        List<Throwable> reported = new ArrayList<>();
        CountDownLatch reportedAll = new CountDownLatch(3);
        Dispatch.setUncaughtExceptionHandler((t, e) -> {
            synchronized (reported) {
                reported.add(e);
            }
            reportedAll.countDown();
        });
        try (DispatchQueue q = DispatchQueue.createSerial("throws")) {
            CountDownLatch next = new CountDownLatch(1);
            q.async(() -> {
                throw new IllegalStateException("boom 1");
            });
            q.after(1, TimeUnit.MILLISECONDS, () -> {
                throw new IllegalStateException("boom 2");
            });
            q.apply(1, i -> {
                throw new IllegalStateException("boom 3");
            });
            q.after(2, TimeUnit.MILLISECONDS, next::countDown);
            assertTrue(next.await(WAIT_S, TimeUnit.SECONDS), "the task after the throwing ones ran");
            assertTrue(reportedAll.await(WAIT_S, TimeUnit.SECONDS));
            synchronized (reported) {
                assertEquals(List.of("boom 1", "boom 2", "boom 3"),
                        reported.stream().map(Throwable::getMessage).sorted().toList());
            }
            CompletableFuture<Object> failed = q.submit(() -> {
                throw new IOException("to the future");
            });
            ExecutionException ee = assertThrows(ExecutionException.class, () -> failed.get(WAIT_S, TimeUnit.SECONDS));
            assertInstanceOf(IOException.class, ee.getCause());
            assertEquals(42, q.submit(() -> 42).get(WAIT_S, TimeUnit.SECONDS));
        }
    }

    @Test
    void suspendAndResumeAreCountedAndAnExtraResumeIsRefused() throws Exception {
        DispatchQueue q = DispatchQueue.createSerial("suspend");
        IllegalStateException e = assertThrows(IllegalStateException.class, q::resume);
        assertTrue(e.getMessage().contains("dispatch_resume of DispatchQueue[suspend], which is not suspended"), e.getMessage());
        q.suspend();
        q.suspend();
        CountDownLatch ran = new CountDownLatch(1);
        q.async(ran::countDown);
        q.resume();
        assertTrue(q.isSuspended());
        assertFalse(ran.await(20, TimeUnit.MILLISECONDS), "ran while suspended");
        q.resume();
        assertTrue(ran.await(WAIT_S, TimeUnit.SECONDS));
        assertThrows(IllegalStateException.class, q::resume);
        // Closing a suspended queue does not crash: it is resumed first and its queued task runs.
        q.suspend();
        CountDownLatch queued = new CountDownLatch(1);
        q.async(queued::countDown);
        q.close();
        assertTrue(queued.await(WAIT_S, TimeUnit.SECONDS));
    }

    @Test
    void suspendFromInsideABurstStopsTheNextTaskAndOtherSubmissionsKeepFifoOrder() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("burst");
             DispatchGroup g = DispatchGroup.create()) {
            AtomicInteger ranAfterSuspend = new AtomicInteger();
            CountDownLatch suspended = new CountDownLatch(1);
            q.async(() -> {
                q.suspend();
                suspended.countDown();
            });
            CountDownLatch oneRanAfterSuspend = new CountDownLatch(1);
            for (int i = 0; i < 100; i++) {
                q.async(() -> {
                    ranAfterSuspend.incrementAndGet();
                    oneRanAfterSuspend.countDown();
                });
            }
            assertTrue(suspended.await(WAIT_S, TimeUnit.SECONDS));
            assertFalse(oneRanAfterSuspend.await(20, TimeUnit.MILLISECONDS), "a task ran after the queue suspended itself");
            q.resume();
            // group.async, barrierAsync and sync queue behind the earlier async tasks.
            List<Integer> order = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                int n = i;
                q.async(() -> order.add(n));
            }
            g.async(q, () -> order.add(1000));
            q.barrierAsync(() -> order.add(1001));
            assertEquals(1002, q.sync(order::size));
            for (int i = 0; i < order.size(); i++) {
                assertEquals(i, order.get(i));
            }
            assertTrue(g.wait(DispatchTime.FOREVER));
            assertEquals(100, ranAfterSuspend.get());
        }
    }

    @Test
    void anAsyncRacingCloseEitherRunsOrIsRefused() throws Exception {
        for (int round = 0; round < 20; round++) {
            DispatchQueue q = DispatchQueue.createSerial("race-" + round);
            AtomicInteger accepted = new AtomicInteger();
            AtomicInteger ran = new AtomicInteger();
            CountDownLatch submitting = new CountDownLatch(1);
            Thread producer = new Thread(() -> {
                try {
                    for (int i = 0; ; i++) {
                        q.async(ran::incrementAndGet);
                        accepted.incrementAndGet();
                        if (i == 1000) {
                            submitting.countDown();
                        }
                    }
                } catch (IllegalStateException closed) {
                    submitting.countDown();
                }
            });
            producer.start();
            assertTrue(submitting.await(WAIT_S, TimeUnit.SECONDS));
            q.close();
            producer.join();
            // Everything accepted still runs after the close (the queue cannot be synced on any more).
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
            while (ran.get() < accepted.get() && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(accepted.get(), ran.get(), "round " + round);
        }
    }

    @Test
    void inactiveQueueRunsNothingUntilActivatedAndClosesSafely() throws Exception {
        DispatchQueue q = DispatchQueue.create("inactive", DispatchQueue.Attributes.SERIAL.initiallyInactive());
        assertTrue(q.isInactive());
        CountDownLatch ran = new CountDownLatch(1);
        q.async(ran::countDown);
        IllegalStateException e = assertThrows(IllegalStateException.class, q::resume);
        assertTrue(e.getMessage().contains("activate()"), e.getMessage());
        assertFalse(ran.await(20, TimeUnit.MILLISECONDS), "ran while inactive");
        q.activate();
        q.activate();
        assertTrue(ran.await(WAIT_S, TimeUnit.SECONDS));
        q.close();

        DispatchQueue never = DispatchQueue.create("never-activated", DispatchQueue.Attributes.CONCURRENT.initiallyInactive());
        CountDownLatch queued = new CountDownLatch(1);
        never.async(queued::countDown);
        never.close(); // activated on close: no crash, and the queued task runs
        assertTrue(queued.await(WAIT_S, TimeUnit.SECONDS));
    }

    @Test
    void targetQueueSerializesAndCyclesAreRefused() throws Exception {
        try (DispatchQueue serial = DispatchQueue.createSerial("target");
             DispatchQueue a = DispatchQueue.createConcurrent("a");
             DispatchQueue b = DispatchQueue.createConcurrent("b")) {
            a.setTargetQueue(serial);
            b.setTargetQueue(serial);
            AtomicInteger running = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(200);
            for (int i = 0; i < 100; i++) {
                for (DispatchQueue q : List.of(a, b)) {
                    q.async(() -> {
                        if (running.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                        }
                        Thread.yield();
                        running.decrementAndGet();
                        done.countDown();
                    });
                }
            }
            assertTrue(done.await(WAIT_S, TimeUnit.SECONDS));
            assertEquals(0, overlaps.get(), "queues targeting one serial queue ran at once");
            assertSame(serial, a.getTargetQueue());
            IllegalArgumentException cycle = assertThrows(IllegalArgumentException.class, () -> serial.setTargetQueue(a));
            assertTrue(cycle.getMessage().contains("cycle"), cycle.getMessage());
            assertThrows(IllegalStateException.class, () -> DispatchQueue.global().setTargetQueue(serial));
        }
    }

    @Test
    void aBlockedGlobalTaskDoesNotHoldUpTheTasksBehindIt() throws Exception {
        // The first task waits for the last one: global tasks buffered in Java must still reach another worker.
        CountDownLatch lastRan = new CountDownLatch(1);
        CountDownLatch firstDone = new CountDownLatch(1);
        DispatchQueue.global().async(() -> {
            try {
                if (lastRan.await(WAIT_S, TimeUnit.SECONDS)) {
                    firstDone.countDown();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        CountDownLatch others = new CountDownLatch(10_000);
        for (int i = 0; i < 10_000; i++) {
            DispatchQueue.global().async(others::countDown);
        }
        DispatchQueue.global().async(lastRan::countDown);
        assertTrue(firstDone.await(WAIT_S, TimeUnit.SECONDS), "the tasks behind a blocked one never ran");
        assertTrue(others.await(WAIT_S, TimeUnit.SECONDS));
    }

    @Test
    void globalQueuesByQosRunTasks() throws Exception {
        CountDownLatch done = new CountDownLatch(QoSClass.values().length);
        for (QoSClass qos : QoSClass.values()) {
            DispatchQueue.global(qos).async(done::countDown);
        }
        assertTrue(done.await(WAIT_S, TimeUnit.SECONDS));
        assertSame(DispatchQueue.global(), DispatchQueue.global(QoSClass.DEFAULT));
        assertThrows(IllegalStateException.class, () -> DispatchQueue.global().suspend());
    }

    @Test
    void misuseGivesClearErrorsAndTheNextValidCallWorks() throws Exception {
        DispatchQueue q = DispatchQueue.createSerial("misuse");
        NullPointerException npe = assertThrows(NullPointerException.class, () -> q.async((Runnable) null));
        assertTrue(npe.getMessage().contains("dispatch_async: task is null"));
        assertThrows(NullPointerException.class, () -> q.sync((Runnable) null));
        assertThrows(NullPointerException.class, () -> q.barrierAsync((Runnable) null));
        assertThrows(NullPointerException.class, () -> q.after(1, TimeUnit.MILLISECONDS, null));
        assertThrows(NullPointerException.class, () -> q.apply(1, null));
        assertEquals(7, q.sync(() -> 7));
        q.close();
        q.close();
        assertTrue(q.isClosed());
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> q.async(() -> {}));
        assertTrue(closed.getMessage().contains("DispatchQueue[misuse] is closed"), closed.getMessage());
        assertThrows(IllegalStateException.class, () -> q.sync(() -> 1));
        assertThrows(IllegalStateException.class, q::suspend);
        // close() on a global queue does nothing: libdispatch owns it and everyone shares it.
        DispatchQueue.global().close();
        assertEquals(5, DispatchQueue.global().submit(() -> 5).get(WAIT_S, TimeUnit.SECONDS));
    }

    @Test
    void aTaskThatLeavesItsThreadInterruptedDoesNotInterruptTheNextTask(@TempDir Path dir) throws Exception {
        int n = 1000;
        // Every task reports whether it started interrupted, then leaves its thread interrupted.
        for (DispatchQueue q : List.of(DispatchQueue.createSerial("interrupts-serial"),
                DispatchQueue.createConcurrent("interrupts-concurrent"), DispatchQueue.global())) {
            AtomicInteger sawInterrupt = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(n);
            for (int i = 0; i < n; i++) {
                q.async(() -> {
                    if (Thread.currentThread().isInterrupted()) {
                        sawInterrupt.incrementAndGet();
                    }
                    Thread.currentThread().interrupt();
                    done.countDown();
                });
            }
            assertTrue(done.await(WAIT_S, TimeUnit.SECONDS));
            assertEquals(0, sawInterrupt.get(), q + ": tasks started with the interrupt status an earlier task left");
            q.close();
        }
        // The symptom: an unrelated task's interruptible I/O failed with ClosedByInterruptException.
        try (DispatchQueue q = DispatchQueue.createSerial("interrupts-io");
             DispatchSource source = DispatchSource.dataAdd(q);
             FileChannel file = FileChannel.open(dir.resolve("out"), StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            CountDownLatch handled = new CountDownLatch(1);
            source.setEventHandler(() -> {
                Thread.currentThread().interrupt(); // a source handler leaves its thread interrupted
                handled.countDown();
            });
            source.activate();
            source.mergeData(1);
            assertTrue(handled.await(WAIT_S, TimeUnit.SECONDS));
            assertEquals(1, q.submit(() -> file.write(ByteBuffer.wrap(new byte[] {1}))).get(WAIT_S, TimeUnit.SECONDS),
                    "a write after a source handler that left its thread interrupted");
            q.async(() -> Thread.currentThread().interrupt());
            assertEquals(1, q.submit(() -> file.write(ByteBuffer.wrap(new byte[] {2}))).get(WAIT_S, TimeUnit.SECONDS),
                    "a write after a task that left its thread interrupted");
        }
        // A task that runs on its caller's thread (sync, apply) leaves the caller's own interrupt status alone.
        try (DispatchQueue serial = DispatchQueue.createSerial("caller-serial");
             DispatchQueue concurrent = DispatchQueue.createConcurrent("caller-concurrent")) {
            for (DispatchQueue q : List.of(serial, concurrent)) {
                Thread.currentThread().interrupt();
                q.sync(() -> {});
                assertTrue(Thread.interrupted(), q + ": sync cleared its caller's interrupt status");
                Thread.currentThread().interrupt();
                q.apply(100, i -> {});
                assertTrue(Thread.interrupted(), q + ": apply cleared its caller's interrupt status");
            }
        }
    }

    private static Throwable catchIt(Runnable r) {
        try {
            r.run();
            return null;
        } catch (Throwable t) {
            return t;
        }
    }
}
