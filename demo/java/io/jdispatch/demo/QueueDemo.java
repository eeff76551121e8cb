package io.jdispatch.demo;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSemaphore;
import io.jdispatch.DispatchTime;
import io.jdispatch.QoSClass;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Groups, semaphores, after, apply and barriers on real libdispatch queues. */
public final class QueueDemo {
    private QueueDemo() {}

    public static void run() throws InterruptedException {
        try (DispatchQueue work = DispatchQueue.createConcurrent("demo.concurrent");
             DispatchGroup group = DispatchGroup.create()) {
            AtomicInteger done = new AtomicInteger();
            for (int i = 0; i < 8; i++) {
                group.async(work, done::incrementAndGet);
            }
            CountDownLatch notified = new CountDownLatch(1);
            group.notify(DispatchQueue.global(QoSClass.UTILITY), notified::countDown);
            boolean finished = group.wait(Demo.WAIT_S, TimeUnit.SECONDS);
            if (!finished) {
                throw new IllegalStateException("group: 8 tasks not done in " + Demo.WAIT_S + " s (done=" + done.get() + ")");
            }
            Demo.await(notified, "group notify");
            System.out.printf("group: 8 tasks on '%s' done=%d, wait returned %s, notify ran: %s%n",
                    work.getLabel(), done.get(), finished, notified.getCount() == 0);

            // apply: every index once, in parallel; then a barrier that sees all of them finished.
            AtomicLong sum = new AtomicLong();
            work.apply(1000, sum::addAndGet);
            int seen = work.barrierSync(done::get);
            System.out.printf("apply: sum of indices 0..999 = %d; barrierSync saw %d group tasks finished%n",
                    sum.get(), seen);
        }

        try (DispatchSemaphore slots = DispatchSemaphore.create(1)) {
            boolean first = slots.wait(DispatchTime.NOW);
            long start = System.nanoTime();
            boolean second = slots.wait(20, TimeUnit.MILLISECONDS);
            System.out.printf("semaphore(1): first wait %s, second wait %s after %.1f ms (timeout 20 ms)%n",
                    first, second, (System.nanoTime() - start) / 1e6);
            slots.signal(); // back to its initial value, so close() accepts it
        }

        try (DispatchQueue serial = DispatchQueue.createSerial("demo.after")) {
            CountDownLatch fired = new CountDownLatch(1);
            long start = System.nanoTime();
            long[] firedAfter = new long[1];
            serial.after(30, TimeUnit.MILLISECONDS, () -> {
                firedAfter[0] = System.nanoTime() - start;
                fired.countDown();
            });
            Demo.await(fired, "a 30 ms dispatch_after");
            System.out.printf("after: a 30 ms dispatch_after ran after %.1f ms%n", firedAfter[0] / 1e6);
            try {
                serial.sync(() -> serial.sync(() -> { }));
            } catch (IllegalStateException refused) {
                System.out.println("sync onto the current queue refused: " + refused.getMessage());
            }
        }
    }
}
