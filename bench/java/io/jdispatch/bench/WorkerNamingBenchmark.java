package io.jdispatch.bench;

import io.jdispatch.DispatchQueue;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.TimeUnit;

/**
 * What naming the worker after the queue costs ({@code "<worker> [<label>]"} while a drain batch or a task of
 * its own runs, then the old name back): {@value #TASKS} submits of an empty task then waiting until all ran
 * (as {@link QueueAsyncBenchmark}), with names on ({@code named}) and off ({@code unnamed}: a fork with
 * {@code -Djdispatch.threadNames=false}); the score is ns per task. On a queue created concurrent every task
 * is a work item of its own and pays two renames (the worst case); serial and global queues rename once per
 * drain batch.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
public class WorkerNamingBenchmark {
    static final int TASKS = 10_000;

    @Param({"concurrent", "serial", "global"})
    public String queue;

    private DispatchQueue q;
    private final QueueAsyncBenchmark.CountDown task = new QueueAsyncBenchmark.CountDown();

    @Setup(Level.Trial)
    public void setUp() {
        q = switch (queue) {
            case "global" -> DispatchQueue.global();
            case "concurrent" -> DispatchQueue.createConcurrent("bench.naming.concurrent");
            case "serial" -> DispatchQueue.createSerial("bench.naming.serial");
            default -> throw new IllegalArgumentException("unknown queue " + queue);
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        q.close();
    }

    @Benchmark
    @OperationsPerInvocation(TASKS)
    public void named() {
        submitAndAwait();
    }

    @Benchmark
    @OperationsPerInvocation(TASKS)
    @Fork(jvmArgsAppend = "-Djdispatch.threadNames=false")
    public void unnamed() {
        submitAndAwait();
    }

    private void submitAndAwait() {
        QueueAsyncBenchmark.CountDown t = task;
        t.waiter = Thread.currentThread();
        t.remaining.set(TASKS);
        for (int i = 0; i < TASKS; i++) {
            q.async(t);
        }
        t.await();
    }
}
