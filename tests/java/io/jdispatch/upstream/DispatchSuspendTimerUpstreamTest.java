package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_suspend_timer.c}, translated: "tweedledee", a 1 s timer due in 1 s, counts its
 * handler calls (i) and the fires they stand for ({@code getData()}, i'); "tweedledum", a 3 s timer due in 3.5 s,
 * suspends tweedledee at its first fire, checks i = 3 and i' = 3 at its second and resumes tweedledee (whose 3 fires
 * missed while suspended coalesce into one call), and checks i = 7 and i' = 9 at its third. Both on one serial queue,
 * in place of the main queue (changed); upstream ends in the sources' finalizers, here in tweedledum's cancel handler
 * (sources have no finalizer). Upstream parameters.
 */
class DispatchSuspendTimerUpstreamTest {
    @Test
    void firesMissedWhileSuspendedCoalesceIntoOneHandlerCall() throws Exception {
        List<String> failures = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        int[] i = {0};
        long[] iPrime = {0};
        int[] j = {0};
        try (DispatchQueue mainQ = DispatchQueue.createSerial("main");
             DispatchSource tweedledee = DispatchSource.timer(false, mainQ);
             DispatchSource tweedledum = DispatchSource.timer(false, mainQ)) {
            tweedledee.setTimer(DispatchTime.fromNow(1, TimeUnit.SECONDS), 1_000_000_000L, 0);
            tweedledee.setEventHandler(() -> {
                iPrime[0] += tweedledee.getData();
                if (++i[0] == 10) {
                    tweedledee.cancel();
                }
            });
            tweedledee.resume();

            tweedledum.setTimer(DispatchTime.fromNow(3_500, TimeUnit.MILLISECONDS), 3_000_000_000L, 0);
            tweedledum.setCancelHandler(done::countDown);
            tweedledum.setEventHandler(() -> {
                switch (++j[0]) {
                    case 1 -> tweedledee.suspend();
                    case 2 -> {
                        expect(failures, "tweedledee tick count", 3, i[0]);
                        expect(failures, "tweedledee virtual tick count", 3, iPrime[0]);
                        tweedledee.resume();
                    }
                    default -> {
                        expect(failures, "tweedledee tick count", 7, i[0]);
                        expect(failures, "tweedledee virtual tick count", 9, iPrime[0]);
                        tweedledum.cancel();
                    }
                }
            });
            tweedledum.resume();
            assertTrue(done.await(60, TimeUnit.SECONDS), "tweedledum ended");
        }
        assertEquals(List.of(), failures);
        assertEquals(3, j[0], "tweedledum fires");
    }

    private static void expect(List<String> failures, String what, long expected, long actual) {
        if (expected != actual) {
            failures.add(what + ": expected " + expected + " but was " + actual);
        }
    }
}
