package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_overcommit.c}, translated: 32 serial queues each get one task that increments a
 * shared count and then spins until the count reaches 32; the 32nd must arrive, so every queue needs a thread of its
 * own although only the CPUs' worth would be "enough" (overcommit). Upstream retargets each queue at
 * {@code dispatch_get_global_queue(0, DISPATCH_QUEUE_OVERCOMMIT)}; that flag is private SPI, not mapped, and a serial
 * queue's default target in libdispatch is that same overcommitting default-QoS root queue, so the queues keep their
 * default target (changed). The spinners stop when the test ends (upstream exits the process instead).
 */
class DispatchOvercommitUpstreamTest {
    private static final int FINAL = 32;

    @Test
    void thirtyTwoSpinningSerialQueuesAllGetAThread() throws Exception {
        AtomicInteger count = new AtomicInteger();
        AtomicBoolean release = new AtomicBoolean();
        CountDownLatch reached = new CountDownLatch(1);
        List<DispatchQueue> queues = new ArrayList<>();
        try {
            for (int i = 0; i < FINAL; ++i) {
                DispatchQueue queue = DispatchQueue.createSerial("test.overcommit." + i);
                queues.add(queue);
                queue.async(() -> {
                    if (count.incrementAndGet() == FINAL) {
                        reached.countDown();
                    } else {
                        while (count.get() < FINAL && !release.get()) {
                            Thread.onSpinWait(); // spin, as upstream's while (1)
                        }
                    }
                });
            }
            assertTrue(reached.await(60, TimeUnit.SECONDS), "only " + count.get() + " of 32 tasks started");
            assertEquals(FINAL, count.get(), "count");
        } finally {
            release.set(true);
            queues.forEach(DispatchQueue::close);
        }
    }
}
