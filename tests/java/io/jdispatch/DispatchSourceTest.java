package io.jdispatch;

import io.jdispatch.testutil.Latches;
import io.jdispatch.internal.Handles;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static io.jdispatch.testutil.Latches.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The rules of dispatch_source_create(3) for the application-data and timer sources, and the lifecycle. */
class DispatchSourceTest {
    static final long WAIT_S = 60; // generous upper bound (a hang detector), never a timing assertion

    DispatchQueue queue;

    @BeforeEach
    void setUp() {
        queue = DispatchQueue.createSerial("source-test");
    }

    @AfterEach
    void tearDown() {
        queue.close();
    }

    /** Data seen by the handler, one entry per invocation. */
    static BlockingQueue<Long> collect(DispatchSource s) {
        BlockingQueue<Long> seen = new LinkedBlockingQueue<>();
        s.setEventHandler(() -> seen.add(s.getData()));
        return seen;
    }

    static long take(BlockingQueue<Long> q) throws InterruptedException {
        Long v = q.poll(WAIT_S, TimeUnit.SECONDS);
        assertNotNull(v, "no handler call within " + WAIT_S + " s");
        return v;
    }

    /** Waits until every handler already submitted to the serial queue has run. */
    void drain() {
        queue.sync(() -> { });
    }

    @Test
    void setTargetQueueMovesASourcesHandlersBeforeAndAfterActivation() throws Exception {
        try (DispatchQueue a = DispatchQueue.createSerial("retarget.a");
             DispatchQueue b = DispatchQueue.createSerial("retarget.b");
             DispatchQueue c = DispatchQueue.createSerial("retarget.c");
             DispatchSource source = DispatchSource.dataAdd(a)) {
            BlockingQueue<String> ranOn = new LinkedBlockingQueue<>();
            source.setEventHandler(() -> ranOn.add((a.isCurrent() ? "a" : "") + (b.isCurrent() ? "b" : "")
                    + (c.isCurrent() ? "c" : "")));
            source.setTargetQueue(b); // inactive: libdispatch takes it as it is
            source.activate();
            source.mergeData(1);
            assertEquals("b", ranOn.poll(30, TimeUnit.SECONDS));
            source.setTargetQueue(c); // active (not strict): allowed by libdispatch
            source.mergeData(1);
            assertEquals("c", ranOn.poll(30, TimeUnit.SECONDS));
        }
        // Every dispatch object takes it; a strict timer is refused once active, instead of aborting the process.
        try (DispatchQueue q = DispatchQueue.createSerial("retarget.q");
             DispatchGroup group = DispatchGroup.create();
             DispatchSemaphore semaphore = DispatchSemaphore.create(0);
             DispatchSource strict = DispatchSource.timer(true, q)) {
            group.setTargetQueue(q);
            semaphore.setTargetQueue(null);
            strict.setTargetQueue(q);
            strict.activate();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> strict.setTargetQueue(null));
            assertTrue(e.getMessage().contains("TIMER_STRICT"), e.getMessage());
        }
    }

    @Test
    void sourcesStartSuspendedAndDeliverOnlyAfterResume() throws Exception {
        try (DispatchSource s = DispatchSource.dataAdd(queue)) {
            BlockingQueue<Long> seen = collect(s);
            s.mergeData(3);
            s.mergeData(4);
            drain();
            assertTrue(seen.isEmpty(), "a new source is inactive: nothing may be delivered before resume");
            s.resume();
            assertEquals(7, take(seen), "merges before activation coalesce into one event");
        }
    }

    @Test
    void dataAddSumsDataOrOrsDataReplaceReplaces() throws Exception {
        long[][] cases = {{1, 2, 4}, {1, 2, 4}, {1, 2, 4}};
        DispatchSource.Type[] types = {DispatchSource.Type.DATA_ADD, DispatchSource.Type.DATA_OR,
                DispatchSource.Type.DATA_REPLACE};
        long[] expected = {7, 7, 4};
        long[] merges = {5, 6, 9};
        for (int i = 0; i < types.length; i++) {
            try (DispatchSource s = DispatchSource.create(types[i], 0, 0, queue)) {
                BlockingQueue<Long> seen = collect(s);
                s.resume();
                s.suspend();
                for (long v : cases[i]) {
                    s.mergeData(v);
                }
                s.resume();
                assertEquals(expected[i], take(seen), types[i] + " merge of 1, 2, 4");
                s.mergeData(merges[i]);
                assertEquals(merges[i], take(seen), types[i] + ": pending data was reset after the handler");
            }
        }
        try (DispatchSource s = DispatchSource.dataOr(queue)) {
            BlockingQueue<Long> seen = collect(s);
            s.resume();
            s.suspend();
            s.mergeData(0b0101);
            s.mergeData(0b0101);
            s.resume();
            assertEquals(0b0101, take(seen), "OR of equal bits is idempotent");
        }
    }

    @Test
    void eventsWhileSuspendedCoalesceAndArriveOnResume() throws Exception {
        try (DispatchSource s = DispatchSource.dataAdd(queue)) {
            BlockingQueue<Long> seen = collect(s);
            s.resume();
            s.suspend();
            for (int i = 0; i < 1000; i++) {
                s.mergeData(1);
            }
            drain();
            assertTrue(seen.isEmpty(), "no delivery while suspended");
            s.resume();
            assertEquals(1000, take(seen), "1000 merges while suspended arrive as one event with their sum");
        }
    }

    @Test
    void aMergeThatYieldsZeroDoesNotCallTheHandler() throws Exception {
        try (DispatchSource add = DispatchSource.dataAdd(queue); DispatchSource or = DispatchSource.dataOr(queue);
             DispatchSource repl = DispatchSource.dataReplace(queue)) {
            BlockingQueue<Long> a = collect(add), o = collect(or), r = collect(repl);
            add.resume();
            or.resume();
            repl.resume();
            add.mergeData(0);
            or.mergeData(0);
            repl.mergeData(0);
            add.suspend();
            add.mergeData(5);
            add.mergeData(-5); // DATA_ADD of a negative value brings the sum back to 0
            add.resume();
            drain();
            assertTrue(a.isEmpty() && o.isEmpty() && r.isEmpty(), "merges yielding 0 must not call handlers");
            add.mergeData(2);
            assertEquals(2, take(a), "the source still works after zero merges");
        }
    }

    @Test
    void handlersNeverRunReentrantlyEvenOnAConcurrentQueue() throws Exception {
        try (DispatchSource s = DispatchSource.dataAdd(DispatchQueue.global())) {
            AtomicInteger inside = new AtomicInteger();
            AtomicBoolean overlap = new AtomicBoolean();
            AtomicLong total = new AtomicLong();
            s.setEventHandler(() -> {
                if (inside.incrementAndGet() != 1) {
                    overlap.set(true);
                }
                total.addAndGet(s.getData());
                Thread.onSpinWait();
                inside.decrementAndGet();
            });
            s.resume();
            Thread[] producers = new Thread[2];
            for (int t = 0; t < producers.length; t++) {
                producers[t] = new Thread(() -> {
                    for (int i = 0; i < 20_000; i++) {
                        s.mergeData(1);
                    }
                });
                producers[t].start();
            }
            for (Thread t : producers) {
                t.join();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
            while (total.get() < 40_000 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(40_000, total.get(), "every merged unit is delivered exactly once");
            assertFalse(overlap.get(), "the event handler ran concurrently with itself");
        }
    }

    /** Merges coalesce in Java before libdispatch is told; from several threads every rule must still hold. */
    @Test
    void concurrentMergesKeepEachTypesRuleAndNeverDeliverZero() throws Exception {
        try (DispatchSource add = DispatchSource.dataAdd(queue); DispatchSource or = DispatchSource.dataOr(queue);
             DispatchSource repl = DispatchSource.dataReplace(queue)) {
            AtomicLong sum = new AtomicLong(), bits = new AtomicLong(), last = new AtomicLong();
            AtomicLong zeroCalls = new AtomicLong(), backwards = new AtomicLong();
            add.setEventHandler(() -> {
                long d = add.getData();
                zeroCalls.addAndGet(d == 0 ? 1 : 0);
                sum.addAndGet(d);
            });
            or.setEventHandler(() -> {
                long d = or.getData();
                zeroCalls.addAndGet(d == 0 ? 1 : 0);
                bits.getAndAccumulate(d, (a, b) -> a | b);
            });
            repl.setEventHandler(() -> {
                long d = repl.getData();
                zeroCalls.addAndGet(d == 0 ? 1 : 0);
                backwards.addAndGet(d < last.get() ? 1 : 0);
                last.set(d);
            });
            add.resume();
            or.resume();
            repl.resume();
            int perThread = 40_000;
            Thread[] producers = new Thread[4];
            for (int t = 0; t < producers.length; t++) {
                int shard = t;
                producers[t] = new Thread(() -> {
                    for (int i = 0; i < perThread; i++) {
                        add.mergeData(shard == 0 ? 1 : (i % 2 == 0 ? 3 : -3)); // the sum keeps passing 0
                        or.mergeData(1L << (shard * 16 + i % 16));
                        if (shard == 0) {
                            repl.mergeData(i + 1);
                        }
                    }
                });
                producers[t].start();
            }
            for (Thread t : producers) {
                t.join();
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
            while ((sum.get() != perThread || bits.get() != -1L || last.get() != perThread)
                    && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            drain();
            assertEquals(perThread, sum.get(), "DATA_ADD: the handlers' data sum to what was merged");
            assertEquals(-1L, bits.get(), "DATA_OR: every bit merged (64 of them) reached a handler");
            assertEquals(perThread, last.get(), "DATA_REPLACE: the last handler call got the last value");
            assertEquals(0, backwards.get(), "DATA_REPLACE from one thread: a handler got an older value");
            assertEquals(0, zeroCalls.get(), "a handler was called with data 0, which C never does");
        }
    }

    @Test
    void mergesBeforeTheHandlerIsSetReachItAndGetDataKeepsTheLastValue() throws Exception {
        try (DispatchSource s = DispatchSource.dataAdd(queue)) {
            s.mergeData(5);
            BlockingQueue<Long> seen = collect(s);
            s.mergeData(2);
            s.resume();
            assertEquals(7, take(seen), "an inactive source keeps its merges for the handler set later");
            drain();
            assertEquals(7, s.getData(), "outside a handler, dispatch_source_get_data is the last call's data");
        }
    }

    @Test
    void handlersRunOnTheTargetQueueAndTheDefaultTargetIsTheGlobalQueue() throws Exception {
        try (DispatchSource s = DispatchSource.dataAdd(queue)) {
            BlockingQueue<Long> seen = collect(s);
            s.resume();
            // resume() queues the source's activation on its target queue: let it finish before making
            // the queue busy, or a merge now would find the source already queued ahead of the blocker.
            drain();
            CountDownLatch release = new CountDownLatch(1);
            queue.async(Latches.blockUntil(release));
            s.mergeData(1);
            assertNull(seen.poll(50, TimeUnit.MILLISECONDS), "the handler ran although its serial queue was busy");
            release.countDown();
            assertEquals(1, take(seen));
        }
        try (DispatchSource s = DispatchSource.create(DispatchSource.Type.DATA_ADD, 0, 0, null)) {
            BlockingQueue<Long> seen = collect(s);
            s.resume();
            s.mergeData(9);
            assertEquals(9, take(seen), "DISPATCH_TARGET_QUEUE_DEFAULT delivers on the global queue");
        }
    }

    @Test
    void callbacksSurviveGarbageCollection() throws Exception {
        // JavaCPP holds trampolines through weak global refs: a collected one aborts the JVM if a callback
        // arrives before JavaCPP's deallocator thread has cleared it (a narrow race: this test exercises the
        // window, it cannot force it). SourceNative and NativeLibrary keep theirs strongly reachable.
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        try (DispatchSource s = DispatchSource.dataAdd(queue)) {
            BlockingQueue<Long> seen = collect(s);
            s.resume();
            s.mergeData(5);
            assertEquals(5, take(seen));
        }
    }

    @Test
    void registrationHandlerRunsBeforeTheFirstEvent() throws Exception {
        try (DispatchSource s = DispatchSource.dataAdd(queue)) {
            List<String> order = new CopyOnWriteArrayList<>();
            CountDownLatch event = new CountDownLatch(1);
            s.setRegistrationHandler(() -> order.add("registration"));
            s.setEventHandler(() -> {
                order.add("event " + s.getData());
                event.countDown();
            });
            s.mergeData(1);
            s.resume();
            await(event, "event");
            assertEquals(List.of("registration", "event 1"), order);
        }
    }

    @Test
    void registrationHandlerNeverRunsAfterAnEarlyCancel() throws Exception {
        DispatchSource s = DispatchSource.dataAdd(queue);
        AtomicInteger registrations = new AtomicInteger();
        CountDownLatch cancelled = new CountDownLatch(1);
        s.setRegistrationHandler(registrations::incrementAndGet);
        s.setCancelHandler(cancelled::countDown);
        s.cancel();
        s.resume();
        await(cancelled, "cancel handler");
        drain();
        assertEquals(0, registrations.get(), "a source cancelled before registration never runs its registration handler");
        s.close();
    }

    @Test
    void cancelHandlerRunsExactlyOnceAndIsTheLastCallback() throws Exception {
        DispatchSource s = DispatchSource.dataAdd(queue);
        AtomicInteger cancels = new AtomicInteger();
        AtomicInteger eventsAfterCancel = new AtomicInteger();
        AtomicBoolean cancelDone = new AtomicBoolean();
        CountDownLatch cancelled = new CountDownLatch(1);
        s.setEventHandler(() -> {
            if (cancelDone.get()) {
                eventsAfterCancel.incrementAndGet();
            }
        });
        s.setCancelHandler(() -> {
            cancels.incrementAndGet();
            cancelDone.set(true);
            cancelled.countDown();
        });
        s.resume();
        assertFalse(s.isCancelled());
        s.mergeData(1);
        s.cancel();
        s.cancel(); // idempotent
        assertTrue(s.isCancelled(), "dispatch_source_testcancel is non-zero after cancel");
        await(cancelled, "cancel handler");
        s.mergeData(1); // merging into a cancelled source is harmless and delivers nothing
        drain();
        s.close();
        assertEquals(1, cancels.get());
        assertEquals(0, eventsAfterCancel.get());
        assertNull(Handles.get(s.id), "the source leaves the handle table when its cancel handler completed");
    }

    @Test
    void handlersCanBeReplacedAndUnset() throws Exception {
        try (DispatchSource s = DispatchSource.dataAdd(queue)) {
            BlockingQueue<String> seen = new LinkedBlockingQueue<>();
            s.setEventHandler(() -> seen.add("first"));
            s.resume();
            s.mergeData(1);
            assertEquals("first", seen.poll(WAIT_S, TimeUnit.SECONDS));
            s.setEventHandler(() -> seen.add("second " + s.getData()));
            drain();
            s.mergeData(2);
            assertEquals("second 2", seen.poll(WAIT_S, TimeUnit.SECONDS));
            s.setEventHandler(null);
            drain();
            s.mergeData(3);
            drain();
            assertNull(seen.poll(), "an unset event handler is not called");
        }
    }

    @Test
    void aThrowingHandlerIsReportedAndTheSourceKeepsWorking() throws Exception {
        Thread.UncaughtExceptionHandler previous = Dispatch.getUncaughtExceptionHandler();
        BlockingQueue<Throwable> reported = new LinkedBlockingQueue<>();
        Dispatch.setUncaughtExceptionHandler((t, e) -> reported.add(e));
        try (DispatchSource s = DispatchSource.dataAdd(queue)) {
            BlockingQueue<Long> seen = new LinkedBlockingQueue<>();
            s.setEventHandler(() -> {
                long d = s.getData();
                seen.add(d);
                if (d == 1) {
                    throw new IllegalStateException("boom");
                }
            });
            s.resume();
            s.mergeData(1);
            assertEquals(1, take(seen));
            Throwable t = reported.poll(WAIT_S, TimeUnit.SECONDS);
            assertNotNull(t);
            assertEquals("boom", t.getMessage());
            s.mergeData(2);
            assertEquals(2, take(seen), "the source keeps delivering after a handler threw");
        } finally {
            Dispatch.setUncaughtExceptionHandler(previous);
        }
    }

    @Test
    void timerDataCountsFiresAndRepeats() throws Exception {
        try (DispatchSource t = DispatchSource.timer(false, queue)) {
            BlockingQueue<Long> seen = collect(t);
            t.setTimer(DispatchTime.NOW, TimeUnit.MILLISECONDS.toNanos(2), 0);
            t.resume();
            assertTrue(take(seen) >= 1);
            t.suspend();
            drain(); // a handler already under way adds its data before the clear, not after
            seen.clear();
            Thread.sleep(50); // lets the timer fire ~25 times while suspended (only a lower bound is asserted)
            t.resume();
            long coalesced = take(seen);
            assertTrue(coalesced > 1, "fires while suspended are counted into one delivery, got " + coalesced);
        }
    }

    @Test
    void oneShotTimerFiresOnceForIntervalZeroAndForever() throws Exception {
        for (long interval : new long[]{0, DispatchTime.FOREVER.rawValue()}) {
            try (DispatchSource t = DispatchSource.timer(true, queue)) {
                BlockingQueue<Long> seen = collect(t);
                t.setTimer(DispatchTime.time(DispatchTime.NOW, 1_000_000), interval, 0);
                t.resume();
                assertEquals(1, take(seen));
                Thread.sleep(30); // a repeating timer would have fired again by now
                drain();
                assertTrue(seen.isEmpty(), "one-shot timer (interval " + interval + ") fired again: " + seen);
                assertEquals(DispatchSource.TIMER_STRICT, t.getMask());
            }
        }
    }

    @Test
    void intervalsAreUnsignedAsInCAndFrom2To63NsATimerFiresOnce() throws Exception {
        // libdispatch's own tests/dispatch_timer_bit63.c: interval 2^63 + 1 ns, started now, fires once. Every
        // interval of 2^63 ns or more (a negative long) is clamped by libdispatch to 2^63 - 1 ns (292 years).
        for (long interval : new long[]{Long.MIN_VALUE + 1, Long.MIN_VALUE, -5, Long.MAX_VALUE}) {
            try (DispatchSource t = DispatchSource.timer(false, queue)) {
                BlockingQueue<Long> seen = collect(t);
                t.setTimer(DispatchTime.NOW, interval, 0);
                t.resume();
                assertEquals(1, take(seen), "interval " + Long.toUnsignedString(interval) + " ns");
                Thread.sleep(30); // a short repeating period would have fired again by now
                drain();
                assertTrue(seen.isEmpty(), "interval " + Long.toUnsignedString(interval) + " ns fired again: " + seen);
            }
        }
    }

    @Test
    void timerWithDurationsRepeatsOrFiresOnceForZero() throws Exception {
        try (DispatchSource repeating = DispatchSource.timer(false, queue);
             DispatchSource once = DispatchSource.timer(false, queue)) {
            BlockingQueue<Long> r = collect(repeating), o = collect(once);
            repeating.setTimer(DispatchTime.NOW, Duration.ofMillis(2), Duration.ZERO);
            once.setTimer(DispatchTime.fromNow(Duration.ofMillis(1)), Duration.ZERO, Duration.ofMillis(1));
            repeating.resume();
            once.resume();
            long fires = 0;
            while (fires < 3) { // a repeating timer keeps firing
                fires += take(r);
            }
            assertEquals(1, take(o));
            Thread.sleep(30); // a repeating timer would have fired again by now
            drain();
            assertTrue(o.isEmpty(), "Duration.ZERO interval: the timer fired again: " + o);
        }
    }

    @Test
    void wallClockTimerFiresAndForeverStartNeverFires() throws Exception {
        try (DispatchSource wall = DispatchSource.timer(false, queue);
             DispatchSource never = DispatchSource.timer(false, queue)) {
            BlockingQueue<Long> w = collect(wall), n = collect(never);
            wall.setTimer(DispatchTime.walltimeNow().plus(5_000_000), DispatchTime.FOREVER.rawValue(), 0);
            never.setTimer(DispatchTime.FOREVER, DispatchTime.FOREVER.rawValue(), 0);
            wall.resume();
            never.resume();
            assertEquals(1, take(w));
            drain();
            assertTrue(n.isEmpty());
        }
    }

    @Test
    void setTimerClearsPendingData() throws Exception {
        // Two 1 ms timers suspended side by side: the control, resumed as it is, shows that fires piled up while
        // suspended (data >= 2 in one handler call); the other, re-armed first, must deliver none of them.
        try (DispatchSource t = DispatchSource.timer(false, queue);
             DispatchSource control = DispatchSource.timer(false, queue)) {
            BlockingQueue<Long> seen = collect(t);
            BlockingQueue<Long> controlSeen = collect(control);
            t.setTimer(DispatchTime.NOW, 1_000_000, 0);
            control.setTimer(DispatchTime.NOW, 1_000_000, 0);
            t.resume();
            control.resume();
            take(seen);
            take(controlSeen);
            t.suspend();
            control.suspend();
            drain();
            seen.clear();
            controlSeen.clear();
            Thread.sleep(30); // fires accumulate while suspended (the control's data says how many)
            // Re-arm far in the future: the accumulated fires must be gone.
            t.setTimer(DispatchTime.time(DispatchTime.NOW, TimeUnit.HOURS.toNanos(1)),
                    DispatchTime.FOREVER.rawValue(), 0);
            t.resume();
            control.resume();
            long piled = take(controlSeen);
            assertTrue(piled >= 2, "the control timer's fires did not pile up while suspended: data " + piled);
            control.cancel();
            drain();
            assertTrue(seen.isEmpty(), "setTimer must clear data of the previous parameters, got " + seen
                    + " (the control had " + piled + " fires pending)");
        }
    }

    @Test
    void misuseIsRefusedWithClearErrors() {
        DispatchSource s = DispatchSource.dataAdd(queue);
        IllegalStateException e = assertThrows(IllegalStateException.class, s::suspend);
        assertTrue(e.getMessage().contains("dispatch_suspend"), e.getMessage());
        s.resume();
        e = assertThrows(IllegalStateException.class, s::resume);
        assertTrue(e.getMessage().contains("dispatch_resume") && e.getMessage().contains("not suspended"), e.getMessage());
        s.activate(); // idempotent on an active source
        e = assertThrows(IllegalStateException.class, () -> s.setTimer(DispatchTime.NOW, 1, 0));
        assertTrue(e.getMessage().contains("not a TIMER"), e.getMessage());
        s.cancel();
        e = assertThrows(IllegalStateException.class, () -> s.setEventHandler(() -> { }));
        assertTrue(e.getMessage().contains("cancelled"), e.getMessage());
        assertThrows(IllegalStateException.class, s::suspend);
        s.close();
        e = assertThrows(IllegalStateException.class, () -> s.mergeData(1));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, s::getData);

        IllegalArgumentException a = assertThrows(IllegalArgumentException.class,
                () -> DispatchSource.create(DispatchSource.Type.DATA_ADD, 1, 0, queue));
        assertTrue(a.getMessage().contains("handle") && a.getMessage().contains("must be 0"), a.getMessage());
        a = assertThrows(IllegalArgumentException.class, () -> DispatchSource.create(DispatchSource.Type.TIMER, 0, 2, queue));
        assertTrue(a.getMessage().contains("DISPATCH_TIMER_STRICT"), a.getMessage());
        UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class,
                () -> DispatchSource.create(DispatchSource.Type.MACH_RECV, 0, 0, queue));
        assertTrue(u.getMessage().contains("macOS"), u.getMessage());
        assertThrows(UnsupportedOperationException.class,
                () -> DispatchSource.create(DispatchSource.Type.MACH_SEND, 1, DispatchSource.MACH_SEND_DEAD, queue));
        assertThrows(NullPointerException.class, () -> DispatchSource.create(null, 0, 0, queue));
        // After all that, a valid call works.
        try (DispatchSource ok = DispatchSource.dataOr(null)) {
            assertEquals(DispatchSource.Type.DATA_OR, ok.getType());
            assertEquals(0, ok.getHandle());
        }
    }

    @Test
    void aHandlerRunningWhileTheSourceIsClosedCanStillReadItsData() throws Exception {
        Thread.UncaughtExceptionHandler previous = Dispatch.getUncaughtExceptionHandler();
        BlockingQueue<Throwable> reported = new LinkedBlockingQueue<>();
        Dispatch.setUncaughtExceptionHandler((t, e) -> reported.add(e));
        try {
            DispatchSource s = DispatchSource.dataAdd(queue);
            CountDownLatch entered = new CountDownLatch(1);
            CountDownLatch closed = new CountDownLatch(1);
            BlockingQueue<Long> seen = new LinkedBlockingQueue<>();
            s.setEventHandler(() -> {
                entered.countDown();
                try {
                    closed.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                seen.add(s.getData());
            });
            s.resume();
            s.mergeData(42);
            await(entered, "handler start");
            s.close(); // releases the Java reference while the handler runs
            closed.countDown();
            assertEquals(42, take(seen));
            drain();
            assertTrue(reported.isEmpty(), "handler failed: " + reported);
        } finally {
            Dispatch.setUncaughtExceptionHandler(previous);
        }
    }

    @Test
    void closingAnInactiveOrSuspendedSourceIsSafe() throws Exception {
        CountDownLatch cancelled = new CountDownLatch(2);
        DispatchSource inactive = DispatchSource.dataAdd(queue);
        inactive.setCancelHandler(cancelled::countDown);
        DispatchSource suspended = DispatchSource.timer(false, queue);
        suspended.setCancelHandler(cancelled::countDown);
        suspended.resume();
        suspended.suspend();
        suspended.suspend();
        inactive.close();
        suspended.close();
        await(cancelled, "cancel handlers of closed sources");
        drain();
        assertNull(Handles.get(inactive.id));
        assertNull(Handles.get(suspended.id));
    }
}
