package io.jdispatch.upstream;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_group.c}, translated: a group of 100 tasks on 100 serial queues completes and
 * can be reused; a group of 3 tasks that sleep 7 s times out on a 5 s wait and succeeds on a second 5 s wait; a
 * group notify of 100 tasks runs on its queue; then (rdar://problem/11445820) cycles that each make a group of 1-8
 * tasks on fresh serial queues, notify a serial queue that leaves an outer group, and wait up to 1 s for it: every
 * cycle's notify must arrive ({@code i - 1 == LOOP_COUNT}). Upstream's LOOP_COUNT is 200,000 cycles; here 20,000
 * (scaled: at about 0.1 ms per cycle in Java the rest of the suite would wait 20 s). The notify queue stands in for
 * the main queue (changed).
 */
class DispatchGroupUpstreamTest {
    private static final int LOOP_COUNT = 20_000;

    private static DispatchGroup createGroup(int count, int delaySec) {
        DispatchGroup group = DispatchGroup.create();
        for (int i = 0; i < count; ++i) {
            DispatchQueue queue = DispatchQueue.createSerial("group-" + i);
            group.async(queue, () -> {
                if (delaySec > 0) {
                    try {
                        Thread.sleep(delaySec * 1000L);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
            queue.close();
        }
        return group;
    }

    @Test
    void groupsWaitTimeOutNotifyAndSurviveManyNotifyCycles() throws Exception {
        try (DispatchGroup group = createGroup(100, 0)) {
            assertTrue(group.wait(DispatchTime.FOREVER));
            group.async(DispatchQueue.global(), () -> { }); // should be OK to re-use a group
            assertTrue(group.wait(DispatchTime.FOREVER));
        }
        try (DispatchGroup group = createGroup(3, 7)) {
            assertFalse(group.wait(DispatchTime.fromNow(5, TimeUnit.SECONDS)), "dispatch_group_wait timed out");
            assertTrue(group.wait(DispatchTime.fromNow(5, TimeUnit.SECONDS)), "retry after timeout succeeds");
        }
        CountDownLatch notified = new CountDownLatch(1);
        try (DispatchQueue mainQ = DispatchQueue.createSerial("main"); DispatchGroup group = createGroup(100, 0)) {
            group.notify(mainQ, () -> {
                if (mainQ.isCurrent()) { // upstream: dispatch_test_current("Notification Received", main queue)
                    notified.countDown();
                }
            });
            assertTrue(notified.await(30, TimeUnit.SECONDS), "Notification Received on its queue");
        }
        assertEquals(LOOP_COUNT, groupNotifyCycles(), "dispatch_group_notify");
    }

    private static int groupNotifyCycles() {
        DispatchQueue rq = DispatchQueue.createSerial("release");
        rq.suspend();
        DispatchQueue nq = DispatchQueue.createSerial("notify");
        long[] completed = new long[1];
        int i;
        try (DispatchGroup tested = DispatchGroup.create()) {
            for (i = 1; i <= LOOP_COUNT; i++) {
                tested.enter();
                groupNotify2(i, tested, rq, nq, completed);
                if (!tested.wait(DispatchTime.fromNow(1, TimeUnit.SECONDS))) {
                    break;
                }
            }
        } finally {
            rq.resume();
            rq.sync(() -> { });
            rq.close();
            nq.close();
        }
        return i - 1;
    }

    private static void groupNotify2(long cycle, DispatchGroup tested, DispatchQueue rq, DispatchQueue nq, long[] completed) {
        rq.resume();
        int n = 1 + ThreadLocalRandom.current().nextInt(8);
        DispatchGroup group = DispatchGroup.create();
        DispatchQueue[] qa = new DispatchQueue[n];
        group.enter();
        for (int i = 0; i < n; i++) {
            qa[i] = DispatchQueue.createSerial("T" + cycle + "-" + i);
        }
        float[] eh = new float[1];
        for (int i = 0; i < n; i++) {
            group.async(qa[i], () -> eh[0] = (float) Math.sin(1 / Math.PI / cycle)); // a little work, as upstream
        }
        group.leave();
        group.notify(nq, () -> {
            completed[0] = cycle;
            tested.leave();
        });
        // upstream releases this cycle's queues on the next cycle, through a queue it keeps suspended in between
        rq.sync(() -> { });
        rq.suspend();
        for (DispatchQueue q : qa) {
            rq.async(q::close);
        }
        group.close();
    }
}
