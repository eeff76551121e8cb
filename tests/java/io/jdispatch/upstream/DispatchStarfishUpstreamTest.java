package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;
import io.jdispatch.QoSClass;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_starfish.c}, translated: 1,000 suspended serial queues targeting the LOW
 * (UTILITY) global queue each get a start task, then are resumed; each node pings all 1,000 nodes, each ping
 * answers its sender, and a node that has its 1,000 replies reports to a collector queue: per lap 2,002,000 tasks, and
 * every reply must arrive. The latency per message must stay below ACCEPTABLE_LATENCY: upstream's strict value is
 * 1,000 ns, a throughput bound: the C test failed it on this 2-vCPU machine while other work ran (1,018-2,624 ns),
 * this translation measured 468-672 ns when quieter; so the bound is upstream's LENIENT_DEADLINES value, 10,000 ns,
 * which its CMake sets for Swift's CI (changed). Upstream's 10 laps (21 s at a load average of 25). Each node's reply count lives in one counter set
 * as its context at the start of a lap (upstream sets the context on every reply). The collector stands in for the
 * main queue (changed).
 */
class DispatchStarfishUpstreamTest {
    private static final int COUNT = 1000;
    private static final int LAPS = 10;
    private static final long ACCEPTABLE_LATENCY = 10_000; // upstream's LENIENT_DEADLINES value

    @Test
    void aThousandQueuesPingEachOtherAndEveryReplyArrives() throws Exception {
        try (DispatchQueue collector = DispatchQueue.createSerial("collector")) {
            for (int lap = 0; lap < LAPS; lap++) {
                DispatchQueue soup = DispatchQueue.global(QoSClass.UTILITY);
                DispatchQueue[] queues = new DispatchQueue[COUNT];
                AtomicLong countDown = new AtomicLong(COUNT);
                CountDownLatch collected = new CountDownLatch(1);
                long start = System.nanoTime();
                for (int i = 0; i < COUNT; i++) {
                    queues[i] = DispatchQueue.createSerial("com.example.starfish-node#" + i);
                    queues[i].suspend();
                    queues[i].setTargetQueue(soup);
                }
                for (int i = 0; i < COUNT; i++) {
                    DispatchQueue thisQ = queues[i];
                    thisQ.async(() -> {
                        long[] replies = {COUNT};
                        thisQ.setContext(replies);
                        for (DispatchQueue node : queues) {
                            node.async(() -> thisQ.async(() -> { // ping, then pong on the sender
                                long[] r = (long[]) thisQ.getContext();
                                if (--r[0] == 0) {
                                    collector.async(() -> {
                                        if (countDown.decrementAndGet() == 0) {
                                            collected.countDown();
                                        }
                                    });
                                }
                            }));
                        }
                    });
                }
                for (DispatchQueue q : queues) {
                    q.resume();
                }
                assertTrue(collected.await(60, TimeUnit.SECONDS), countDown.get() + " nodes still waiting for replies");
                long delta = System.nanoTime() - start;
                double math = (double) delta / ((double) COUNT * COUNT * 2 + COUNT * 2);
                System.out.printf("starfish lap %d: %.0f ns per message%n", lap, math);
                for (DispatchQueue q : queues) {
                    q.close();
                }
                assertTrue((long) math < ACCEPTABLE_LATENCY, "Latency " + math + " ns");
            }
        }
    }
}
