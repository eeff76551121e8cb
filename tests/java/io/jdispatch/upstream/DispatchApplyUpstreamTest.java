package io.jdispatch.upstream;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_apply.c}, translated: {@code apply} of 32 iterations on the global queue counts
 * 32, three nested applies of 32 count 32^3, and an apply still finishes (count 32, while every busy task started
 * before it is still spinning) when one busy-spinning task per CPU occupies the global queue. Upstream parameters.
 */
class DispatchApplyUpstreamTest {
    private static final int FINAL = 32;

    @Test
    void applyCountsNestedAppliesCountAndAnApplyFinishesUnderContention() {
        DispatchQueue queue = DispatchQueue.global();
        AtomicInteger count = new AtomicInteger();
        queue.apply(FINAL, i -> count.incrementAndGet());
        assertEquals(FINAL, count.get(), "count");

        count.set(0);
        queue.apply(FINAL, i -> queue.apply(FINAL, ii -> queue.apply(FINAL, iii -> count.incrementAndGet())));
        assertEquals(FINAL * FINAL * FINAL, count.get(), "nested count");

        applyContended(queue);
    }

    /** rdar://problem/10718199: dispatch_apply must not wait for helper threads while its caller can work. */
    private static void applyContended(DispatchQueue queue) {
        int nThreads = Runtime.getRuntime().availableProcessors();
        AtomicInteger started = new AtomicInteger();
        AtomicInteger finished = new AtomicInteger();
        AtomicInteger count = new AtomicInteger();
        AtomicBoolean allDone = new AtomicBoolean();
        try (DispatchGroup group = DispatchGroup.create()) {
            for (int t = 0; t < nThreads; t++) {
                group.async(queue, () -> {
                    started.incrementAndGet();
                    while (!allDone.get()) {
                        Thread.onSpinWait(); // busy, never blocked: libdispatch sees a running thread
                    }
                    finished.incrementAndGet();
                });
            }
            while (started.get() < nThreads) {
                Thread.onSpinWait();
            }
            int before = started.get();
            queue.apply(FINAL, i -> count.incrementAndGet());
            int after = finished.get();
            assertEquals(nThreads, before, "contended: threads started before apply");
            assertEquals(FINAL, count.get(), "contended: count");
            assertEquals(0, after, "contended: threads finished before apply");
            allDone.set(true);
            assertTrue(group.wait(DispatchTime.FOREVER));
        }
    }
}
