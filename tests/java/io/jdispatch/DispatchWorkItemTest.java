package io.jdispatch;

import io.jdispatch.testutil.Latches;
import io.jdispatch.testutil.ProcessStats;
import io.jdispatch.internal.Handles;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static io.jdispatch.testutil.Latches.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Work items (dispatch_block_create and the dispatch_block_* functions) against the behaviour block.h states:
 * every way of executing one, cancel, wait, notify, the flags, the rules libdispatch aborts on (refused here),
 * FIFO order on serial queues, and that no Java id outlives the native block. The swift-corelibs-libdispatch
 * 6.0.3 sources have no dispatch_block test of their own (tests/ holds none), so the subjects are block.h's.
 */
class DispatchWorkItemTest {
    private static final long WAIT_S = 60; // only reached when something is broken

    @AfterEach
    void restoreHandler() {
        Dispatch.setUncaughtExceptionHandler(null);
    }

    @Test
    void asyncRunsTheTaskOnceAndWaitReturnsAfterIt() throws Exception {
        for (DispatchQueue q : List.of(DispatchQueue.createSerial("wi.serial"), DispatchQueue.createConcurrent("wi.conc"),
                DispatchQueue.global())) {
            AtomicInteger ran = new AtomicInteger();
            AtomicReference<String> label = new AtomicReference<>();
            try (DispatchWorkItem item = DispatchWorkItem.create(() -> {
                label.set(Thread.currentThread().getName());
                ran.incrementAndGet();
            })) {
                q.async(item);
                assertTrue(item.wait(DispatchTime.FOREVER), q + ": wait(FOREVER) returned false");
                assertEquals(1, ran.get(), q + ": the task ran " + ran.get() + " times before wait returned");
                // libdispatch's label of the running queue (for a global queue its own root-queue label)
                String expected = q == DispatchQueue.global() ? "[com.apple.root.default-qos" : "[" + q.getLabel() + "]";
                assertTrue(label.get().contains(expected), "the worker was named " + label.get());
            }
            q.close();
        }
    }

    @Test
    void waitTimesOutUntilTheExecutionCompletedAndATimedOutWaitDoesNotCount() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("wi.timeout");
             DispatchWorkItem item = DispatchWorkItem.create(() -> { })) {
            assertFalse(item.wait(Duration.ofMillis(20)), "wait returned true before any execution");
            q.suspend();
            q.async(item);
            assertFalse(item.wait(DispatchTime.fromNow(20, TimeUnit.MILLISECONDS)), "true while the queue is suspended");
            assertFalse(item.wait(0, TimeUnit.SECONDS), "wait(0) true before the execution");
            q.resume();
            assertTrue(item.wait(WAIT_S, TimeUnit.SECONDS), "the wait after the timed-out ones did not succeed");
        }
    }

    @Test
    void cancelSkipsExecutionsNotStartedAndLetsARunningOneFinish() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        try (DispatchQueue q = DispatchQueue.createSerial("wi.cancel");
             DispatchWorkItem item = DispatchWorkItem.create(ran::incrementAndGet)) {
            assertFalse(item.isCancelled());
            q.suspend();
            q.async(item);
            item.cancel();
            assertTrue(item.isCancelled(), "dispatch_block_testcancel after cancel");
            q.resume();
            assertTrue(item.wait(WAIT_S, TimeUnit.SECONDS), "a cancelled execution never completed");
            assertEquals(0, ran.get(), "a cancelled item's task ran");
        }
        try (DispatchQueue q = DispatchQueue.createConcurrent("wi.cancel.c");
             DispatchWorkItem item = DispatchWorkItem.create(ran::incrementAndGet)) {
            item.cancel();
            item.perform(); // every later execution returns at once
            q.sync(item);
            q.async(item);
            q.barrierSync(() -> { });
            assertEquals(0, ran.get(), "an execution of a cancelled item ran its task");
        }
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger finished = new AtomicInteger();
        try (DispatchQueue q = DispatchQueue.createSerial("wi.cancel.running");
             DispatchWorkItem item = DispatchWorkItem.create(() -> {
                 started.countDown();
                 try {
                     release.await();
                 } catch (InterruptedException e) {
                     Thread.currentThread().interrupt();
                 }
                 finished.incrementAndGet();
             })) {
            q.async(item);
            await(started, "the item's start");
            item.cancel();
            release.countDown();
            assertTrue(item.wait(WAIT_S, TimeUnit.SECONDS));
            assertEquals(1, finished.get(), "cancel stopped an execution in progress");
        }
    }

    @Test
    void theItemsOwnTaskSeesItsCancellationAndMayUseItAfterTheOwnersClose() throws Exception {
        AtomicReference<DispatchWorkItem> self = new AtomicReference<>();
        CountDownLatch closed = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        DispatchWorkItem item = DispatchWorkItem.create(() -> {
            try {
                closed.await();
                DispatchWorkItem me = self.get();
                seen.add("cancelled " + me.isCancelled());
                me.cancel();
                seen.add("cancelled " + me.isCancelled());
            } catch (Throwable t) {
                seen.add(t.toString());
            } finally {
                done.countDown();
            }
        });
        self.set(item);
        try (DispatchQueue q = DispatchQueue.createSerial("wi.own")) {
            q.async(item);
            item.close();
            IllegalStateException e = assertThrows(IllegalStateException.class, item::isCancelled);
            assertTrue(e.getMessage().contains("dispatch_block_testcancel") && e.getMessage().contains("is closed"),
                    e.getMessage());
            closed.countDown();
            await(done, "the task");
        }
        assertEquals(List.of("cancelled false", "cancelled true"), seen);
        assertThrows(IllegalStateException.class, item::perform, "perform after close");
    }

    @Test
    void notifyRunsAfterTheFirstExecutionAndAtOnceWhenItIsOver() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("wi.notify");
             DispatchQueue other = DispatchQueue.createConcurrent("wi.notify.other")) {
            List<String> order = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch notified = new CountDownLatch(3);
            try (DispatchWorkItem item = DispatchWorkItem.create(() -> order.add("item"));
                 DispatchWorkItem follower = DispatchWorkItem.create(() -> {
                     order.add("follower");
                     notified.countDown();
                 })) {
                item.notify(other, () -> {
                    order.add("task");
                    notified.countDown();
                });
                item.notify(other, follower);
                q.suspend();
                q.async(item);
                q.resume();
                assertTrue(item.wait(WAIT_S, TimeUnit.SECONDS));
                item.notify(other, () -> { // after completion: submitted at once
                    order.add("late");
                    notified.countDown();
                });
                await(notified, "the three notifications");
                assertEquals("item", order.get(0), order.toString());
                assertEquals(4, order.size(), order.toString());
                assertTrue(follower.wait(WAIT_S, TimeUnit.SECONDS), "the follower's execution by notify");
            }
        }
    }

    @Test
    void performAndSyncRunOnTheCallingThreadAndRethrow() throws Exception {
        Thread me = Thread.currentThread();
        try (DispatchQueue serial = DispatchQueue.createSerial("wi.sync");
             DispatchQueue conc = DispatchQueue.createConcurrent("wi.sync.conc")) {
            for (Consumer<DispatchWorkItem> run : List.<Consumer<DispatchWorkItem>>of(DispatchWorkItem::perform,
                    serial::sync, serial::barrierSync, conc::sync, conc::barrierSync, DispatchQueue.global()::sync)) {
                AtomicReference<Thread> where = new AtomicReference<>();
                try (DispatchWorkItem item = DispatchWorkItem.create(() -> where.set(Thread.currentThread()))) {
                    run.accept(item);
                    assertSame(me, where.get(), "ran on " + where.get());
                    assertTrue(item.wait(DispatchTime.NOW), "complete once sync/perform returned");
                }
                IllegalStateException thrown = new IllegalStateException("from the item");
                try (DispatchWorkItem failing = DispatchWorkItem.create(() -> {
                    throw thrown;
                })) {
                    assertSame(thrown, assertThrows(IllegalStateException.class, () -> run.accept(failing)));
                }
            }
            AtomicReference<Boolean> current = new AtomicReference<>();
            try (DispatchWorkItem item = DispatchWorkItem.create(() -> current.set(serial.isCurrent()))) {
                serial.sync(item);
            }
            assertEquals(true, current.get(), "isCurrent() inside a sync work item");
            // sync keeps its place behind the tasks queued before it
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch release = new CountDownLatch(1);
            serial.async(Latches.blockUntil(release));
            for (int i = 0; i < 20; i++) {
                int n = i;
                serial.async(() -> order.add(n));
            }
            release.countDown();
            try (DispatchWorkItem item = DispatchWorkItem.create(() -> order.add(-1))) {
                serial.sync(item);
            }
            assertEquals(21, order.size());
            assertEquals(-1, order.get(20), "the sync item ran before the tasks queued ahead of it: " + order);
            // the queue that runs the caller is refused, as for sync(Runnable)
            try (DispatchWorkItem item = DispatchWorkItem.create(() -> { })) {
                IllegalStateException e = serial.sync(() -> assertThrows(IllegalStateException.class,
                        () -> serial.sync(item)));
                assertTrue(e.getMessage().contains("dispatch_sync") && e.getMessage().contains("wait for itself"),
                        e.getMessage());
                item.perform(); // refused before counting: the item may still run and be waited for
                assertTrue(item.wait(DispatchTime.NOW));
            }
        }
    }

    @Test
    void staticPerformRunsOnceOnTheCallerWithTheFlagsAndRefusesUnknownBits() {
        Thread me = Thread.currentThread();
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<Thread> where = new AtomicReference<>();
        DispatchWorkItem.perform(DispatchWorkItem.DETACHED | DispatchWorkItem.ENFORCE_QOS_CLASS, () -> {
            ran.incrementAndGet();
            where.set(Thread.currentThread());
        });
        assertEquals(1, ran.get());
        assertSame(me, where.get());
        Error thrown = new OutOfMemoryError("from perform");
        assertSame(thrown, assertThrows(OutOfMemoryError.class, () -> DispatchWorkItem.perform(0, () -> {
            throw thrown;
        })));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> DispatchWorkItem.perform(0x40, ran::incrementAndGet));
        assertTrue(bad.getMessage().contains("dispatch_block_perform") && bad.getMessage().contains("0x40"),
                bad.getMessage());
        IllegalArgumentException badCreate = assertThrows(IllegalArgumentException.class,
                () -> DispatchWorkItem.create(DispatchWorkItem.BARRIER | 0x100, ran::incrementAndGet));
        assertTrue(badCreate.getMessage().contains("dispatch_block_create") && badCreate.getMessage().contains("0x100"),
                badCreate.getMessage());
        assertEquals(1, ran.get());
    }

    @Test
    void everyFlagIsAcceptedAndTheItemRunsWithIt() throws Exception {
        long[] flags = {DispatchWorkItem.BARRIER, DispatchWorkItem.DETACHED, DispatchWorkItem.ASSIGN_CURRENT,
                DispatchWorkItem.NO_QOS_CLASS, DispatchWorkItem.INHERIT_QOS_CLASS, DispatchWorkItem.ENFORCE_QOS_CLASS,
                DispatchWorkItem.ASSIGN_CURRENT | DispatchWorkItem.ENFORCE_QOS_CLASS | DispatchWorkItem.BARRIER};
        String[] names = {"[BARRIER]", "[DETACHED]", "[ASSIGN_CURRENT]", "[NO_QOS_CLASS]", "[INHERIT_QOS_CLASS]",
                "[ENFORCE_QOS_CLASS]", "[BARRIER|ASSIGN_CURRENT|ENFORCE_QOS_CLASS]"};
        try (DispatchQueue q = DispatchQueue.createConcurrent("wi.flags")) {
            for (int i = 0; i < flags.length; i++) {
                AtomicInteger ran = new AtomicInteger();
                try (DispatchWorkItem item = DispatchWorkItem.create(flags[i], ran::incrementAndGet)) {
                    assertEquals(flags[i], item.getFlags());
                    q.async(item);
                    assertTrue(item.wait(WAIT_S, TimeUnit.SECONDS), "flags 0x" + Long.toHexString(flags[i]));
                    assertEquals(1, ran.get());
                    assertTrue(item.toString().endsWith(names[i]), item.toString());
                }
            }
        }
    }

    /**
     * A BARRIER item on a concurrent queue runs alone: the task before it waits up to 1 s for the item to start,
     * and the item waits up to 1 s for the task after it to start; without the barrier each overlap happens (and
     * is recorded), with it neither can.
     */
    @Test
    void barrierItemsRunAloneOnAConcurrentQueue() throws Exception {
        for (boolean viaFlag : new boolean[] {true, false}) {
            try (DispatchQueue q = DispatchQueue.createConcurrent("wi.barrier")) {
                AtomicInteger others = new AtomicInteger();
                CountDownLatch itemStarted = new CountDownLatch(1);
                CountDownLatch afterStarted = new CountDownLatch(1);
                List<String> overlaps = Collections.synchronizedList(new ArrayList<>());
                CountDownLatch done = new CountDownLatch(3);
                q.suspend();
                q.async(() -> {
                    others.incrementAndGet();
                    awaitQuietly(itemStarted);
                    others.decrementAndGet();
                    done.countDown();
                });
                DispatchWorkItem item = DispatchWorkItem.create(viaFlag ? DispatchWorkItem.BARRIER : 0, () -> {
                    if (others.get() != 0) {
                        overlaps.add("the barrier item started while the task before it ran");
                    }
                    itemStarted.countDown();
                    if (awaitQuietly(afterStarted)) {
                        overlaps.add("the task after the barrier item started while it ran");
                    }
                    done.countDown();
                });
                if (viaFlag) {
                    q.async(item);
                } else {
                    q.barrierAsync(item);
                }
                q.async(() -> {
                    afterStarted.countDown();
                    done.countDown();
                });
                q.resume();
                await(done, "the tasks and the item");
                assertEquals(List.of(), overlaps, viaFlag ? "BARRIER flag" : "barrierAsync");
                item.close();
            }
        }
    }

    private static boolean awaitQuietly(CountDownLatch latch) {
        try {
            return latch.await(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void asyncOnASerialQueueKeepsFifoOrderWithItsOtherTasks() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("wi.fifo")) {
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            List<DispatchWorkItem> items = new ArrayList<>();
            try (DispatchGroup g = DispatchGroup.create()) {
                q.suspend(); // everything below is queued before any of it runs
                for (int i = 0; i < 60; i++) {
                    int n = i;
                    switch (i % 3) {
                        case 0 -> q.async(() -> order.add(n));
                        case 1 -> {
                            DispatchWorkItem item = DispatchWorkItem.create(() -> order.add(n));
                            items.add(item);
                            q.async(item);
                        }
                        default -> {
                            DispatchWorkItem item = DispatchWorkItem.create(() -> order.add(n));
                            items.add(item);
                            g.async(q, item);
                        }
                    }
                }
                q.resume();
                assertTrue(g.wait(WAIT_S, TimeUnit.SECONDS));
                for (DispatchWorkItem item : items) {
                    assertTrue(item.wait(WAIT_S, TimeUnit.SECONDS));
                    item.close();
                }
            }
            q.sync(() -> { });
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                expected.add(i);
            }
            assertEquals(expected, order);
        }
    }

    @Test
    void afterRunsTheItemNoEarlierThanItsDeadline() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("wi.after")) {
            AtomicInteger ran = new AtomicInteger();
            try (DispatchWorkItem item = DispatchWorkItem.create(ran::incrementAndGet)) {
                long start = System.nanoTime();
                q.after(DispatchTime.fromNow(50, TimeUnit.MILLISECONDS), item);
                assertTrue(item.wait(WAIT_S, TimeUnit.SECONDS));
                long elapsed = System.nanoTime() - start;
                assertTrue(elapsed >= TimeUnit.MILLISECONDS.toNanos(49), "ran after " + elapsed + " ns");
                assertEquals(1, ran.get());
            }
            try (DispatchWorkItem never = DispatchWorkItem.create(ran::incrementAndGet)) {
                q.after(DispatchTime.FOREVER, never);
                assertFalse(never.wait(Duration.ofMillis(20)));
            }
        }
    }

    @Test
    void groupsWaitForItemsAndNotifyWithOne() throws Exception {
        for (DispatchQueue q : List.of(DispatchQueue.createSerial("wi.group"), DispatchQueue.createConcurrent("wi.group.c"))) {
            try (DispatchGroup g = DispatchGroup.create()) {
                AtomicInteger ran = new AtomicInteger();
                CountDownLatch release = new CountDownLatch(1);
                DispatchWorkItem blocking = DispatchWorkItem.create(() -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    ran.incrementAndGet();
                });
                DispatchWorkItem cancelled = DispatchWorkItem.create(ran::incrementAndGet);
                cancelled.cancel();
                g.async(q, blocking);
                g.async(q, cancelled);
                AtomicInteger ranWhenNotified = new AtomicInteger(-1);
                DispatchWorkItem notified = DispatchWorkItem.create(() -> ranWhenNotified.set(ran.get()));
                g.notify(DispatchQueue.global(), notified);
                assertFalse(g.wait(Duration.ofMillis(20)), q + ": the group emptied while its item was blocked");
                release.countDown();
                assertTrue(g.wait(WAIT_S, TimeUnit.SECONDS), q + ": a cancelled item did not leave the group");
                assertTrue(notified.wait(WAIT_S, TimeUnit.SECONDS), q + ": group notify's item never ran");
                assertEquals(1, ranWhenNotified.get(), q + ": the notified item ran before the group emptied");
                assertEquals(1, ran.get());
                blocking.close();
                cancelled.close();
                notified.close();
            }
            q.close();
        }
    }

    /** libdispatch aborts the process on each of these (tests/native/test_block_rules.c); here they are refused. */
    @Test
    void whatLibdispatchAbortsOnIsRefusedNamingTheRule() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("wi.rules")) {
            DispatchWorkItem waitedTwice = DispatchWorkItem.create(() -> { });
            q.async(waitedTwice);
            assertTrue(waitedTwice.wait(WAIT_S, TimeUnit.SECONDS));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> waitedTwice.wait(DispatchTime.NOW));
            assertTrue(e.getMessage().contains("dispatch_block_wait") && e.getMessage().contains("only once"),
                    e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> q.async(waitedTwice));
            assertTrue(e.getMessage().contains("dispatch_async") && e.getMessage().contains("waited for"),
                    e.getMessage());
            waitedTwice.close();

            DispatchWorkItem ranTwice = DispatchWorkItem.create(() -> { });
            q.async(ranTwice);
            ranTwice.perform();
            e = assertThrows(IllegalStateException.class, () -> ranTwice.wait(WAIT_S, TimeUnit.SECONDS));
            assertTrue(e.getMessage().contains("executed 2 times"), e.getMessage());
            e = assertThrows(IllegalStateException.class, () -> ranTwice.notify(q, () -> { }));
            assertTrue(e.getMessage().contains("dispatch_block_notify") && e.getMessage().contains("executed 2 times"),
                    e.getMessage());
            q.async(ranTwice); // an item nobody waits for or observes may run any number of times
            q.sync(() -> { });
            ranTwice.close();

            DispatchWorkItem observed = DispatchWorkItem.create(() -> { });
            observed.notify(q, () -> { });
            observed.perform();
            e = assertThrows(IllegalStateException.class, observed::perform);
            assertTrue(e.getMessage().contains("observed"), e.getMessage());
            observed.close();

            AtomicReference<DispatchWorkItem> self = new AtomicReference<>();
            AtomicReference<Throwable> fromInside = new AtomicReference<>();
            DispatchWorkItem selfWaiting = DispatchWorkItem.create(() -> {
                try {
                    self.get().wait(DispatchTime.FOREVER);
                } catch (Throwable t) {
                    fromInside.set(t);
                }
            });
            self.set(selfWaiting);
            q.async(selfWaiting);
            assertTrue(selfWaiting.wait(WAIT_S, TimeUnit.SECONDS));
            assertTrue(fromInside.get() instanceof IllegalStateException ise
                    && ise.getMessage().contains("own task"), String.valueOf(fromInside.get()));
            selfWaiting.close();

            assertThrows(UnsupportedOperationException.class, () -> {
                try (DispatchWorkItem item = DispatchWorkItem.create(() -> { })) {
                    item.setTargetQueue(q);
                }
            });
        }
    }

    /**
     * Every id a work item registers is gone once the block is freed: after close (an item never submitted),
     * after the last pending submission ran (an item closed while queued), and after the Cleaner. Judged as "at
     * most as many as before": ids that earlier tests' dropped objects still held may go meanwhile.
     */
    @Test
    void noJavaIdOutlivesTheNativeBlock() throws Exception {
        int before = Handles.size();
        try (DispatchQueue q = DispatchQueue.createSerial("wi.ids")) {
            for (int i = 0; i < 200; i++) {
                DispatchWorkItem.create(() -> { }).close();
            }
            assertTrue(Handles.size() <= before, "ids left by items closed without a submission");
            CountDownLatch release = new CountDownLatch(1);
            q.async(Latches.blockUntil(release));
            AtomicInteger ran = new AtomicInteger();
            for (int i = 0; i < 200; i++) {
                DispatchWorkItem item = DispatchWorkItem.create(ran::incrementAndGet);
                q.async(item);
                q.async(item);
                item.close(); // the two queued submissions keep the block
            }
            assertTrue(Handles.size() > before, "queued items hold their ids");
            release.countDown();
            q.sync(() -> { });
            assertEquals(400, ran.get(), "closed items' queued executions ran");
            ProcessStats.awaitHandlesAtMost(before, "ids left after the queued executions of closed items ran");
            for (int i = 0; i < 200; i++) {
                q.async(DispatchWorkItem.create(ran::incrementAndGet)); // dropped unclosed: the Cleaner's
            }
            q.sync(() -> { });
            ProcessStats.awaitHandlesCollected(before, "ids left after the Cleaner released dropped items");
        }
    }

    @Test
    void aCheckedThrowableFromPerformComesWrapped() {
        Exception checked = new Exception("checked");
        try (DispatchWorkItem item = DispatchWorkItem.create(() -> sneakyThrow(checked))) {
            CompletionException e = assertThrows(CompletionException.class, item::perform);
            assertSame(checked, e.getCause());
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneakyThrow(Throwable t) throws T {
        throw (T) t;
    }

    @Test
    void aFailingAsyncItemIsReportedAndTheQueueGoesOn() throws Exception {
        AtomicReference<Throwable> reported = new AtomicReference<>();
        AtomicReference<String> thread = new AtomicReference<>();
        CountDownLatch got = new CountDownLatch(1);
        Dispatch.setUncaughtExceptionHandler((t, e) -> {
            reported.set(e);
            thread.set(t.getName());
            got.countDown();
        });
        IllegalStateException thrown = new IllegalStateException("from an async item");
        try (DispatchQueue q = DispatchQueue.createConcurrent("wi.report");
             DispatchWorkItem item = DispatchWorkItem.create(() -> {
                 throw thrown;
             })) {
            q.async(item);
            await(got, "the report");
            assertSame(thrown, reported.get());
            assertTrue(thread.get().endsWith("[wi.report]"), "reported on " + thread.get());
            assertTrue(item.wait(WAIT_S, TimeUnit.SECONDS), "a failed execution still completes");
            CountDownLatch after = new CountDownLatch(1);
            q.async(after::countDown);
            await(after, "a task after the failure");
        }
    }
}
