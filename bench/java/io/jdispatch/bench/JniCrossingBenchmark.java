package io.jdispatch.bench;

import io.jdispatch.internal.JDispatchNative;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

import java.util.concurrent.TimeUnit;

/** The cost of one downcall through the generated JNI: the floor under every per-call operation of the API. */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class JniCrossingBenchmark {
    static {
        io.jdispatch.Dispatch.ensureAvailable();
    }

    @Benchmark
    public void emptyJniCall() {
        JDispatchNative.jd_noop();
    }
}
