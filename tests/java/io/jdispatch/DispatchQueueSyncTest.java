package io.jdispatch;

import io.jdispatch.testutil.ChildJvm;
import io.jdispatch.testutil.NestedSyncProbe;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@code sync}, {@code barrierSync} and {@code apply} as in C: the task runs on the calling thread (so nested
 * syncs cost no worker thread), after the tasks queued before it, with its queue current; and a close() of the
 * queue while such a call waits on it never leaves the call hanging.
 */
class DispatchQueueSyncTest {
    private static final long WAIT_S = 30; // generous: only reached when something is broken

    /** What a sync task saw. */
    private record Seen(Thread thread, int tasksBefore, boolean queueCurrent, boolean targetCurrent) {}

    @Test
    void nestedSyncChainsDoNotExhaustTheThreadPool(@TempDir Path home) throws Exception {
        // 2 x 200 levels: a worker per level would need more threads than libdispatch's pool has (about 255).
        ChildJvm.Result r = ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path")),
                NestedSyncProbe.class.getName(), "2", "200");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("chains done: 2 x 200, levels entered 400, unrelated serial queue task ran"),
                r.output());
    }

    @Test
    void syncOnAnIdleSerialQueueRunsOnTheCallersThreadWithTheQueueCurrent() {
        Thread me = Thread.currentThread();
        try (DispatchQueue q = DispatchQueue.createSerial("inline")) {
            assertSame(me, q.sync(Thread::currentThread));
            assertTrue(q.sync(q::isCurrent), "isCurrent() inside an inline sync");
            assertFalse(q.isCurrent());
            assertSame(me, q.barrierSync(Thread::currentThread));
            List<Thread> applyThreads = new ArrayList<>();
            q.apply(3, i -> applyThreads.add(Thread.currentThread()));
            assertEquals(List.of(me, me, me), applyThreads);
            IllegalStateException inner = q.sync(() -> assertThrows(IllegalStateException.class, () -> q.sync(() -> {})));
            assertTrue(inner.getMessage().contains("dispatch_sync onto DispatchQueue[inline]"), inner.getMessage());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.sync(() -> {
                throw new IllegalArgumentException("from the inline task");
            }));
            assertEquals("from the inline task", e.getMessage());
            assertFalse(q.isCurrent(), "the queue is no longer current after the task threw");
            assertEquals(4, q.sync(() -> 4), "the queue still works");
        }
    }

    @Test
    void syncOnABusySerialQueueWaitsForTheTasksQueuedBeforeItThenRunsOnTheCaller() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("busy")) {
            CountDownLatch release = new CountDownLatch(1);
            List<Integer> order = new ArrayList<>();
            q.async(() -> await(release));
            for (int i = 0; i < 100; i++) {
                int n = i;
                q.async(() -> order.add(n));
            }
            CompletableFuture<Seen> seen = new CompletableFuture<>();
            Thread caller = start(seen, () -> q.sync(() -> new Seen(Thread.currentThread(), order.size(), q.isCurrent(), false)));
            awaitBlockedInside(caller);
            assertFalse(seen.isDone(), "the sync ran before the tasks queued ahead of it");
            release.countDown();
            Seen s = seen.get(WAIT_S, TimeUnit.SECONDS);
            assertSame(caller, s.thread(), "the sync task ran on another thread than its caller's");
            assertEquals(100, s.tasksBefore(), "FIFO: every task queued before the sync ran before it");
            assertTrue(s.queueCurrent());
            for (int i = 0; i < 100; i++) {
                assertEquals(i, order.get(i));
            }
            q.async(() -> order.add(100)); // the queue goes on with async tasks after the inline one
            assertEquals(101, q.sync(order::size));

            // Two sync callers and async tasks in between: each sync in its place, on its own thread.
            CountDownLatch hold = new CountDownLatch(1);
            q.async(() -> await(hold));
            CompletableFuture<Seen> first = new CompletableFuture<>();
            Thread a = start(first, () -> q.sync(() -> new Seen(Thread.currentThread(), order.size(), q.isCurrent(), false)));
            awaitBlockedInside(a);
            q.async(() -> order.add(101));
            CompletableFuture<Seen> second = new CompletableFuture<>();
            Thread b = start(second, () -> q.sync(() -> new Seen(Thread.currentThread(), order.size(), q.isCurrent(), false)));
            awaitBlockedInside(b);
            hold.countDown();
            assertEquals(new Seen(a, 101, true, false), first.get(WAIT_S, TimeUnit.SECONDS));
            assertEquals(new Seen(b, 102, true, false), second.get(WAIT_S, TimeUnit.SECONDS));
        }
    }

    @Test
    void syncOntoASuspendedSerialQueueWaitsForResumeThenRunsOnTheCaller() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("suspended")) {
            q.suspend();
            CompletableFuture<Seen> seen = new CompletableFuture<>();
            Thread caller = start(seen, () -> q.sync(() -> new Seen(Thread.currentThread(), 0, q.isCurrent(), false)));
            awaitBlockedInside(caller);
            assertFalse(seen.isDone(), "the sync ran on a suspended queue");
            q.resume();
            Seen s = seen.get(WAIT_S, TimeUnit.SECONDS);
            assertSame(caller, s.thread(), "the sync task ran on another thread than its caller's");
            assertTrue(s.queueCurrent());
        }
    }

    @Test
    void syncOntoAQueueTargetingABusySerialQueueWaitsForItAndSeesBothCurrent() throws Exception {
        // The hierarchy is honoured: while the inline task runs, the target runs nothing else.
        try (DispatchQueue outer = DispatchQueue.createSerial("outer");
             DispatchQueue inner = DispatchQueue.createSerial("inner")) {
            inner.setTargetQueue(outer);
            CountDownLatch started = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            AtomicBoolean outerRunning = new AtomicBoolean();
            outer.async(() -> {
                outerRunning.set(true);
                started.countDown();
                await(release);
                outerRunning.set(false);
            });
            assertTrue(started.await(WAIT_S, TimeUnit.SECONDS));
            CompletableFuture<Seen> seen = new CompletableFuture<>();
            Thread caller = start(seen, () -> inner.sync(() -> {
                boolean overlapped = outerRunning.get();
                outer.async(() -> outerRunning.set(true)); // must wait until the inline task is done
                Thread.yield();
                overlapped |= outerRunning.get();
                return new Seen(Thread.currentThread(), overlapped ? 1 : 0, inner.isCurrent(), outer.isCurrent());
            }));
            awaitBlockedInside(caller);
            release.countDown();
            Seen s = seen.get(WAIT_S, TimeUnit.SECONDS);
            assertSame(caller, s.thread(), "the sync task ran on another thread than its caller's");
            assertEquals(0, s.tasksBefore(), "a task of the target ran while the inline sync task ran");
            assertTrue(s.queueCurrent());
            assertTrue(s.targetCurrent(), "a queue's inline task runs on its target");
            assertTrue(outer.sync(outerRunning::get), "the target's task queued from the inline task ran after it");
        }
    }

    @Test
    void closeWhileACallWaitsOnASuspendedOrInactiveQueueLetsTheCallFinish() throws Exception {
        record Case(String name, boolean concurrent, boolean inactive, String call) {}
        List<Case> cases = new ArrayList<>();
        for (boolean concurrent : new boolean[] {true, false}) {
            for (String call : List.of("sync", "barrierSync", "apply")) {
                cases.add(new Case((concurrent ? "concurrent" : "serial") + " suspended, " + call, concurrent, false, call));
            }
            cases.add(new Case((concurrent ? "concurrent" : "serial") + " inactive, sync", concurrent, true, "sync"));
        }
        for (Case c : cases) {
            DispatchQueue.Attributes attributes = c.concurrent() ? DispatchQueue.Attributes.CONCURRENT : DispatchQueue.Attributes.SERIAL;
            DispatchQueue q = DispatchQueue.create(c.name(), c.inactive() ? attributes.initiallyInactive() : attributes);
            if (!c.inactive()) {
                q.suspend();
            }
            CountDownLatch queuedRan = new CountDownLatch(1);
            q.async(queuedRan::countDown);
            CompletableFuture<Integer> outcome = new CompletableFuture<>();
            Thread caller = start(outcome, () -> switch (c.call()) {
                case "sync" -> q.sync(() -> 1);
                case "barrierSync" -> q.barrierSync(() -> 1);
                default -> {
                    q.apply(1, i -> {});
                    yield 1;
                }
            });
            awaitBlockedInside(caller);
            q.close(); // the call is in flight: it must now return (or throw), not wait forever
            caller.join(TimeUnit.SECONDS.toMillis(WAIT_S));
            assertFalse(caller.isAlive(), c.name() + ": the call still waits " + WAIT_S + " s after close()");
            assertEquals(1, outcome.get(), c.name());
            assertTrue(queuedRan.await(WAIT_S, TimeUnit.SECONDS), c.name() + ": the queued task never ran");
            assertTrue(q.isClosed());
        }
    }

    /** Runs {@code call} on a new daemon thread, completing {@code result} with its outcome. */
    private static <T> Thread start(CompletableFuture<T> result, Callable<T> call) {
        Thread t = new Thread(() -> {
            try {
                result.complete(call.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "sync-caller");
        t.setDaemon(true); // if a call hangs (the bug), it must not keep the test JVM alive
        t.start();
        return t;
    }

    /**
     * Waits until {@code t} is blocked inside a queue call, past its checks: in the native dispatch call, or
     * parked for its turn in a serial queue's FIFO.
     */
    private static void awaitBlockedInside(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (System.nanoTime() < deadline) {
            StackTraceElement[] stack = t.getStackTrace();
            boolean blocked = stack.length > 0 && stack[0].isNativeMethod() && stack[0].getMethodName().startsWith("jd_queue_");
            for (StackTraceElement e : stack) {
                blocked |= e.getClassName().equals(SerialDrain.class.getName() + "$Turn") && e.getMethodName().equals("await")
                        && t.getState() == Thread.State.WAITING;
            }
            if (blocked) {
                return;
            }
            Thread.sleep(1);
        }
        fail(t + " did not block inside the queue call within " + WAIT_S + " s: " + t.getState());
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(WAIT_S, TimeUnit.SECONDS)) {
                throw new AssertionError("latch not released within " + WAIT_S + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
