package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_timer_bit31.c}, translated: a timer due in 0x80000000 ns (2.147 s, bit 31 set)
 * with that interval, cancelled by its first fire; from start to the cancel handler at least 2 whole seconds
 * (upstream: {@code 1 < tv_sec difference}) and fewer than 4 must pass. The upper bound is upstream's and loose
 * (almost 2 s of slack). The timer is on a serial queue instead of the main queue (changed).
 */
class DispatchTimerBit31UpstreamTest {
    @Test
    void aTimerOfBit31NanosecondsFiresAfterTwoToFourSeconds() throws Exception {
        CountDownLatch cancelled = new CountDownLatch(1);
        long[] elapsedSec = new long[1];
        try (DispatchQueue mainQ = DispatchQueue.createSerial("main");
             DispatchSource s = DispatchSource.timer(false, mainQ)) {
            s.setTimer(DispatchTime.fromNow(0x80000000L, TimeUnit.NANOSECONDS), 0x80000000L, 0);
            long startSec = System.currentTimeMillis() / 1000; // gettimeofday's tv_sec, as upstream
            s.setEventHandler(s::cancel);
            s.setCancelHandler(() -> {
                elapsedSec[0] = System.currentTimeMillis() / 1000 - startSec;
                cancelled.countDown();
            });
            s.resume();
            assertTrue(cancelled.await(60, TimeUnit.SECONDS), "cancel handler ran");
        }
        assertTrue(elapsedSec[0] < 4, "needs to finish faster than 4 seconds: " + elapsedSec[0]);
        assertTrue(1 < elapsedSec[0], "can't finish faster than 2 seconds: " + elapsedSec[0]);
    }
}
