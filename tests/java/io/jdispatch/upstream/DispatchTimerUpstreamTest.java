package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_timer.c}, translated: five one-shot timers on the global queue due at
 * j s + 0.1 s (j = 1..5), and a repeating 1 s timer starting now that counts to 3, then is reset to a one-shot and
 * cancelled. Until the repeating timer has ended, only the one-shots numbered below 3 may fire; the count is exactly 3
 * when it stops. Upstream ends the test in the repeating source's finalizer; sources have no finalizer here, so its
 * cancel handler (the last callback of a source) marks the end (changed). The repeating timer is on a serial queue
 * instead of the main queue (changed: this JVM's main-queue thread does not service it).
 */
class DispatchTimerUpstreamTest {
    private static final int STOP_AT = 3;

    @Test
    void oneShotTimersFireInOrderOfTheirDeadlinesWhileARepeatingTimerCountsToThree() throws Exception {
        List<String> failures = new CopyOnWriteArrayList<>();
        AtomicBoolean finalized = new AtomicBoolean();
        List<DispatchSource> oneShots = new ArrayList<>();
        CountDownLatch cancelled = new CountDownLatch(1);
        int[] i = {0};
        try (DispatchQueue mainQ = DispatchQueue.createSerial("main")) {
            for (int j = 1; j <= 5; ++j) {
                int n = j;
                DispatchSource s = DispatchSource.timer(false, DispatchQueue.global());
                oneShots.add(s);
                s.setTimer(DispatchTime.fromNow(j * 1_000_000_000L + 100_000_000L, TimeUnit.NANOSECONDS), 0, 0);
                s.setEventHandler(() -> {
                    if (!finalized.get() && n >= STOP_AT) {
                        failures.add("timer number " + n + " fired before the repeating timer ended");
                    }
                });
                s.resume();
            }
            DispatchSource s = DispatchSource.timer(false, mainQ);
            s.setTimer(DispatchTime.NOW, 1_000_000_000L, 0);
            s.setCancelHandler(() -> {
                finalized.set(true);
                cancelled.countDown();
            });
            s.setEventHandler(() -> {
                if (++i[0] >= STOP_AT) {
                    if (i[0] != STOP_AT) {
                        failures.add("i = " + i[0]);
                    }
                    s.setTimer(DispatchTime.NOW, 0, 0); // upstream: interval FOREVER, a one-shot
                    s.cancel();
                }
            });
            s.resume();
            assertTrue(cancelled.await(60, TimeUnit.SECONDS), "the repeating timer ended");
            s.close();
        } finally {
            oneShots.forEach(DispatchSource::close);
        }
        assertEquals(List.of(), failures);
        assertEquals(STOP_AT, i[0], "i");
    }
}
