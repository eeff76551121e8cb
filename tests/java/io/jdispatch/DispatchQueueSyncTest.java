package io.jdispatch;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** {@code sync}, {@code barrierSync} and {@code apply}: a close() of the queue while such a call waits on it never leaves the call hanging. */
class DispatchQueueSyncTest {
    private static final long WAIT_S = 30; // generous: only reached when something is broken

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
     * parked until a serial queue's drain ran its task.
     */
    private static void awaitBlockedInside(Thread t) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (System.nanoTime() < deadline) {
            StackTraceElement[] stack = t.getStackTrace();
            boolean blocked = stack.length > 0 && stack[0].isNativeMethod() && stack[0].getMethodName().startsWith("jd_queue_");
            for (StackTraceElement e : stack) {
                blocked |= e.getClassName().equals(DispatchQueue.class.getName() + "$SyncTask") && e.getMethodName().equals("await")
                        && t.getState() == Thread.State.WAITING;
            }
            if (blocked) {
                return;
            }
            Thread.sleep(1);
        }
        fail(t + " did not block inside the queue call within " + WAIT_S + " s: " + t.getState());
    }
}
