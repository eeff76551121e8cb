package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_timer_set_time.c}, translated: a 1 s repeating timer due in 1 s is re-set by
 * its first fire to 100 ms from now, and cancelled at its 15th fire; the whole run must take fewer than 10 whole
 * seconds (15 one-second ticks would take 15: the new interval took effect). Upstream parameters and bound (loose:
 * about 2.4 s expected). The timer is on a serial queue instead of the main queue (changed).
 */
class DispatchTimerSetTimeUpstreamTest {
    @Test
    void settingTheTimerFromItsHandlerChangesTheInterval() throws Exception {
        CountDownLatch cancelled = new CountDownLatch(1);
        int[] i = {0};
        long[] elapsedSec = new long[1];
        long startSec = System.currentTimeMillis() / 1000;
        try (DispatchQueue mainQ = DispatchQueue.createSerial("main");
             DispatchSource s = DispatchSource.timer(false, mainQ)) {
            s.setTimer(DispatchTime.fromNow(1, TimeUnit.SECONDS), 1_000_000_000L, 0);
            s.setCancelHandler(() -> {
                elapsedSec[0] = System.currentTimeMillis() / 1000 - startSec;
                cancelled.countDown();
            });
            s.setEventHandler(() -> {
                if (++i[0] >= 15) {
                    s.cancel();
                } else if (i[0] == 1) {
                    s.setTimer(DispatchTime.NOW, 100_000_000L, 0);
                }
            });
            s.resume();
            assertTrue(cancelled.await(60, TimeUnit.SECONDS), "cancel handler ran");
        }
        assertEquals(15, i[0], "fires");
        assertTrue(elapsedSec[0] < 10, "total duration " + elapsedSec[0] + " s");
    }
}
