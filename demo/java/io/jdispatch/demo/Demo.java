package io.jdispatch.demo;

import io.jdispatch.Dispatch;
import io.jdispatch.DispatchQueue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** The main job: shows the library at work on real libdispatch, printing what each step does. */
public final class Demo {
    /** Bound of every wait of the demo: a hang detector (each returns as soon as its event comes). */
    static final long WAIT_S = 60;

    private Demo() {}

    public static void main(String[] args) throws Exception {
        Dispatch.ensureAvailable();
        System.out.printf("JDispatch on %s, %s, Java %s%n",
                Dispatch.platform(), Dispatch.libdispatchVersion(), Runtime.version());
        queues();
        QueueDemo.run();
        SourceDemo.run();
        DataQueueDemo.run();
    }

    static void queues() throws InterruptedException {
        try (DispatchQueue serial = DispatchQueue.createSerial("demo.serial")) {
            int[] order = new int[5];
            int[] next = {0};
            CountDownLatch done = new CountDownLatch(5);
            for (int i = 0; i < 5; i++) {
                int n = i;
                serial.async(() -> {
                    order[next[0]++] = n;
                    done.countDown();
                });
            }
            await(done, "5 async tasks on the serial queue");
            System.out.printf("queue: 5 async tasks on serial queue '%s' ran in order %s%n",
                    serial.getLabel(), java.util.Arrays.toString(order));
            String[] where = new String[1];
            serial.sync(() -> where[0] = Thread.currentThread().getName());
            System.out.printf("queue: sync task ran on thread '%s'%n", where[0]);
        }
        CountDownLatch global = new CountDownLatch(1);
        String[] worker = new String[1];
        DispatchQueue.global().async(() -> {
            worker[0] = Thread.currentThread().getName();
            global.countDown();
        });
        await(global, "a task on the global queue");
        System.out.printf("queue: global queue task ran on libdispatch worker '%s'%n", worker[0]);
    }

    /** Waits for {@code latch}, failing with what did not happen rather than going on without it. */
    static void await(CountDownLatch latch, String what) throws InterruptedException {
        if (!latch.await(WAIT_S, TimeUnit.SECONDS)) {
            throw new IllegalStateException(what + " did not happen in " + WAIT_S + " s");
        }
    }
}
