package io.jdispatch;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * assertQueue / assertQueueNot / assertQueueBarrier (dispatch_assert_queue*): they return where libdispatch's
 * would, and throw IllegalStateException naming the queue and the rule where libdispatch would abort the process
 * (the JVM surviving these tests is part of the check: the binding calls libdispatch's function only when it
 * returns; tests/native/test_queue_assert.c compares the two case by case).
 */
class DispatchQueueAssertTest {
    private static final long WAIT_S = 60;

    /** What each check did: "ok", or the exception's message. */
    private static String outcome(Runnable check) {
        try {
            check.run();
            return "ok";
        } catch (IllegalStateException e) {
            return e.getMessage();
        }
    }

    /** The three checks of {@code q}, run where the caller runs them: [assertQueue, assertQueueNot, assertQueueBarrier]. */
    private static List<String> checks(DispatchQueue q) {
        return List.of(outcome(q::assertQueue), outcome(q::assertQueueNot), outcome(q::assertQueueBarrier));
    }

    /** Runs {@code body} as an async task of {@code q} (or a barrier one) and returns what it recorded. */
    private static List<String> inTask(DispatchQueue q, boolean barrier, Consumer<List<String>> body) throws Exception {
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(1);
        Runnable task = () -> {
            try {
                body.accept(seen);
            } finally {
                done.countDown();
            }
        };
        if (barrier) {
            q.barrierAsync(task);
        } else {
            q.async(task);
        }
        assertTrue(done.await(WAIT_S, TimeUnit.SECONDS), "the task never ran");
        return seen;
    }

    private static void assertOn(List<String> checks, String queueName) {
        assertEquals("ok", checks.get(0), "assertQueue on " + queueName);
        assertTrue(checks.get(1).startsWith("dispatch_assert_queue_not(" + queueName + "): the calling code runs on "
                + queueName), checks.get(1));
    }

    private static void assertOff(List<String> checks, String queueName) {
        assertTrue(checks.get(0).startsWith("dispatch_assert_queue(" + queueName + "): the calling code does not run on "
                + queueName) && checks.get(0).endsWith("libdispatch would abort the process"), checks.get(0));
        assertEquals("ok", checks.get(1), "assertQueueNot off " + queueName);
        assertTrue(checks.get(2).startsWith("dispatch_assert_queue_barrier(" + queueName + "): the calling code does not run"),
                checks.get(2));
    }

    @Test
    void offEveryQueueOnlyAssertQueueNotReturns() {
        try (DispatchQueue q = DispatchQueue.createSerial("assert-off")) {
            assertOff(checks(q), "DispatchQueue[assert-off]");
            assertOff(checks(DispatchQueue.global()), "DispatchQueue[global-default]");
        }
    }

    @Test
    void aTaskRunsOnItsQueueAndOnTheQueuesItTargets() throws Exception {
        try (DispatchQueue parent = DispatchQueue.createSerial("assert-parent");
             DispatchQueue child = DispatchQueue.createSerial("assert-child");
             DispatchQueue other = DispatchQueue.createSerial("assert-other")) {
            child.setTargetQueue(parent);
            List<String> seen = inTask(child, false, s -> {
                s.addAll(checks(child));
                s.addAll(checks(parent));
                s.addAll(checks(other));
            });
            assertOn(seen.subList(0, 3), "DispatchQueue[assert-child]");
            assertEquals("ok", seen.get(2), "a serial queue's task is a barrier of it");
            assertOn(seen.subList(3, 6), "DispatchQueue[assert-parent]");
            assertOff(seen.subList(6, 9), "DispatchQueue[assert-other]");
            assertOff(inTask(parent, false, s -> s.addAll(checks(child))), "DispatchQueue[assert-child]");
        }
    }

    @Test
    void insideASyncTheQueueItWasCalledFromStillCounts() throws Exception {
        try (DispatchQueue outer = DispatchQueue.createSerial("assert-outer");
             DispatchQueue inner = DispatchQueue.createConcurrent("assert-inner");
             DispatchQueue other = DispatchQueue.createSerial("assert-other")) {
            List<String> seen = inTask(outer, false, s -> inner.sync(() -> {
                s.addAll(checks(inner));
                s.addAll(checks(outer));
                s.addAll(checks(other));
                inner.asyncAndWait(() -> s.add(outcome(outer::assertQueue)));
                other.sync(() -> inner.sync(() -> s.add(outcome(outer::assertQueue)))); // two frames further in
            }));
            assertOn(seen.subList(0, 3), "DispatchQueue[assert-inner]");
            assertOn(seen.subList(3, 6), "DispatchQueue[assert-outer]");
            assertOff(seen.subList(6, 9), "DispatchQueue[assert-other]");
            assertEquals(List.of("ok", "ok"), seen.subList(9, 11), "outer frames seen from an async-and-wait and nested syncs");
            // From a plain thread a sync's queue counts, and the thread's own nothing.
            assertOn(inner.sync(() -> checks(inner)), "DispatchQueue[assert-inner]");
            assertOff(inner.sync(() -> checks(outer)), "DispatchQueue[assert-outer]");
        }
    }

    @Test
    void onAConcurrentQueueOnlyBarrierTasksAreBarriers() throws Exception {
        try (DispatchQueue c = DispatchQueue.createConcurrent("assert-concurrent");
             DispatchQueue serial = DispatchQueue.createSerial("assert-serial")) {
            String notBarrier = "dispatch_assert_queue_barrier(DispatchQueue[assert-concurrent]): the calling code runs on "
                    + "DispatchQueue[assert-concurrent] but not as a barrier";
            List<String> plain = inTask(c, false, s -> s.addAll(checks(c)));
            assertEquals("ok", plain.get(0));
            assertTrue(plain.get(2).startsWith(notBarrier), plain.get(2));
            assertTrue(outcome(() -> c.sync(c::assertQueueBarrier)).startsWith(notBarrier), "a plain sync is no barrier");
            assertTrue(outcome(() -> c.asyncAndWait(c::assertQueueBarrier)).startsWith(notBarrier));
            assertEquals(List.of("ok", "ok"), inTask(c, true, s -> {
                s.add(outcome(c::assertQueueBarrier));
                serial.sync(() -> s.add(outcome(c::assertQueueBarrier))); // still inside the barrier
            }));
            assertEquals("ok", outcome(() -> c.barrierSync(c::assertQueueBarrier)));
            assertEquals("ok", outcome(() -> c.barrierAsyncAndWait(c::assertQueueBarrier)));
            assertEquals("ok", outcome(() -> serial.sync(serial::assertQueueBarrier)));
        }
    }

    @Test
    void aGlobalQueueCountsForItsOwnTasksAndSyncsAndHasNoBarrier() throws Exception {
        DispatchQueue global = DispatchQueue.global();
        List<String> seen = inTask(global, false, s -> s.addAll(checks(global)));
        assertOn(seen, "DispatchQueue[global-default]");
        assertTrue(seen.get(2).contains("not as a barrier (a global queue has none)"), seen.get(2));
        assertOn(global.sync(() -> checks(global)), "DispatchQueue[global-default]");
        assertOff(global.sync(() -> checks(DispatchQueue.global(QoSClass.UTILITY))), "DispatchQueue[global-utility]");
    }

    @Test
    void aClosedQueueIsRefusedToItsOwnerButNotToItsTasks() throws Exception {
        DispatchQueue q = DispatchQueue.createSerial("assert-closed");
        CountDownLatch release = new CountDownLatch(1);
        List<String> seen = Collections.synchronizedList(new ArrayList<>());
        CountDownLatch done = new CountDownLatch(1);
        q.async(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            seen.add(outcome(q::assertQueue));
            done.countDown();
        });
        q.close();
        release.countDown();
        assertTrue(done.await(WAIT_S, TimeUnit.SECONDS));
        assertEquals(List.of("ok"), seen, "a task of the queue asserting it after the owner's close()");
        IllegalStateException e = assertThrows(IllegalStateException.class, q::assertQueueNot);
        assertTrue(e.getMessage().contains("dispatch_assert_queue_not: DispatchQueue[assert-closed] is closed"), e.getMessage());
    }
}
