package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ChildJvm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A hostile user of the issue-17 APIs (work items, workloops, the main queue, specifics, contexts, async-and-wait),
 * in child JVMs since each of these once aborted or could abort the process: what libdispatch aborts on is an
 * exception naming the call and the rule, and an application that exits with all of them live exits with its code.
 */
class HostileApiTest {
    private static final List<String> MISUSE = List.of(
            "a sync form from a barrier onto its own concurrent queue is refused",
            "a sync form from a barrier onto a queue targeting its queue is refused",
            "a sync form from a plain task of a concurrent queue still runs",
            "asyncAndWait onto a workloop from its own task is refused",
            "a sync onto the serial queue an enclosing sync was called from is refused",
            "the main queue refuses a context and a finalizer and registers nothing",
            "a work item waited for by two threads: the second is refused",
            "every execution after a wait is refused and nothing runs",
            "stopMainQueue from another thread, before and during a run",
            "setSpecific with a null value removes nothing and registers nothing");

    private static void assertPassed(ChildJvm.Result r, List<String> checks) {
        assertFalse(r.output().contains("FAIL "), r.output());
        for (String check : checks) {
            assertTrue(r.output().contains("ok " + check + "\n"), "'" + check + "' did not pass:\n" + r.output());
        }
        assertEquals(0, r.exitCode(), r.output());
    }

    @Test
    void whatLibdispatchAbortsOnIsAnExceptionNamingTheRule(@TempDir Path home) throws Exception {
        assertPassed(ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path")),
                Child.class.getName(), "misuse"), MISUSE);
    }

    private static final List<String> BARRIER_ITEM = List.of(
            "a sync form from a barrier work item onto its own concurrent queue is refused",
            "a sync form from a barrier work item onto a queue targeting its queue is refused",
            "a barrier work item passes assertQueueBarrier",
            "a sync form from a plain or directly performed work item of a concurrent queue still runs");

    /**
     * A work item running as a barrier (the BARRIER flag with async, sync or a group, or barrierAsync/barrierSync
     * of a plain item) is refused the sync forms onto its queue as a barrier task is; libdispatch: SIGILL.
     */
    @Test
    void aBarrierWorkItemIsRefusedTheSyncFormsOntoItsQueue(@TempDir Path home) throws Exception {
        assertPassed(ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path")),
                Child.class.getName(), "barrier-item"), BARRIER_ITEM);
    }

    /** System.exit from the main thread, a workloop task or a main-queue task, and main returning, with all live. */
    @ParameterizedTest
    @CsvSource({"exit, 7", "exit-from-workloop, 9", "exit-from-main-queue, 5", "return, 0", "return-after-run, 0"})
    void anAppThatExitsWithWorkLiveExitsWithItsCode(String how, int code, @TempDir Path home) throws Exception {
        ChildJvm.Result r = ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path")),
                Child.class.getName(), how);
        assertTrue(r.output().contains("live: "), r.output());
        assertEquals(code, r.exitCode(), r.output());
        assertFalse(r.output().contains("A fatal error"), r.output());
    }

    /** The child JVM: its main thread loads JDispatch first, so it owns the main queue. */
    public static final class Child {
        private static final long WAIT_S = 30;
        private static final List<String> FAILURES = Collections.synchronizedList(new ArrayList<>());

        private Child() {}

        public static void main(String[] args) throws Exception {
            DispatchQueue main = DispatchQueue.main(); // loads JDispatch: this thread owns the main queue
            if (args[0].equals("misuse")) {
                misuse(main);
                System.exit(FAILURES.isEmpty() ? 0 : 1);
            }
            if (args[0].equals("barrier-item")) {
                fromABarrierWorkItem();
                System.exit(FAILURES.isEmpty() ? 0 : 1);
            }
            exitWithWorkLive(args[0], main);
        }

        private static void check(String name, boolean ok, String why) {
            System.out.println((ok ? "ok " : "FAIL ") + name + (ok ? "" : ": " + why));
            if (!ok) {
                FAILURES.add(name);
            }
        }

        /** What {@code call} threw, or null. */
        private static Throwable thrown(Runnable call) {
            try {
                call.run();
                return null;
            } catch (Throwable t) {
                return t;
            }
        }

        private static boolean refused(Throwable t, String... words) {
            if (!(t instanceof IllegalStateException)) {
                return false;
            }
            for (String w : words) {
                if (!t.getMessage().contains(w)) {
                    return false;
                }
            }
            return true;
        }

        private static void misuse(DispatchQueue main) throws Exception {
            fromABarrier();
            workloopSelfWait();
            nestedSerial();
            mainQueueContext(main);
            itemWaits();
            stopFromAnotherThread();
            nullSpecific();
        }

        /**
         * A barrier holds its concurrent queue alone: dispatch_sync, dispatch_async_and_wait and dispatch_apply onto
         * it, or onto a queue targeting it, from the barrier abort the process (SIGILL in __DISPATCH_WAIT_FOR_QUEUE__),
         * whichever barrier form runs it (barrierAsync on a worker, barrierSync and barrierAsyncAndWait on the caller).
         */
        private static void fromABarrier() throws Exception {
            try (DispatchQueue c = DispatchQueue.createConcurrent("hostile.c");
                 DispatchQueue child = DispatchQueue.createConcurrent("hostile.child");
                 DispatchQueue serialChild = DispatchQueue.createSerial("hostile.serial-child")) {
                child.setTargetQueue(c);
                serialChild.setTargetQueue(c);
                List<String> wrong = Collections.synchronizedList(new ArrayList<>());
                List<String> wrongTarget = Collections.synchronizedList(new ArrayList<>());
                List<Consumer<Runnable>> barriers = List.of(c::barrierAsync, task -> c.barrierSync(task),
                        task -> c.barrierAsyncAndWait(task));
                AtomicInteger globalRan = new AtomicInteger();
                for (int form = 0; form < barriers.size(); form++) {
                    CountDownLatch done = new CountDownLatch(1);
                    int f = form;
                    barriers.get(form).accept(() -> {
                        try {
                            expect(wrong, f, "dispatch_sync", () -> c.sync(() -> { }), "hostile.c]");
                            expect(wrong, f, "dispatch_sync", () -> c.sync(() -> 1), "hostile.c]");
                            expect(wrong, f, "dispatch_async_and_wait", () -> c.asyncAndWait(() -> { }), "hostile.c]");
                            expect(wrong, f, "dispatch_apply", () -> c.apply(2, i -> { }), "hostile.c]");
                            expect(wrong, f, "dispatch_sync", () -> {
                                try (DispatchWorkItem item = DispatchWorkItem.create(() -> { })) {
                                    c.sync(item);
                                }
                            }, "hostile.c]");
                            expect(wrongTarget, f, "dispatch_sync", () -> child.sync(() -> { }), "targets DispatchQueue[hostile.c]");
                            expect(wrongTarget, f, "dispatch_async_and_wait", () -> child.asyncAndWait(() -> { }),
                                    "targets DispatchQueue[hostile.c]");
                            expect(wrongTarget, f, "dispatch_sync", () -> serialChild.sync(() -> { }),
                                    "targets DispatchQueue[hostile.c]");
                            DispatchQueue.global().sync(globalRan::incrementAndGet); // not held by the barrier
                        } finally {
                            done.countDown();
                        }
                    });
                    if (!done.await(WAIT_S, TimeUnit.SECONDS)) {
                        wrong.add("barrier form " + form + " never finished");
                    }
                }
                check("a sync form from a barrier onto its own concurrent queue is refused", wrong.isEmpty()
                        && globalRan.get() == 3, wrong + ", global syncs " + globalRan.get());
                check("a sync form from a barrier onto a queue targeting its queue is refused", wrongTarget.isEmpty(),
                        wrongTarget.toString());

                AtomicInteger ran = new AtomicInteger();
                CountDownLatch plain = new CountDownLatch(1);
                AtomicReference<Throwable> failure = new AtomicReference<>();
                c.async(() -> {
                    try {
                        c.sync(ran::incrementAndGet);
                        c.asyncAndWait(ran::incrementAndGet);
                        c.apply(2, i -> ran.incrementAndGet());
                        child.sync(ran::incrementAndGet);
                    } catch (Throwable t) {
                        failure.set(t);
                    } finally {
                        plain.countDown();
                    }
                });
                check("a sync form from a plain task of a concurrent queue still runs",
                        plain.await(WAIT_S, TimeUnit.SECONDS) && ran.get() == 5 && failure.get() == null,
                        ran.get() + " of 5 ran, " + failure.get());
            }
        }

        /**
         * The same from a work item run as a barrier of the concurrent queue: its body (a block libdispatch runs)
         * must record the barrier as a barrier task's trampoline does. Each form is one submission of a new item.
         */
        private static void fromABarrierWorkItem() throws Exception {
            try (DispatchQueue c = DispatchQueue.createConcurrent("hostile.c");
                 DispatchQueue child = DispatchQueue.createConcurrent("hostile.child");
                 DispatchGroup g = DispatchGroup.create()) {
                child.setTargetQueue(c);
                List<String> wrong = Collections.synchronizedList(new ArrayList<>());
                List<String> wrongTarget = Collections.synchronizedList(new ArrayList<>());
                List<String> notBarrier = Collections.synchronizedList(new ArrayList<>());
                List<String> forms = List.of("async(BARRIER item)", "barrierAsync(item)", "barrierSync(item)",
                        "sync(BARRIER item)", "group async(BARRIER item)");
                for (int form = 0; form < forms.size(); form++) {
                    CountDownLatch done = new CountDownLatch(1);
                    int f = form;
                    Runnable body = () -> {
                        try {
                            Throwable t = thrown(c::assertQueueBarrier);
                            if (t != null) {
                                notBarrier.add(forms.get(f) + ": " + t);
                            }
                            expect(wrong, f, "dispatch_sync", () -> c.sync(() -> { }), "hostile.c]");
                            expect(wrong, f, "dispatch_sync", () -> c.sync(() -> 1), "hostile.c]");
                            expect(wrong, f, "dispatch_async_and_wait", () -> c.asyncAndWait(() -> { }), "hostile.c]");
                            expect(wrong, f, "dispatch_apply", () -> c.apply(2, i -> { }), "hostile.c]");
                            expect(wrong, f, "dispatch_sync", () -> {
                                try (DispatchWorkItem inner = DispatchWorkItem.create(() -> { })) {
                                    c.sync(inner);
                                }
                            }, "hostile.c]");
                            expect(wrongTarget, f, "dispatch_sync", () -> child.sync(() -> { }),
                                    "targets DispatchQueue[hostile.c]");
                        } finally {
                            done.countDown();
                        }
                    };
                    boolean flagged = form == 0 || form >= 3;
                    try (DispatchWorkItem item = DispatchWorkItem.create(flagged ? DispatchWorkItem.BARRIER : 0, body)) {
                        switch (form) {
                            case 0 -> c.async(item);
                            case 1 -> c.barrierAsync(item);
                            case 2 -> c.barrierSync(item);
                            case 3 -> c.sync(item);
                            default -> g.async(c, item);
                        }
                        if (!done.await(WAIT_S, TimeUnit.SECONDS)) {
                            wrong.add(forms.get(form) + " never finished");
                        }
                    }
                }
                check("a sync form from a barrier work item onto its own concurrent queue is refused", wrong.isEmpty(),
                        wrong.toString());
                check("a sync form from a barrier work item onto a queue targeting its queue is refused",
                        wrongTarget.isEmpty(), wrongTarget.toString());
                check("a barrier work item passes assertQueueBarrier", notBarrier.isEmpty(), notBarrier.toString());

                // Not barriers: a plain item submitted with async, and a BARRIER item performed from a plain task.
                AtomicInteger ran = new AtomicInteger();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                CountDownLatch plain = new CountDownLatch(1);
                Runnable syncs = () -> {
                    c.sync(ran::incrementAndGet);
                    c.apply(2, i -> ran.incrementAndGet());
                    child.sync(ran::incrementAndGet);
                };
                try (DispatchWorkItem item = DispatchWorkItem.create(syncs);
                     DispatchWorkItem performed = DispatchWorkItem.create(DispatchWorkItem.BARRIER, syncs)) {
                    c.async(item);
                    c.async(() -> {
                        try {
                            item.wait(DispatchTime.FOREVER);
                            performed.perform();
                            c.sync(ran::incrementAndGet); // after a barrier item's perform: still not a barrier
                        } catch (Throwable t) {
                            failure.set(t);
                        } finally {
                            plain.countDown();
                        }
                    });
                    check("a sync form from a plain or directly performed work item of a concurrent queue still runs",
                            plain.await(WAIT_S, TimeUnit.SECONDS) && ran.get() == 9 && failure.get() == null,
                            ran.get() + " of 9 ran, " + failure.get());
                }
            }
        }

        private static void expect(List<String> wrong, int form, String call, Runnable r, String queue) {
            Throwable t = thrown(r);
            if (!refused(t, call + " onto", queue, "barrier task of DispatchQueue[hostile.c]", "wait for itself")) {
                wrong.add("form " + form + " " + call + ": " + t);
            }
        }

        /** A workloop runs one item at a time: dispatch_async_and_wait onto it from its own task aborts (SIGILL). */
        private static void workloopSelfWait() throws Exception {
            try (DispatchWorkloop w = DispatchWorkloop.create("hostile.wl")) {
                AtomicReference<Throwable> plain = new AtomicReference<>();
                AtomicReference<Throwable> barrier = new AtomicReference<>();
                CountDownLatch done = new CountDownLatch(2);
                w.async(() -> {
                    plain.set(thrown(() -> w.asyncAndWait(() -> { })));
                    done.countDown();
                });
                w.barrierAsync(() -> {
                    barrier.set(thrown(() -> w.asyncAndWait(() -> 1)));
                    done.countDown();
                });
                boolean finished = done.await(WAIT_S, TimeUnit.SECONDS);
                check("asyncAndWait onto a workloop from its own task is refused", finished
                        && refused(plain.get(), "dispatch_async_and_wait onto DispatchQueue[hostile.wl]", "wait for itself")
                        && refused(barrier.get(), "dispatch_async_and_wait onto DispatchQueue[hostile.wl]",
                        "wait for itself") && w.asyncAndWait(() -> 42) == 42, plain.get() + " / " + barrier.get());
            }
        }

        /**
         * A task of s1 that syncs onto s2 still holds s1: a sync onto s1 from inside would wait for itself (the
         * Java FIFO of s1 never reached it: a hang; libdispatch aborts). Other queues stay allowed.
         */
        private static void nestedSerial() throws Exception {
            try (DispatchQueue s1 = DispatchQueue.createSerial("hostile.s1");
                 DispatchQueue s2 = DispatchQueue.createSerial("hostile.s2");
                 DispatchQueue s3 = DispatchQueue.createSerial("hostile.s3")) {
                List<Throwable> got = Collections.synchronizedList(new ArrayList<>());
                AtomicInteger ran = new AtomicInteger();
                CountDownLatch done = new CountDownLatch(1);
                s1.async(() -> {
                    try {
                        s2.sync(() -> {
                            got.add(thrown(() -> s1.sync(() -> { })));
                            got.add(thrown(() -> s1.asyncAndWait(() -> 1)));
                            got.add(thrown(() -> s1.apply(2, i -> { })));
                            s3.sync(() -> {
                                got.add(thrown(() -> s1.barrierSync(() -> { })));
                                got.add(thrown(() -> s2.sync(() -> { })));
                                ran.incrementAndGet();
                            });
                        });
                        s2.sync(ran::incrementAndGet); // s2 is free again
                    } finally {
                        done.countDown();
                    }
                });
                boolean finished = done.await(WAIT_S, TimeUnit.SECONDS);
                boolean all = got.size() == 5;
                for (int i = 0; all && i < got.size(); i++) {
                    all = refused(got.get(i), "onto DispatchQueue[hostile.s" + (i == 4 ? 2 : 1) + "]", "wait for itself");
                }
                check("a sync onto the serial queue an enclosing sync was called from is refused", finished && all
                        && ran.get() == 2, got + ", ran " + ran.get());
            }
        }

        /** libdispatch ignores dispatch_set_context on the main queue: a held context would be an id for nothing. */
        private static void mainQueueContext(DispatchQueue main) {
            int before = Handles.size();
            Throwable context = thrown(() -> main.setContext("context"));
            Throwable finalizer = thrown(() -> main.setFinalizer(() -> { }));
            check("the main queue refuses a context and a finalizer and registers nothing",
                    refused(context, "dispatch_set_context on DispatchQueue[com.apple.main-thread]", "ignores")
                            && refused(finalizer, "dispatch_set_finalizer_f on DispatchQueue[com.apple.main-thread]")
                            && main.getContext() == null && Handles.size() == before,
                    context + " / " + finalizer + ", context " + main.getContext() + ", handles " + before + " -> "
                            + Handles.size());
        }

        /** Two threads waiting for one item: libdispatch aborts on the second dispatch_block_wait. */
        private static void itemWaits() throws Exception {
            try (DispatchQueue q = DispatchQueue.createSerial("hostile.items")) {
                CountDownLatch release = new CountDownLatch(1);
                AtomicInteger runs = new AtomicInteger();
                DispatchWorkItem item = DispatchWorkItem.create(() -> {
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    runs.incrementAndGet();
                });
                q.async(item);
                AtomicReference<Boolean> first = new AtomicReference<>();
                Thread waiter = new Thread(() -> {
                    while (first.get() == null) { // refused while this thread's wait(NOW) below is in progress
                        Throwable t = thrown(() -> first.set(item.wait(DispatchTime.FOREVER)));
                        if (t != null && !refused(t, "being waited for by another thread")) {
                            first.set(false);
                        }
                    }
                });
                waiter.start();
                // Until the waiter is inside its wait, a wait(NOW) of this thread times out (which does not count).
                Throwable second = null;
                for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S); second == null
                        && System.nanoTime() < end; ) {
                    second = thrown(() -> {
                        if (item.wait(DispatchTime.NOW)) {
                            throw new AssertionError("completed before its release");
                        }
                    });
                    Thread.sleep(1);
                }
                release.countDown();
                waiter.join(TimeUnit.SECONDS.toMillis(WAIT_S));
                Throwable third = thrown(() -> item.wait(Duration.ZERO));
                check("a work item waited for by two threads: the second is refused", refused(second, "dispatch_block_wait",
                        "being waited for by another thread", "only once") && Boolean.TRUE.equals(first.get())
                        && refused(third, "waited for already"), second + ", first " + first.get() + ", third " + third);

                List<String> wrong = new ArrayList<>();
                try (DispatchGroup g = DispatchGroup.create()) {
                    List<Runnable> executions = List.of(item::perform, () -> q.sync(item), () -> q.async(item),
                            () -> q.barrierAsync(item), () -> q.after(DispatchTime.NOW, item), () -> g.async(q, item),
                            () -> g.notify(q, item));
                    for (Runnable execution : executions) {
                        Throwable t = thrown(execution);
                        if (!refused(t, "it was executed already and is waited for", "only once")) {
                            wrong.add(String.valueOf(t));
                        }
                    }
                    q.sync(() -> { });
                    g.wait(WAIT_S, TimeUnit.SECONDS);
                }
                check("every execution after a wait is refused and nothing runs", wrong.isEmpty() && runs.get() == 1,
                        wrong + ", runs " + runs.get());
                item.close();
            }
        }

        /** stopMainQueue is for any thread: before the run it makes the next run drain once and return. */
        private static void stopFromAnotherThread() throws Exception {
            AtomicInteger ran = new AtomicInteger();
            DispatchQueue.main().async(ran::incrementAndGet);
            Thread before = new Thread(Dispatch::stopMainQueue);
            before.start();
            before.join();
            Dispatch.runMainQueue(); // returns: the stop came first
            AtomicReference<Throwable> stopFailure = new AtomicReference<>();
            DispatchQueue.main().async(() -> {
                ran.incrementAndGet();
                new Thread(() -> {
                    try {
                        Dispatch.stopMainQueue();
                    } catch (Throwable t) {
                        stopFailure.set(t);
                    }
                }).start();
            });
            Dispatch.runMainQueue(); // returns once the other thread's stop arrived
            AtomicReference<Throwable> drain = new AtomicReference<>();
            Thread other = new Thread(() -> drain.set(thrown(Dispatch::drainMainQueue)));
            other.start();
            other.join();
            check("stopMainQueue from another thread, before and during a run", ran.get() == 2 && stopFailure.get() == null
                    && refused(drain.get(), "drainMainQueue from Thread["), ran.get() + " ran, " + stopFailure.get()
                    + ", " + drain.get());
        }

        /** A null value is dispatch_queue_set_specific(NULL): it removes, on a key that holds nothing it does nothing. */
        private static void nullSpecific() throws InterruptedException {
            DispatchSpecificKey<String> key = new DispatchSpecificKey<>();
            try (DispatchQueue q = DispatchQueue.createSerial("hostile.specific")) {
                int before = Handles.size();
                q.setSpecific(key, null);
                q.setSpecific(key, null);
                int afterNulls = Handles.size();
                boolean empty = q.getSpecific(key) == null && q.sync(() -> DispatchQueue.getCurrentSpecific(key)) == null;
                q.setSpecific(key, "value");
                q.setSpecific(key, null);
                boolean removed = q.getSpecific(key) == null;
                // libdispatch runs the removed value's destructor on a global queue, a moment later
                for (long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
                     Handles.size() != before && System.nanoTime() < end; ) {
                    Thread.sleep(5);
                }
                check("setSpecific with a null value removes nothing and registers nothing", empty && removed
                        && afterNulls == before && Handles.size() == before, "handles " + before + " -> " + afterNulls
                        + " after the nulls, " + Handles.size() + " once the value was removed");
            }
        }

        /**
         * Leaves everything live: a workloop that resubmits itself, work items queued and due in an hour, main-queue
         * tasks never drained, concurrent tasks that spin and submit; then exits as {@code how} says.
         */
        private static void exitWithWorkLive(String how, DispatchQueue main) throws Exception {
            DispatchWorkloop w = DispatchWorkloop.create("hostile.exit.wl");
            AtomicLong spins = new AtomicLong();
            Runnable[] again = new Runnable[1];
            again[0] = () -> {
                spins.incrementAndGet();
                w.async(again[0]);
            };
            w.async(again[0]);
            DispatchQueue q = DispatchQueue.createSerial("hostile.exit.q");
            for (int i = 0; i < 100; i++) {
                DispatchWorkItem item = DispatchWorkItem.create(() -> spins.incrementAndGet());
                q.async(item);
                DispatchQueue.global().after(DispatchTime.fromNow(1, TimeUnit.HOURS), item);
            }
            DispatchWorkItem waited = DispatchWorkItem.create(() -> { });
            w.after(DispatchTime.fromNow(1, TimeUnit.HOURS), waited);
            Thread waiter = new Thread(() -> waited.wait(DispatchTime.FOREVER));
            waiter.setDaemon(true);
            waiter.start();
            for (int i = 0; i < 100; i++) {
                main.async(spins::incrementAndGet);
            }
            DispatchQueue c = DispatchQueue.createConcurrent("hostile.exit.c");
            for (int i = 0; i < 4; i++) {
                c.async(() -> {
                    while (true) {
                        DispatchQueue.global().async(spins::incrementAndGet);
                        Thread.onSpinWait();
                    }
                });
            }
            while (spins.get() < 1_000) {
                Thread.onSpinWait();
            }
            System.out.println("live: " + spins.get());
            switch (how) {
                case "exit" -> System.exit(7);
                case "exit-from-workloop" -> {
                    w.async(() -> System.exit(9));
                    Thread.sleep(TimeUnit.SECONDS.toMillis(WAIT_S));
                }
                case "exit-from-main-queue" -> {
                    main.async(() -> System.exit(5));
                    Dispatch.runMainQueue();
                }
                case "return" -> { }
                case "return-after-run" -> {
                    DispatchQueue.global().after(Duration.ofMillis(10), Dispatch::stopMainQueue);
                    Dispatch.runMainQueue();
                }
                default -> throw new IllegalArgumentException(how);
            }
        }
    }
}
