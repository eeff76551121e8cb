package io.jdispatch.testutil;

import io.jdispatch.Dispatch;
import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;
import io.jdispatch.DispatchWorkItem;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Child-JVM program for MainQueueTest: its main thread loads JDispatch first (so libdispatch binds the main queue
 * to it) and services the main queue. Prints {@code ok <check>} or {@code FAIL <check>: <why>} per check and exits
 * 0 when all passed. A hang is the parent's timeout; a crash its exit code.
 * Args: {@code serve} (the main thread runs the main queue) or {@code owner-exits} (the main thread ends at once;
 * another thread then uses the main queue).
 */
public final class MainQueueProbe {
    private static final long WAIT_S = 30;
    private static final List<String> FAILURES = Collections.synchronizedList(new ArrayList<>());

    private MainQueueProbe() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "serve" -> serve();
            case "owner-exits" -> ownerExits();
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    private static void check(String name, boolean ok, String why) {
        System.out.println((ok ? "ok " : "FAIL ") + name + (ok ? "" : ": " + why));
        if (!ok) {
            FAILURES.add(name);
        }
    }

    private static <T extends Throwable> T thrown(Class<T> type, Runnable call) {
        try {
            call.run();
        } catch (Throwable t) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
            return null;
        }
        return null;
    }

    private static void serve() throws Exception {
        Dispatch.ensureAvailable(); // this thread loads the library: libdispatch binds the main queue to it
        Thread main = Thread.currentThread();
        DispatchQueue mq = DispatchQueue.main();
        check("owner", Dispatch.getMainQueueThread() == main, "getMainQueueThread() = " + Dispatch.getMainQueueThread());
        check("label", "com.apple.main-thread".equals(mq.getLabel()), mq.getLabel());
        check("current on its thread", mq.isCurrent(), "isCurrent() false on the main queue's thread");
        IllegalStateException ownSync = thrown(IllegalStateException.class, () -> mq.sync(() -> { }));
        check("sync from its own thread refused", ownSync != null && ownSync.getMessage().contains("wait for itself"),
                String.valueOf(ownSync));
        IllegalStateException suspend = thrown(IllegalStateException.class, mq::suspend);
        check("suspend refused", suspend != null && suspend.getMessage().contains("dispatch_suspend"), String.valueOf(suspend));
        mq.close(); // does nothing
        check("close does nothing", !mq.isClosed(), "closed");

        List<String> order = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger offMain = new AtomicInteger();
        AtomicReference<Throwable> reported = new AtomicReference<>();
        Dispatch.setUncaughtExceptionHandler((t, e) -> reported.set(e));
        Runnable onMain = () -> {
            if (Thread.currentThread() != main) {
                offMain.incrementAndGet();
            }
        };
        Thread other = new Thread(() -> {
            try {
                check("not current elsewhere", !mq.isCurrent(), "isCurrent() true on another thread");
                IllegalStateException foreign = thrown(IllegalStateException.class, Dispatch::runMainQueue);
                check("runMainQueue from another thread refused", foreign != null
                        && foreign.getMessage().contains("binds the main queue"), String.valueOf(foreign));
                for (int i = 0; i < 500; i++) {
                    int n = i;
                    mq.async(() -> {
                        onMain.run();
                        order.add("a" + n);
                    });
                }
                mq.async(() -> {
                    throw new IllegalStateException("from a main-queue task");
                });
                Thread syncRanOn = mq.sync(Thread::currentThread);
                check("sync from another thread runs on the main queue's thread", syncRanOn == main,
                        "ran on " + syncRanOn);
                check("sync after 500 asyncs (FIFO)", order.size() == 500, order.size() + " ran before it");
                CountDownLatch more = new CountDownLatch(4);
                mq.after(DispatchTime.fromNow(5, TimeUnit.MILLISECONDS), () -> {
                    onMain.run();
                    more.countDown();
                });
                try (DispatchWorkItem item = DispatchWorkItem.create(() -> {
                    onMain.run();
                    more.countDown();
                }); DispatchGroup g = DispatchGroup.create(); DispatchSource s = DispatchSource.dataAdd(mq)) {
                    mq.async(item);
                    g.async(DispatchQueue.global(), () -> { });
                    g.notify(mq, () -> {
                        onMain.run();
                        more.countDown();
                    });
                    s.setEventHandler(() -> {
                        onMain.run();
                        more.countDown();
                    });
                    s.resume();
                    s.mergeData(1);
                    check("after, work item, group notify and a source on the main queue", more.await(WAIT_S,
                            TimeUnit.SECONDS), more.getCount() + " of 4 did not run");
                    check("work item wait", item.wait(WAIT_S, TimeUnit.SECONDS), "false");
                    s.cancel();
                }
                AtomicReference<IllegalStateException> nested = new AtomicReference<>();
                mq.sync(() -> nested.set(thrown(IllegalStateException.class, Dispatch::runMainQueue)));
                check("nested runMainQueue refused", nested.get() != null
                        && nested.get().getMessage().contains("one drain at a time"), String.valueOf(nested.get()));
                check("every task ran on the main thread", offMain.get() == 0, offMain.get() + " ran elsewhere");
                check("a failing task was reported", reported.get() instanceof IllegalStateException,
                        String.valueOf(reported.get()));
            } catch (Throwable t) {
                check("other thread", false, t.toString());
            } finally {
                Dispatch.stopMainQueue();
            }
        }, "probe-other");
        other.start();
        Dispatch.runMainQueue(); // returns on the stop above
        other.join();

        // A stop before any run: the next run drains once and returns. drainMainQueue runs what is queued now.
        AtomicInteger ran = new AtomicInteger();
        mq.async(ran::incrementAndGet);
        Dispatch.stopMainQueue();
        Dispatch.runMainQueue();
        check("a stop before the run: the run drains once and returns", ran.get() == 1, ran.get() + " ran");
        mq.async(ran::incrementAndGet);
        mq.async(ran::incrementAndGet);
        for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S); ran.get() < 3 && System.nanoTime() < end; ) {
            Dispatch.drainMainQueue();
        }
        check("drainMainQueue runs what is queued", ran.get() == 3, ran.get() + " ran");
        DispatchQueue conc = DispatchQueue.createConcurrent("probe.other");
        IllegalStateException inOther = conc.sync(() -> thrown(IllegalStateException.class, Dispatch::drainMainQueue));
        check("drain inside another queue's task refused", inOther != null
                && inOther.getMessage().contains("task of another queue"), String.valueOf(inOther));
        conc.close();
        checkVirtual();
        System.out.flush();
        System.exit(FAILURES.isEmpty() ? 0 : 1);
    }

    /** On Java 21+: refused from a virtual thread (started reflectively: this compiles for Java 17). */
    private static void checkVirtual() throws Exception {
        java.lang.invoke.MethodHandle start;
        try {
            start = MethodHandles.publicLookup().findStatic(Thread.class, "startVirtualThread",
                    MethodType.methodType(Thread.class, Runnable.class));
        } catch (NoSuchMethodException java17) {
            System.out.println("skip virtual thread (Java " + Runtime.version().feature() + ")");
            return;
        }
        AtomicReference<IllegalStateException> refused = new AtomicReference<>();
        Thread vt;
        try {
            vt = (Thread) start.invoke((Runnable) () -> refused.set(thrown(IllegalStateException.class,
                    Dispatch::runMainQueue)));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        vt.join();
        check("runMainQueue from a virtual thread refused", refused.get() != null
                && refused.get().getMessage().contains("virtual thread"), String.valueOf(refused.get()));
    }

    /**
     * The main queue's thread ends without ever running it: libdispatch turns the main queue into an ordinary
     * serial queue, whose tasks (queued before and after) then run on its workers, and nothing may run it any more.
     * The owner is a thread of its own that loads JDispatch and ends (the JVM's main thread would not end: the
     * launcher keeps it for DestroyJavaVM).
     */
    private static void ownerExits() throws Exception {
        AtomicInteger ran = new AtomicInteger();
        AtomicReference<Thread> owner = new AtomicReference<>();
        Thread loader = new Thread(() -> {
            Dispatch.ensureAvailable();
            owner.set(Dispatch.getMainQueueThread());
            DispatchQueue.main().async(ran::incrementAndGet); // queued while its thread lives and never services it
        }, "probe-loader");
        loader.start();
        loader.join();
        check("the loader owned the main queue", owner.get() == loader, String.valueOf(owner.get()));
        DispatchQueue mq = DispatchQueue.main();
        CountDownLatch later = new CountDownLatch(1);
        mq.async(() -> {
            ran.incrementAndGet();
            later.countDown();
        });
        check("tasks run once the main queue's thread ended", later.await(WAIT_S, TimeUnit.SECONDS)
                && waitFor(ran, 2), ran.get() + " of 2 ran");
        check("sync runs too", mq.sync(() -> 42) == 42, "");
        check("no owner any more", Dispatch.getMainQueueThread() == null, String.valueOf(Dispatch.getMainQueueThread()));
        IllegalStateException refused = thrown(IllegalStateException.class, Dispatch::runMainQueue);
        check("runMainQueue refused once its thread ended", refused != null
                && refused.getMessage().contains("ended"), String.valueOf(refused));
        Dispatch.stopMainQueue(); // no run in progress: writes no fd (libdispatch closed the eventfd)
        System.out.flush();
        System.exit(FAILURES.isEmpty() ? 0 : 1);
    }

    private static boolean waitFor(AtomicInteger counter, int value) throws InterruptedException {
        for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S); counter.get() < value
                && System.nanoTime() < end; ) {
            Thread.sleep(1);
        }
        return counter.get() >= value;
    }
}
