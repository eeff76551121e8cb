package io.jdispatch.bench;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchTime;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * The notify cycle of libdispatch's own {@code tests/dispatch_group.c} (test_group_notify2), with its random
 * 1-8 queues fixed at {@value #QUEUES}, as its C floor {@code bench/native/bench_group.c} does: enter a
 * group, group-async a task onto each of the serial queues, leave, notify onto a serial queue, and wait for
 * the notify (it leaves a second group the benchmark thread waits on). {@code fresh}: the queues are created
 * and closed every cycle, as upstream; {@code reused}: the same queues every cycle. Score: ns per cycle.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class GroupNotifyBenchmark {
    static final int QUEUES = 4;

    @Param({"fresh", "reused"})
    public String queues;

    private DispatchQueue notifyQueue;
    private DispatchGroup tested;
    private final DispatchQueue[] reused = new DispatchQueue[QUEUES];
    private long cycle;
    volatile float sink;

    @Setup
    public void setUp() {
        notifyQueue = DispatchQueue.createSerial("bench.group.notify");
        tested = DispatchGroup.create();
        for (int i = 0; i < QUEUES; i++) {
            reused[i] = DispatchQueue.createSerial("bench.group.task");
        }
    }

    @TearDown
    public void tearDown() {
        for (DispatchQueue q : reused) {
            q.close();
        }
        tested.close();
        notifyQueue.close();
    }

    @Benchmark
    public void notifyCycle() {
        long n = ++cycle;
        boolean fresh = queues.equals("fresh");
        DispatchQueue[] qa = fresh ? new DispatchQueue[QUEUES] : reused;
        if (fresh) {
            for (int i = 0; i < QUEUES; i++) {
                qa[i] = DispatchQueue.createSerial("bench.group.task");
            }
        }
        tested.enter();
        try (DispatchGroup group = DispatchGroup.create()) {
            group.enter();
            for (DispatchQueue q : qa) {
                group.async(q, () -> sink = (float) Math.sin(1 / Math.PI / n)); // upstream's little work
            }
            group.leave();
            group.notify(notifyQueue, tested::leave);
            tested.wait(DispatchTime.FOREVER);
        }
        if (fresh) {
            for (DispatchQueue q : qa) {
                q.close();
            }
        }
    }
}
