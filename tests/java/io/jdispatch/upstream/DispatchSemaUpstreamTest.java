package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSemaphore;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * libdispatch's {@code tests/dispatch_sema.c}, translated: a semaphore of value 1 used as a lock by 10,000 apply
 * iterations on the global queue, each incrementing a plain (unsynchronized) counter inside wait/signal: the counter
 * ends at exactly 10,000. Upstream parameters.
 */
class DispatchSemaUpstreamTest {
    private static final int LAPS = 10_000;
    private long total; // deliberately not atomic: the semaphore is the only exclusion

    @Test
    void aSemaphoreOfOneExcludesTenThousandApplyIterations() {
        try (DispatchSemaphore dsema = DispatchSemaphore.create(1)) {
            DispatchQueue.global().apply(LAPS, idx -> {
                dsema.wait(DispatchTime.FOREVER);
                total++;
                dsema.signal();
            });
        }
        assertEquals(LAPS, total, "count");
    }
}
