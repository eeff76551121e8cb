package io.jdispatch.upstream;

import io.jdispatch.Dispatch;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchTime;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Child-JVM program for the upstream tests whose subject is the main queue: its main thread loads JDispatch first
 * (libdispatch binds the main queue to it) and then runs {@link Dispatch#runMainQueue()} in the role of
 * {@code dispatch_main()} / {@code CFRunLoopRun()}. Prints {@code ok <check>} or {@code FAIL <check>: <why>} and exits
 * 0 only when every check passed. Args: {@code api} (dispatch_api.c) or {@code sync-on-main} (dispatch_sync_on_main.c).
 */
public final class UpstreamMainProbe {
    private static final AtomicInteger FAILURES = new AtomicInteger();

    private UpstreamMainProbe() {}

    /**
     * Runs one scenario.
     *
     * @param args {@code api} or {@code sync-on-main}
     */
    public static void main(String[] args) {
        Dispatch.ensureAvailable(); // this thread loads the library: it owns the main queue
        Thread main = Thread.currentThread();
        switch (args[0]) {
            case "api" -> api(main);
            case "sync-on-main" -> syncOnMain(main);
            default -> throw new IllegalArgumentException(args[0]);
        }
        System.exit(FAILURES.get() == 0 ? 0 : 1);
    }

    private static void check(String name, boolean ok, String why) {
        System.out.println((ok ? "ok " : "FAIL ") + name + (ok ? "" : ": " + why));
        if (!ok) {
            FAILURES.incrementAndGet();
        }
    }

    /** dispatch_api.c: the main queue exists, and a task async'ed onto it runs once the main thread services it. */
    private static void api(Thread main) {
        DispatchQueue q = DispatchQueue.main();
        check("dispatch_get_main_queue", q != null, "null");
        AtomicInteger ran = new AtomicInteger();
        DispatchQueue.main().async(() -> {
            ran.incrementAndGet();
            check("work runs on the main thread", Thread.currentThread() == main, Thread.currentThread().getName());
            Dispatch.stopMainQueue(); // upstream: test_stop(); exit(0)
        });
        Dispatch.runMainQueue();
        check("work ran", ran.get() == 1, "ran " + ran.get() + " times");
    }

    /**
     * dispatch_sync_on_main.c: a serial queue's task makes 10 syncs onto the main queue, 50 ms apart, while the main
     * queue also runs a task that re-arms itself every 100 ms with dispatch_after; every sync runs on the main thread
     * (upstream: pthread_main_np() == 1), and the last one ends the run.
     */
    private static void syncOnMain(Thread main) {
        final int finalCount = 10;
        AtomicInteger globalCount = new AtomicInteger();
        AtomicInteger syncsOnMain = new AtomicInteger();
        boolean[] stop = {false};
        Runnable[] work = new Runnable[1];
        work[0] = () -> {
            if (stop[0]) { // upstream: global_count == INT_MAX, set by the last sync
                Dispatch.stopMainQueue();
                return;
            }
            globalCount.incrementAndGet();
            DispatchQueue.main().after(DispatchTime.fromNow(100, java.util.concurrent.TimeUnit.MILLISECONDS), work[0]);
        };
        try (DispatchQueue dq = DispatchQueue.createSerial("foo.bar")) {
            dq.async(() -> {
                DispatchQueue.main().async(work[0]);
                for (int i = 0; i < finalCount; ++i) {
                    int n = i;
                    DispatchQueue.main().sync(() -> {
                        if (Thread.currentThread() == main) {
                            syncsOnMain.incrementAndGet();
                        } else {
                            check("sync on main " + n, false, "ran on " + Thread.currentThread().getName());
                        }
                        if (n == finalCount - 1) {
                            stop[0] = true;
                        }
                    });
                    try {
                        Thread.sleep(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            });
        }
        Dispatch.runMainQueue();
        check("sync on main", syncsOnMain.get() == finalCount, syncsOnMain.get() + " of " + finalCount + " on the main thread");
        check("timer on main fired", globalCount.get() > 0, "never");
    }
}
