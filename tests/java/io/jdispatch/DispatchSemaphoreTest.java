package io.jdispatch;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DispatchSemaphoreTest {
    @Test
    void waitTimesOutNeverEarlyAndSignalWakesAWaiter() throws Exception {
        try (DispatchSemaphore s = DispatchSemaphore.create(0)) {
            for (long ms : new long[] {1, 10, 30}) {
                long start = System.nanoTime();
                assertFalse(s.wait(ms, TimeUnit.MILLISECONDS));
                long elapsed = System.nanoTime() - start;
                assertTrue(elapsed >= TimeUnit.MILLISECONDS.toNanos(ms), "wait(" + ms + " ms) gave up after " + elapsed + " ns");
            }
            assertFalse(s.wait(DispatchTime.NOW));
            CountDownLatch waiting = new CountDownLatch(1);
            DispatchQueue.global().async(() -> {
                waiting.countDown();
                s.signal();
            });
            assertTrue(waiting.await(30, TimeUnit.SECONDS));
            assertTrue(s.wait(DispatchTime.FOREVER));
            // A walltime deadline in the past is an immediate timeout.
            assertFalse(s.wait(DispatchTime.walltime(Instant.now().minusSeconds(1))));
        }
    }

    @Test
    void waitWithADurationTimesOutNeverEarlyAndTakesAnAvailableUnitAtOnce() {
        try (DispatchSemaphore s = DispatchSemaphore.create(0)) {
            long start = System.nanoTime();
            assertFalse(s.wait(Duration.ofMillis(20)));
            assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(20), "timed out early");
            assertFalse(s.wait(Duration.ZERO));
            assertFalse(s.wait(Duration.ofSeconds(-1)), "a negative timeout is an immediate one");
            s.signal();
            assertTrue(s.wait(Duration.ofDays(365_000_000L)), "a timeout beyond nanoseconds' range is forever");
            s.signal();
            assertTrue(s.wait(Duration.ZERO));
            assertThrows(NullPointerException.class, () -> s.wait((Duration) null));
        }
    }

    @Test
    void closeBelowTheInitialValueIsRefusedUntilSignalled() {
        DispatchSemaphore s = DispatchSemaphore.create(2);
        assertTrue(s.wait(DispatchTime.NOW));
        IllegalStateException e = assertThrows(IllegalStateException.class, s::close);
        assertTrue(e.getMessage().contains("value (1) is below its initial value (2)"), e.getMessage());
        assertFalse(s.isClosed());
        s.signal();
        s.signal(); // above the initial value is fine
        s.close();
        s.close();
        assertThrows(IllegalStateException.class, s::signal);
        IllegalArgumentException negative = assertThrows(IllegalArgumentException.class, () -> DispatchSemaphore.create(-1));
        assertTrue(negative.getMessage().contains("dispatch_semaphore_create: value -1 is negative"));
        try (DispatchSemaphore next = DispatchSemaphore.create(1)) {
            assertTrue(next.wait(DispatchTime.NOW));
            next.signal();
        }
    }

    @Test
    void dispatchTimeConstantsAndArithmetic() {
        assertEquals(0, DispatchTime.NOW.rawValue());
        assertEquals(-1L, DispatchTime.FOREVER.rawValue());
        DispatchTime now = DispatchTime.now();
        assertTrue(Long.compareUnsigned(now.plus(1_000_000).rawValue(), now.rawValue()) > 0);
        assertEquals(DispatchTime.FOREVER, DispatchTime.fromNow(Long.MAX_VALUE, TimeUnit.DAYS));
        assertEquals(DispatchTime.FOREVER, DispatchTime.fromNow(Duration.ofSeconds(Long.MAX_VALUE)));
        assertNotEquals(now, DispatchTime.walltimeNow(), "uptime and wall clock are different encodings");
    }
}
