package io.jdispatch.bench;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Event delivery through a DATA_ADD source with a Java handler. Floor: target/native/bench_source_event (the
 * same programs in C on the same libdispatch). Java baseline: a single-thread ThreadPoolExecutor handoff.
 * <ul>
 *   <li>{@code pingPong}: mergeData(1), then spin until the handler (on a serial queue) has counted it.</li>
 *   <li>{@code executorPingPong}: the same round trip through {@code execute} (baseline).</li>
 *   <li>{@code coalescedMerge}: mergeData(1) back to back; the handler sums getData() (coalescing).</li>
 *   <li>{@code coalescedMergeJniEach}: the same with one JNI merge per call, as before Java coalesced them.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class DispatchSourceEventBenchmark {
    DispatchQueue queue;
    DispatchSource source;
    ExecutorService executor;
    final AtomicLong seen = new AtomicLong();
    long sent;

    private long sourceAddress;

    @Setup(Level.Trial)
    public void setUp() {
        queue = DispatchQueue.createSerial("bench.source");
        source = DispatchSource.dataAdd(queue);
        source.setEventHandler(() -> seen.addAndGet(source.getData()));
        source.resume();
        try { // benchmark setup only: the raw dispatch_source_t, for coalescedMergeJniEach
            var address = io.jdispatch.DispatchObject.class.getDeclaredMethod("address");
            address.setAccessible(true);
            sourceAddress = (long) address.invoke(source);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
        executor = Executors.newSingleThreadExecutor();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
        while (seen.get() < sent) {
            Thread.onSpinWait(); // the last coalesced merges are delivered before the source goes
        }
        source.close();
        queue.close();
        executor.shutdown();
        executor.awaitTermination(10, TimeUnit.SECONDS);
    }

    @Benchmark
    public void pingPong() {
        long target = ++sent;
        source.mergeData(1);
        while (seen.get() < target) {
            Thread.onSpinWait();
        }
    }

    @Benchmark
    public void executorPingPong() {
        long target = ++sent;
        executor.execute(() -> seen.incrementAndGet());
        while (seen.get() < target) {
            Thread.onSpinWait();
        }
    }

    @Benchmark
    public void coalescedMerge() {
        sent++;
        source.mergeData(1);
    }

    /**
     * What every merge cost before merges coalesced in Java: one dispatch_source_merge_data through JNI each,
     * on the same source. Its data bypasses the Java side, so the handler calls it causes find nothing and
     * are skipped; {@code sent} is left alone so that tearDown does not wait for it.
     */
    @Benchmark
    public void coalescedMergeJniEach() {
        io.jdispatch.internal.SourceNative.dispatch_source_merge_data(sourceAddress, 1);
    }
}
