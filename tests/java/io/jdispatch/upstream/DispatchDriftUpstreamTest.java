package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_drift.c}, translated: a 10 ms repeating timer; at each fire the jitter is the
 * gap between where the fire should be (first fire + n intervals, wall clock) and where it is, and the drift is the
 * mean change of jitter per handler call, which must stay below ACCEPTABLE_DRIFT. Upstream's strict value is 0.001 s;
 * the C test itself fails it on this loaded 2-vCPU machine (measured 0.0047: fires that come late coalesce into one
 * handler call, so the count falls behind the clock), and so did this translation (0.009), so the bound is upstream's
 * own LENIENT_DEADLINES value, 0.1 s, which its CMake sets for Swift's CI (changed). Upstream's 25 s (2,500
 * handler calls). On a serial queue instead of the main queue (changed).
 */
class DispatchDriftUpstreamTest {
    private static final double ACCEPTABLE_DRIFT = 0.1; // upstream's LENIENT_DEADLINES value

    @Test
    void aRepeatingTimerDoesNotDrift() throws Exception {
        long interval = 1_000_000_000L / 100;
        double intervalD = interval / 1e9;
        int target = (int) (25.0 / intervalD);
        CountDownLatch done = new CountDownLatch(1);
        double[] state = new double[4]; // count, first, last jitter, drift sum
        double[] result = new double[1];
        try (DispatchQueue mainQ = DispatchQueue.createSerial("main");
             DispatchSource t = DispatchSource.timer(false, mainQ)) {
            t.setTimer(DispatchTime.fromNow(interval, TimeUnit.NANOSECONDS), interval, 0);
            t.setEventHandler(() -> {
                if (done.getCount() == 0) {
                    return;
                }
                Instant wall = Instant.now(); // gettimeofday, as upstream
                double now = wall.getEpochSecond() + wall.getNano() / 1e9;
                if (state[0] == 0) {
                    state[1] = now;
                }
                double goal = state[1] + intervalD * state[0];
                double jitter = goal - now;
                state[3] += jitter - state[2];
                if (target <= ++state[0]) {
                    result[0] = Math.abs(state[3] / (state[0] - 1));
                    done.countDown();
                }
                state[2] = jitter;
            });
            t.resume();
            assertTrue(done.await(120, TimeUnit.SECONDS), "fired " + state[0] + " times"); // a hang bound
        }
        assertTrue(result[0] < ACCEPTABLE_DRIFT, "drift " + result[0]);
    }
}
