package io.jdispatch.testutil;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSemaphore;
import io.jdispatch.DispatchSpecificKey;
import io.jdispatch.DispatchTime;
import io.jdispatch.DispatchWorkItem;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Child-JVM program (Java 21+) for the virtual-thread tests: each scenario runs on virtual threads under a
 * JFR recording of jdk.VirtualThreadPinned (threshold 0, the library's own events off), and prints one line
 * {@code RESULT <scenario> ok=<bool> ms=<elapsed> pinned=<events> <details>}. A blocked carrier wedges every
 * virtual thread, so a scenario that does not finish within {@link #HANG_S} is reported as a hang and the
 * JVM halts. Compiles for Java 17: virtual threads are started through a method handle.
 * Args: scenario names (default: all).
 */
public final class VirtualThreadProbe {
    private static final long HANG_S = 20;
    private static final int WAITERS = 2_000;
    private static final MethodHandle START_VIRTUAL = startVirtual();

    private VirtualThreadProbe() {}

    private interface Scenario {
        /** Runs the scenario; returns details for the result line, or throws AssertionError. */
        String run(long[] elapsedNanos) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        List<String> names = args.length > 0 ? List.of(args)
                : List.of("semaphore", "semaphore-mixed", "semaphore-timeouts", "group", "sync-global",
                "sync-concurrent", "sync-semantics", "async-and-wait-concurrent", "async-and-wait-semantics", "queue-frames",
                "work-item-wait", "work-item-sync", "work-item-semantics");
        boolean allOk = true;
        warmUp();
        for (String name : names) {
            allOk &= runOne(name, scenario(name));
        }
        System.out.flush();
        Runtime.getRuntime().halt(allOk ? 0 : 1);
    }

    private static Scenario scenario(String name) {
        return switch (name) {
            case "semaphore" -> VirtualThreadProbe::semaphore;
            case "semaphore-mixed" -> VirtualThreadProbe::semaphoreMixed;
            case "semaphore-timeouts" -> VirtualThreadProbe::semaphoreTimeouts;
            case "group" -> VirtualThreadProbe::group;
            case "sync-global" -> e -> sleepingSyncs(DispatchQueue.global(), false, e);
            case "sync-concurrent" -> e -> {
                try (DispatchQueue q = DispatchQueue.createConcurrent("probe.concurrent")) {
                    return sleepingSyncs(q, false, e);
                }
            };
            case "sync-semantics" -> VirtualThreadProbe::syncSemantics;
            case "work-item-wait" -> VirtualThreadProbe::workItemWait;
            case "work-item-sync" -> VirtualThreadProbe::workItemSync;
            case "work-item-semantics" -> VirtualThreadProbe::workItemSemantics;
            case "async-and-wait-concurrent" -> e -> {
                try (DispatchQueue q = DispatchQueue.createConcurrent("probe.aaw")) {
                    return sleepingSyncs(q, true, e);
                }
            };
            case "async-and-wait-semantics" -> e -> onVirtualThread(VirtualThreadProbe::asyncAndWaitSemanticsOnVirtualThread, e,
                    "FIFO with async, caller thread, isCurrent, rethrow, refusal, barrier as on a platform thread");
            case "queue-frames" -> e -> onVirtualThread(VirtualThreadProbe::queueFramesOnVirtualThread, e,
                    "assertQueue/Not/Barrier and getCurrentSpecific see the sync frames");
            default -> throw new IllegalArgumentException("unknown scenario " + name);
        };
    }

    private static boolean runOne(String name, Scenario scenario) throws Exception {
        Path jfr = Files.createTempFile("vt-probe", ".jfr");
        long[] elapsed = {0};
        String details;
        boolean ok;
        AtomicReference<Object> outcome = new AtomicReference<>();
        try (Recording recording = new Recording()) {
            recording.enable("jdk.VirtualThreadPinned").withThreshold(Duration.ZERO).withStackTrace();
            // Off here: committing an event with strings from many virtual threads at once can pin them in
            // JFR's own string pool (the JDK pins a virtual thread there on purpose); that is not ours to count.
            for (String ours : List.of("SlowTask", "TaskException", "SourceCreate", "SourceCancel")) {
                recording.disable("io.jdispatch." + ours);
            }
            recording.start();
            Thread runner = new Thread(() -> {
                try {
                    outcome.set(scenario.run(elapsed));
                } catch (Throwable t) {
                    outcome.set(t);
                }
            }, "probe-" + name);
            runner.setDaemon(true);
            runner.start();
            runner.join(TimeUnit.SECONDS.toMillis(HANG_S));
            if (runner.isAlive()) {
                System.out.println("RESULT " + name + " ok=false hang: not done within " + HANG_S + " s\n"
                        + threadDump());
                System.out.flush();
                Runtime.getRuntime().halt(1);
            }
            recording.stop();
            recording.dump(jfr);
        }
        long pinned = 0;
        StringBuilder where = new StringBuilder();
        for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
            if (e.getEventType().getName().equals("jdk.VirtualThreadPinned")) {
                if (pinned++ == 0 && e.getStackTrace() != null) {
                    e.getStackTrace().getFrames().stream().limit(12).forEach(f -> where.append("\n    at ")
                            .append(f.getMethod().getType().getName()).append('.').append(f.getMethod().getName()));
                }
            }
        }
        Files.deleteIfExists(jfr);
        if (outcome.get() instanceof Throwable t) {
            ok = false;
            details = "failed: " + t;
        } else {
            ok = pinned == 0;
            details = (String) outcome.get();
        }
        System.out.println("RESULT " + name + " ok=" + ok + " ms=" + TimeUnit.NANOSECONDS.toMillis(elapsed[0])
                + " pinned=" + pinned + " " + details + (pinned > 0 ? "\n  first pinned stack:" + where : ""));
        return ok;
    }

    /** Loads and links what the scenarios use, so class initialisation (which may pin) is not measured. */
    private static void warmUp() throws Exception {
        DispatchSemaphore s = DispatchSemaphore.create(0);
        DispatchGroup g = DispatchGroup.create();
        CountDownLatch done = new CountDownLatch(1);
        startVirtual(() -> {
            s.signal();
            s.wait(DispatchTime.FOREVER);
            s.wait(1, TimeUnit.MILLISECONDS);
            s.wait(DispatchTime.fromNow(1, TimeUnit.MILLISECONDS));
            g.enter();
            g.wait(1, TimeUnit.MILLISECONDS);
            g.leave();
            DispatchQueue.global().sync(() -> { });
            try (DispatchQueue q = DispatchQueue.createSerial("probe.warm"); DispatchQueue c = DispatchQueue.createConcurrent("probe.warm.c")) {
                q.sync(() -> { });
                c.sync(() -> { });
                c.asyncAndWait(() -> { });
                c.barrierAsyncAndWait(() -> { });
                q.asyncAndWait(() -> { });
                c.apply(2, i -> { });
                try (DispatchWorkItem item = DispatchWorkItem.create(() -> { })) {
                    c.sync(item);
                    item.wait(DispatchTime.FOREVER);
                }
                try (DispatchWorkItem item = DispatchWorkItem.create(() -> { })) {
                    item.perform();
                    item.wait(1, TimeUnit.MILLISECONDS);
                }
                try (DispatchWorkItem item = DispatchWorkItem.create(() -> { })) {
                    item.wait(1, TimeUnit.MILLISECONDS);
                }
                DispatchWorkItem.perform(0, () -> { });
            }
            done.countDown();
        });
        if (!done.await(HANG_S, TimeUnit.SECONDS)) {
            System.out.println("RESULT warm-up ok=false hang\n" + threadDump());
            Runtime.getRuntime().halt(1);
        }
        s.close();
        g.close();
    }

    /** 2,000 virtual threads wait on a semaphore; 2,000 other virtual threads signal it once each. */
    private static String semaphore(long[] elapsed) throws Exception {
        try (DispatchSemaphore s = DispatchSemaphore.create(0)) {
            CountDownLatch passed = new CountDownLatch(WAITERS);
            for (int i = 0; i < WAITERS; i++) {
                startVirtual(() -> {
                    if (s.wait(DispatchTime.FOREVER)) {
                        passed.countDown();
                    }
                });
            }
            long start = System.nanoTime();
            for (int i = 0; i < WAITERS; i++) {
                startVirtual(s::signal);
            }
            check(passed.await(HANG_S, TimeUnit.SECONDS), (WAITERS - passed.getCount()) + " of " + WAITERS + " passed");
            elapsed[0] = System.nanoTime() - start;
            check(!s.wait(DispatchTime.NOW), "a unit was left over: the value is not exact");
            return WAITERS + " waiters passed";
        }
    }

    /** Platform threads (waiting in libdispatch) and virtual threads (parked in Java) on one semaphore. */
    private static String semaphoreMixed(long[] elapsed) throws Exception {
        int platform = 8;
        DispatchSemaphore s = DispatchSemaphore.create(0);
        CountDownLatch passed = new CountDownLatch(WAITERS + platform);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < platform; i++) {
            Thread t = new Thread(() -> {
                if (s.wait(DispatchTime.FOREVER)) {
                    passed.countDown();
                }
            });
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        for (int i = 0; i < WAITERS; i++) {
            startVirtual(() -> {
                if (s.wait(DispatchTime.FOREVER)) {
                    passed.countDown();
                }
            });
        }
        long start = System.nanoTime();
        for (int i = 0; i < WAITERS + platform; i++) {
            if (i % 2 == 0) {
                startVirtual(s::signal);
            } else {
                s.signal();
            }
        }
        check(passed.await(HANG_S, TimeUnit.SECONDS), (WAITERS + platform - passed.getCount()) + " of "
                + (WAITERS + platform) + " passed");
        elapsed[0] = System.nanoTime() - start;
        for (Thread t : threads) {
            t.join();
        }
        check(!s.wait(DispatchTime.NOW), "a unit was left over: the value is not exact");
        s.signal();
        check(s.wait(DispatchTime.NOW), "a new unit was not available");
        s.close(); // refused if the mirrored value were below the initial value
        return (WAITERS + platform) + " waiters passed (" + platform + " platform)";
    }

    /**
     * Timed waits (DispatchTime uptime and wall clock, Duration) on virtual threads, fewer signals than
     * waiters: exactly as many waits succeed as there were signals, the rest time out, no unit is lost.
     */
    private static String semaphoreTimeouts(long[] elapsed) throws Exception {
        int waiters = 900;
        int signals = 300;
        DispatchSemaphore s = DispatchSemaphore.create(0);
        AtomicInteger acquired = new AtomicInteger();
        AtomicInteger timedOut = new AtomicInteger();
        ConcurrentLinkedQueue<String> early = new ConcurrentLinkedQueue<>();
        CountDownLatch done = new CountDownLatch(waiters);
        long start = System.nanoTime();
        for (int i = 0; i < waiters; i++) {
            int kind = i % 3;
            startVirtual(() -> {
                long t0 = System.nanoTime();
                boolean ok = switch (kind) {
                    case 0 -> s.wait(DispatchTime.fromNow(300, TimeUnit.MILLISECONDS));
                    case 1 -> s.wait(DispatchTime.walltime(Instant.now().plusMillis(300)));
                    default -> s.wait(Duration.ofMillis(300));
                };
                long waited = System.nanoTime() - t0;
                if (ok) {
                    acquired.incrementAndGet();
                } else {
                    timedOut.incrementAndGet();
                    if (waited < TimeUnit.MILLISECONDS.toNanos(300) - TimeUnit.MILLISECONDS.toNanos(2)) {
                        early.add("kind " + kind + " gave up after " + waited + " ns");
                    }
                }
                done.countDown();
            });
        }
        for (int i = 0; i < signals; i++) {
            startVirtual(s::signal);
        }
        check(done.await(HANG_S, TimeUnit.SECONDS), (waiters - done.getCount()) + " of " + waiters + " returned");
        elapsed[0] = System.nanoTime() - start;
        check(early.isEmpty(), "timed out early: " + early.stream().limit(5).toList());
        int left = 0; // units no waiter took (only if a signal came after every wait had timed out)
        while (s.wait(DispatchTime.NOW)) {
            left++;
        }
        check(acquired.get() + left == signals, acquired.get() + " waits succeeded and " + left
                + " units are left after " + signals + " signals: a unit was lost or made up");
        check(timedOut.get() == waiters - acquired.get(), timedOut.get() + " timed out");
        s.close();
        return acquired.get() + " acquired, " + timedOut.get() + " timed out, " + left + " left";
    }

    /** 2,000 virtual threads wait on a group; a virtual thread leaves it. Then a timed wait times out. */
    private static String group(long[] elapsed) throws Exception {
        try (DispatchGroup g = DispatchGroup.create()) {
            g.enter();
            CountDownLatch waiting = new CountDownLatch(WAITERS);
            CountDownLatch passed = new CountDownLatch(WAITERS);
            for (int i = 0; i < WAITERS; i++) {
                int n = i;
                startVirtual(() -> {
                    waiting.countDown();
                    boolean ok = n % 2 == 0 ? g.wait(DispatchTime.FOREVER) : g.wait(HANG_S, TimeUnit.SECONDS);
                    if (ok) {
                        passed.countDown();
                    }
                });
            }
            check(waiting.await(HANG_S, TimeUnit.SECONDS), "waiters did not start");
            check(passed.getCount() == WAITERS, "a wait returned before the leave");
            long start = System.nanoTime();
            startVirtual(g::leave);
            check(passed.await(HANG_S, TimeUnit.SECONDS), (WAITERS - passed.getCount()) + " of " + WAITERS + " passed");
            elapsed[0] = System.nanoTime() - start;
            g.enter();
            AtomicReference<String> timed = new AtomicReference<>();
            CountDownLatch t = new CountDownLatch(1);
            startVirtual(() -> {
                long t0 = System.nanoTime();
                boolean a = g.wait(Duration.ofMillis(50));
                boolean b = g.wait(DispatchTime.fromNow(50, TimeUnit.MILLISECONDS));
                timed.set(a || b ? "a timed wait on an entered group returned true"
                        : System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(100) ? "timed out early" : null);
                t.countDown();
            });
            check(t.await(HANG_S, TimeUnit.SECONDS), "timed wait hung");
            check(timed.get() == null, timed.get());
            g.leave();
            return WAITERS + " waiters passed";
        }
    }

    /**
     * The task of an "all callers inside at once" check: it waits until all of {@code allInside} are inside (then
     * counts {@code metAll}), sleeps 100 ms, and counts {@code ranOnCaller} if it ran on {@code caller}.
     */
    private static Runnable meetAll(CountDownLatch allInside, AtomicInteger metAll, AtomicInteger ranOnCaller, Thread caller) {
        return () -> {
            allInside.countDown();
            try {
                if (allInside.await(HANG_S, TimeUnit.SECONDS)) {
                    metAll.incrementAndGet();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sleep(100);
            if (Thread.currentThread() == caller) {
                ranOnCaller.incrementAndGet();
            }
        };
    }

    /**
     * 20 virtual threads sync (or async-and-wait) a task that sleeps 100 ms onto {@code q}: ideally all at once,
     * ~100 ms.
     */
    private static String sleepingSyncs(DispatchQueue q, boolean asyncAndWait, long[] elapsed) throws Exception {
        int callers = 20;
        CountDownLatch done = new CountDownLatch(callers);
        // Every sync task waits until all of them are inside their sync at once: with carriers pinned in native
        // code (2 here) at most 2 could be, so this decides by structure, not by time (the time is reported).
        CountDownLatch allInside = new CountDownLatch(callers);
        AtomicInteger ranOnCaller = new AtomicInteger();
        AtomicInteger metAll = new AtomicInteger();
        long start = System.nanoTime();
        for (int i = 0; i < callers; i++) {
            startVirtual(() -> {
                Runnable task = meetAll(allInside, metAll, ranOnCaller, Thread.currentThread());
                if (asyncAndWait) {
                    q.asyncAndWait(task);
                } else {
                    q.sync(task);
                }
                done.countDown();
            });
        }
        check(done.await(2 * HANG_S, TimeUnit.SECONDS), (callers - done.getCount()) + " of " + callers + " syncs returned");
        elapsed[0] = System.nanoTime() - start;
        check(metAll.get() == callers, "only " + (callers - allInside.getCount()) + " of " + callers
                + " syncs were inside their task at once (carriers blocked?)");
        return callers + (asyncAndWait ? " asyncAndWaits" : " syncs") + " of 100 ms on " + q.getLabel()
                + " (ideal 100 ms), all inside at once, "
                + ranOnCaller.get() + " ran on the caller";
    }

    /** What a sync from a virtual thread keeps: FIFO, the caller's thread, isCurrent, rethrow, barriers, apply. */
    private static String syncSemantics(long[] elapsed) throws Exception {
        return onVirtualThread(VirtualThreadProbe::syncSemanticsOnVirtualThread, elapsed,
                "FIFO, caller thread, isCurrent, rethrow, refusal, barrier, apply as on a platform thread");
    }

    private static void syncSemanticsOnVirtualThread() throws Exception {
        Thread me = Thread.currentThread();
        try (DispatchQueue serial = DispatchQueue.createSerial("probe.serial");
             DispatchQueue inner = DispatchQueue.createSerial("probe.inner");
             DispatchQueue conc = DispatchQueue.createConcurrent("probe.conc")) {
            inner.setTargetQueue(serial);
            List<Integer> order = new ArrayList<>();
            CountDownLatch release = new CountDownLatch(1);
            serial.async(() -> await(release));
            for (int i = 0; i < 50; i++) {
                int n = i;
                serial.async(() -> order.add(n));
            }
            startVirtual(release::countDown);
            check(serial.sync(order::size) == 50, "FIFO: the sync ran before the tasks queued ahead of it");
            check(serial.sync(Thread::currentThread) == me, "a sync task ran on another thread than its caller");
            check(serial.sync(serial::isCurrent), "isCurrent() false inside a sync task");
            check(inner.sync(serial::isCurrent), "isCurrent() of the target false inside a sync task");
            check(!serial.isCurrent(), "isCurrent() true outside");
            IllegalStateException refused = null;
            try {
                serial.sync(() -> inner.sync(() -> { }));
            } catch (IllegalStateException e) {
                refused = e;
            }
            check(refused != null && refused.getMessage().contains("dispatch_sync onto DispatchQueue[probe.inner], which targets "
                    + "DispatchQueue[probe.serial]"), "nested sync onto a queue targeting the current one: " + refused);
            try {
                serial.sync(() -> {
                    throw new IllegalArgumentException("from the task");
                });
                check(false, "the task's exception was not rethrown");
            } catch (IllegalArgumentException e) {
                check(e.getMessage().equals("from the task"), e.toString());
            }
            check(conc.barrierSync(Thread::currentThread) == me, "a barrier sync task ran on another thread");
            AtomicInteger inBarrier = new AtomicInteger();
            AtomicInteger overlap = new AtomicInteger();
            CountDownLatch tasksDone = new CountDownLatch(20);
            for (int i = 0; i < 20; i++) {
                conc.async(() -> {
                    if (inBarrier.get() != 0) {
                        overlap.incrementAndGet();
                    }
                    sleep(1);
                    tasksDone.countDown();
                });
                if (i == 10) {
                    startVirtual(() -> conc.barrierSync(() -> {
                        inBarrier.set(1);
                        sleep(20);
                        inBarrier.set(0);
                    }));
                }
            }
            check(tasksDone.await(HANG_S, TimeUnit.SECONDS), "tasks around the barrier did not run");
            conc.barrierSync(() -> { });
            check(overlap.get() == 0, overlap.get() + " tasks ran during a barrier sync task");
            AtomicInteger sum = new AtomicInteger();
            conc.apply(100, i -> sum.addAndGet((int) i));
            check(sum.get() == 4950, "apply sum " + sum.get());
            List<Long> serialApply = new ArrayList<>();
            serial.apply(5, serialApply::add);
            check(serialApply.equals(List.of(0L, 1L, 2L, 3L, 4L)), "serial apply " + serialApply);
            DispatchQueue.applyAuto(10, i -> sleep(1));
        }
    }

    private interface VirtualBody {
        void run() throws Exception;
    }

    /** Runs {@code body} on one virtual thread; its AssertionError or exception fails the scenario. */
    private static String onVirtualThread(VirtualBody body, long[] elapsed, String details) throws Exception {
        AtomicReference<String> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        long start = System.nanoTime();
        startVirtual(() -> {
            try {
                body.run();
            } catch (Throwable t) {
                failure.set(t.toString());
            } finally {
                done.countDown();
            }
        });
        check(done.await(HANG_S, TimeUnit.SECONDS), "hung");
        elapsed[0] = System.nanoTime() - start;
        check(failure.get() == null, String.valueOf(failure.get()));
        return details;
    }

    private static void asyncAndWaitSemanticsOnVirtualThread() throws Exception {
        Thread me = Thread.currentThread();
        try (DispatchQueue serial = DispatchQueue.createSerial("probe.aaw.serial");
             DispatchQueue inner = DispatchQueue.createSerial("probe.aaw.inner");
             DispatchQueue conc = DispatchQueue.createConcurrent("probe.aaw.conc")) {
            inner.setTargetQueue(serial);
            List<Integer> order = new ArrayList<>();
            CountDownLatch release = new CountDownLatch(1);
            serial.async(() -> await(release));
            for (int i = 0; i < 50; i++) {
                int n = i;
                serial.async(() -> order.add(n));
            }
            startVirtual(release::countDown);
            check(serial.asyncAndWait(order::size) == 50, "FIFO: ran before the tasks queued ahead of it");
            check(serial.barrierAsyncAndWait(order::size) == 50, "barrier FIFO");
            check(serial.asyncAndWait(Thread::currentThread) == me, "an asyncAndWait task ran on another thread");
            check(conc.barrierAsyncAndWait(Thread::currentThread) == me, "a barrier asyncAndWait task ran on another thread");
            check(inner.asyncAndWait(serial::isCurrent), "isCurrent() of the target false inside an asyncAndWait task");
            IllegalStateException refused = null;
            try {
                serial.asyncAndWait(() -> inner.asyncAndWait(() -> { }));
            } catch (IllegalStateException e) {
                refused = e;
            }
            check(refused != null && refused.getMessage().contains("dispatch_async_and_wait onto DispatchQueue[probe.aaw.inner], "
                    + "which targets DispatchQueue[probe.aaw.serial]"), "nested asyncAndWait onto a queue targeting the current one: " + refused);
            try {
                conc.asyncAndWait(() -> {
                    throw new IllegalArgumentException("from the task");
                });
                check(false, "the task's exception was not rethrown");
            } catch (IllegalArgumentException e) {
                check(e.getMessage().equals("from the task"), e.toString());
            }
            check("ok".equals(DispatchQueue.global().asyncAndWait(() -> "ok")), "on a global queue");
            // A barrier holds its queue alone: a holder thread would wait in libdispatch for the barrier forever.
            for (Runnable fromBarrier : List.<Runnable>of(() -> conc.barrierSync(() -> conc.sync(() -> { })),
                    () -> conc.barrierAsyncAndWait(() -> conc.asyncAndWait(() -> { })))) {
                IllegalStateException inBarrier = null;
                try {
                    fromBarrier.run();
                } catch (IllegalStateException e) {
                    inBarrier = e;
                }
                check(inBarrier != null && inBarrier.getMessage().contains("from a barrier task of DispatchQueue[probe.aaw.conc]"),
                        "a sync form from a barrier onto its own concurrent queue: " + inBarrier);
            }
            check(conc.sync(() -> conc.asyncAndWait(() -> 7)) == 7, "asyncAndWait from a plain sync task of the queue");
        }
    }

    private static void queueFramesOnVirtualThread() throws Exception {
        DispatchSpecificKey<String> key = new DispatchSpecificKey<>();
        try (DispatchQueue outer = DispatchQueue.createSerial("probe.frames.outer");
             DispatchQueue target = DispatchQueue.createSerial("probe.frames.target");
             DispatchQueue inner = DispatchQueue.createSerial("probe.frames.inner");
             DispatchQueue conc = DispatchQueue.createConcurrent("probe.frames.conc")) {
            inner.setTargetQueue(target);
            target.setSpecific(key, "target's");
            outer.setSpecific(key, "outer's");
            check(fails(outer::assertQueue), "assertQueue passed outside any queue");
            outer.assertQueueNot();
            check(DispatchQueue.getCurrentSpecific(key) == null, "a specific outside any queue");
            outer.sync(() -> {
                outer.assertQueue();
                outer.assertQueueBarrier(); // serial
                check(fails(outer::assertQueueNot), "assertQueueNot passed on its queue");
                check("outer's".equals(DispatchQueue.getCurrentSpecific(key)), "outer's specific");
                inner.sync(() -> {
                    inner.assertQueue();
                    target.assertQueue(); // a target of the current queue
                    outer.assertQueue(); // the queue the sync was called from
                    check(fails(conc::assertQueue), "assertQueue of an unrelated queue passed");
                    check("target's".equals(DispatchQueue.getCurrentSpecific(key)), "the target's specific, not the outer's");
                });
            });
            conc.sync(() -> check(fails(conc::assertQueueBarrier), "a plain sync of a concurrent queue was a barrier"));
            conc.barrierSync(conc::assertQueueBarrier);
            conc.barrierAsyncAndWait(conc::assertQueueBarrier);
            DispatchQueue.global().sync(() -> DispatchQueue.global().assertQueue());
        }
    }

    private static boolean fails(Runnable assertion) {
        try {
            assertion.run();
            return false;
        } catch (IllegalStateException expected) {
            return true;
        }
    }

    /**
     * 2,000 virtual threads each wait for a work item (FOREVER, a Duration, a DispatchTime) that runs only once
     * all of them wait; then timed waits on an item that never runs time out.
     */
    private static String workItemWait(long[] elapsed) throws Exception {
        try (DispatchQueue q = DispatchQueue.createConcurrent("probe.items")) {
            List<DispatchWorkItem> items = new ArrayList<>();
            AtomicInteger ran = new AtomicInteger();
            CountDownLatch waiting = new CountDownLatch(WAITERS);
            CountDownLatch passed = new CountDownLatch(WAITERS);
            for (int i = 0; i < WAITERS; i++) {
                DispatchWorkItem item = DispatchWorkItem.create(ran::incrementAndGet);
                items.add(item);
                int n = i;
                startVirtual(() -> {
                    waiting.countDown();
                    boolean ok = switch (n % 3) {
                        case 0 -> item.wait(DispatchTime.FOREVER);
                        case 1 -> item.wait(Duration.ofSeconds(HANG_S));
                        default -> item.wait(DispatchTime.fromNow(HANG_S, TimeUnit.SECONDS));
                    };
                    if (ok && ran.get() > 0) {
                        passed.countDown();
                    }
                });
            }
            check(waiting.await(HANG_S, TimeUnit.SECONDS), "waiters did not start");
            check(passed.getCount() == WAITERS, "a wait returned before its item ran");
            long start = System.nanoTime();
            for (DispatchWorkItem item : items) {
                startVirtual(() -> q.async(item));
            }
            check(passed.await(HANG_S, TimeUnit.SECONDS), (WAITERS - passed.getCount()) + " of " + WAITERS + " passed");
            elapsed[0] = System.nanoTime() - start;
            items.forEach(DispatchWorkItem::close);
            try (DispatchWorkItem never = DispatchWorkItem.create(() -> { })) {
                AtomicReference<String> timed = new AtomicReference<>();
                CountDownLatch t = new CountDownLatch(1);
                startVirtual(() -> {
                    long t0 = System.nanoTime();
                    boolean a = never.wait(Duration.ofMillis(50));
                    boolean b = never.wait(DispatchTime.fromNow(50, TimeUnit.MILLISECONDS));
                    timed.set(a || b ? "a timed wait on an item that never ran returned true"
                            : System.nanoTime() - t0 < TimeUnit.MILLISECONDS.toNanos(100) ? "timed out early" : null);
                    t.countDown();
                });
                check(t.await(HANG_S, TimeUnit.SECONDS), "timed wait hung");
                check(timed.get() == null, timed.get());
            }
            return WAITERS + " waiters passed";
        }
    }

    /**
     * 20 virtual threads sync a sleeping work item onto a concurrent queue and 20 perform one, all at once: each
     * item's task waits until all 40 are inside (2 pinned carriers would allow 2).
     */
    private static String workItemSync(long[] elapsed) throws Exception {
        int callers = 40;
        try (DispatchQueue q = DispatchQueue.createConcurrent("probe.items.sync")) {
            CountDownLatch allInside = new CountDownLatch(callers);
            CountDownLatch done = new CountDownLatch(callers);
            AtomicInteger metAll = new AtomicInteger();
            AtomicInteger ranOnCaller = new AtomicInteger();
            long start = System.nanoTime();
            for (int i = 0; i < callers; i++) {
                boolean viaSync = i % 2 == 0;
                startVirtual(() -> {
                    try (DispatchWorkItem item = DispatchWorkItem.create(
                            meetAll(allInside, metAll, ranOnCaller, Thread.currentThread()))) {
                        if (viaSync) {
                            q.sync(item);
                        } else {
                            item.perform();
                        }
                    }
                    done.countDown();
                });
            }
            check(done.await(2 * HANG_S, TimeUnit.SECONDS), (callers - done.getCount()) + " of " + callers + " returned");
            elapsed[0] = System.nanoTime() - start;
            check(metAll.get() == callers, "only " + (callers - allInside.getCount()) + " of " + callers
                    + " item tasks were inside at once (carriers blocked?)");
            check(ranOnCaller.get() == callers, ranOnCaller.get() + " of " + callers + " ran on their virtual thread");
            return callers + " sync/perform of 100 ms items, all inside at once, on their callers";
        }
    }

    /** A work item's sync from a virtual thread: FIFO, isCurrent, rethrow, cancelled items skip the task. */
    private static String workItemSemantics(long[] elapsed) throws Exception {
        AtomicReference<String> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        long start = System.nanoTime();
        startVirtual(() -> {
            try (DispatchQueue serial = DispatchQueue.createSerial("probe.items.serial")) {
                List<Integer> order = new ArrayList<>();
                CountDownLatch release = new CountDownLatch(1);
                serial.async(() -> await(release));
                for (int i = 0; i < 50; i++) {
                    int n = i;
                    serial.async(() -> order.add(n));
                }
                startVirtual(release::countDown);
                AtomicInteger seen = new AtomicInteger(-1);
                AtomicReference<Boolean> current = new AtomicReference<>();
                try (DispatchWorkItem item = DispatchWorkItem.create(() -> {
                    seen.set(order.size());
                    current.set(serial.isCurrent());
                })) {
                    serial.sync(item);
                }
                check(seen.get() == 50, "FIFO: the item ran after " + seen.get() + " of the 50 tasks ahead of it");
                check(Boolean.TRUE.equals(current.get()), "isCurrent() inside a sync item: " + current.get());
                try (DispatchWorkItem failing = DispatchWorkItem.create(() -> {
                    throw new IllegalArgumentException("from the item");
                })) {
                    serial.sync(failing);
                    check(false, "the item's exception was not rethrown");
                } catch (IllegalArgumentException e) {
                    check(e.getMessage().equals("from the item"), e.toString());
                }
                AtomicInteger ran = new AtomicInteger();
                try (DispatchWorkItem cancelled = DispatchWorkItem.create(ran::incrementAndGet)) {
                    cancelled.cancel();
                    serial.sync(cancelled);
                    cancelled.perform();
                }
                check(ran.get() == 0, "a cancelled item ran on a virtual thread");
                // A work item run as a barrier holds its queue alone, as a barrier task does: a sync from it is
                // refused (a holder thread would wait in libdispatch for that barrier forever).
                try (DispatchQueue conc = DispatchQueue.createConcurrent("probe.items.conc");
                     DispatchWorkItem plain = DispatchWorkItem.create(() -> conc.sync(() -> { }));
                     DispatchWorkItem flagged = DispatchWorkItem.create(DispatchWorkItem.BARRIER,
                             () -> conc.sync(() -> { }))) {
                    for (Runnable fromBarrier : List.<Runnable>of(() -> conc.barrierSync(plain), () -> conc.sync(flagged))) {
                        IllegalStateException inBarrier = null;
                        try {
                            fromBarrier.run();
                        } catch (IllegalStateException e) {
                            inBarrier = e;
                        }
                        check(inBarrier != null && inBarrier.getMessage().contains(
                                "from a barrier task of DispatchQueue[probe.items.conc]"),
                                "a sync from a barrier work item onto its own concurrent queue: " + inBarrier);
                    }
                }
            } catch (Throwable t) {
                failure.set(t.toString());
            } finally {
                done.countDown();
            }
        });
        check(done.await(HANG_S, TimeUnit.SECONDS), "hung");
        elapsed[0] = System.nanoTime() - start;
        check(failure.get() == null, String.valueOf(failure.get()));
        return "FIFO, isCurrent, rethrow, cancel, barrier items as on a platform thread";
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }

    private static MethodHandle startVirtual() {
        try {
            return MethodHandles.publicLookup().findStatic(Thread.class, "startVirtualThread",
                    MethodType.methodType(Thread.class, Runnable.class));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("virtual threads need Java 21+, this is " + Runtime.version(), e);
        }
    }

    private static Thread startVirtual(Runnable r) {
        try {
            return (Thread) START_VIRTUAL.invokeExact(r);
        } catch (Throwable t) {
            throw new IllegalStateException("Thread.startVirtualThread failed", t);
        }
    }

    private static String threadDump() {
        StringBuilder sb = new StringBuilder();
        Thread.getAllStackTraces().forEach((t, stack) -> {
            if (stack.length > 0 && (t.getName().contains("Carrier") || t.getName().startsWith("ForkJoinPool")
                    || t.getName().startsWith("probe-"))) {
                sb.append("  ").append(t).append('\n');
                for (int i = 0; i < Math.min(6, stack.length); i++) {
                    sb.append("      at ").append(stack[i]).append('\n');
                }
            }
        });
        return sb.toString();
    }
}
