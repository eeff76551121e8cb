package io.jdispatch.bench;

import io.jdispatch.DispatchQueue;
import io.jdispatch.IODataQueueDispatchSource;
import io.jdispatch.IOReturn;

import org.agrona.concurrent.MessageHandler;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
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

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * SPSC throughput, Java producer thread -> Java consumer thread (the benchmark thread), entries of 8/64/256
 * bytes through 64 KiB of queue: IODataQueueDispatchSource (shared memfd region, VarHandles,
 * enqueueWithCoalesce / dequeueWithCoalesce: no doorbell, as the baseline has none) vs the baseline Agrona
 * OneToOneRingBuffer (tryClaim/commit: zero copy too), in the same run. Each invocation moves BATCH entries
 * (both sides write/read the entry's first 8 bytes), so the score is entries/s.
 *
 * <pre>java -cp ... org.openjdk.jmh.Main DataQueueBenchmark -f 1 -wi 3 -i 5 -w 1s -r 1s</pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DataQueueBenchmark {
    static final int BATCH = 100_000;
    static final int CAPACITY = 64 * 1024;

    /** One SPSC queue with its own producer thread, which produces a BATCH when the consumer asks for it. */
    @State(Scope.Benchmark)
    public abstract static class Spsc {
        @Param({"8", "64", "256"})
        public int size;

        /**
         * twoThreads: a producer thread feeds the benchmark thread (throughput across cores; on a loaded machine
         * dominated by scheduling). oneThread: the benchmark thread enqueues a burst of 64 then dequeues it
         * (the cost of the code path itself, robust to noise).
         */
        @Param({"twoThreads", "oneThread"})
        public String mode;

        private volatile long requested;
        private volatile boolean stop;
        private Thread producer;
        long sum;

        abstract boolean offer(long sequence);

        abstract boolean poll();

        void start() {
            if (!mode.equals("twoThreads")) {
                return;
            }
            producer = new Thread(() -> {
                long produced = 0;
                while (!stop) {
                    if (produced == requested) {
                        Thread.onSpinWait();
                    } else if (offer(produced)) {
                        produced++;
                    }
                }
            }, getClass().getSimpleName() + "-producer");
            producer.setDaemon(true);
            producer.start();
        }

        void transfer() {
            if (producer == null) {
                for (int burst = 0; burst < BATCH; burst += 64) {
                    for (int i = 0; i < 64; i++) {
                        offer(burst + i);
                    }
                    for (int i = 0; i < 64; i++) {
                        poll();
                    }
                }
                return;
            }
            requested += BATCH;
            for (int got = 0; got < BATCH; ) {
                if (poll()) {
                    got++;
                }
            }
        }

        void stop() throws InterruptedException {
            stop = true;
            if (producer != null) {
                producer.join();
            }
        }
    }

    @State(Scope.Benchmark)
    public static class JDispatch extends Spsc {
        DispatchQueue dispatchQueue;
        IODataQueueDispatchSource queue;
        final boolean[] producerSend = new boolean[1];
        final boolean[] consumerSend = new boolean[1];
        long next;
        final Consumer<ByteBuffer> write = b -> b.putLong(b.position(), next);
        final Consumer<ByteBuffer> read = b -> sum += b.getLong(b.position());

        @Setup(Level.Trial)
        public void setUp() {
            dispatchQueue = DispatchQueue.createSerial("bench.dataqueue");
            queue = IODataQueueDispatchSource.create(CAPACITY, dispatchQueue);
            start();
        }

        @Override
        boolean offer(long sequence) {
            next = sequence;
            return queue.enqueueWithCoalesce(size, producerSend, write) == IOReturn.kIOReturnSuccess;
        }

        @Override
        boolean poll() {
            return queue.dequeueWithCoalesce(consumerSend, read) == IOReturn.kIOReturnSuccess;
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            stop();
            queue.close();
            dispatchQueue.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Agrona extends Spsc {
        final OneToOneRingBuffer ring = new OneToOneRingBuffer(
                new UnsafeBuffer(ByteBuffer.allocateDirect(CAPACITY + RingBufferDescriptor.TRAILER_LENGTH)));
        final MessageHandler read = (type, buffer, index, length) -> sum += buffer.getLong(index);

        @Setup(Level.Trial)
        public void setUp() {
            start();
        }

        @Override
        boolean offer(long sequence) {
            int index = ring.tryClaim(1, size);
            if (index <= 0) {
                return false;
            }
            ring.buffer().putLong(index, sequence);
            ring.commit(index);
            return true;
        }

        @Override
        boolean poll() {
            return ring.read(read, 1) == 1;
        }

        @TearDown(Level.Trial)
        public void tearDown() throws InterruptedException {
            stop();
        }
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long jdispatch(JDispatch q) {
        q.transfer();
        return q.sum;
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long agronaBaseline(Agrona q) {
        q.transfer();
        return q.sum;
    }
}
