package io.jdispatch.upstream;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_pingpong.c}, translated: two serial queues pass one counter back and forth
 * through {@code DispatchGroup.async}, each task submitting the next to the other queue, 1,000,000 times; the group
 * wait returns only when the last has run, and the count is exactly 1,000,000. Upstream parameters.
 */
class DispatchPingpongUpstreamTest {
    private static final int FINAL = 1_000_000;
    private volatile int count;

    @Test
    void aMillionTasksPingPongBetweenTwoSerialQueues() {
        try (DispatchQueue ping = DispatchQueue.createSerial("ping");
             DispatchQueue pong = DispatchQueue.createSerial("pong");
             DispatchGroup group = DispatchGroup.create()) {
            pingpongloop(group, ping, pong, 0);
            assertTrue(group.wait(DispatchTime.FOREVER));
        }
        assertEquals(FINAL, count, "count");
    }

    private void pingpongloop(DispatchGroup group, DispatchQueue ping, DispatchQueue pong, int counter) {
        if (counter < FINAL) {
            group.async(pong, () -> pingpongloop(group, pong, ping, counter + 1));
        } else {
            count = counter;
        }
    }
}
