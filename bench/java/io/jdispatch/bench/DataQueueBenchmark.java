package io.jdispatch.bench;

import io.jdispatch.DispatchQueue;
import io.jdispatch.IODataQueueDispatchSource;
import io.jdispatch.IOReturn;

import org.agrona.BufferUtil;
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
import java.util.function.IntUnaryOperator;
import java.util.function.ObjIntConsumer;

/**
 * SPSC throughput, Java producer thread -> Java consumer thread (the benchmark thread), entries of 8/64/256
 * bytes through 64 KiB of queue: IODataQueueDispatchSource (shared memfd region, VarHandles, the WithCoalesce
 * calls: no doorbell, as the baseline has none) vs the baseline Agrona OneToOneRingBuffer (tryClaim/commit:
 * zero copy too), in the same run. Each invocation moves BATCH entries (both sides write/read the entry's first
 * 8 bytes), so the score is entries/s. {@code calls=entry}: one entry per call on both sides (DriverKit's
 * enqueue/dequeue vs Agrona's tryClaim/commit and read(handler, 1)); {@code calls=batch}: our
 * enqueueBatch/dequeueBatch vs Agrona's read(handler, limit) (Agrona has no batched write).
 *
 * <p>bench/run alternates ours and Agrona fork by fork ({@link BenchMain#runPaired}). By hand:
 * <pre>java -cp ... org.openjdk.jmh.Main DataQueueBenchmark -p mode=twoThreads -f 3 -wi 2 -i 3 -w 500ms -r 500ms</pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DataQueueBenchmark {
    static final int BATCH = 100_000;
    static final int CAPACITY = 64 * 1024;
    /** 16 longs: 128 bytes, two cache lines (adjacent-line prefetch pulls lines in pairs). */
    static final int PAD = 16;
    /** The most entries one batch call moves (enqueueBatch, dequeueBatch, Agrona's read(h, n)). */
    static final int PRODUCER_BATCH = 256;

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

        /**
         * entry: one entry per call on both sides; batch: a call moves as many entries as it may (ours:
         * enqueueBatch and dequeueBatch; Agrona has no batched write, so its producer stays one entry per call).
         */
        @Param({"entry", "batch"})
        public String calls;

        private volatile long requested;
        private volatile boolean stop;
        private Thread producer;
        /**
         * The consumer's running sum, alone in the middle of its array: no field the producer touches shares its
         * cache line (false sharing would cost both queues a line transfer per entry and measure nothing of them).
         */
        final long[] sums = new long[2 * PAD + 1];

        long sum() {
            return sums[PAD];
        }

        /** Called once by the thread that will call offer: allocations there stay off the consumer's lines. */
        abstract void startProducing();

        /** Offers entries first, first + 1, ... up to max of them (max is 1 in the "entry" mode); returns how many. */
        abstract int offer(long first, int max);

        /** Takes at most max entries (max is 1 in the "entry" mode); returns how many. */
        abstract int poll(int max);

        private int max(long wanted) {
            return calls.equals("batch") ? (int) Math.min(wanted, PRODUCER_BATCH) : 1;
        }

        void start() {
            if (!mode.equals("twoThreads")) {
                startProducing();
                return;
            }
            producer = new Thread(() -> {
                startProducing();
                long produced = 0;
                while (!stop) {
                    long wanted = requested - produced;
                    if (wanted == 0) {
                        Thread.onSpinWait();
                    } else {
                        produced += offer(produced, max(wanted));
                    }
                }
            }, getClass().getSimpleName() + "-producer");
            producer.setDaemon(true);
            producer.start();
        }

        void transfer() {
            if (producer == null) {
                for (int burst = 0; burst < BATCH; burst += 64) {
                    for (int put = 0; put < 64; ) {
                        put += offer(burst + put, max(64 - put));
                    }
                    for (int got = 0; got < 64; ) {
                        got += poll(max(64 - got));
                    }
                }
                return;
            }
            requested += BATCH;
            for (int got = 0; got < BATCH; ) {
                got += poll(max(BATCH - got));
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
        final boolean[] consumerSend = new boolean[1];
        final Consumer<ByteBuffer> read = b -> sums[PAD] += b.getLong(b.position());
        Writer writer;

        /** The producer's state, allocated by the producer thread. */
        final class Writer implements Consumer<ByteBuffer>, ObjIntConsumer<ByteBuffer>, IntUnaryOperator {
            final boolean[] send = new boolean[1];
            long next;

            @Override
            public void accept(ByteBuffer b) {
                b.putLong(b.position(), next);
            }

            @Override
            public void accept(ByteBuffer b, int i) {
                b.putLong(b.position(), next + i);
            }

            @Override
            public int applyAsInt(int i) {
                return size;
            }
        }

        @Override
        void startProducing() {
            writer = new Writer();
        }

        @Setup(Level.Trial)
        public void setUp() {
            dispatchQueue = DispatchQueue.createSerial("bench.dataqueue");
            queue = IODataQueueDispatchSource.create(CAPACITY, dispatchQueue);
            start();
        }

        @Override
        int offer(long first, int max) {
            Writer w = writer;
            w.next = first;
            if (max == 1) {
                return queue.enqueueWithCoalesce(size, w.send, w) == IOReturn.kIOReturnSuccess ? 1 : 0;
            }
            return queue.enqueueBatchWithCoalesce(max, w, w.send, w);
        }

        @Override
        int poll(int max) {
            if (max == 1) {
                return queue.dequeueWithCoalesce(consumerSend, read) == IOReturn.kIOReturnSuccess ? 1 : 0;
            }
            return queue.dequeueBatchWithCoalesce(max, consumerSend, read);
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
        // Aligned as Agrona asks (ours is a page-aligned mapping): its counters then sit on their own cache lines.
        final OneToOneRingBuffer ring = new OneToOneRingBuffer(new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                CAPACITY + RingBufferDescriptor.TRAILER_LENGTH, 4096)));
        final MessageHandler read = (type, buffer, index, length) -> sums[PAD] += buffer.getLong(index);

        @Override
        void startProducing() {
            // nothing: Agrona's producer keeps no state of its own
        }

        @Setup(Level.Trial)
        public void setUp() {
            start();
        }

        @Override
        int offer(long first, int max) {
            int index = ring.tryClaim(1, size);
            if (index <= 0) {
                return 0;
            }
            ring.buffer().putLong(index, first);
            ring.commit(index);
            return 1;
        }

        @Override
        int poll(int max) {
            return ring.read(read, max);
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
        return q.sum();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long agronaBaseline(Agrona q) {
        q.transfer();
        return q.sum();
    }
}
