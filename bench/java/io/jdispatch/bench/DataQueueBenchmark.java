package io.jdispatch.bench;

import io.jdispatch.DispatchQueue;
import io.jdispatch.IODataQueueDispatchSource;
import io.jdispatch.IOReturn;

import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * SPSC throughput, Java producer thread -> Java consumer thread, 8/64/256-byte entries, 64 KiB of queue:
 * IODataQueueDispatchSource (shared memfd region, VarHandles; enqueueWithCoalesce: no doorbell, like the
 * baseline) vs the baseline Agrona OneToOneRingBuffer (tryClaim/commit, zero copy) in the same run. Both
 * write and read the entry's first 8 bytes. Compare the {@code messages} counter (successful dequeues/s);
 * a failed attempt (full/empty) is not counted.
 *
 * <pre>java -cp ... org.openjdk.jmh.Main DataQueueBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s</pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DataQueueBenchmark {
    private static final int CAPACITY = 64 * 1024;

    @State(Scope.Group)
    public static class Queues {
        @Param({"8", "64", "256"})
        public int size;

        DispatchQueue dispatchQueue;
        IODataQueueDispatchSource dataQueue;
        OneToOneRingBuffer agrona;

        @Setup(Level.Trial)
        public void setUp() {
            dispatchQueue = DispatchQueue.createSerial("bench.dataqueue");
            dataQueue = IODataQueueDispatchSource.create(CAPACITY, dispatchQueue);
            agrona = new OneToOneRingBuffer(new UnsafeBuffer(
                    ByteBuffer.allocateDirect(CAPACITY + RingBufferDescriptor.TRAILER_LENGTH)));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            dataQueue.close();
            dispatchQueue.close();
        }
    }

    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Counted {
        public long messages;
        long sequence;
        long sum;
        final boolean[] send = new boolean[1];
        final Consumer<ByteBuffer> write = b -> b.putLong(b.position(), sequence);
        final Consumer<ByteBuffer> read = b -> sum += b.getLong(b.position());

        @Setup(Level.Iteration)
        public void reset() {
            messages = 0;
        }
    }

    @Benchmark
    @Group("jdispatch")
    @GroupThreads(1)
    public void jdispatchProduce(Queues q, Counted c) {
        if (q.dataQueue.enqueueWithCoalesce(q.size, c.send, c.write) == IOReturn.kIOReturnSuccess) {
            c.sequence++;
        }
    }

    @Benchmark
    @Group("jdispatch")
    @GroupThreads(1)
    public void jdispatchConsume(Queues q, Counted c) {
        if (q.dataQueue.dequeueWithCoalesce(c.send, c.read) == IOReturn.kIOReturnSuccess) {
            c.messages++;
        }
    }

    @Benchmark
    @Group("agronaBaseline")
    @GroupThreads(1)
    public void agronaProduce(Queues q, Counted c) {
        int index = q.agrona.tryClaim(1, q.size);
        if (index > 0) {
            q.agrona.buffer().putLong(index, c.sequence++);
            q.agrona.commit(index);
        }
    }

    @Benchmark
    @Group("agronaBaseline")
    @GroupThreads(1)
    public void agronaConsume(Queues q, Counted c) {
        c.messages += q.agrona.read((type, buffer, index, length) -> c.sum += buffer.getLong(index), 1);
    }
}
