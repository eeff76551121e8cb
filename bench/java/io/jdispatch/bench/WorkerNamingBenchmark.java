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
import org.openjdk.jmh.infra.BenchmarkParams;

import java.util.concurrent.TimeUnit;

/**
 * What naming the worker after the queue costs ({@code "<worker> [<label>]"} while a drain batch or a task of
 * its own runs, then the old name back): {@value #TASKS} submits of an empty task then waiting until all ran
 * (as {@link QueueAsyncBenchmark}), with names on ({@code named}) and off ({@code unnamed}: a fork with
 * {@code -Djdispatch.threadNames=false}); the score is ns per task. On a queue created concurrent every task
 * is a work item of its own and pays two renames (the worst case); serial and global queues rename once per
 * drain batch.
 *
 * <p>bench/run alternates named and unnamed fork by fork, and a row's ratio is the median of the pairs'
 * ratios ({@link BenchMain#runPaired}): the difference is tens of ns per task, and unpaired forks on this
 * shared machine scattered between 0.85x and 1.7x. Each fork first checks that naming is what its method
 * says (a renamed switch, or -Djdispatch.threadNames=false passed to every fork, would otherwise compare
 * a configuration with itself). By hand:
 * <pre>java -cp ... org.openjdk.jmh.Main WorkerNamingBenchmark -f 3 -wi 2 -i 3 -w 500ms -r 500ms</pre>
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
    public void setUp(BenchmarkParams params) throws Exception {
        q = switch (queue) {
            case "global" -> DispatchQueue.global();
            case "concurrent" -> DispatchQueue.createConcurrent("bench.naming.concurrent");
            case "serial" -> DispatchQueue.createSerial("bench.naming.serial");
            default -> throw new IllegalArgumentException("unknown queue " + queue);
        };
        boolean named = params.getBenchmark().endsWith(".named");
        String seen = q.submit(() -> Thread.currentThread().getName()).get(60, TimeUnit.SECONDS);
        if (seen.endsWith(" [" + q.getLabel() + "]") != named) {
            throw new IllegalStateException(params.getBenchmark() + " on " + q.getLabel() + ": a task ran on a worker named \""
                    + seen + "\", but this fork must run with names " + (named ? "on" : "off")
                    + " (-Djdispatch.threadNames=false in the names-off fork only; JVM args: " + params.getJvmArgs() + ")");
        }
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
