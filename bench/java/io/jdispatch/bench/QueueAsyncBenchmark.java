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
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    /** Runs the C floor, then JMH on every executor this JVM has, and prints ratios. Args: forks (default 1). */
    public static void main(String[] args) throws Exception {
        Map<String, Double> floor = cFloor();
        List<String> executors = new ArrayList<>(List.of("dispatchSerial", "dispatchGlobal", "tpe1", "tpeN", "forkJoin"));
        if (hasVirtualThreads()) {
            executors.add("virtual");
        } else {
            System.out.println("virtual: skipped (needs Java 21+, this is " + Runtime.version() + ")");
        }
        Iterable<RunResult> results = new Runner(new OptionsBuilder()
                .include(QueueAsyncBenchmark.class.getName() + ".submitAndAwait")
                .param("executor", executors.toArray(String[]::new))
                .forks(args.length > 0 ? Integer.parseInt(args[0]) : 1)
                .warmupIterations(3).warmupTime(TimeValue.seconds(1))
                .measurementIterations(5).measurementTime(TimeValue.seconds(1))
                .build()).run();
        Map<String, Double> ns = new LinkedHashMap<>();
        for (RunResult r : results) {
            ns.put(r.getParams().getParam("executor"), r.getPrimaryResult().getScore());
        }
        System.out.printf("%nns/task (JMH avg; C floor = median round of bench_async) on %s, %d cores:%n",
                Runtime.version(), Runtime.getRuntime().availableProcessors());
        floor.forEach((k, v) -> System.out.printf("  C floor %-8s %8.1f%n", k, v));
        double tpe1 = ns.getOrDefault("tpe1", Double.NaN);
        for (Map.Entry<String, Double> e : ns.entrySet()) {
            String which = e.getKey().equals("dispatchSerial") ? "serial" : "global";
            System.out.printf("  %-15s %8.1f   vs tpe1 %5.2fx   vs C floor (%s) %5.2fx%n", e.getKey(), e.getValue(),
                    e.getValue() / tpe1, which, e.getValue() / floor.getOrDefault(which, Double.NaN));
        }
    }

    private static Map<String, Double> cFloor() throws Exception {
        Map<String, Double> floor = new LinkedHashMap<>();
        Path exe = Path.of(System.getProperty("jdispatch.benchNative", "target/native/bench_async"));
        if (!Files.isExecutable(exe)) {
            System.out.println("C floor: " + exe + " not built (run mvn package first); ratios to it are NaN");
            return floor;
        }
        Process p = new ProcessBuilder(exe.toString(), String.valueOf(TASKS)).redirectErrorStream(true).start();
        Pattern line = Pattern.compile("bench_async (\\w+) ns/task ([0-9.]+).*");
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream()))) {
            for (String s; (s = r.readLine()) != null; ) {
                System.out.println(s);
                Matcher m = line.matcher(s);
                if (m.matches()) {
                    floor.put(m.group(1), Double.parseDouble(m.group(2)));
                }
            }
        }
        if (p.waitFor() != 0) {
            throw new IllegalStateException(exe + " exited with " + p.exitValue());
        }
        return floor;
    }
}
