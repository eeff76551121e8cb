package io.jdispatch;

import io.jdispatch.testutil.Latches;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * asyncAndWait / barrierAsyncAndWait (dispatch_async_and_wait_f, dispatch_barrier_async_and_wait_f): FIFO order
 * with async on a serial queue (its Java FIFO), exclusion on a concurrent one, exceptions rethrown as by sync,
 * the same refusal of a wait for itself. Virtual threads: VirtualThreadTest ("async-and-wait").
 */
class DispatchQueueAsyncAndWaitTest {
    private static final long WAIT_S = 60;

    @Test
    void onASerialQueueItRunsInFifoOrderWithAsync() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("aaw-fifo")) {
            List<Integer> order = new ArrayList<>(); // touched by the queue's tasks only, one at a time
            for (boolean barrier : new boolean[] {false, true}) {
                // The first task outlasts the drain's 1 ms time slice: after 1,024 tasks the drain queues itself
                // again on the native queue, behind anything submitted there directly; only the Java FIFO keeps
                // the wait behind all 3,000.
                CountDownLatch release = new CountDownLatch(1);
                q.async(Latches.blockUntil(release));
                for (int i = 0; i < 3000; i++) {
                    q.async(() -> order.add(0));
                }
                AtomicReference<Integer> seen = new AtomicReference<>();
                Thread caller = new Thread(() -> seen.set(barrier ? q.barrierAsyncAndWait(order::size) : q.asyncAndWait(order::size)));
                caller.start();
                awaitBlocked(caller);
                release.countDown();
                caller.join(TimeUnit.SECONDS.toMillis(WAIT_S));
                assertEquals(3000, seen.get(), (barrier ? "barrierAsyncAndWait" : "asyncAndWait")
                        + " ran before the 3,000 tasks queued ahead of it");
                q.asyncAndWait(order::clear);
            }
            for (int round = 0; round < 100; round++) {
                int n = 3 * round;
                q.async(() -> order.add(n));
                q.asyncAndWait(() -> order.add(n + 1));
                q.barrierAsyncAndWait(() -> order.add(n + 2));
            }
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < 300; i++) {
                expected.add(i);
            }
            assertEquals(expected, q.asyncAndWait(() -> new ArrayList<>(order)));
        }
    }

    @Test
    void theTaskRunsOnTheQueueAndItsEffectsAreVisibleOnReturn() {
        for (DispatchQueue.Attributes kind : List.of(DispatchQueue.Attributes.SERIAL, DispatchQueue.Attributes.CONCURRENT)) {
            try (DispatchQueue q = DispatchQueue.create("aaw-current", kind)) {
                int[] plain = {0}; // no volatile: the return must publish what the task wrote
                q.asyncAndWait(() -> plain[0] = 42);
                assertEquals(42, plain[0], kind.toString());
                assertTrue(q.asyncAndWait(q::isCurrent), kind + ": not on the queue");
                assertEquals("ok", q.barrierAsyncAndWait(() -> {
                    q.assertQueue();
                    return "ok";
                }));
                DispatchQueue.Counters c = q.getCounters();
                assertEquals(3, c.submitted(), kind + " " + c);
                assertEquals(3, c.completed(), kind + " " + c);
            }
        }
        assertEquals("ok", DispatchQueue.global().asyncAndWait(() -> {
            DispatchQueue.global().assertQueue(); // a global queue runs it at once, on the caller, as its own
            return "ok";
        }));
    }

    @Test
    void exceptionsAreRethrownInTheCallerAsBySync() {
        try (DispatchQueue q = DispatchQueue.createConcurrent("aaw-throws")) {
            IllegalArgumentException thrown = new IllegalArgumentException("from the task");
            Runnable throwing = () -> {
                throw thrown;
            };
            assertSame(thrown, assertThrows(IllegalArgumentException.class, () -> q.asyncAndWait(throwing)));
            assertSame(thrown, assertThrows(IllegalArgumentException.class, () -> q.barrierAsyncAndWait(throwing)));
            assertSame(thrown, assertThrows(IllegalArgumentException.class, () -> q.asyncAndWait(() -> {
                throw thrown; // the Callable overload
            })));
            AssertionError error = new AssertionError("an error");
            Runnable failing = () -> {
                throw error;
            };
            assertSame(error, assertThrows(AssertionError.class, () -> q.barrierAsyncAndWait(failing)));
            assertSame(error, assertThrows(AssertionError.class, () -> q.asyncAndWait(failing)));
            CompletionException checked = assertThrows(CompletionException.class, () -> q.asyncAndWait(() -> {
                throw new IOException("checked");
            }));
            assertInstanceOf(IOException.class, checked.getCause());
            assertEquals(7, q.asyncAndWait(() -> 7), "the queue still works");
            NullPointerException nullTask = assertThrows(NullPointerException.class, () -> q.asyncAndWait((Runnable) null));
            assertTrue(nullTask.getMessage().contains("dispatch_async_and_wait: task is null"), nullTask.getMessage());
        }
    }

    @Test
    void aBarrierRunsAloneAfterTheTasksBeforeIt() throws Exception {
        try (DispatchQueue c = DispatchQueue.createConcurrent("aaw-barrier")) {
            int before = 2; // side by side at once: libdispatch adds workers beyond the CPUs only slowly
            AtomicInteger running = new AtomicInteger();
            AtomicInteger finished = new AtomicInteger();
            CountDownLatch allStarted = new CountDownLatch(before);
            CountDownLatch release = new CountDownLatch(1);
            for (int i = 0; i < before; i++) {
                c.async(() -> {
                    running.incrementAndGet();
                    allStarted.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    running.decrementAndGet();
                    finished.incrementAndGet();
                });
            }
            assertTrue(allStarted.await(WAIT_S, TimeUnit.SECONDS), "the concurrent tasks did not run side by side");
            AtomicReference<String> inBarrier = new AtomicReference<>();
            Thread caller = new Thread(() -> inBarrier.set(c.barrierAsyncAndWait(
                    () -> "running " + running.get() + ", finished " + finished.get())));
            caller.start();
            awaitInNative(caller, "jd_queue_barrier_async_and_wait"); // submitted while the tasks before it still run
            release.countDown();
            caller.join(TimeUnit.SECONDS.toMillis(WAIT_S));
            assertEquals("running 0, finished " + before, inBarrier.get());
        }
    }

    /** Waits until {@code t} waits in its call: parked (in the queue's Java FIFO) or inside a native method. */
    private static void awaitBlocked(Thread t) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (System.nanoTime() < end) {
            StackTraceElement[] stack = t.getStackTrace();
            if (t.getState() == Thread.State.WAITING || (stack.length > 0 && stack[0].isNativeMethod()
                    && stack[0].getClassName().endsWith("QueueNative"))) {
                return;
            }
            Thread.sleep(1);
        }
        throw new AssertionError(t + " never blocked in its call");
    }

    /** Waits until {@code t} is inside the native method {@code name} (60 s bound). */
    private static void awaitInNative(Thread t, String name) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (System.nanoTime() < end) {
            for (StackTraceElement e : t.getStackTrace()) {
                if (e.isNativeMethod() && e.getMethodName().equals(name)) {
                    return;
                }
            }
            Thread.sleep(1);
        }
        throw new AssertionError(t + " never entered " + name);
    }

    @Test
    void waitingForItselfIsRefusedAsForSync() throws Exception {
        try (DispatchQueue outer = DispatchQueue.createSerial("aaw-outer"); DispatchQueue inner = DispatchQueue.createSerial("aaw-inner")) {
            inner.setTargetQueue(outer);
            List<String> refused = Collections.synchronizedList(new ArrayList<>());
            outer.sync(() -> {
                for (Runnable r : List.<Runnable>of(() -> outer.asyncAndWait(() -> { }), () -> inner.asyncAndWait(() -> { }),
                        () -> outer.barrierAsyncAndWait(() -> { }))) {
                    try {
                        r.run();
                        refused.add("ran");
                    } catch (IllegalStateException e) {
                        refused.add(e.getMessage().substring(0, e.getMessage().indexOf(", from")));
                    }
                }
            });
            assertEquals(List.of("dispatch_async_and_wait onto DispatchQueue[aaw-outer]",
                    "dispatch_async_and_wait onto DispatchQueue[aaw-inner], which targets DispatchQueue[aaw-outer]",
                    "dispatch_barrier_async_and_wait onto DispatchQueue[aaw-outer]"), refused);
        }
    }
}
