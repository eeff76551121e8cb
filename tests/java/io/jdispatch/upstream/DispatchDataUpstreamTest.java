package io.jdispatch.upstream;

import io.jdispatch.DispatchData;
import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A translation of libdispatch's {@code tests/dispatch_data.c} ("Dispatch Data"): {@code test_concat} (a 17-byte
 * copied buffer and a 17-byte buffer with a destructor concatenated: 34 bytes, mapped contiguously into 34 bytes,
 * and the second buffer's destructor has run once the concatenation and its map are released) and
 * {@code test_cleanup} (rdar://problem/9843440: a zero-length data object over a 1,024-byte buffer and a 16-byte
 * static buffer with a destructor, both released: the destructor of the second has run). The file has no other
 * cases; nothing in it is private SPI (transforms are {@code dispatch_transform.c}, not applicable).
 *
 * <p>Changed: the blocks run on a serial queue instead of the main queue (upstream uses it only as a place to run);
 * a buffer with a destructor is a direct buffer wrapped by {@link DispatchData#createNoCopy} (upstream's
 * {@code dispatch_data_create} with a destructor block, and with DISPATCH_DATA_DESTRUCTOR_FREE for the zero-length
 * one), the copied buffer is {@link DispatchData#create(byte[])} (a NULL destructor: DISPATCH_DATA_DESTRUCTOR_DEFAULT).
 * This binding runs destructors on a global queue, not on a queue of the caller's choice, so "buffer destroyed" is
 * read as the destructor having run within 10 s of the last release, where upstream relies on the main queue's FIFO
 * order (its destructor was queued before its check). Added: the map's bytes are the two buffers' bytes in order;
 * the second buffer's destructor has not run while the concatenation still holds it; the zero-length buffer's
 * destructor runs too (upstream cannot see a free).
 */
class DispatchDataUpstreamTest {
    private static final DispatchQueue MAIN = DispatchQueue.createSerial("dispatch_data.main");
    private static final ByteBuffer BUFFER4 = ByteBuffer.allocateDirect(16); // upstream: static char buffer4[16]

    @AfterAll
    static void closeQueue() {
        MAIN.close();
    }

    /** A C string's bytes with its NUL, as upstream's sizes (17) count it. */
    private static byte[] cString(String s) {
        byte[] text = s.getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[text.length + 1];
        System.arraycopy(text, 0, b, 0, text.length);
        return b;
    }

    private static boolean destroyed(CountDownLatch destructor) {
        try {
            return destructor.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    void testConcat() {
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        try (DispatchGroup g = DispatchGroup.create()) {
            g.enter();
            MAIN.async(() -> {
                byte[] buffer1 = cString("This is buffer1 ");
                int size1 = 17;
                byte[] buffer2Bytes = cString("This is buffer2 ");
                int size2 = 17;
                ByteBuffer buffer2 = ByteBuffer.allocateDirect(size2).put(buffer2Bytes).flip();
                CountDownLatch buffer2Destroyed = new CountDownLatch(1);

                DispatchData data1 = DispatchData.create(buffer1);
                DispatchData data2 = DispatchData.createNoCopy(buffer2, buffer2Destroyed::countDown);
                DispatchData concat = data1.concat(data2);

                data1.close();
                data2.close();

                check(problems, "Data size of concatenated dispatch data", 34, concat.getSize());

                ByteBuffer contig = concat.createMap();
                long contigSize = contig.remaining();
                byte[] mapped = new byte[contig.remaining()];
                contig.get(mapped);
                contig = null; // dispatch_release(contig_data): the map's reference goes with the buffer
                if (buffer2Destroyed.getCount() == 0) {
                    problems.add("buffer2 destroyed while the concatenation still held it");
                }

                concat.close();
                check(problems, "Contiguous memory size", 34, contigSize);
                byte[] expected = new byte[size1 + size2];
                System.arraycopy(buffer1, 0, expected, 0, size1);
                System.arraycopy(buffer2Bytes, 0, expected, size1, size2);
                if (!java.util.Arrays.equals(expected, mapped)) {
                    problems.add("Contiguous memory contents: " + new String(mapped, StandardCharsets.US_ASCII));
                }
                MAIN.async(() -> {
                    check(problems, "buffer2 destroyed", 1, destroyed(buffer2Destroyed) ? 1 : 0);
                    g.leave();
                });
            });
            assertTrue(g.wait(60, TimeUnit.SECONDS), "the group never emptied: " + problems);
        }
        assertEquals(List.of(), List.copyOf(problems));
    }

    @Test
    void testCleanup() {
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        try (DispatchGroup g = DispatchGroup.create()) {
            g.enter();
            MAIN.async(() -> {
                ByteBuffer buffer3 = ByteBuffer.allocateDirect(1024).limit(0); // malloc(1024), size 0
                CountDownLatch buffer3Destroyed = new CountDownLatch(1);
                DispatchData data3 = DispatchData.createNoCopy(buffer3, buffer3Destroyed::countDown);
                CountDownLatch buffer4Destroyed = new CountDownLatch(1);
                DispatchData data4 = DispatchData.createNoCopy(BUFFER4.duplicate(), buffer4Destroyed::countDown);
                check(problems, "data3 size", 0, data3.getSize());
                check(problems, "data4 size", 16, data4.getSize());
                data3.close();
                data4.close();
                MAIN.async(() -> {
                    check(problems, "buffer4 destroyed", 1, destroyed(buffer4Destroyed) ? 1 : 0);
                    check(problems, "buffer3 destroyed", 1, destroyed(buffer3Destroyed) ? 1 : 0);
                    g.leave();
                });
            });
            assertTrue(g.wait(60, TimeUnit.SECONDS), "the group never emptied: " + problems);
        }
        assertEquals(List.of(), List.copyOf(problems));
    }

    /** Upstream's test_long: records a mismatch (asserted on the test thread). */
    private static void check(Queue<String> problems, String name, long expected, long actual) {
        if (expected != actual) {
            problems.add(name + ": " + actual + ", expected " + expected);
        }
    }
}
