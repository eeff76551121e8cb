package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ChildJvm;
import io.jdispatch.testutil.HeapHog;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An exhausted heap neither kills nor wedges anything: each scenario runs in a child JVM with a 64 MB heap
 * that it fills on purpose (see {@link HeapHog}) at the worst moment, then frees; the child exits 0 when no
 * task was lost and every queue still runs. The serial collector keeps "the heap is full" exact.
 */
class OutOfMemoryTest {
    private static ChildJvm.Result child(Path home, String scenario) throws Exception {
        return ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path"), "-Xmx64m",
                "-XX:+UseSerialGC"), Child.class.getName(), scenario);
    }

    private static void assertPassed(ChildJvm.Result r) {
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("passed\n"), r.output());
        assertFalse(r.output().contains("Could not attach"), "JavaCPP dropped a callback: " + r.output());
    }

    /** No memory to register the drain when async must schedule it: the task still runs, so do later ones. */
    @ParameterizedTest
    @ValueSource(strings = {"schedule serial", "schedule global", "requeue suspended serial"})
    void noMemoryToScheduleADrainLosesNoTaskAndWedgesNoQueue(String scenario, @TempDir Path home) throws Exception {
        assertPassed(child(home, scenario));
    }

    /** A group async on a serial queue refused for want of memory leaves the group again: it still empties. */
    @Test
    void aGroupAsyncRefusedForWantOfMemoryLeavesTheGroup(@TempDir Path home) throws Exception {
        assertPassed(child(home, "group async"));
    }

    /** A libdispatch thread that cannot attach to the JVM (no heap for its Thread) runs the task once it can. */
    @Test
    void aWorkerThatCannotAttachYetRunsTheTaskLater(@TempDir Path home) throws Exception {
        assertPassed(child(home, "attach"));
    }

    /** A Handles.register refused because the table cannot grow uses up no slot: the next one gets it. */
    @Test
    void aRegisterRefusedForWantOfMemoryLosesNoSlot(@TempDir Path home) throws Exception {
        assertPassed(child(home, "no slot lost"));
    }

    /** A data-queue handler delivered while the heap is full runs (its glue allocated a Pointer: abort). */
    @Test
    void aDataQueueHandlerDeliveredWhileTheHeapIsFullRuns(@TempDir Path home) throws Exception {
        assertPassed(child(home, "data queue"));
    }

    /**
     * Several threads submit to a serial, the global and a concurrent queue (and poke a source and a data
     * queue) while the heap is filled and freed, three times (the JVM's default collector): every task ran or
     * its async threw, and everything still runs afterwards.
     */
    @Test
    void heapExhaustionWhileSubmittingFromSeveralThreadsLosesNothing(@TempDir Path home) throws Exception {
        assertPassed(ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path"), "-Xmx64m"),
                Child.class.getName(), "exhaustion"));
    }

    /** The child JVM: one scenario, prints "passed" or "FAIL: why" (exit 1). */
    public static final class Child {
        private static final long WAIT_NS = TimeUnit.SECONDS.toNanos(30);
        private static final HeapHog HOG = new HeapHog();
        private static final AtomicInteger RAN = new AtomicInteger();
        private static final Runnable TASK = RAN::incrementAndGet;
        private static final AtomicInteger REPORTS = new AtomicInteger();
        /** The first throwable reported, printed with a failure: what wedged a queue, if anything was reported. */
        private static volatile Throwable firstReport;
        private static volatile String firstReportThread;
        private static final Object DUMMY = new Object();
        private static final long[] IDS = new long[1 << 16];
        private static int registered;

        private Child() {}

        public static void main(String[] args) throws Exception {
            Dispatch.setUncaughtExceptionHandler((t, e) -> {
                if (REPORTS.getAndIncrement() == 0) {
                    firstReportThread = t.getName();
                    firstReport = e;
                }
            });
            HeapHog.pause(1); // loads LockSupport now: under a full heap, loading it would fail
            String failure = switch (args[0]) {
                case "schedule serial" -> schedule(DispatchQueue.createSerial("oom"));
                case "schedule global" -> schedule(DispatchQueue.global());
                case "requeue suspended serial" -> requeueSuspended();
                case "group async" -> groupAsync();
                case "attach" -> attach();
                case "data queue" -> dataQueue();
                case "no slot lost" -> noSlotLost();
                case "exhaustion" -> exhaustion();
                default -> "unknown scenario " + args[0];
            };
            if (firstReport != null) { // tasks here never throw: a report is the library's own failure
                System.out.println(REPORTS.get() + " reports, the first on " + firstReportThread + ":");
                firstReport.printStackTrace(System.out);
                if (failure == null) {
                    failure = REPORTS.get() + " reports from the library (the tasks here never throw)";
                }
            }
            System.out.println(failure == null ? "passed" : "FAIL: " + failure);
            System.exit(failure == null ? 0 : 1);
        }

        /** Waits (without allocating) until RAN reaches n; false after 30 s. */
        private static boolean ran(int n) {
            long end = System.nanoTime() + WAIT_NS;
            while (RAN.get() < n && System.nanoTime() < end) {
                LockSupport.parkNanos(1_000_000);
            }
            return RAN.get() >= n;
        }

        /**
         * Fills the heap, then takes every Handles slot that needs no memory, then gives back just enough for a
         * queue node: the next Handles.register must grow the table and cannot.
         */
        private static String exhaustHandles() {
            for (int attempt = 0; attempt < 5; attempt++) {
                HOG.fill();
                try {
                    while (registered < IDS.length) {
                        IDS[registered] = Handles.register(DUMMY);
                        registered++;
                    }
                    return "Handles.register never ran out of memory";
                } catch (OutOfMemoryError full) {
                    // the free slots are all taken: the next register grows the table
                }
                HOG.release(4096);
                if (HeapHog.cannotAllocate(16 * 1024)) { // a Handles chunk starts with a 16 KiB array
                    return null;
                }
            }
            return "could not leave the heap with a few KiB free";
        }

        private static void freeAll() {
            HOG.releaseAll();
            for (int i = 0; i < registered; i++) {
                Handles.remove(IDS[i]);
            }
            registered = 0;
        }

        private static String noSlotLost() {
            Handles.remove(Handles.register(DUMMY)); // initializes Handles while there is memory for it
            String setup = exhaustHandles();
            if (setup != null || registered == 0) {
                freeAll();
                return setup != null ? setup : "the full heap left no slot to take";
            }
            long last = IDS[registered - 1]; // the last fresh slot: the free list was empty by then
            String refused = "register found memory for a new chunk";
            try {
                IDS[registered] = Handles.register(DUMMY);
                registered++;
            } catch (OutOfMemoryError expected) {
                refused = null;
            }
            HOG.releaseAll();
            long next = Handles.register(DUMMY);
            IDS[registered++] = next;
            freeAll();
            if (refused != null) {
                return refused;
            }
            // Never-used slots all get generation 1, so consecutive fresh slots have consecutive ids.
            return next == last + 1 ? null : "after refused registers, the next fresh id is " + next + ", not "
                    + (last + 1) + ": " + (next - last - 1) + " slot(s) lost";
        }

        private static String schedule(DispatchQueue q) {
            q.async(TASK); // warms the path up
            if (!ran(1)) {
                return "warm-up task did not run";
            }
            String setup = exhaustHandles();
            if (setup != null) {
                return setup;
            }
            Throwable refused = null;
            try {
                q.async(TASK); // a queue node fits; its drain's Handles id does not
            } catch (Throwable t) {
                refused = t;
            }
            HeapHog.pause(200);
            freeAll();
            q.async(TASK);
            if (!ran(refused == null ? 3 : 2)) {
                return "after async " + (refused == null ? "returned" : "threw " + refused) + " under a full heap, "
                        + "the queue ran " + (RAN.get() - 1) + " of the tasks submitted then and after";
            }
            return null;
        }

        private static String requeueSuspended() {
            DispatchQueue q = DispatchQueue.createSerial("requeue");
            AtomicInteger blocked = new AtomicInteger();
            AtomicInteger unblock = new AtomicInteger();
            q.async(() -> {
                blocked.set(1);
                while (unblock.get() == 0) {
                    LockSupport.parkNanos(1_000_000);
                }
            });
            while (blocked.get() == 0) {
                LockSupport.parkNanos(1_000_000);
            }
            q.async(TASK); // behind the blocker in the drain, which is scheduled: no scheduling needed
            q.suspend();   // the drain sees it after the blocker and must queue itself again: a new Handles id
            String setup = exhaustHandles();
            if (setup != null) {
                return setup;
            }
            unblock.set(1);
            HeapHog.pause(200);
            freeAll();
            q.resume();
            if (!ran(1)) {
                return "the task behind a drain that could not re-queue itself never ran (reports: " + REPORTS.get()
                        + ")";
            }
            q.async(TASK);
            return ran(2) ? null : "the queue ran nothing after its drain could not re-queue itself";
        }

        private static String groupAsync() {
            DispatchQueue q = DispatchQueue.createSerial("group");
            try (DispatchGroup g = DispatchGroup.create()) {
                g.async(q, TASK); // warms the path up
                if (!g.wait(30, TimeUnit.SECONDS) || !ran(1)) {
                    return "warm-up group task did not run";
                }
                HOG.fill();
                Throwable refused = null;
                try {
                    g.async(q, TASK); // enters the group, then cannot allocate the task's wrapper
                } catch (Throwable t) {
                    refused = t;
                }
                HOG.releaseAll();
                if (refused == null) {
                    return ran(2) ? null : "the group task accepted under a full heap never ran";
                }
                return g.wait(30, TimeUnit.SECONDS) ? null
                        : "the group never empties after an async refused with " + refused;
            }
        }

        private static String attach() {
            DispatchQueue q = DispatchQueue.createConcurrent("attach");
            q.sync(TASK); // runs on this thread (already attached): warms the callback path, attaches no worker
            DispatchQueue parked = DispatchQueue.createConcurrent("parked");
            parked.suspend();
            parked.async(() -> { }); // links jd_queue_async while no worker runs anything
            HOG.fill();
            q.async(TASK); // Handles has a slot without allocating; a new worker must attach, with no heap at all
            HeapHog.pause(1000);
            HOG.releaseAll();
            parked.resume();
            return ran(2) ? null : "the task given to a worker that could not attach to the JVM never ran";
        }

        private static String dataQueue() {
            DispatchQueue q = DispatchQueue.createSerial("data queue");
            try (IODataQueueDispatchSource dq = IODataQueueDispatchSource.create(4096, q)) {
                dq.setDataAvailableHandler(TASK);
                dq.sendDataAvailable();
                if (!ran(1)) {
                    return "warm-up handler did not run";
                }
                HOG.fill();
                dq.sendDataAvailable(); // the handler is delivered while not even an Object[1] fits
                HeapHog.pause(1000);
                HOG.releaseAll();
                return ran(2) ? null : "the handler delivered while the heap was full never ran";
            }
        }

        private static final int SUBMITTERS = 3;
        private static final int MAX_BACKLOG = 10_000;
        private static volatile boolean stop;

        private static String exhaustion() throws Exception {
            DispatchQueue[] queues = {DispatchQueue.createSerial("serial"), DispatchQueue.global(),
                    DispatchQueue.createConcurrent("concurrent")};
            AtomicInteger[] ran = new AtomicInteger[queues.length];
            Runnable[] tasks = new Runnable[queues.length];
            for (int k = 0; k < queues.length; k++) {
                AtomicInteger counter = ran[k] = new AtomicInteger();
                tasks[k] = counter::incrementAndGet;
            }
            long[][] accepted = new long[SUBMITTERS][queues.length];
            long[][] refused = new long[SUBMITTERS][queues.length];
            AtomicInteger events = new AtomicInteger();
            AtomicInteger handled = new AtomicInteger();
            DispatchSource source = DispatchSource.dataAdd(queues[0]);
            source.setEventHandler(events::incrementAndGet);
            source.resume();
            IODataQueueDispatchSource dq = IODataQueueDispatchSource.create(4096, queues[0]);
            dq.setDataAvailableHandler(handled::incrementAndGet);
            Thread[] submitters = new Thread[SUBMITTERS];
            for (int s = 0; s < SUBMITTERS; s++) {
                long[] mine = accepted[s];
                long[] mineRefused = refused[s];
                submitters[s] = new Thread(() -> {
                    for (int i = 0; !stop; i++) {
                        int k = i % queues.length;
                        if (mine[k] - ran[k].get() / SUBMITTERS > MAX_BACKLOG) {
                            LockSupport.parkNanos(100_000); // let the queues catch up: the backlog is heap too
                            continue;
                        }
                        try {
                            queues[k].async(tasks[k]);
                            mine[k]++;
                        } catch (Throwable refusedForWantOfMemory) {
                            mineRefused[k]++;
                            LockSupport.parkNanos(1_000_000); // as a client would: each failure costs full GCs
                        }
                        if (i % 256 == 0) {
                            try {
                                source.mergeData(1);
                                dq.sendDataAvailable();
                            } catch (Throwable ignored) {
                                // neither allocates; a refusal would show as no event below
                            }
                        }
                    }
                }, "submitter-" + s);
                submitters[s].start();
            }
            for (int round = 0; round < 3; round++) {
                HOG.fill();
                HeapHog.pause(1000);
                HOG.releaseAll();
                HeapHog.pause(300);
            }
            stop = true;
            for (Thread t : submitters) {
                t.join();
            }
            StringBuilder summary = new StringBuilder();
            String failure = null;
            for (int k = 0; k < queues.length; k++) {
                long ok = 0, no = 0;
                for (int s = 0; s < SUBMITTERS; s++) {
                    ok += accepted[s][k];
                    no += refused[s][k];
                }
                long end = System.nanoTime() + 2 * WAIT_NS;
                while (ran[k].get() < ok && System.nanoTime() < end) {
                    LockSupport.parkNanos(1_000_000);
                }
                summary.append(queues[k]).append(": accepted ").append(ok).append(", refused ").append(no)
                        .append(", ran ").append(ran[k].get()).append('\n');
                if (ran[k].get() != ok) {
                    failure = queues[k] + " ran " + ran[k].get() + " of the " + ok + " tasks it accepted";
                }
            }
            System.out.print(summary);
            if (failure != null) {
                return failure;
            }
            for (int k = 0; k < queues.length; k++) {
                int before = ran[k].get();
                queues[k].async(tasks[k]);
                long end = System.nanoTime() + WAIT_NS;
                while (ran[k].get() == before && System.nanoTime() < end) {
                    LockSupport.parkNanos(1_000_000);
                }
                if (ran[k].get() == before) {
                    return queues[k] + " runs nothing any more";
                }
            }
            int eventsBefore = events.get();
            int handledBefore = handled.get();
            source.mergeData(1);
            dq.sendDataAvailable();
            long end = System.nanoTime() + WAIT_NS;
            while ((events.get() == eventsBefore || handled.get() == handledBefore) && System.nanoTime() < end) {
                LockSupport.parkNanos(1_000_000);
            }
            if (events.get() == eventsBefore) {
                return "the source delivers no event any more";
            }
            if (handled.get() == handledBefore) {
                return "the data queue runs its handler no more";
            }
            source.cancel();
            source.close();
            dq.close();
            return null;
        }
    }
}
