package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_cascade.c}, translated: 10,000 blocks each walk down a chain of 80 serial
 * queues (a block on queue k submits itself to queue k+1 with its index advanced) until 200,000 steps in all
 * (80 * 10,000 / 4) have run; the cascade must finish, and then every queue drains ({@code sync} of a no-op on each,
 * as upstream's cleanup). Upstream asserts nothing else (it prints a histogram). Upstream parameters.
 */
class DispatchCascadeUpstreamTest {
    private static final int QUEUES = 80;
    private static final int BLOCKS = 10_000;

    @Test
    void tenThousandBlocksCascadeDownEightyQueues() throws Exception {
        DispatchQueue[] queues = new DispatchQueue[QUEUES];
        for (int i = 0; i < QUEUES; ++i) {
            queues[i] = DispatchQueue.createSerial("cascade-" + i);
        }
        int[] indices = new int[BLOCKS];
        AtomicLong iterations = new AtomicLong((long) QUEUES * BLOCKS / 4);
        AtomicBoolean done = new AtomicBoolean();
        CountDownLatch finished = new CountDownLatch(1);
        try {
            for (int i = 0; i < BLOCKS; ++i) {
                cascade(queues, indices, i, iterations, done, finished);
            }
            assertTrue(finished.await(60, TimeUnit.SECONDS), iterations.get() + " steps left");
            for (DispatchQueue q : queues) {
                q.sync(() -> { });
            }
        } finally {
            for (DispatchQueue q : queues) {
                q.close();
            }
        }
    }

    private static void cascade(DispatchQueue[] queues, int[] indices, int block, AtomicLong iterations,
            AtomicBoolean done, CountDownLatch finished) {
        if (done.get()) {
            return;
        }
        int idx = indices[block] + 1; // each block's index is touched by one task at a time (the chain is serial)
        if (idx < QUEUES) {
            indices[block] = idx;
            queues[idx].async(() -> cascade(queues, indices, block, iterations, done, finished));
        }
        if (iterations.decrementAndGet() == 0) {
            done.set(true);
            finished.countDown();
        }
    }
}
