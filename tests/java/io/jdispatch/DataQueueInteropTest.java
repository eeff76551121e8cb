package io.jdispatch;

import static io.jdispatch.IOReturn.kIOReturnOverrun;
import static io.jdispatch.IOReturn.kIOReturnSuccess;
import static io.jdispatch.IOReturn.kIOReturnUnderrun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Across processes, with the C peer target/native/dq_peer (bench/native/dq_peer.c): 1M entries of random sizes
 * (0..256 bytes) each way, every entry checked (size and bytes from its sequence number: nothing lost,
 * duplicated or reordered), checksums compared, and the consumer runs only in its DataAvailable handler.
 * The *Coalescing tests use DriverKit's coalescing pattern on both sides (see {@link #COALESCE_QUEUE_BYTES}).
 */
class DataQueueInteropTest {
    private static final int COUNT = 1_000_000;
    private static final long SEED = 20261122;
    private static final int MAX_SIZE = 256;
    private static final Path PEER = Path.of("target/native/dq_peer");
    /**
     * The coalescing tests' queue: small, so that the producer overruns often and must be woken by DataServiced.
     * Their producer (Java here, or dq_peer produce-coalesce) makes rounds of k = 2..32 ...WithCoalesce calls with
     * one flag and sends DataAvailable once after each round if the flag is set; every 8th round it first waits
     * (polling, 30 s at most) for the consumer to empty the queue, so a lost DataAvailable is a failure there
     * and is not rescued by a later overrun. The consumer (dq_peer consume-coalesce, or Java here) runs only when
     * DataAvailable wakes it, dequeues with one flag until kIOReturnUnderrun and then sends DataServiced once if
     * the flag is set; a producer waiting after an overrun gives up after 30 s without DataServiced.
     */
    private static final int COALESCE_QUEUE_BYTES = 4096;
    private static final long COALESCE_TIMEOUT_SECONDS = 30;

    /** The peer's generator (dq_peer.c): size and bytes of entry n. */
    static int sizeOf(long n) {
        return (int) Long.remainderUnsigned(splitmix64(SEED ^ n), MAX_SIZE + 1);
    }

    static byte byteOf(long n, int i) {
        return (byte) (n * 131 + i * 7);
    }

    static long splitmix64(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static Process peer(String mode, Path path) throws Exception {
        assertTrue(Files.isExecutable(PEER), PEER + " missing: built by CMake from bench/native/dq_peer.c");
        return new ProcessBuilder(PEER.toString(), mode, path.toString(), String.valueOf(COUNT), String.valueOf(SEED),
                String.valueOf(MAX_SIZE)).redirectErrorStream(true).start();
    }

    private static long peerChecksum(Process p, String mode) throws Exception {
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "peer did not finish");
        assertEquals(0, p.exitValue(), out);
        Matcher m = Pattern.compile(mode + " (\\d+) checksum (\\d+) wakeups (\\d+) .* OK").matcher(out);
        assertTrue(m.find(), out);
        assertEquals(COUNT, Long.parseLong(m.group(1)), out);
        if (mode.startsWith("consume")) {
            assertTrue(Long.parseLong(m.group(3)) > 0, "the C consumer was woken by DataAvailable: " + out);
        }
        return Long.parseUnsignedLong(m.group(2));
    }

    private static Path tempPath(String what) {
        return Path.of("/dev/shm", "jd-interop-" + what + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    /** The Java consumer drains with dequeue (DriverKit's call) or with our dequeueBatch extension. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void cProducerToJavaConsumer(boolean batch) throws Exception {
        Path path = tempPath("c2j");
        try (DispatchQueue queue = DispatchQueue.createSerial("interop.consumer");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(64 * 1024, queue, path)) {
            long[] next = {0};
            long[] checksum = {0};
            AtomicLong wakeups = new AtomicLong();
            String[] failure = {null};
            Semaphore done = new Semaphore(0);
            q.setDataAvailableHandler(() -> {
                wakeups.incrementAndGet();
                Consumer<ByteBuffer> block = b -> checksum[0] = check(next[0]++, b, checksum[0], failure);
                if (batch) {
                    while (next[0] < COUNT && q.dequeueBatch(256, block) > 0) {
                        // drain; a corrupt queue throws, and the test fails on the reported exception
                    }
                } else {
                    int ret;
                    while (next[0] < COUNT && (ret = q.dequeue(block)) != kIOReturnUnderrun) {
                        if (ret != kIOReturnSuccess) {
                            failure[0] = "dequeue " + IOReturn.name(ret);
                            break;
                        }
                    }
                }
                if (next[0] == COUNT || failure[0] != null) {
                    done.release();
                }
            });
            Process producer = peer("produce", path);
            long expected = peerChecksum(producer, "produce");
            assertTrue(done.tryAcquire(60, TimeUnit.SECONDS), "consumed " + next[0] + " of " + COUNT);
            queue.sync(() -> {}); // the handler's writes are visible after this
            assertEquals(null, failure[0]);
            assertEquals(COUNT, next[0]);
            assertEquals(expected, checksum[0], "checksums differ");
            assertTrue(wakeups.get() > 0);
        }
    }

    /** C producer -> Java consumer, both with the coalescing pattern (the consumer: single or batch dequeues). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void cCoalescingProducerToJavaCoalescingConsumer(boolean batch) throws Exception {
        Path path = tempPath("c2j-coalesce");
        try (DispatchQueue queue = DispatchQueue.createSerial("interop.coalescing.consumer");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(COALESCE_QUEUE_BYTES, queue, path)) {
            long[] next = {0};
            long[] checksum = {0};
            AtomicLong wakeups = new AtomicLong();
            String[] failure = {null};
            Semaphore done = new Semaphore(0);
            boolean[] serviced = new boolean[1]; // only the handler uses it, on the serial queue
            q.setDataAvailableHandler(() -> {
                wakeups.incrementAndGet();
                Consumer<ByteBuffer> block = b -> checksum[0] = check(next[0]++, b, checksum[0], failure);
                serviced[0] = false;
                try {
                    int ret = kIOReturnUnderrun;
                    if (batch) {
                        while (q.dequeueBatchWithCoalesce(64, serviced, block) > 0) {
                            // until empty; a corrupt queue throws
                        }
                    } else {
                        while ((ret = q.dequeueWithCoalesce(serviced, block)) == kIOReturnSuccess) {
                            // until empty
                        }
                    }
                    if (ret != kIOReturnUnderrun) {
                        failure[0] = "dequeueWithCoalesce " + IOReturn.name(ret);
                    }
                } catch (RuntimeException e) {
                    failure[0] = e.toString();
                }
                if (serviced[0]) {
                    q.sendDataServiced();
                }
                if (next[0] == COUNT || failure[0] != null) {
                    done.release();
                }
            });
            Process producer = peer("produce-coalesce", path);
            long expected = peerChecksum(producer, "produce-coalesce");
            assertTrue(done.tryAcquire(60, TimeUnit.SECONDS), "consumed " + next[0] + " of " + COUNT);
            queue.sync(() -> {}); // the handler's writes are visible after this
            assertEquals(null, failure[0]);
            assertEquals(COUNT, next[0]);
            assertEquals(expected, checksum[0], "checksums differ");
            assertTrue(wakeups.get() > 0);
        }
    }

    /** Java producer -> C consumer, both with the coalescing pattern (the producer: single or batch enqueues). */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void javaCoalescingProducerToCCoalescingConsumer(boolean batch) throws Exception {
        Path path = tempPath("j2c-coalesce");
        try (DispatchQueue queue = DispatchQueue.createSerial("interop.coalescing.producer");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(COALESCE_QUEUE_BYTES, queue, path)) {
            Semaphore room = new Semaphore(0);
            q.setDataServicedHandler(room::release);
            Process consumer = peer("consume-coalesce", path);
            try {
                long checksum = 0;
                boolean[] send = new boolean[1];
                long n = 0;
                for (long round = 0; n < COUNT; round++) {
                    if (round % 8 == 0) {
                        awaitDrained(q, n);
                    }
                    int k = 2 + (int) Long.remainderUnsigned(splitmix64(SEED + round), 31);
                    send[0] = false;
                    boolean overrun = false;
                    for (int i = 0; i < k && n < COUNT && !overrun; i++) {
                        long first = n;
                        int put;
                        if (batch) {
                            int wanted = (int) Math.min(1 + i % 4, COUNT - n);
                            put = q.enqueueBatchWithCoalesce(wanted, j -> sizeOf(first + j), send,
                                    (b, j) -> fill(b, first + j));
                            overrun = put < wanted;
                        } else {
                            int ret = q.enqueueWithCoalesce(sizeOf(n), send, b -> fill(b, first));
                            assertTrue(ret == kIOReturnSuccess || ret == kIOReturnOverrun, IOReturn.name(ret));
                            put = ret == kIOReturnSuccess ? 1 : 0;
                            overrun = ret == kIOReturnOverrun;
                        }
                        for (; n < first + put; n++) {
                            checksum = produced(checksum, n);
                        }
                    }
                    if (send[0]) {
                        q.sendDataAvailable();
                    }
                    if (overrun) {
                        assertTrue(room.tryAcquire(COALESCE_TIMEOUT_SECONDS, TimeUnit.SECONDS),
                                "no DataServiced in " + COALESCE_TIMEOUT_SECONDS + " s after an overrun at entry " + n);
                    }
                }
                awaitDrained(q, n);
                assertEquals(checksum, peerChecksum(consumer, "consume-coalesce"), "checksums differ");
            } finally {
                consumer.destroyForcibly(); // a no-op once it has exited; a failed test does not leave it running
            }
        }
    }

    /** Waits (polling) until the consumer, woken only by DataAvailable, has emptied the queue. */
    private static void awaitDrained(IODataQueueDispatchSource q, long n) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(COALESCE_TIMEOUT_SECONDS);
        while (q.isDataAvailable()) {
            assertTrue(System.nanoTime() - deadline < 0, "the consumer left the queue non-empty for "
                    + COALESCE_TIMEOUT_SECONDS + " s at entry " + n + ": a DataAvailable was lost");
            LockSupport.parkNanos(20_000);
        }
    }

    /** The checksum after entry n (as dq_peer computes it). */
    private static long produced(long checksum, long n) {
        int size = sizeOf(n);
        for (int i = 0; i < size; i++) {
            checksum = checksum * 31 + (byteOf(n, i) & 0xFF);
        }
        return checksum * 31 + size;
    }

    private static long check(long n, ByteBuffer b, long checksum, String[] failure) {
        int size = b.remaining();
        if (size != sizeOf(n) && failure[0] == null) {
            failure[0] = "entry " + n + " has size " + size + ", expected " + sizeOf(n);
        }
        for (int i = 0; i < size; i++) {
            byte v = b.get();
            if (v != byteOf(n, i) && failure[0] == null) {
                failure[0] = "entry " + n + " byte " + i + " is wrong";
            }
            checksum = checksum * 31 + (v & 0xFF);
        }
        return checksum * 31 + size;
    }

    /** The Java producer enqueues entry by entry (DriverKit's call) or with our enqueueBatch extension. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void javaProducerToCConsumer(boolean batch) throws Exception {
        Path path = tempPath("j2c");
        try (DispatchQueue queue = DispatchQueue.createSerial("interop.producer");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(64 * 1024, queue, path)) {
            Semaphore room = new Semaphore(0);
            q.setDataServicedHandler(room::release);
            Process consumer = peer("consume", path);
            long checksum = 0;
            for (long n = 0; n < COUNT; ) {
                long first = n;
                int wanted = batch ? (int) Math.min(64, COUNT - n) : 1;
                int put;
                if (batch) {
                    put = q.enqueueBatch(wanted, i -> sizeOf(first + i), (b, i) -> fill(b, first + i));
                } else {
                    int ret = q.enqueue(sizeOf(n), b -> fill(b, first));
                    assertTrue(ret == kIOReturnSuccess || ret == kIOReturnOverrun, IOReturn.name(ret));
                    put = ret == kIOReturnSuccess ? 1 : 0;
                }
                for (; n < first + put; n++) {
                    checksum = produced(checksum, n);
                }
                if (put < wanted) {
                    assertTrue(room.tryAcquire(30, TimeUnit.SECONDS), "no DataServiced at entry " + n);
                }
            }
            assertEquals(checksum, peerChecksum(consumer, "consume"), "checksums differ");
        }
    }

    private static void fill(ByteBuffer b, long n) {
        int size = b.remaining();
        for (int i = 0; i < size; i++) {
            b.put(byteOf(n, i));
        }
    }
}
