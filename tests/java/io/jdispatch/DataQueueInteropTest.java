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
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Across processes, with the C peer target/native/dq_peer (bench/native/dq_peer.c): 1M entries of random sizes
 * (0..256 bytes) each way, every entry checked (size and bytes from its sequence number: nothing lost,
 * duplicated or reordered), checksums compared, and the consumer runs only in its DataAvailable handler.
 */
class DataQueueInteropTest {
    private static final int COUNT = 1_000_000;
    private static final long SEED = 20261122;
    private static final int MAX_SIZE = 256;
    private static final Path PEER = Path.of("target/native/dq_peer");

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
        if (mode.equals("consume")) {
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
                    int size = sizeOf(n);
                    for (int i = 0; i < size; i++) {
                        checksum = checksum * 31 + (byteOf(n, i) & 0xFF);
                    }
                    checksum = checksum * 31 + size;
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
