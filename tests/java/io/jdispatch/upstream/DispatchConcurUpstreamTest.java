package io.jdispatch.upstream;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_concur.c} (rdar://problem/8049506, 8169448, 8186485), translated: on every
 * hierarchy q -> tq -> ttq of global, concurrent and serial queues (a global queue only under a global queue), the
 * width of the narrowest queue bounds how many tasks run at once: submitters (n = CPUs / 2, at least 1) each start 4
 * workers of 1 ms and sleep 10 ms, through {@code async} with enter/leave and through {@code DispatchGroup.async};
 * the workers done by then, the submitters seen at once, {@code sync}s from 2 * CPUs threads (100 ms, then a 10 ms
 * sync task) and {@code apply} iterations (CPUs, of 100 ms) seen at once are checked with upstream's rule (at most
 * the width when above n, else exactly the width). Not translated: the "wide" queues (width 2 * CPUs), which need
 * {@code dispatch_queue_set_width}, deprecated private SPI that is not mapped (the C test dies with SIGILL at its
 * first wide queue on this machine). Upstream's sync callers are blocks on
 * the overcommit global queue (private SPI); here platform threads, what overcommit gives them (changed). A global q
 * is not suspended around the submission (libdispatch ignores it; the binding refuses it) (changed). Upstream reads
 * the completed workers after the group wait, so workers that start once the last submitter returned still count
 * (a race that made a serial hierarchy show 2 here under load); here they are read by each submitter as it ends,
 * which is what "concurrently completed" means, and where the hierarchy is wider than 1 the submitter waits up to
 * 10 s more (not upstream's bare 10 ms, which the C test and this one missed under load: 0 of 4) for its workers to
 * complete beside it (changed). A serial hierarchy keeps upstream's 10 ms.
 */
class DispatchConcurUpstreamTest {
    private static final int WORKERS = 4;
    private static final long GLOBAL = 0;
    private static final long CONCURRENT = Long.MAX_VALUE;
    private static final long SERIAL = 1;

    private final int activecpu = Runtime.getRuntime().availableProcessors();
    private final int minAcceptableConcurrency = Math.max(activecpu / 2, 1);
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicInteger concur = new AtomicInteger();
    private final AtomicInteger doneWhileSubmitting = new AtomicInteger();
    private volatile long expectedWhileSubmitting;
    private final List<String> failures = new ArrayList<>();
    private DispatchQueue q;
    private final DispatchGroup g = DispatchGroup.create();
    private final DispatchGroup gw = DispatchGroup.create();

    private static void usleep(long us) {
        LockSupport.parkNanos(us * 1000);
    }

    private void check(String what, long actual, long expected) {
        boolean ok = actual > minAcceptableConcurrency ? actual <= expected : actual == expected;
        if (!ok) {
            failures.add(what + ": " + actual + " where " + (actual > minAcceptableConcurrency ? "<= " : "") + expected);
        }
    }

    @Test
    void theNarrowestQueueOfAHierarchyBoundsItsConcurrency() throws Exception {
        long[] qws = {GLOBAL, CONCURRENT, SERIAL};
        int n = minAcceptableConcurrency;
        int w = activecpu * 2;
        try (g; gw) {
            for (long ttqw : qws) {
                DispatchQueue ttq = createQueue(ttqw, null);
                for (long tqw : qws) {
                    if (tqw == GLOBAL && ttqw != GLOBAL) {
                        continue;
                    }
                    DispatchQueue tq = createQueue(tqw, ttq);
                    for (long qw : qws) {
                        if (qw == GLOBAL && tqw != GLOBAL) {
                            continue;
                        }
                        q = createQueue(qw, tq);
                        long width = Math.min(width(qw), Math.min(width(tqw), width(ttqw)));
                        String hierarchy = name(qw) + " -> " + name(tqw) + " -> " + name(ttqw);
                        for (boolean useGroupAsync : new boolean[] {false, true}) {
                            concurAsync(hierarchy + (useGroupAsync ? " group_async" : " async"), useGroupAsync, n, qw == GLOBAL, width);
                        }
                        concurSync(hierarchy, w, width);
                        concurApply(hierarchy, activecpu, width);
                        release(q);
                    }
                    release(tq);
                }
                release(ttq);
            }
        }
        assertEquals(List.of(), failures);
    }

    private static long width(long qw) {
        return qw == GLOBAL ? Long.MAX_VALUE : qw;
    }

    private static String name(long qw) {
        return qw == GLOBAL ? "global" : qw == SERIAL ? "serial" : "concurrent";
    }

    private static void release(DispatchQueue queue) {
        if (queue != DispatchQueue.global()) {
            queue.close();
        }
    }

    private static DispatchQueue createQueue(long width, DispatchQueue tq) {
        if (width == GLOBAL) {
            return DispatchQueue.global();
        }
        DispatchQueue queue = width == SERIAL ? DispatchQueue.createSerial("serial") : DispatchQueue.createConcurrent("concurrent");
        if (tq != null) {
            queue.setTargetQueue(tq);
        }
        queue.barrierSync(() -> { }); // wait for changes to take effect
        return queue;
    }

    private void work(boolean useGroupAsync) {
        usleep(1000);
        done.incrementAndGet();
        if (!useGroupAsync) {
            gw.leave();
        }
    }

    private void submitWork(AtomicInteger m, boolean useGroupAsync) {
        m.accumulateAndGet(concur.incrementAndGet(), Math::max);
        for (int i = 0; i < WORKERS; ++i) {
            if (useGroupAsync) {
                gw.async(q, () -> work(true));
            } else {
                gw.enter();
                q.async(() -> work(false));
            }
        }
        usleep(10_000);
        // Where the hierarchy is wider than 1, the workers may run beside this submitter: give them up to 10 s more
        // to do so (upstream gives 10 ms, which a loaded machine misses: the C test failed with 0 of 4 here).
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (expectedWhileSubmitting > 1 && done.get() < expectedWhileSubmitting && System.nanoTime() < deadline) {
            usleep(1000);
        }
        doneWhileSubmitting.accumulateAndGet(done.get(), Math::max);
        concur.decrementAndGet();
        if (!useGroupAsync) {
            g.leave();
        }
    }

    private void concurAsync(String hierarchy, boolean useGroupAsync, int n, boolean global, long qw) {
        done.set(0);
        doneWhileSubmitting.set(0);
        expectedWhileSubmitting = qw > 1 ? Math.min((long) n * WORKERS, qw) : 1;
        concur.set(0);
        AtomicInteger[] mcs = new AtomicInteger[n];
        if (!global) {
            q.suspend();
        }
        for (int i = 0; i < n; i++) {
            AtomicInteger mc = mcs[i] = new AtomicInteger();
            if (useGroupAsync) {
                g.async(q, () -> submitWork(mc, true));
            } else {
                g.enter();
                q.async(() -> submitWork(mc, false));
            }
        }
        if (!global) {
            q.resume();
        }
        assertTrue(g.wait(DispatchTime.FOREVER));
        int completed = doneWhileSubmitting.get();
        if (qw > 1) {
            check(hierarchy + ": concurrently completed workers", completed, Math.min((long) n * WORKERS, qw));
        } else if (completed > 1) {
            failures.add(hierarchy + ": concurrently completed workers: " + completed + " where <= 1");
        }
        int maxConcur = 0;
        for (AtomicInteger mc : mcs) {
            maxConcur = Math.max(maxConcur, mc.get());
        }
        check(hierarchy + ": max submission concurrency", maxConcur, Math.min(n, qw));
        assertTrue(gw.wait(DispatchTime.FOREVER));
        usleep(1000);
    }

    private void concurSync(String hierarchy, int n, long qw) throws InterruptedException {
        concur.set(0);
        AtomicInteger[] mcs = new AtomicInteger[n];
        List<Thread> callers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            AtomicInteger mc = mcs[i] = new AtomicInteger();
            Thread t = new Thread(() -> {
                usleep(100_000);
                q.sync(() -> {
                    mc.accumulateAndGet(concur.incrementAndGet(), Math::max);
                    usleep(10_000);
                    concur.decrementAndGet();
                });
            }, "concur-sync-" + i);
            t.start();
            callers.add(t);
        }
        for (Thread t : callers) {
            t.join();
        }
        int maxConcur = 0;
        for (AtomicInteger mc : mcs) {
            maxConcur = Math.max(maxConcur, mc.get());
        }
        check(hierarchy + ": max sync concurrency", maxConcur, qw == 1 ? 1 : n);
    }

    private void concurApply(String hierarchy, int n, long qw) {
        concur.set(0);
        AtomicInteger[] mcs = new AtomicInteger[n];
        for (int i = 0; i < n; i++) {
            mcs[i] = new AtomicInteger();
        }
        q.apply(n, i -> {
            mcs[(int) i].accumulateAndGet(concur.incrementAndGet(), Math::max);
            usleep(100_000);
            concur.decrementAndGet();
        });
        int maxConcur = 0;
        for (AtomicInteger mc : mcs) {
            maxConcur = Math.max(maxConcur, mc.get());
        }
        check(hierarchy + ": max apply concurrency", maxConcur, Math.min(n, qw));
    }
}
