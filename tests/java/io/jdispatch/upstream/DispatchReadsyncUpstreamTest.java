package io.jdispatch.upstream;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_readsync.c}, translated: a concurrent queue as a reader/writer lock. n = CPUs *
 * 64 workers make {@code sync} "readers" (10 ms sleep, then a busy loop that counts any writer seen) and, every 100th
 * lap, a {@code barrierAsync} "writer" (the same, counting readers seen), with a {@code barrierSync} drain every 1,000
 * laps; first with readers and writers on one queue, then with the barriers on the readers' concurrent target queue
 * (rdar://problem/8186485). All n readers must have been inside at once, never more than one writer, and no reader
 * ever beside a writer. Upstream's workers are blocks on the overcommit global queue (private SPI, not mapped);
 * here platform threads, which is what overcommit gives them (changed). Upstream runs 10,000 laps per round; here
 * 1,000 (scaled: the busy loops alone took 37 s in C here), so 10 writers and one drain per round.
 */
class DispatchReadsyncUpstreamTest {
    private static final int LAPS = 1_000;
    private static final int INTERVAL = 100;
    private static final int BUSY = 1_000_000;

    private final AtomicLong rCount = new AtomicLong();
    private final AtomicLong wCount = new AtomicLong();
    private final AtomicInteger workers = new AtomicInteger();
    private final AtomicInteger readers = new AtomicInteger();
    private final AtomicInteger writers = new AtomicInteger();
    private final AtomicLong crw = new AtomicLong();
    private final AtomicInteger count = new AtomicInteger();
    private final AtomicInteger drain = new AtomicInteger();
    private final DispatchGroup g = DispatchGroup.create();

    @Test
    void readersShareTheQueueAndWritersHaveItAlone() throws Exception {
        int n = Runtime.getRuntime().availableProcessors() * 64;
        try (g; DispatchQueue dq = DispatchQueue.createConcurrent("readsync")) {
            readsync(dq, dq, n);
            try (DispatchQueue tq = DispatchQueue.createConcurrent("writebarrierasync")) {
                dq.setTargetQueue(tq);
                tq.barrierSync(() -> { }); // wait for changes to take effect
                readsync(dq, tq, n);
            }
        }
    }

    private static void sleepMs(long ms) {
        LockSupport.parkNanos(ms * 1_000_000L);
    }

    private void writer(AtomicInteger max) {
        int w = writers.incrementAndGet();
        max.accumulateAndGet(w, Math::max);
        sleepMs(10);
        for (int busy = BUSY; busy > 0; busy--) {
            if (readers.get() != 0) {
                crw.incrementAndGet();
            }
        }
        wCount.decrementAndGet();
        writers.decrementAndGet();
        g.leave();
    }

    private void reader(AtomicInteger max) {
        int r = readers.incrementAndGet();
        max.accumulateAndGet(r, Math::max);
        sleepMs(10);
        for (int busy = BUSY; busy > 0; busy--) {
            if (writers.get() != 0) {
                crw.incrementAndGet();
            }
        }
        rCount.decrementAndGet();
        readers.decrementAndGet();
    }

    private void readsync(DispatchQueue rq, DispatchQueue wq, int n) throws InterruptedException {
        rCount.set(LAPS * 2L);
        wCount.set(LAPS / INTERVAL);
        workers.set(0);
        readers.set(0);
        writers.set(0);
        crw.set(0);
        count.set(0);
        AtomicInteger maxWriters = new AtomicInteger();
        AtomicInteger[] mrs = new AtomicInteger[n];
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            AtomicInteger mr = mrs[i] = new AtomicInteger();
            Thread t = new Thread(() -> {
                workers.incrementAndGet();
                do {
                    sleepMs(100);
                } while (workers.get() < n);
                for (;;) {
                    int idx = count.incrementAndGet();
                    if (idx > LAPS) {
                        break;
                    }
                    rq.sync(() -> reader(mr));
                    if (idx % INTERVAL == 0) {
                        g.enter();
                        wq.barrierAsync(() -> writer(maxWriters));
                    }
                    rq.sync(() -> reader(mr));
                    if (idx % (INTERVAL * 10) == 0) {
                        drain.incrementAndGet(); // let the queue drain
                        sleepMs(10);
                        wq.barrierSync(() -> { });
                        drain.decrementAndGet();
                    } else {
                        while (drain.get() != 0) {
                            sleepMs(1);
                        }
                    }
                }
            }, "readsync-worker-" + i);
            t.start();
            threads.add(t);
        }
        for (Thread t : threads) {
            t.join();
        }
        assertTrue(g.wait(DispatchTime.fromNow(60, TimeUnit.SECONDS)), "the writers ended");
        int maxReaders = 0;
        for (AtomicInteger mr : mrs) {
            maxReaders = Math.max(maxReaders, mr.get());
        }
        assertEquals(n, maxReaders, "max readers");
        assertEquals(1, maxWriters.get(), "max writers");
        assertEquals(0, crw.get(), "concurrent readers & writers");
        assertEquals(0, rCount.get(), "readers run");
        assertEquals(0, wCount.get(), "writers run");
    }
}
