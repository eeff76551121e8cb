package io.jdispatch;

import static io.jdispatch.IOReturn.kIOReturnError;
import static io.jdispatch.IOReturn.kIOReturnOverrun;
import static io.jdispatch.IOReturn.kIOReturnSuccess;
import static io.jdispatch.IOReturn.kIOReturnUnderrun;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdispatch.internal.DataQueueLayout;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/** IODataQueueDispatchSource in one JVM; the region is also mapped by the test to check the bytes. */
class IODataQueueDispatchSourceTest {
    private static final long WAIT_S = 60; // hang detector: each wait ends as soon as its event comes
    private DispatchQueue queue;
    private Path path;

    @BeforeEach
    void setUp() {
        queue = DispatchQueue.createSerial("test.dataqueue");
        path = Path.of("/dev/shm", "jd-java-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    @AfterEach
    void tearDown() {
        queue.close();
    }

    private IODataQueueDispatchSource create(int qbc) {
        return IODataQueueDispatchSource.create(qbc, queue, path);
    }

    private MappedByteBuffer region() throws Exception {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MappedByteBuffer b = ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size());
            b.order(ByteOrder.nativeOrder());
            return b;
        }
    }

    private static void fill(ByteBuffer b, int value) {
        while (b.hasRemaining()) {
            b.put((byte) value);
        }
    }

    private static byte[] take(IODataQueueDispatchSource q) {
        byte[][] got = new byte[1][];
        int ret = q.dequeue(b -> {
            got[0] = new byte[b.remaining()];
            b.get(got[0]);
        });
        assertEquals(kIOReturnSuccess, ret, IOReturn.name(ret));
        return got[0];
    }

    @Test
    void queueSizeNotAMultipleOf4IsRefusedNamingTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> IODataQueueDispatchSource.create(66, queue));
        assertTrue(e.getMessage().contains("66") && e.getMessage().contains("multiple of 4")
                && e.getMessage().contains("kIOReturnBadArgument"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> IODataQueueDispatchSource.create(0, queue));
        try (IODataQueueDispatchSource q = IODataQueueDispatchSource.create(64, queue)) { // the next valid call works
            assertEquals(64, q.getQueueByteCount());
        }
    }

    @Test
    void entriesHaveTheDriverKitLayoutAndMemfdQueuesWork() throws Exception {
        try (IODataQueueDispatchSource q = create(64)) {
            MappedByteBuffer r = region();
            assertEquals(DataQueueLayout.HEADER_SIZE + 64, r.capacity());
            assertEquals(kIOReturnSuccess, q.enqueue(5, b -> fill(b, 0xAB)));
            assertEquals(12, r.getInt(DataQueueLayout.TAIL_OFFSET));
            assertEquals(5, r.getInt(DataQueueLayout.HEADER_SIZE));
            assertEquals((byte) 0xAB, r.get(DataQueueLayout.HEADER_SIZE + 4));
            byte[] peeked = new byte[5];
            assertEquals(kIOReturnSuccess, q.peek(b -> b.get(peeked)));
            assertEquals(0, r.getInt(DataQueueLayout.HEAD_OFFSET));
            assertArrayEquals(peeked, take(q));
            assertEquals(12, r.getInt(DataQueueLayout.HEAD_OFFSET));
            assertEquals(kIOReturnUnderrun, q.dequeue(b -> {}));
            assertEquals(4, IODataQueueDispatchSource.getDataQueueEntryHeaderSize());
        }
        assertFalse(Files.exists(path), "close() removes the creator's file");
        try (IODataQueueDispatchSource anon = IODataQueueDispatchSource.create(128, queue)) {
            assertEquals(kIOReturnSuccess, anon.enqueue(3, b -> fill(b, 1)));
            assertEquals(3, take(anon).length);
        }
    }

    @Test
    void exactlyFullAndOneByteTooMany() throws Exception {
        try (IODataQueueDispatchSource q = create(64)) {
            assertTrue(q.canEnqueueData(60));
            assertFalse(q.canEnqueueData(61));
            assertEquals(kIOReturnOverrun, q.enqueue(61, b -> fill(b, 1)));
            assertEquals(kIOReturnSuccess, q.enqueue(60, b -> fill(b, 1)));
            assertEquals(64, region().getInt(DataQueueLayout.TAIL_OFFSET));
            assertEquals(kIOReturnOverrun, q.enqueue(0, b -> {}));
            assertTrue(q.canEnqueueData(8, 0));
            assertEquals(60, take(q).length);
        }
    }

    @Test
    void wrapAroundWritesTheMarkerAndTheConsumerFollowsIt() throws Exception {
        try (IODataQueueDispatchSource q = create(64)) {
            MappedByteBuffer r = region();
            q.enqueue(20, b -> fill(b, 1));
            q.enqueue(20, b -> fill(b, 2));
            take(q);
            assertEquals(kIOReturnSuccess, q.enqueue(16, b -> fill(b, 3))); // 48 + 20 > 64: wraps to 0
            assertEquals(20, r.getInt(DataQueueLayout.TAIL_OFFSET));
            assertEquals(16, r.getInt(DataQueueLayout.HEADER_SIZE + 48), "marker at the old tail");
            assertEquals(2, take(q)[0]);
            byte[] wrapped = take(q);
            assertEquals(16, wrapped.length);
            assertEquals(3, wrapped[0]);
            assertEquals(kIOReturnUnderrun, q.dequeue(null));
        }
    }

    @Test
    void dequeueBatchIsARunOfDequeuesThatStoresHeadOnce() throws Exception {
        try (IODataQueueDispatchSource q = create(64)) {
            MappedByteBuffer r = region();
            Semaphore serviced = new Semaphore(0);
            q.setDataServicedHandler(serviced::release);
            List<Byte> got = new ArrayList<>();
            Consumer<ByteBuffer> first = b -> got.add(b.remaining() > 0 ? b.get(b.position()) : -1);
            assertEquals(0, q.dequeueBatch(8, first), "empty");
            IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> q.dequeueBatch(0, first));
            assertTrue(bad.getMessage().contains("0"), bad.getMessage());
            q.enqueue(20, b -> fill(b, 1)); // [0,24)
            q.enqueue(20, b -> fill(b, 2)); // [24,48)
            take(q);
            assertEquals(kIOReturnSuccess, q.enqueue(16, b -> fill(b, 3))); // wraps to [0,20), marker at 48
            assertEquals(kIOReturnOverrun, q.enqueue(20, b -> fill(b, 4)));
            assertEquals(1, q.dequeueBatch(1, first), "maxEntries respected");
            assertEquals(48, r.getInt(DataQueueLayout.HEAD_OFFSET));
            assertTrue(serviced.tryAcquire(WAIT_S, TimeUnit.SECONDS), "DataServiced after the overrun");
            q.enqueue(0, b -> {}); // [20,24)
            assertEquals(2, q.dequeueBatch(8, first));
            assertEquals(List.of((byte) 2, (byte) 3, (byte) -1), got, "in order, across the wrap");
            assertEquals(24, r.getInt(DataQueueLayout.HEAD_OFFSET));
            // A throwing block: the entries before it are dequeued, that one stays queued.
            for (int v = 5; v <= 7; v++) {
                int value = v;
                q.enqueue(4, b -> fill(b, value)); // [24,32) [32,40) [40,48)
            }
            got.clear();
            assertThrows(IllegalStateException.class, () -> q.dequeueBatch(8, b -> {
                if (b.get(b.position()) == 6) {
                    throw new IllegalStateException("block failure");
                }
                got.add(b.get(b.position()));
            }));
            assertEquals(List.of((byte) 5), got);
            assertEquals(32, r.getInt(DataQueueLayout.HEAD_OFFSET));
            // A corrupt size after a good entry: that one is dequeued, the bad one is never handed out, and the
            // DataServiced a producer asked for is still sent.
            r.putInt(DataQueueLayout.HEADER_SIZE + 40, 1000);
            r.put(DataQueueLayout.NEED_SERVICED_OFFSET, (byte) 1);
            got.clear();
            assertEquals(1, q.dequeueBatch(8, first), "the good entry before the corrupt one is counted");
            assertEquals(List.of((byte) 6), got);
            assertEquals(40, r.getInt(DataQueueLayout.HEAD_OFFSET));
            assertTrue(serviced.tryAcquire(WAIT_S, TimeUnit.SECONDS), "DataServiced with the partial batch");
            assertEquals(kIOReturnError, q.dequeueBatch(8, first), "the corruption, from the next call");
            assertEquals(List.of((byte) 6), got, "the bad entry is never handed out");
            assertEquals(40, r.getInt(DataQueueLayout.HEAD_OFFSET));
        }
    }

    @Test
    void enqueueBatchWritesTheBytesThatEnqueuesWouldAndAnnouncesOnce() throws Exception {
        int[] sizes = {20, 7, 0, 16, 12, 4};
        Path single = Path.of(path + "-single");
        try (IODataQueueDispatchSource one = IODataQueueDispatchSource.create(64, queue, single);
             IODataQueueDispatchSource q = create(64)) {
            // Same history on both: 2 entries in and out (head = tail = 36), then a run that wraps at 60 (leaving
            // a marker) and ends on a full queue at the fourth entry.
            for (IODataQueueDispatchSource s : List.of(one, q)) {
                s.enqueue(20, b -> fill(b, 1));
                s.enqueue(8, b -> fill(b, 2));
                take(s);
                take(s);
            }
            int ones = 0;
            while (ones < sizes.length && one.enqueue(sizes[ones], fillWith(10 + ones)) == kIOReturnSuccess) {
                ones++;
            }
            boolean[] send = new boolean[1];
            int n = q.enqueueBatchWithCoalesce(sizes.length, i -> sizes[i], send, (b, i) -> fill(b, 10 + i));
            assertEquals(ones, n, "stops where enqueue ran out of room");
            assertEquals(3, n, "the run wraps and fills the queue");
            assertEquals(8, region().getInt(DataQueueLayout.HEADER_SIZE + 60), "the wrap marker");
            assertTrue(send[0], "empty before the batch, and it overran: DataAvailable");
            assertArrayEquals(bytes(regionOf(single)), bytes(region()), "the region byte for byte");
            assertEquals(1, region().get(DataQueueLayout.NEED_SERVICED_OFFSET), "overrun sets needServicedCallback");
            for (int i = 0; i < n; i++) {
                byte[] e = take(q);
                assertEquals(sizes[i], e.length);
                if (e.length > 0) {
                    assertEquals(10 + i, e[0]);
                }
            }
            assertEquals(kIOReturnUnderrun, q.dequeue(null));
            // Into a non-empty queue whose consumer does not catch up: no DataAvailable.
            q.enqueue(4, b -> fill(b, 1));
            send[0] = false;
            assertEquals(2, q.enqueueBatchWithCoalesce(2, i -> 4, send, (b, i) -> fill(b, 2)));
            assertFalse(send[0]);
            // ... unless it overruns: then DataAvailable wakes the consumer to make room.
            assertTrue(q.enqueueBatchWithCoalesce(100, i -> 4, send, (b, i) -> fill(b, 3)) < 100);
            assertTrue(send[0], "overrun into a non-empty queue");
        } finally {
            Files.deleteIfExists(single);
        }
    }

    @Test
    void enqueueBatchRefusesBadArgumentsAndKeepsWhatItWroteBeforeAFailure() throws Exception {
        try (IODataQueueDispatchSource q = create(64)) {
            IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                    () -> q.enqueueBatch(0, i -> 4, (b, i) -> {}));
            assertTrue(zero.getMessage().contains("enqueueBatch") && zero.getMessage().contains("0"), zero.getMessage());
            IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                    () -> q.enqueueBatch(3, i -> i == 1 ? -5 : 4, (b, i) -> fill(b, 1)));
            assertTrue(negative.getMessage().contains("-5") && negative.getMessage().contains("entry 1"), negative.getMessage());
            assertEquals(1, take(q)[0], "the entry before the bad size was enqueued");
            assertEquals(kIOReturnUnderrun, q.dequeue(null));

            // A throwing block: the entries before it are published and announced, that one is not.
            Semaphore available = new Semaphore(0);
            q.setDataAvailableHandler(available::release);
            assertThrows(IllegalStateException.class, () -> q.enqueueBatch(3, i -> 4, (b, i) -> {
                if (i == 1) {
                    throw new IllegalStateException("block failure");
                }
                fill(b, 7);
            }));
            assertTrue(available.tryAcquire(WAIT_S, TimeUnit.SECONDS), "DataAvailable for the entry before the failure");
            assertEquals(7, take(q)[0]);
            assertEquals(kIOReturnUnderrun, q.dequeue(null));

            MappedByteBuffer r = region();
            r.putInt(DataQueueLayout.TAIL_OFFSET, 68);
            assertEquals(kIOReturnError, q.enqueueBatch(2, i -> 4, (b, i) -> fill(b, 1)));
            assertEquals(68, r.getInt(DataQueueLayout.TAIL_OFFSET), "nothing written");
        }
    }

    private static Consumer<ByteBuffer> fillWith(int value) {
        return b -> fill(b, value);
    }

    private static MappedByteBuffer regionOf(Path p) throws Exception {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.capacity()];
        b.duplicate().clear().get(a);
        return a;
    }

    @Test
    void zeroLengthEntries() {
        try (IODataQueueDispatchSource q = create(16)) {
            for (int i = 0; i < 4; i++) {
                assertEquals(kIOReturnSuccess, q.enqueue(0, b -> assertEquals(0, b.remaining())));
            }
            assertEquals(kIOReturnOverrun, q.enqueue(0, b -> {}));
            for (int i = 0; i < 4; i++) {
                assertEquals(0, take(q).length);
            }
        }
    }

    @Test
    void overrunSetsTheFlagAndDataServicedFollowsTheNextDequeue() throws Exception {
        try (IODataQueueDispatchSource q = create(16)) {
            Semaphore serviced = new Semaphore(0);
            q.setDataServicedHandler(serviced::release);
            assertEquals(kIOReturnSuccess, q.enqueue(8, b -> fill(b, 1)));
            boolean[] send = new boolean[1];
            assertEquals(kIOReturnOverrun, q.enqueueWithCoalesce(8, send, b -> fill(b, 1)));
            assertTrue(send[0], "an overrun asks to wake the consumer");
            assertEquals(1, region().get(DataQueueLayout.NEED_SERVICED_OFFSET));
            assertFalse(serviced.tryAcquire());
            take(q);
            assertEquals(0, region().get(DataQueueLayout.NEED_SERVICED_OFFSET));
            assertTrue(serviced.tryAcquire(WAIT_S, TimeUnit.SECONDS), "DataServiced handler ran");
        }
    }

    /** Whether one enqueueWithCoalesce, with a fresh flag, says DataAvailable is due. */
    private static boolean enqueueSends(IODataQueueDispatchSource q) {
        boolean[] send = {false};
        assertEquals(kIOReturnSuccess, q.enqueueWithCoalesce(4, send, b -> {}));
        return send[0];
    }

    @Test
    void dataAvailableOnlyOnEmptyToNonEmpty() {
        try (IODataQueueDispatchSource q = create(64)) {
            assertTrue(enqueueSends(q));
            assertFalse(enqueueSends(q));
            take(q);
            assertFalse(enqueueSends(q));
            take(q);
            take(q);
            assertTrue(enqueueSends(q));
        }
    }

    /**
     * DriverKit's coalescing contract: the caller clears its flag, makes one or more ...WithCoalesce calls with
     * it, and sends once if it is set. A call only ever sets the flag, never clears it.
     */
    @Test
    void coalescingCallsOnlyEverSetTheFlag() throws Exception {
        try (IODataQueueDispatchSource q = create(64)) {
            MappedByteBuffer r = region();
            boolean[] send = {false};
            for (int i = 0; i < 3; i++) {
                assertEquals(kIOReturnSuccess, q.enqueueWithCoalesce(4, send, b -> fill(b, 1)));
            }
            assertTrue(send[0], "three coalesced enqueues into an empty queue: the first one's DataAvailable is kept");
            // A flag already true stays true after calls that would not set it.
            assertEquals(kIOReturnSuccess, q.enqueueWithCoalesce(4, send, b -> {}));
            assertTrue(send[0], "enqueueWithCoalesce into a non-empty queue");
            assertEquals(2, q.enqueueBatchWithCoalesce(2, i -> 4, send, (b, i) -> {}));
            assertTrue(send[0], "enqueueBatchWithCoalesce into a non-empty queue");
            assertEquals(0, r.get(DataQueueLayout.NEED_SERVICED_OFFSET), "no producer ran out of room");
            boolean[] serviced = {true};
            assertEquals(kIOReturnSuccess, q.dequeueWithCoalesce(serviced, b -> {}));
            assertTrue(serviced[0], "dequeueWithCoalesce without needServicedCallback");
            assertEquals(2, q.dequeueBatchWithCoalesce(2, serviced, b -> {}));
            assertTrue(serviced[0], "dequeueBatchWithCoalesce without needServicedCallback");
            assertEquals(3, q.dequeueBatchWithCoalesce(8, serviced, b -> {}));
            assertEquals(kIOReturnUnderrun, q.dequeueWithCoalesce(serviced, b -> {}));
            assertEquals(0, q.dequeueBatchWithCoalesce(8, serviced, b -> {}));
            assertTrue(serviced[0], "underruns");
            // And on a corrupt head: kIOReturnError from every form, the batches too.
            r.putInt(DataQueueLayout.HEAD_OFFSET, 68);
            assertEquals(kIOReturnError, q.enqueueWithCoalesce(4, send, b -> {}));
            assertEquals(kIOReturnError, q.enqueueBatchWithCoalesce(2, i -> 4, send, (b, i) -> {}));
            assertTrue(send[0], "enqueue errors");
            assertEquals(kIOReturnError, q.dequeueWithCoalesce(serviced, b -> {}));
            assertEquals(kIOReturnError, q.dequeueBatchWithCoalesce(2, serviced, b -> {}));
            assertTrue(serviced[0], "dequeue errors");
        }
    }

    /**
     * After an overrun, DriverKit's consumer loops DequeueWithCoalesce until underrun with one flag, then sends
     * DataServiced once: the flag must end true, and needServicedCallback stays set in the region until
     * sendDataServiced clears it. Compared byte for byte with a queue of the same history drained by dequeue,
     * which is "flag = false; dequeueWithCoalesce(flag); if (flag) sendDataServiced()" for each entry.
     */
    @Test
    void dequeueWithCoalesceLoopAfterAnOverrunLeavesNeedServicedToSendDataServiced() throws Exception {
        for (boolean batched : new boolean[] {false, true}) {
            Path coalescing = Path.of(path + "-coalescing-" + batched);
            Path single = Path.of(path + "-dequeue-" + batched);
            try (IODataQueueDispatchSource q = IODataQueueDispatchSource.create(32, queue, coalescing);
                 IODataQueueDispatchSource one = IODataQueueDispatchSource.create(32, queue, single)) {
                Semaphore qServiced = new Semaphore(0);
                Semaphore oneServiced = new Semaphore(0);
                q.setDataServicedHandler(qServiced::release);
                one.setDataServicedHandler(oneServiced::release);
                for (IODataQueueDispatchSource s : List.of(q, one)) {
                    boolean[] send = {false};
                    for (int i = 0; i < 4; i++) {
                        assertEquals(kIOReturnSuccess, s.enqueueWithCoalesce(4, send, fillWith(0x30 + i)));
                    }
                    assertEquals(kIOReturnOverrun, s.enqueueWithCoalesce(4, send, fillWith(0x40)));
                }
                MappedByteBuffer r = regionOf(coalescing);
                MappedByteBuffer rOne = regionOf(single);
                assertEquals(1, r.get(DataQueueLayout.NEED_SERVICED_OFFSET));
                assertArrayEquals(bytes(rOne), bytes(r));

                boolean[] serviced = {false};
                int entries = 0;
                if (batched) {
                    for (int n; (n = q.dequeueBatchWithCoalesce(1, serviced, b -> {})) > 0; ) {
                        entries += n;
                    }
                } else {
                    while (q.dequeueWithCoalesce(serviced, b -> {}) == kIOReturnSuccess) {
                        entries++;
                    }
                }
                assertEquals(4, entries);
                assertTrue(serviced[0], "the loop must end with the flag set (batched: " + batched + ")");
                assertEquals(1, r.get(DataQueueLayout.NEED_SERVICED_OFFSET),
                        "needServicedCallback stays set until sendDataServiced (batched: " + batched + ")");

                take(one);
                assertEquals(0, rOne.get(DataQueueLayout.NEED_SERVICED_OFFSET), "dequeue sent DataServiced");
                for (int i = 1; i < 4; i++) {
                    take(one);
                }
                assertEquals(kIOReturnUnderrun, one.dequeue(null));

                assertEquals(kIOReturnSuccess, q.sendDataServiced());
                assertEquals(0, r.get(DataQueueLayout.NEED_SERVICED_OFFSET), "sendDataServiced clears it");
                assertArrayEquals(bytes(rOne), bytes(r), "the region byte for byte");
                assertTrue(qServiced.tryAcquire(WAIT_S, TimeUnit.SECONDS), "DataServiced after the coalescing loop");
                assertTrue(oneServiced.tryAcquire(WAIT_S, TimeUnit.SECONDS), "DataServiced after dequeue");
            }
        }
    }

    @Test
    void handlerInstalledWhileDataIsQueuedFiresAtOnceOnTheQueue() throws Exception {
        try (IODataQueueDispatchSource q = create(64)) {
            boolean[] send = new boolean[1];
            q.enqueueWithCoalesce(4, send, b -> fill(b, 9)); // queued without ringing
            Semaphore ran = new Semaphore(0);
            AtomicInteger entries = new AtomicInteger();
            q.setDataAvailableHandler(() -> {
                while (q.dequeue(b -> entries.incrementAndGet()) == kIOReturnSuccess) {
                    // drain
                }
                ran.release();
            });
            assertTrue(ran.tryAcquire(WAIT_S, TimeUnit.SECONDS));
            assertEquals(1, entries.get());
            // Later enqueues wake it through the doorbell.
            q.enqueue(4, b -> {});
            assertTrue(ran.tryAcquire(WAIT_S, TimeUnit.SECONDS));
            assertEquals(2, entries.get());
        }
    }

    @Test
    void throwingHandlerIsReportedAndEnableCancelComplete() throws Exception {
        Semaphore reported = new Semaphore(0);
        Dispatch.setUncaughtExceptionHandler((t, e) -> reported.release());
        try (IODataQueueDispatchSource q = create(64)) {
            q.setDataAvailableHandler(() -> {
                q.dequeue(null);
                throw new IllegalStateException("handler failure");
            });
            q.enqueue(4, b -> {});
            assertTrue(reported.tryAcquire(WAIT_S, TimeUnit.SECONDS));
            Semaphore done = new Semaphore(0);
            q.setEnableWithCompletion(false, done::release);
            assertTrue(done.tryAcquire(WAIT_S, TimeUnit.SECONDS));
            q.setEnableWithCompletion(true, done::release);
            assertTrue(done.tryAcquire(WAIT_S, TimeUnit.SECONDS));
            q.cancel(done::release);
            assertTrue(done.tryAcquire(WAIT_S, TimeUnit.SECONDS));
            assertThrows(IllegalStateException.class, () -> q.setDataAvailableHandler(() -> {}));
            // The queue itself still works after Cancel.
            assertEquals(kIOReturnSuccess, q.enqueue(4, b -> {}));
        } finally {
            Dispatch.setUncaughtExceptionHandler(null);
        }
    }

    @Test
    void noHandlerStartsAfterTheDisableCompletionRanOnAConcurrentQueue() throws Exception {
        int rounds = 400;
        try (DispatchQueue concurrent = DispatchQueue.createConcurrent("test.dataqueue.concurrent");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(64, concurrent, path)) {
            AtomicBoolean completed = new AtomicBoolean();
            AtomicInteger started = new AtomicInteger();
            AtomicInteger late = new AtomicInteger();
            q.setDataAvailableHandler(() -> {
                if (completed.get()) {
                    late.incrementAndGet(); // started after SetEnableWithCompletion(false)'s completion ran
                }
                started.incrementAndGet();
            });
            AtomicBoolean stop = new AtomicBoolean();
            Thread ringer = new Thread(() -> {
                while (!stop.get()) {
                    q.sendDataAvailable();
                }
            }, "doorbell ringer");
            ringer.start();
            try {
                Semaphore done = new Semaphore(0);
                for (int round = 0; round < rounds; round++) {
                    completed.set(false);
                    int before = started.get();
                    q.setEnableWithCompletion(true, null);
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
                    while (started.get() == before) { // handlers are being delivered when we disable
                        assertTrue(System.nanoTime() < deadline, "round " + round + ": no handler ran while enabled");
                        Thread.onSpinWait();
                    }
                    q.setEnableWithCompletion(false, () -> {
                        completed.set(true);
                        done.release();
                    });
                    assertTrue(done.tryAcquire(WAIT_S, TimeUnit.SECONDS), "round " + round + ": no completion");
                    Thread.sleep(1); // room for a handler that would (wrongly) still start
                }
            } finally {
                stop.set(true);
                ringer.join();
            }
            assertEquals(0, late.get(), "handlers started after the completion of SetEnableWithCompletion(false) in "
                    + rounds + " rounds");
        }
    }

    @Test
    void corruptedHeaderValuesAreErrorsAndResetRecovers() throws Exception {
        try (IODataQueueDispatchSource q = create(64)) {
            MappedByteBuffer r = region();
            q.enqueue(8, b -> fill(b, 1));
            r.putInt(DataQueueLayout.TAIL_OFFSET, 1000);
            assertEquals(kIOReturnError, q.dequeue(b -> { throw new AssertionError("saw corrupt data"); }));
            assertEquals(kIOReturnError, q.peek(b -> { throw new AssertionError("saw corrupt data"); }));
            assertEquals(kIOReturnError, q.enqueue(4, b -> {}));
            r.putInt(DataQueueLayout.TAIL_OFFSET, 12);
            r.putInt(DataQueueLayout.HEADER_SIZE, -1); // size 0xFFFFFFFF
            assertEquals(kIOReturnError, q.dequeue(b -> { throw new AssertionError("saw corrupt data"); }));
            r.putInt(DataQueueLayout.HEAD_OFFSET, 0x7FFF_FFF0);
            assertEquals(kIOReturnError, q.dequeue(null));
            // Where DriverKit says kIOReturnUnderrun (head == tail beyond the entries) or reads on (a wrap to offset
            // 0 while head < tail): kIOReturnError, as the Javadoc of dequeue says.
            r.putInt(DataQueueLayout.HEAD_OFFSET, 1000);
            r.putInt(DataQueueLayout.TAIL_OFFSET, 1000);
            assertEquals(kIOReturnError, q.dequeue(b -> { throw new AssertionError("saw corrupt data"); }));
            assertEquals(kIOReturnError, q.peek(b -> { throw new AssertionError("saw corrupt data"); }));
            r.putInt(DataQueueLayout.HEAD_OFFSET, 56);
            r.putInt(DataQueueLayout.TAIL_OFFSET, 64);
            r.putInt(DataQueueLayout.HEADER_SIZE + 56, 8); // 12 bytes do not fit in the 8 before the end
            assertEquals(kIOReturnError, q.dequeue(b -> { throw new AssertionError("saw corrupt data"); }));
            assertEquals(kIOReturnError, q.peek(b -> { throw new AssertionError("saw corrupt data"); }));
            assertEquals(56, r.getInt(DataQueueLayout.HEAD_OFFSET));
            q.reset();
            assertEquals(kIOReturnSuccess, q.enqueue(4, b -> fill(b, 7)));
            assertEquals(7, take(q)[0]);
        }
    }

    @Test
    void secondSourceAttachesByPathAndTheyTalkThroughTheDoorbells() throws Exception {
        try (IODataQueueDispatchSource consumer = create(256);
             DispatchQueue producerQueue = DispatchQueue.createSerial("test.producer");
             IODataQueueDispatchSource producer = IODataQueueDispatchSource.attach(path, producerQueue)) {
            assertEquals(256, producer.getQueueByteCount(), "size taken from the file");
            Semaphore available = new Semaphore(0);
            consumer.setDataAvailableHandler(available::release);
            assertEquals(kIOReturnSuccess, producer.enqueue(6, b -> fill(b, 4)));
            assertTrue(available.tryAcquire(WAIT_S, TimeUnit.SECONDS), "DataAvailable crossed from the attached side");
            assertArrayEquals(new byte[] {4, 4, 4, 4, 4, 4}, take(consumer));
        }
        assertFalse(Files.exists(Path.of(path + ".avail")), "the creator removed its FIFOs");
    }

    @Test
    void attachingToSomethingThatIsNotARegionIsRefused() throws Exception {
        Files.write(path, new byte[130]); // 128 + 2: not a multiple of 4
        try {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> IODataQueueDispatchSource.attach(path, queue));
            assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
            RuntimeException missing = assertThrows(RuntimeException.class,
                    () -> IODataQueueDispatchSource.attach(Path.of(path + "-missing"), queue));
            assertTrue(missing.getMessage().contains("ENOENT (No such file or directory): no queue was created at this path"), missing.getMessage());
        } finally {
            Files.delete(path);
        }
    }

    @Test
    void closedSourceRefusesControlCallsAndNegativeSizesAreRefused() {
        IODataQueueDispatchSource q = create(64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> q.enqueue(-1, b -> {}));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        q.close();
        q.close();
        assertTrue(q.isClosed());
        assertThrows(IllegalStateException.class, q::sendDataAvailable);
    }
}
