package io.jdispatch;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DispatchGroupTest {
    @Test
    void waitAndNotifyComeAfterEveryTaskAndEveryLeave() throws Exception {
        try (DispatchGroup g = DispatchGroup.create();
             DispatchQueue q = DispatchQueue.createConcurrent("group")) {
            AtomicInteger done = new AtomicInteger();
            for (int i = 0; i < 100; i++) {
                g.async(q, done::incrementAndGet);
            }
            g.enter();
            DispatchQueue.global().async(() -> {
                done.incrementAndGet();
                g.leave();
            });
            AtomicInteger seenByNotify = new AtomicInteger(-1);
            CountDownLatch notified = new CountDownLatch(1);
            g.notify(q, () -> {
                seenByNotify.set(done.get());
                notified.countDown();
            });
            assertTrue(g.wait(DispatchTime.FOREVER));
            assertEquals(101, done.get());
            assertTrue(notified.await(30, TimeUnit.SECONDS));
            assertEquals(101, seenByNotify.get());
        }
    }

    @Test
    void waitTimesOutWhileEnteredAndNeverEarly() {
        try (DispatchGroup g = DispatchGroup.create()) {
            assertTrue(g.wait(DispatchTime.NOW), "an empty group is done");
            g.enter();
            long start = System.nanoTime();
            assertFalse(g.wait(20, TimeUnit.MILLISECONDS));
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(20), "timed out early");
            g.leave();
            assertTrue(g.wait(DispatchTime.NOW));
        }
    }

    @Test
    void waitWithADurationTimesOutWhileEnteredAndNeverEarly() {
        try (DispatchGroup g = DispatchGroup.create()) {
            assertTrue(g.wait(Duration.ZERO), "an empty group is done");
            g.enter();
            long start = System.nanoTime();
            assertFalse(g.wait(Duration.ofMillis(20)));
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(20), "timed out early");
            assertFalse(g.wait(Duration.ofSeconds(-1)));
            DispatchQueue.global().async(g::leave);
            assertTrue(g.wait(Duration.ofSeconds(30)));
            assertThrows(NullPointerException.class, () -> g.wait((Duration) null));
        }
    }

    @Test
    void unbalancedLeaveAndEarlyCloseAreRefusedAndTheGroupStillWorks() {
        DispatchGroup g = DispatchGroup.create();
        IllegalStateException e = assertThrows(IllegalStateException.class, g::leave);
        assertTrue(e.getMessage().contains("dispatch_group_leave on DispatchGroup@"), e.getMessage());
        assertTrue(e.getMessage().contains("without a matching dispatch_group_enter"), e.getMessage());
        g.enter();
        IllegalStateException early = assertThrows(IllegalStateException.class, g::close);
        assertTrue(early.getMessage().contains("1 enter() not yet balanced"), early.getMessage());
        g.leave();
        assertTrue(g.wait(DispatchTime.NOW));
        g.close();
        g.close();
        assertThrows(IllegalStateException.class, g::enter);
        assertThrows(NullPointerException.class, () -> DispatchGroup.create().async(DispatchQueue.global(), (Runnable) null));
    }
}
