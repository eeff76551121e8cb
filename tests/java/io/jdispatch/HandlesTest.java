package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ProcessStats;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

class HandlesTest {
    @Test
    void aStaleIdFindsNothingEvenWhenItsSlotIsReused() {
        Object a = new Object();
        long id = Handles.register(a);
        assertSame(a, Handles.get(id));
        assertSame(a, Handles.remove(id));
        assertNull(Handles.remove(id), "removed exactly once");
        Object b = new Object();
        long reused = Handles.register(b); // the free list hands the same slot back
        assertNotEquals(id, reused);
        assertNull(Handles.get(id));
        assertNull(Handles.remove(id));
        assertSame(b, Handles.get(reused));
        assertSame(b, Handles.remove(reused));
        assertNull(Handles.get(0));
        assertNull(Handles.get(-5));
        assertNull(Handles.get(Long.MAX_VALUE));
    }

    @Test
    void concurrentRegisterAndRemoveLoseNothingAcrossChunks() throws Exception {
        int before = Handles.size();
        int chunksBefore = Handles.chunkCount();
        int perThread = 200_000;
        AtomicInteger wrong = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        Thread[] threads = new Thread[3];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                long[] ids = new long[10_000]; // many live at once: forces the table past one chunk
                Integer[] objects = new Integer[ids.length];
                for (int round = 0; round < perThread / ids.length; round++) {
                    for (int i = 0; i < ids.length; i++) {
                        objects[i] = round * ids.length + i;
                        ids[i] = Handles.register(objects[i]);
                    }
                    for (int i = 0; i < ids.length; i++) {
                        if (Handles.get(ids[i]) != objects[i] || Handles.remove(ids[i]) != objects[i]) {
                            wrong.incrementAndGet();
                        }
                    }
                }
            });
            threads[t].start();
        }
        start.countDown();
        for (Thread t : threads) {
            t.join();
        }
        assertEquals(0, wrong.get());
        // Each thread keeps 10,000 entries live at once: the table spans at least 3 chunks of 4096 (it grew
        // unless an earlier test in this JVM had grown it already).
        assertTrue(Handles.chunkCount() >= 3, "chunks: " + chunksBefore + " before, " + Handles.chunkCount() + " after");
        ProcessStats.awaitHandlesAtMost(before, "entries left (" + before + " before)"); // others may leave meanwhile
    }
}
