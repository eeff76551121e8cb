package io.jdispatch.bench;

import io.jdispatch.Dispatch;
import io.jdispatch.DispatchQueue;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Task dispatch throughput: {@value #TASKS} submits of an empty Runnable, then waiting until all of them ran
 * (so queued work is counted), per executor; the score is ns per task. The only work in a task is counting
 * itself down (the last one unparks the submitter), the same in every case and in the C floor
 * ({@code bench/native/bench_async.c}: dispatch_async_f on the same libdispatch).
 *
 * <p>Baselines: {@code tpe1} = ThreadPoolExecutor(1) (the serial case's target), {@code tpeN} =
 * ThreadPoolExecutor(cores), {@code forkJoin} = ForkJoinPool(cores), {@code virtual} = one virtual thread per
 * task (Java 21+; {@link #main} leaves it out on older JVMs, and its setup refuses to run there).
 *
 * <p>{@code main} runs the C floor and JMH in one go and prints every score as a ratio (the machines are
 * shared: ratios from one run hold, absolute figures drift).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class QueueAsyncBenchmark {
    static final int TASKS = 10_000;

    @Param({"dispatchSerial", "dispatchGlobal", "tpe1", "tpeN", "forkJoin", "virtual"})
    public String executor;

    private Executor target;
    private AutoCloseable owner;
    private final CountDown task = new CountDown();

    /** The task: counts down; the last one wakes the waiting submitter. */
    static final class CountDown implements Runnable {
        final AtomicInteger remaining = new AtomicInteger();
        volatile Thread waiter;

        @Override
        public void run() {
            if (remaining.decrementAndGet() == 0) {
                LockSupport.unpark(waiter);
            }
        }

        void await() {
            while (remaining.get() != 0) {
                LockSupport.park(this);
            }
        }
    }

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Dispatch.ensureAvailable();
        int cores = Runtime.getRuntime().availableProcessors();
        switch (executor) {
            case "dispatchSerial" -> {
                DispatchQueue q = DispatchQueue.createSerial("bench.serial");
                target = q;
                owner = q;
            }
            case "dispatchGlobal" -> target = DispatchQueue.global();
            case "tpe1" -> target = pool(new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>()));
            case "tpeN" -> target = pool(new ThreadPoolExecutor(cores, cores, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>()));
            case "forkJoin" -> target = pool(new ForkJoinPool(cores));
            case "virtual" -> target = pool(virtualThreadExecutor());
            default -> throw new IllegalArgumentException("unknown executor " + executor);
        }
    }

    private ExecutorService pool(ExecutorService e) {
        owner = e::shutdownNow;
        return e;
    }

    static boolean hasVirtualThreads() {
        return Runtime.version().feature() >= 21;
    }

    /** Executors.newVirtualThreadPerTaskExecutor(), looked up reflectively: this code compiles for Java 17. */
    private static ExecutorService virtualThreadExecutor() throws Exception {
        if (!hasVirtualThreads()) {
            throw new UnsupportedOperationException("virtual threads need Java 21+, this is " + Runtime.version());
        }
        return (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor").invoke(null);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        if (owner != null) {
            owner.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(TASKS)
    public void submitAndAwait() {
        CountDown t = task;
        t.waiter = Thread.currentThread();
        t.remaining.set(TASKS);
        Executor e = target;
        for (int i = 0; i < TASKS; i++) {
            e.execute(t);
        }
        t.await();
    }
}
