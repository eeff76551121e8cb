package io.jdispatch;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Queue-specific data (dispatch_queue_set_specific / get_specific / dispatch_get_specific) and the queue's context
 * and finalizer (dispatch_set_context / get_context / set_finalizer_f): what each returns, where
 * getCurrentSpecific looks, and when the values are let go (replaced, or the queue freed by libdispatch after its
 * work; not at close() while work still holds it). Collection is waited for (60 s bound), never timed.
 */
class DispatchQueueContextTest {
    private static final long WAIT_S = 60; // a hang bound: reached only when something is broken
    private static final DispatchSpecificKey<String> NAME = new DispatchSpecificKey<>();
    private static final DispatchSpecificKey<Object> VALUE = new DispatchSpecificKey<>();

    @AfterEach
    void restoreHandler() {
        Dispatch.setUncaughtExceptionHandler(null);
    }

    /** Collects until {@code ref} is cleared; fails after 60 s. */
    private static void awaitCollected(WeakReference<?> ref, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (ref.get() != null && System.nanoTime() < end) {
            System.gc();
            Thread.sleep(10);
        }
        assertNull(ref.get(), what + ": still reachable after " + WAIT_S + " s of collections");
    }

    /** Three full collections: a value only the queue holds for libdispatch must survive them. */
    private static void collect() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(10);
        }
    }

    @Test
    void getSpecificReturnsWhatSetSpecificSetPerQueueAndKeyAndNullRemovesIt() {
        try (DispatchQueue a = DispatchQueue.createSerial("specific-a"); DispatchQueue b = DispatchQueue.createConcurrent("specific-b")) {
            assertNull(a.getSpecific(NAME));
            a.setSpecific(NAME, "a's name");
            b.setSpecific(NAME, "b's name");
            a.setSpecific(VALUE, 42);
            assertEquals("a's name", a.getSpecific(NAME));
            assertEquals("b's name", b.getSpecific(NAME));
            assertEquals(42, a.getSpecific(VALUE));
            assertNull(b.getSpecific(VALUE), "a key set on one queue only");
            assertNull(a.getSpecific(new DispatchSpecificKey<String>()), "a fresh key equals no other");
            a.setSpecific(NAME, "renamed");
            assertEquals("renamed", a.getSpecific(NAME));
            a.setSpecific(NAME, null);
            assertNull(a.getSpecific(NAME), "null removes the value");
            assertEquals(42, a.getSpecific(VALUE), "other keys keep theirs");
            // The binding's own key (isCurrent) is another key: untouched by the user's.
            assertFalse(a.isCurrent());
            assertTrue(a.sync(a::isCurrent));
        }
    }

    @Test
    void getCurrentSpecificLooksAtTheCurrentQueueThenUpItsTargetChain() throws Exception {
        // After libdispatch's dispatch_context_for_key test: a key on the target, one on the queue, one on both.
        try (DispatchQueue tq = DispatchQueue.createConcurrent("specific-tq"); DispatchQueue q = DispatchQueue.createSerial("specific-q")) {
            q.setTargetQueue(tq);
            DispatchSpecificKey<String> onTarget = new DispatchSpecificKey<>();
            tq.setSpecific(onTarget, "target's");
            tq.setSpecific(NAME, "tq");
            q.setSpecific(NAME, "q");
            AtomicReference<List<String>> fromTask = new AtomicReference<>();
            CountDownLatch done = new CountDownLatch(1);
            q.async(() -> {
                fromTask.set(List.of(String.valueOf(DispatchQueue.getCurrentSpecific(NAME)),
                        String.valueOf(DispatchQueue.getCurrentSpecific(onTarget))));
                done.countDown();
            });
            assertTrue(done.await(WAIT_S, TimeUnit.SECONDS));
            assertEquals(List.of("q", "target's"), fromTask.get(), "the nearest queue's value wins; the target's shows through");
            assertEquals("tq", tq.sync(() -> DispatchQueue.getCurrentSpecific(NAME)), "a task of the target sees the target's");
            assertEquals("q", q.sync(() -> DispatchQueue.getCurrentSpecific(NAME)), "a sync task runs on its queue");
            assertNull(DispatchQueue.getCurrentSpecific(NAME), "outside any queue");
            assertNull(DispatchQueue.global().sync(() -> DispatchQueue.getCurrentSpecific(NAME)), "a global queue's task");
        }
    }

    @Test
    void aReplacedValueIsLetGoWhileTheCurrentOneStays() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("specific-replaced")) {
            Object first = new Object();
            WeakReference<Object> firstRef = new WeakReference<>(first);
            q.setSpecific(VALUE, first);
            WeakReference<Object> secondRef = new WeakReference<>(setFresh(q));
            first = null;
            awaitCollected(firstRef, "the replaced value");
            collect();
            assertNotNull(secondRef.get(), "the current value was let go while the queue lives");
            assertSame(secondRef.get(), q.getSpecific(VALUE));
            q.setSpecific(VALUE, null);
            awaitCollected(secondRef, "the removed value");
        }
    }

    private static Object setFresh(DispatchQueue q) {
        Object value = new Object();
        q.setSpecific(VALUE, value);
        return value;
    }

    @Test
    void valuesOutliveCloseWhileWorkHoldsTheQueueAndGoWhenLibdispatchFreesIt() throws Exception {
        for (DispatchQueue.Attributes kind : List.of(DispatchQueue.Attributes.SERIAL, DispatchQueue.Attributes.CONCURRENT)) {
            DispatchQueue q = DispatchQueue.create("specific-closed", kind);
            WeakReference<Object> valueRef = new WeakReference<>(setFresh(q));
            WeakReference<Object> contextRef = new WeakReference<>(setContextFresh(q));
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(1);
            AtomicReference<Object> seenAfterClose = new AtomicReference<>();
            q.async(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                seenAfterClose.set(DispatchQueue.getCurrentSpecific(VALUE));
                done.countDown();
            });
            q.close();
            collect();
            assertNotNull(valueRef.get(), kind + ": the value went at close(), while a task still holds the queue");
            assertNotNull(contextRef.get(), kind + ": the context went at close(), while a task still holds the queue");
            release.countDown();
            assertTrue(done.await(WAIT_S, TimeUnit.SECONDS));
            assertSame(valueRef.get(), seenAfterClose.get(), kind + ": the running task saw no value after close()");
            seenAfterClose.set(null);
            awaitCollected(valueRef, kind + ": the value of a freed queue");
            awaitCollected(contextRef, kind + ": the context of a freed queue");
        }
    }

    private static Object setContextFresh(DispatchQueue q) {
        Object context = new Object();
        q.setContext(context);
        return context;
    }

    @Test
    void aDroppedQueuesValueAndContextGoOnceTheCleanerReleasedIt() throws Exception {
        WeakReference<Object>[] refs = dropQueueWithValues();
        awaitCollected(refs[0], "the value of a queue dropped without close()");
        awaitCollected(refs[1], "the context of a queue dropped without close()");
    }

    @SuppressWarnings("unchecked")
    private static WeakReference<Object>[] dropQueueWithValues() {
        DispatchQueue q = DispatchQueue.createSerial("specific-dropped");
        return new WeakReference[] {new WeakReference<>(setFresh(q)), new WeakReference<>(setContextFresh(q))};
    }

    @Test
    void aGlobalQueueTakesSpecificsButNoContext() {
        DispatchQueue global = DispatchQueue.global(QoSClass.UTILITY);
        DispatchSpecificKey<String> key = new DispatchSpecificKey<>();
        global.setSpecific(key, "global"); // libdispatch allows it (tests/native/test_queue_rules.c)
        try {
            assertEquals("global", global.getSpecific(key));
            assertEquals("global", global.sync(() -> DispatchQueue.getCurrentSpecific(key)));
        } finally {
            global.setSpecific(key, null);
        }
        assertNull(global.getSpecific(key));
        assertNull(global.getContext());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> global.setContext("x"));
        assertTrue(e.getMessage().contains("dispatch_set_context on DispatchQueue[global-utility]"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> global.setFinalizer(() -> { }));
    }

    @Test
    void misuseIsRefusedNamingTheCall() {
        DispatchQueue q = DispatchQueue.createSerial("specific-misuse");
        NullPointerException nullKey = assertThrows(NullPointerException.class, () -> q.setSpecific(null, "x"));
        assertTrue(nullKey.getMessage().contains("dispatch_queue_set_specific"), nullKey.getMessage());
        assertThrows(NullPointerException.class, () -> q.getSpecific(null));
        assertThrows(NullPointerException.class, () -> DispatchQueue.getCurrentSpecific(null));
        q.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> q.setSpecific(NAME, "x"));
        assertTrue(closed.getMessage().contains("dispatch_queue_set_specific: DispatchQueue[specific-misuse] is closed"),
                closed.getMessage());
        assertThrows(IllegalStateException.class, () -> q.getSpecific(NAME));
        assertThrows(IllegalStateException.class, () -> q.setContext("x"));
        assertThrows(IllegalStateException.class, q::getContext);
    }

    @Test
    void getContextReturnsWhatSetContextSet() {
        try (DispatchQueue q = DispatchQueue.createConcurrent("context")) {
            assertNull(q.getContext());
            q.setContext("first");
            assertEquals("first", q.getContext());
            q.setFinalizer(() -> { });
            q.setContext(List.of(1, 2));
            assertEquals(List.of(1, 2), q.getContext(), "setFinalizer keeps the context; setContext replaces it");
            q.setContext(null);
            assertNull(q.getContext());
        }
    }

    @Test
    void theFinalizerRunsOnceTheQueueIsFreedAfterItsLastTask() throws Exception {
        for (DispatchQueue.Attributes kind : List.of(DispatchQueue.Attributes.SERIAL, DispatchQueue.Attributes.CONCURRENT)) {
            int tasks = 100;
            DispatchQueue q = DispatchQueue.create("finalized", kind);
            AtomicInteger ran = new AtomicInteger();
            List<String> events = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch finalized = new CountDownLatch(1);
            q.setContext("context");
            q.setFinalizer(() -> {
                events.add("finalizer after " + ran.get() + " tasks");
                finalized.countDown();
            });
            q.async(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ran.incrementAndGet();
            });
            for (int i = 1; i < tasks; i++) {
                q.async(ran::incrementAndGet);
            }
            q.close();
            collect();
            assertEquals(List.of(), events, kind + ": the finalizer ran while the first task still held the queue");
            release.countDown();
            assertTrue(finalized.await(WAIT_S, TimeUnit.SECONDS), kind + ": the finalizer never ran");
            assertEquals(List.of("finalizer after " + tasks + " tasks"), events, kind.toString());
        }
    }

    @Test
    void withoutAContextTheFinalizerDoesNotRunAsInC() throws Exception {
        // libdispatch's dispatch_queue_finalizer test: a queue whose context is NULL never calls its finalizer.
        AtomicInteger calls = new AtomicInteger();
        WeakReference<Runnable> finalizer = dropWithFinalizerOnly(calls);
        awaitCollected(finalizer, "the finalizer of a freed queue"); // dropped once the finalizer step has run
        assertEquals(0, calls.get(), "the finalizer ran although the queue had no context");
    }

    private static WeakReference<Runnable> dropWithFinalizerOnly(AtomicInteger calls) {
        Runnable finalizer = calls::incrementAndGet;
        DispatchQueue q = DispatchQueue.createSerial("finalizer-no-context");
        q.setContext("set, then cleared");
        q.setFinalizer(finalizer);
        q.setContext(null);
        q.close();
        return new WeakReference<>(finalizer);
    }

    @Test
    void whatAFinalizerThrowsGoesToTheUncaughtExceptionHandler() throws Exception {
        AtomicReference<Throwable> reported = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Dispatch.setUncaughtExceptionHandler((t, e) -> {
            reported.set(e);
            done.countDown();
        });
        DispatchQueue q = DispatchQueue.createSerial("finalizer-throws");
        q.setContext("context");
        q.setFinalizer(() -> {
            throw new IllegalStateException("from the finalizer");
        });
        q.close();
        assertTrue(done.await(WAIT_S, TimeUnit.SECONDS), "nothing reported");
        assertEquals("from the finalizer", reported.get().getMessage());
    }
}
