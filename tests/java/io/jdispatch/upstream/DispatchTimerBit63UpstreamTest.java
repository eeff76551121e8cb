package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * libdispatch's {@code tests/dispatch_timer_bit63.c}, translated: a timer starting now with an interval of
 * 0x8000000000000001 ns (bit 63 set: libdispatch clamps it to INT64_MAX) fires once within upstream's 1 s and never
 * again ({@code assert(i < 1)} in the handler; here the count must be exactly 1). The timer is on a serial queue
 * instead of the main queue (changed).
 */
class DispatchTimerBit63UpstreamTest {
    @Test
    void aTimerWithABit63IntervalFiresOnce() throws Exception {
        AtomicInteger i = new AtomicInteger();
        try (DispatchQueue mainQ = DispatchQueue.createSerial("main");
             DispatchSource ds = DispatchSource.timer(false, mainQ)) {
            ds.setEventHandler(i::incrementAndGet);
            ds.setTimer(DispatchTime.NOW, 0x8000000000000001L, 0);
            ds.resume();
            Thread.sleep(1000);
            mainQ.sync(() -> { }); // a fire already due has run
        }
        assertEquals(1, i.get(), "fires");
    }
}
