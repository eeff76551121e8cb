package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * libdispatch's {@code tests/dispatch_timer_timeout.c} (rdar://problem/8015967), translated: a 100 ns repeating timer
 * whose handler suspends its own serial queue fires exactly once, and a 2 s timer on the global queue due in 1 s
 * still fires (it sets a value from 5 to 10 and cancels itself) while that queue stays suspended; both checked after
 * upstream's 6 s. Upstream parameters.
 */
class DispatchTimerTimeoutUpstreamTest {
    @Test
    void aMiniTimerThatSuspendsItsQueueFiresOnceAndALongTimerStillFires() throws Exception {
        AtomicInteger valueToBeChanged = new AtomicInteger(5);
        AtomicInteger fired = new AtomicInteger();
        DispatchQueue timerQueue = DispatchQueue.createSerial("timer_queue");
        DispatchSource miniTimer = DispatchSource.timer(false, timerQueue);
        miniTimer.setEventHandler(() -> {
            fired.incrementAndGet();
            timerQueue.suspend();
        });
        miniTimer.setTimer(DispatchTime.NOW, 100, 0);
        DispatchSource longTimer = DispatchSource.timer(false, DispatchQueue.global());
        longTimer.setEventHandler(() -> {
            valueToBeChanged.set(10);
            longTimer.cancel();
        });
        longTimer.setTimer(DispatchTime.fromNow(1, TimeUnit.SECONDS), 2_000_000_000L, 0);
        miniTimer.resume();
        longTimer.resume();
        Thread.sleep(6000);
        assertEquals(10, valueToBeChanged.get(), "Checking final value");
        assertEquals(1, fired.get(), "Mini-timer fired");
        miniTimer.cancel();
        miniTimer.close();
        timerQueue.resume();
        timerQueue.close();
        longTimer.close();
    }
}
