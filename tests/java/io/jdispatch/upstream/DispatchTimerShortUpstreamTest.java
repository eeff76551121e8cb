package io.jdispatch.upstream;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_timer_short.c} (rdar://problem/7765184, 7401353), translated: N timers of 5 us
 * on a serial queue are registered (each suspends itself in its registration handler), the queue is suspended and the
 * timers resumed, so they sit armed in front of the timer being measured: a 5 us timer on the global queue, cancelled
 * 1 s after its first fire. It must fire (upstream's "Frequency" check: {@code 1 < ceil(1 s / (count * 5 us))}, i.e.
 * fewer than 200,000 calls in that second: a 5 us timer is coalesced, not called back more often than its interval).
 * Upstream's N, 25,000.
 */
class DispatchTimerShortUpstreamTest {
    private static final int N = 25_000;
    private static final long DELAY = 1_000_000_000L;
    private static final long INTERVAL = 5_000L;

    @Test
    void aFiveMicrosecondTimerBehindManySuspendedTimersFiresNoMoreOftenThanItsInterval() throws Exception {
        DispatchSource[] t = new DispatchSource[N];
        AtomicInteger count = new AtomicInteger();
        CountDownLatch cancelled = new CountDownLatch(1);
        DispatchQueue q = DispatchQueue.createSerial("q");
        try (DispatchGroup g = DispatchGroup.create()) {
            for (int i = 0; i < N; i++) {
                DispatchSource ti = t[i] = DispatchSource.timer(false, q);
                ti.setTimer(DispatchTime.NOW, INTERVAL, 0);
                g.enter();
                ti.setRegistrationHandler(() -> {
                    ti.suspend();
                    g.leave();
                });
                ti.resume();
            }
            assertTrue(g.wait(DispatchTime.FOREVER));
            q.suspend();
            for (int i = 0; i < N; i++) {
                t[i].resume();
            }
            DispatchSource s = DispatchSource.timer(false, DispatchQueue.global());
            s.setTimer(DispatchTime.NOW, INTERVAL, 0);
            s.setCancelHandler(cancelled::countDown);
            s.setEventHandler(() -> {
                if (count.getAndIncrement() == 0) {
                    DispatchQueue.global().after(DispatchTime.fromNow(DELAY, TimeUnit.NANOSECONDS), s::cancel);
                }
            });
            s.resume();
            assertTrue(cancelled.await(60, TimeUnit.SECONDS), "the measured timer ended");
            s.close();
            int finalCount = count.get();
            assertTrue(finalCount > 0, "fired");
            long frequency = (long) Math.ceil((double) DELAY / (double) (finalCount * INTERVAL));
            assertTrue(1 < frequency, "Frequency: " + finalCount + " calls in 1 s of a 5 us timer");
        } finally {
            for (DispatchSource ti : t) {
                if (ti != null) {
                    ti.close();
                }
            }
            q.resume();
            q.close();
        }
    }
}
