package io.jdispatch.testutil;

import io.jdispatch.DispatchQueue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Child-JVM program for the nested-sync test (a deadlock of libdispatch's thread pool wedges the whole
 * process, so it must not happen in the test JVM). Args: {@code chains depth}. Each chain is a task on the
 * global queue that calls {@code sync} onto its first serial queue, whose task calls {@code sync} onto the
 * next one, {@code depth} levels deep, every level a queue of its own. Once the chains are under way, a task
 * goes to an unrelated serial queue. Prints one result line and exits 0 when the chains and that task
 * finished, 1 when they did not within 60 s.
 */
public final class NestedSyncProbe {
    private static final long WAIT_S = 60;

    private NestedSyncProbe() {}

    public static void main(String[] args) throws Exception {
        int chains = Integer.parseInt(args[0]);
        int depth = Integer.parseInt(args[1]);
        AtomicInteger levels = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(chains);
        for (int c = 0; c < chains; c++) {
            DispatchQueue[] chain = new DispatchQueue[depth];
            for (int i = 0; i < depth; i++) {
                chain[i] = DispatchQueue.createSerial("chain-" + c + "-level-" + i);
            }
            DispatchQueue.global().async(() -> {
                nest(chain, 0, levels);
                done.countDown();
            });
        }
        // Let the chains take as many workers as they will before the unrelated task is queued.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (done.getCount() > 0 && levels.get() < chains * depth / 2 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        CountDownLatch unrelated = new CountDownLatch(1);
        DispatchQueue.createSerial("unrelated").async(unrelated::countDown);
        boolean chainsDone = done.await(WAIT_S, TimeUnit.SECONDS);
        boolean unrelatedRan = unrelated.await(chainsDone ? WAIT_S : 1, TimeUnit.SECONDS);
        System.out.println((chainsDone ? "chains done: " : "deadlock: ") + chains + " x " + depth
                + ", levels entered " + levels.get() + ", unrelated serial queue task "
                + (unrelatedRan ? "ran" : "never ran") + ", live threads " + Thread.activeCount());
        System.out.flush();
        // halt: a wedged pool must not keep the child from exiting
        Runtime.getRuntime().halt(chainsDone && unrelatedRan ? 0 : 1);
    }

    private static void nest(DispatchQueue[] chain, int level, AtomicInteger levels) {
        if (level < chain.length) {
            chain[level].sync(() -> {
                levels.incrementAndGet();
                nest(chain, level + 1, levels);
            });
        }
    }
}
