package io.jdispatch.bench;

import io.jdispatch.DispatchQueue;
import io.jdispatch.IODataQueueDispatchSource;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Across processes: a C producer (target/native/dq_peer) -> Java consumer (IODataQueueDispatchSource, woken by
 * DataAvailable on a dispatch queue, draining with dequeueBatch) vs the C floor: the same C producer -> a C
 * consumer process draining with jd_dq_dequeue_batch ({@code dq_peer c2c}). 1M entries of 8/64/256 bytes through a 1 MiB queue; both consumers check every byte.
 * One invocation = one whole transfer (single shot, seconds per 1M entries: lower is better;
 * ratio = floor / ours).
 *
 * <pre>java -cp ... org.openjdk.jmh.Main DataQueueCrossProcessBenchmark -f 1 -wi 2 -i 5</pre>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(Scope.Benchmark)
public class DataQueueCrossProcessBenchmark {
    private static final int COUNT = 1_000_000;
    private static final Path PEER = Path.of("target/native/dq_peer");

    @Param({"8", "64", "256"})
    public int size;

    @Benchmark
    public long cToCFloor() throws Exception {
        Process p = new ProcessBuilder(PEER.toString(), "c2c", String.valueOf(COUNT), String.valueOf(size))
                .redirectErrorStream(true).start();
        return finish(p);
    }

    @Benchmark
    public long cToJava() throws Exception {
        Path path = Path.of("/dev/shm", "jd-bench-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try (DispatchQueue queue = DispatchQueue.createSerial("bench.consumer");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(1 << 20, queue, path)) {
            long[] next = {0};
            Semaphore done = new Semaphore(0);
            boolean[] bad = {false};
            q.setDataAvailableHandler(() -> {
                while (next[0] < COUNT && q.dequeueBatch(256, b -> bad[0] |= !check(next[0]++, b)) > 0) {
                    // drain
                }
                if (next[0] == COUNT) {
                    done.release();
                }
            });
            Process p = new ProcessBuilder(PEER.toString(), "produce", path.toString(), String.valueOf(COUNT), "1",
                    "=" + size).redirectErrorStream(true).start();
            if (!done.tryAcquire(120, TimeUnit.SECONDS) || bad[0]) {
                throw new IllegalStateException("C -> Java transfer failed at " + next[0]);
            }
            return finish(p);
        }
    }

    /** The same check as dq_peer's consumer: every byte of entry n is (n * 131 + i * 7). */
    static boolean check(long n, ByteBuffer b) {
        boolean ok = true;
        for (int i = 0, p = b.position(), size = b.remaining(); i < size; i++) {
            ok &= b.get(p + i) == (byte) (n * 131 + i * 7);
        }
        return ok;
    }

    private static long finish(Process p) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0 || !out.contains("OK")) {
            throw new IllegalStateException("dq_peer failed: " + out);
        }
        return out.length();
    }
}
