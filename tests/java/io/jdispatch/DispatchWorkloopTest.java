package io.jdispatch;

import io.jdispatch.testutil.Latches;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Workloops on Linux libdispatch 6.0.3: what they run (in order, one at a time, with isCurrent), the QoS floor
 * read back from libdispatch, every asynchronous way of submitting to one, and the refusals of what libdispatch
 * aborts on or ignores (tests/native/test_workloop_rules.c shows each on the C library).
 */
class DispatchWorkloopTest {
    private static final long WAIT_S = 60;

    @Test
    void asyncRunsTasksInOrderOneAtATimeWithTheWorkloopCurrent() throws Exception {
        try (DispatchWorkloop w = DispatchWorkloop.create("wl.order")) {
            assertEquals("wl.order", w.getLabel());
            assertFalse(w.isCurrent(), "current outside its tasks");
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger overlaps = new AtomicInteger();
            AtomicInteger notCurrent = new AtomicInteger();
            CountDownLatch done = new CountDownLatch(1);
            for (int i = 0; i < 2000; i++) {
                int n = i;
                w.async(() -> {
                    if (inside.incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    if (!w.isCurrent()) {
                        notCurrent.incrementAndGet();
                    }
                    order.add(n);
                    inside.decrementAndGet();
                    if (n == 1999) {
                        done.countDown();
                    }
                });
            }
            assertTrue(done.await(WAIT_S, TimeUnit.SECONDS));
            List<Integer> expected = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                expected.add(i);
            }
            assertEquals(expected, order);
            assertEquals(0, overlaps.get(), "tasks of a workloop overlapped");
            assertEquals(0, notCurrent.get(), "isCurrent() false inside a workloop task");
        }
    }

    @Test
    void theQosFloorIsWhatLibdispatchHolds() {
        try (DispatchWorkloop plain = DispatchWorkloop.create("wl.plain");
             DispatchWorkloop floor = DispatchWorkloop.create("wl.floor", QoSClass.USER_INITIATED, -5);
             DispatchWorkloop low = DispatchWorkloop.create("wl.low", QoSClass.BACKGROUND, -15)) {
            assertNull(plain.getQosClassFloor());
            assertEquals(new DispatchWorkloop.QosFloor(QoSClass.USER_INITIATED, -5), floor.getQosClassFloor());
            assertEquals(new DispatchWorkloop.QosFloor(QoSClass.BACKGROUND, -15), low.getQosClassFloor());
        }
        for (int bad : new int[] {1, -16}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DispatchWorkloop.create("wl.bad", QoSClass.DEFAULT, bad));
            assertTrue(e.getMessage().contains("relative priority " + bad) && e.getMessage().contains("[-15, 0]"),
                    e.getMessage());
        }
        assertThrows(NullPointerException.class, () -> DispatchWorkloop.create("wl.null", null, 0));
    }

    @Test
    void everyAsynchronousSubmissionRuns() throws Exception {
        try (DispatchWorkloop w = DispatchWorkloop.create("wl.kinds", QoSClass.UTILITY, 0);
             DispatchGroup g = DispatchGroup.create()) {
            CountDownLatch ran = new CountDownLatch(9);
            w.execute(ran::countDown);
            w.barrierAsync(ran::countDown);
            w.after(DispatchTime.fromNow(1, TimeUnit.MILLISECONDS), ran::countDown);
            w.submit(ran::countDown).get(WAIT_S, TimeUnit.SECONDS);
            g.async(w, ran::countDown);
            g.notify(w, ran::countDown);
            try (DispatchWorkItem item = DispatchWorkItem.create(DispatchWorkItem.BARRIER, ran::countDown);
                 DispatchWorkItem later = DispatchWorkItem.create(ran::countDown)) {
                w.async(item);
                w.after(DispatchTime.fromNow(1, TimeUnit.MILLISECONDS), later);
                assertTrue(item.wait(WAIT_S, TimeUnit.SECONDS));
                assertTrue(later.wait(WAIT_S, TimeUnit.SECONDS));
            }
            try (DispatchSource s = DispatchSource.dataAdd(w)) {
                s.setEventHandler(ran::countDown);
                s.resume();
                s.mergeData(1);
                assertTrue(ran.await(WAIT_S, TimeUnit.SECONDS), ran.getCount() + " submissions did not run");
                s.cancel();
            }
        }
    }

    @Test
    void closeWithWorkQueuedLetsItRun() throws Exception {
        CountDownLatch ran = new CountDownLatch(100);
        DispatchWorkloop w = DispatchWorkloop.create("wl.close");
        CountDownLatch release = new CountDownLatch(1);
        w.async(Latches.blockUntil(release));
        for (int i = 0; i < 100; i++) {
            w.async(ran::countDown);
        }
        w.close();
        release.countDown();
        assertTrue(ran.await(WAIT_S, TimeUnit.SECONDS), ran.getCount() + " tasks never ran after close");
        assertThrows(IllegalStateException.class, () -> w.async(() -> { }));
    }

    @Test
    void whatLibdispatchAbortsOnOrIgnoresIsRefusedNamingIt() {
        try (DispatchWorkloop w = DispatchWorkloop.create("wl.refused");
             DispatchQueue serial = DispatchQueue.createSerial("wl.refused.serial");
             DispatchQueue conc = DispatchQueue.createConcurrent("wl.refused.conc");
             DispatchWorkItem item = DispatchWorkItem.create(() -> { })) {
            List<Consumer<DispatchWorkloop>> syncs = List.of(q -> q.sync(() -> { }), q -> q.sync(() -> 1),
                    q -> q.barrierSync(() -> { }), q -> q.barrierSync(() -> 1), q -> q.sync(item),
                    q -> q.barrierSync(item));
            for (Consumer<DispatchWorkloop> sync : syncs) {
                UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> sync.accept(w));
                assertTrue(e.getMessage().contains("sync on DispatchWorkloop[wl.refused]")
                        && e.getMessage().contains("aborts"), e.getMessage());
            }
            assertTrue(item.wait(java.time.Duration.ZERO) == false, "a refused sync executed the item");
            assertTrue(assertThrows(UnsupportedOperationException.class, () -> w.apply(4, i -> { }))
                    .getMessage().contains("dispatch_apply"));
            assertTrue(assertThrows(UnsupportedOperationException.class, w::suspend).getMessage()
                    .contains("dispatch_suspend"));
            assertTrue(assertThrows(UnsupportedOperationException.class, w::resume).getMessage()
                    .contains("dispatch_resume"));
            assertTrue(assertThrows(UnsupportedOperationException.class, () -> w.setTargetQueue(serial))
                    .getMessage().contains("dispatch_set_target_queue"));
            for (DispatchQueue q : List.of(serial, conc)) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.setTargetQueue(w));
                assertTrue(e.getMessage().contains("cannot target a workloop"), e.getMessage());
                assertNull(q.getTargetQueue());
            }
            assertFalse(w.isSerial());
            assertFalse(w.isSuspended());
            assertFalse(w.isInactive());
            w.activate(); // already active: nothing to do
            assertEquals("DispatchWorkloop[wl.refused]", w.toString());
        }
    }

    @Test
    void aSourceMayTargetAWorkloop() throws Exception {
        try (DispatchWorkloop w = DispatchWorkloop.create("wl.source");
             DispatchQueue q = DispatchQueue.createSerial("wl.source.q");
             DispatchSource s = DispatchSource.dataAdd(q)) {
            AtomicInteger onWorkloop = new AtomicInteger();
            CountDownLatch fired = new CountDownLatch(1);
            s.setEventHandler(() -> {
                if (w.isCurrent()) {
                    onWorkloop.incrementAndGet();
                }
                fired.countDown();
            });
            s.setTargetQueue(w);
            s.resume();
            s.mergeData(1);
            assertTrue(fired.await(WAIT_S, TimeUnit.SECONDS));
            assertEquals(1, onWorkloop.get(), "the handler did not run on the workloop");
            s.cancel();
        }
    }
}
