package io.jdispatch;

import io.jdispatch.testutil.ChildJvm;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Whatever a callback throws (a RuntimeException, an OutOfMemoryError thrown or real, a real
 * StackOverflowError, or a throwable that cannot even be reported: the uncaught-exception handler fails and
 * printing it fails, as printing does when the heap is full), for every kind of callback: the JVM lives, the
 * throwable reaches {@link Dispatch#setUncaughtExceptionHandler} ({@code sync}, {@code asyncAndWait}, {@code perform}:
 * their caller), and the queue or source keeps running. Each kind of failure runs in its own child JVM with a 64 MB heap, so that a crash
 * fails the test.
 */
class CallbackFailureTest {
    enum Failure { RUNTIME, OOM_THROWN, OOM_REAL, SOE_REAL, UNREPORTABLE }

    @ParameterizedTest
    @EnumSource(Failure.class)
    void everyCallbackKindSurvivesWhatItThrows(Failure failure, @TempDir Path home) throws Exception {
        ChildJvm.Result r = ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path"), "-Xmx64m"),
                Child.class.getName(), failure.name());
        assertEquals(0, r.exitCode(), r.output());
        for (String kind : Child.KINDS) {
            assertTrue(r.output().contains("ok " + kind + "\n"), kind + " did not pass: " + r.output());
        }
        if (failure == Failure.UNREPORTABLE) {
            assertTrue(r.output().contains("jdispatch: could not report"), "the fallback line: " + r.output());
        }
    }

    /** Printing it fails (printStackTrace starts with toString). */
    static final class Unprintable extends RuntimeException {
        @Override
        public String toString() {
            throw new OutOfMemoryError("printing the throwable");
        }
    }

    /** The child JVM: runs every callback kind with one kind of failure, prints "ok KIND" or "FAIL KIND: why". */
    public static final class Child {
        static final List<String> KINDS = List.of("async serial", "async global", "async concurrent",
                "barrierAsync concurrent", "sync serial", "sync concurrent", "after serial", "after global",
                "group async serial", "group async concurrent", "group notify", "apply serial", "apply concurrent",
                "apply auto", "source event", "source registration", "source cancel", "data available",
                "data serviced", "data completion", "work item async serial", "work item async concurrent",
                "work item after", "work item group async", "work item notify", "work item sync", "work item perform",
                "io read handler", "io write handler", "io cleanup", "io barrier", "dispatch_read", "dispatch_write",
                "data destructor", "data apply",
                "work item notify task", "finalizer", "main queue task", "workloop async", "workloop work item",
                "asyncAndWait serial", "asyncAndWait concurrent", "asyncAndWait global", "asyncAndWait workloop",
                "barrierAsyncAndWait concurrent", "barrierAsyncAndWait workloop");
        private static final long WAIT_NS = TimeUnit.SECONDS.toNanos(30);
        // Set by the handler without allocating: a real OutOfMemoryError may still be filling the heap.
        private static final AtomicReference<Throwable> REPORTED = new AtomicReference<>();
        private static final AtomicInteger REPORTS = new AtomicInteger(); // every report, not only the first
        private static Failure failure;

        private Child() {}

        public static void main(String[] args) throws Exception {
            failure = Failure.valueOf(args[0]);
            Dispatch.setUncaughtExceptionHandler((thread, e) -> {
                REPORTED.compareAndSet(null, e);
                REPORTS.incrementAndGet();
                if (failure == Failure.UNREPORTABLE) {
                    throw new IllegalStateException("the uncaught-exception handler fails too");
                }
            });
            int failed = 0;
            for (String kind : KINDS) {
                System.out.println("start " + kind);
                REPORTED.set(null);
                try {
                    run(kind);
                    System.out.println("ok " + kind);
                } catch (Throwable e) { // an AssertionError, or the failure itself reaching the caller
                    failed++;
                    System.out.println("FAIL " + kind + ": " + (e instanceof AssertionError ? e.getMessage()
                            : "the caller got a " + e.getClass().getName()));
                }
            }
            System.exit(failed == 0 ? 0 : 1);
        }

        /** What every failing callback does. */
        static void fail() {
            switch (failure) {
                case RUNTIME -> throw new IllegalStateException("thrown by a callback");
                case OOM_THROWN -> throw new OutOfMemoryError("thrown by a callback");
                case OOM_REAL -> {
                    List<long[]> hog = new ArrayList<>();
                    while (true) {
                        hog.add(new long[1 << 16]);
                    }
                }
                case SOE_REAL -> recurse(0);
                case UNREPORTABLE -> throw new Unprintable();
                default -> throw new AssertionError(failure);
            }
        }

        private static long recurse(long depth) {
            return recurse(depth + 1) + 1;
        }

        private static boolean isExpected(Throwable t) {
            return switch (failure) {
                case RUNTIME -> t instanceof IllegalStateException;
                case OOM_THROWN, OOM_REAL -> t instanceof OutOfMemoryError;
                case SOE_REAL -> t instanceof StackOverflowError;
                case UNREPORTABLE -> t instanceof Unprintable;
            };
        }

        /** Waits for the failure to reach Dispatch's handler (polling: nothing here may allocate meanwhile). */
        private static void expectReported(String kind) {
            long end = System.nanoTime() + WAIT_NS;
            Throwable t;
            while ((t = REPORTED.get()) == null && System.nanoTime() < end) {
                LockSupport.parkNanos(1_000_000);
            }
            if (t == null) {
                throw new AssertionError(kind + ": nothing reached Dispatch's uncaught-exception handler in 30 s");
            }
            if (!isExpected(t)) {
                throw new AssertionError(kind + ": the handler got a " + t.getClass().getName() + ", not the "
                        + failure + " failure");
            }
        }

        private static void expectThrown(String kind, Runnable call) {
            try {
                call.run();
            } catch (Throwable t) {
                if (!isExpected(t)) {
                    throw new AssertionError(kind + ": the caller got a " + t.getClass().getName() + ", not the "
                            + failure + " failure");
                }
                return;
            }
            throw new AssertionError(kind + ": the caller got no exception");
        }

        private static void await(String kind, AtomicInteger counter, int value, String what) {
            long end = System.nanoTime() + WAIT_NS;
            while (counter.get() < value && System.nanoTime() < end) {
                LockSupport.parkNanos(1_000_000);
            }
            if (counter.get() < value) {
                throw new AssertionError(kind + ": " + what + " (" + counter.get() + " of " + value + " in 30 s)");
            }
        }

        /** A later task on the queue still runs. */
        private static void keepsRunning(String kind, DispatchQueue q) {
            AtomicInteger ran = new AtomicInteger();
            q.async(ran::incrementAndGet);
            await(kind, ran, 1, "a task submitted after the failure never ran");
        }

        /** Fails on its first run, counts the later ones. */
        private static Runnable failingOnce(AtomicInteger later) {
            AtomicBoolean first = new AtomicBoolean(true);
            return () -> {
                if (first.getAndSet(false)) {
                    fail();
                }
                later.incrementAndGet();
            };
        }

        private static void run(String kind) throws Exception {
            try (DispatchQueue serial = DispatchQueue.createSerial(kind);
                 DispatchQueue concurrent = DispatchQueue.createConcurrent(kind);
                 DispatchWorkloop workloop = DispatchWorkloop.create(kind)) {
                DispatchQueue global = DispatchQueue.global();
                switch (kind) {
                    case "async serial" -> asyncOn(kind, serial);
                    case "async global" -> asyncOn(kind, global);
                    case "async concurrent" -> asyncOn(kind, concurrent);
                    case "barrierAsync concurrent" -> {
                        concurrent.barrierAsync(Child::fail);
                        expectReported(kind);
                        keepsRunning(kind, concurrent);
                    }
                    case "sync serial" -> syncOn(kind, serial);
                    case "sync concurrent" -> syncOn(kind, concurrent);
                    case "after serial" -> afterOn(kind, serial);
                    case "after global" -> afterOn(kind, global);
                    case "group async serial" -> groupAsyncOn(kind, serial);
                    case "group async concurrent" -> groupAsyncOn(kind, concurrent);
                    case "group notify" -> {
                        try (DispatchGroup g = DispatchGroup.create()) {
                            g.notify(serial, Child::fail);
                            expectReported(kind);
                            keepsRunning(kind, serial);
                        }
                    }
                    case "apply serial" -> applyOn(kind, serial);
                    case "apply concurrent" -> applyOn(kind, concurrent);
                    case "apply auto" -> applyOn(kind, null);
                    case "source event" -> sourceEvent(kind, serial);
                    case "source registration" -> sourceRegistration(kind, serial);
                    case "source cancel" -> sourceCancel(kind, serial);
                    case "data available" -> dataHandler(kind, serial, true);
                    case "data serviced" -> dataHandler(kind, serial, false);
                    case "data completion" -> dataCompletion(kind, serial);
                    case "work item async serial" -> workItem(kind, serial, (q, item) -> q.async(item));
                    case "work item async concurrent" -> workItem(kind, concurrent, (q, item) -> q.async(item));
                    case "work item after" -> workItem(kind, global,
                            (q, item) -> q.after(DispatchTime.fromNow(1, TimeUnit.MILLISECONDS), item));
                    case "work item group async" -> {
                        try (DispatchGroup g = DispatchGroup.create()) {
                            workItem(kind, serial, (q, item) -> g.async(q, item));
                        }
                    }
                    case "work item notify" -> {
                        try (DispatchWorkItem first = DispatchWorkItem.create(() -> { })) {
                            first.perform(); // completed: the notification submits the failing item at once
                            workItem(kind, concurrent, (q, item) -> first.notify(q, item));
                        }
                    }
                    case "work item sync" -> {
                        try (DispatchWorkItem item = DispatchWorkItem.create(Child::fail)) {
                            expectThrown(kind, () -> serial.sync(item));
                        }
                        keepsRunning(kind, serial);
                    }
                    case "work item perform" -> {
                        try (DispatchWorkItem item = DispatchWorkItem.create(Child::fail)) {
                            expectThrown(kind, item::perform);
                        }
                        expectThrown(kind, () -> DispatchWorkItem.perform(0, Child::fail));
                    }
                    case "io read handler" -> ioHandler(kind, serial, true);
                    case "io write handler" -> ioHandler(kind, serial, false);
                    case "io cleanup" -> {
                        Path file = tempFile();
                        try (DispatchIO io = DispatchIO.createWithPath(DispatchIO.STREAM, file.toString(),
                                DispatchIO.O_RDONLY, 0, serial, e -> fail())) {
                            io.close(0);
                            expectReported(kind);
                        } finally {
                            Files.delete(file);
                        }
                        keepsRunning(kind, serial);
                    }
                    case "io barrier" -> {
                        Path file = tempFile();
                        try (DispatchIO io = DispatchIO.createWithPath(DispatchIO.STREAM, file.toString(),
                                DispatchIO.O_RDONLY, 0, serial, null)) {
                            io.barrier(Child::fail);
                            expectReported(kind);
                            AtomicInteger later = new AtomicInteger();
                            io.barrier(later::incrementAndGet);
                            await(kind, later, 1, "a barrier after the failed one never ran");
                        } finally {
                            Files.delete(file);
                        }
                    }
                    case "dispatch_read", "dispatch_write" -> {
                        Path file = tempFile();
                        boolean read = kind.equals("dispatch_read");
                        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(file.toFile(), "rw");
                             DispatchData data = DispatchData.create(new byte[10])) {
                            int fd = FileDescriptors.of(f.getFD());
                            AtomicInteger later = new AtomicInteger();
                            for (DispatchIO.DataHandler h : List.<DispatchIO.DataHandler>of((d, e) -> fail(),
                                    (d, e) -> later.incrementAndGet())) {
                                if (read) {
                                    DispatchIO.read(fd, DispatchIO.SIZE_MAX, serial, h);
                                } else {
                                    DispatchIO.write(fd, data, serial, h);
                                }
                                if (later.get() == 0 && REPORTED.get() == null) {
                                    expectReported(kind);
                                }
                            }
                            await(kind, later, 1, "a " + kind + " after the failed handler never completed");
                        } finally {
                            Files.delete(file);
                        }
                        keepsRunning(kind, serial);
                    }
                    case "data destructor" -> {
                        DispatchData.createNoCopy(java.nio.ByteBuffer.allocateDirect(8), Child::fail).close();
                        expectReported(kind);
                        keepsRunning(kind, global);
                    }
                    case "data apply" -> {
                        try (DispatchData d = DispatchData.create(new byte[10]).concat(DispatchData.create(new byte[5]))) {
                            expectThrown(kind, () -> d.apply((offset, region) -> {
                                fail();
                                return true;
                            }));
                            AtomicInteger regions = new AtomicInteger();
                            if (!d.apply((offset, region) -> regions.incrementAndGet() > 0) || regions.get() != 2) {
                                throw new AssertionError(kind + ": an apply after the failure visited " + regions.get()
                                        + " of 2 regions");
                            }
                        }
                    }
                    case "work item notify task" -> {
                        try (DispatchWorkItem item = DispatchWorkItem.create(() -> { })) {
                            item.perform();
                            item.notify(serial, Child::fail);
                            expectReported(kind);
                        }
                        keepsRunning(kind, serial);
                    }
                    case "finalizer" -> {
                        DispatchQueue finalized = DispatchQueue.createSerial(kind + " finalized");
                        finalized.setContext("context"); // without one libdispatch calls no finalizer
                        finalized.setFinalizer(Child::fail);
                        finalized.async(() -> { });
                        finalized.close();
                        expectReported(kind);
                        keepsRunning(kind, global); // the finalizer ran on the queue's target
                    }
                    case "main queue task" -> {
                        DispatchQueue.main().async(Child::fail);
                        Dispatch.drainMainQueue(); // this thread loaded JDispatch: it owns the main queue
                        expectReported(kind);
                        AtomicInteger ran = new AtomicInteger();
                        DispatchQueue.main().async(ran::incrementAndGet);
                        Dispatch.drainMainQueue();
                        await(kind, ran, 1, "a main-queue task after the failure never ran");
                    }
                    case "workloop async" -> asyncOn(kind, workloop);
                    case "workloop work item" -> workItem(kind, workloop, (q, item) -> q.async(item));
                    case "asyncAndWait serial" -> asyncAndWaitOn(kind, serial, false);
                    case "asyncAndWait concurrent" -> asyncAndWaitOn(kind, concurrent, false);
                    case "asyncAndWait global" -> asyncAndWaitOn(kind, global, false);
                    case "asyncAndWait workloop" -> asyncAndWaitOn(kind, workloop, false);
                    case "barrierAsyncAndWait concurrent" -> asyncAndWaitOn(kind, concurrent, true);
                    case "barrierAsyncAndWait workloop" -> asyncAndWaitOn(kind, workloop, true);
                    default -> throw new AssertionError("unknown kind " + kind);
                }
            }
        }

        private static Path tempFile() throws java.io.IOException {
            Path file = Files.createTempFile("jdispatch-io", ".bin");
            Files.write(file, new byte[100]);
            return file;
        }

        /**
         * A read or write handler that fails on its every call: reported, and the channel and queue go on (a later
         * operation on the channel completes).
         */
        private static void ioHandler(String kind, DispatchQueue q, boolean read) throws Exception {
            Path file = tempFile();
            try (DispatchIO io = DispatchIO.createWithPath(DispatchIO.RANDOM, file.toString(), DispatchIO.O_RDWR, 0, q,
                    null); DispatchData data = DispatchData.create(new byte[10])) {
                AtomicInteger later = new AtomicInteger();
                AtomicInteger calls = new AtomicInteger();
                AtomicInteger lastCalls = new AtomicInteger();
                int reportsBefore = REPORTS.get();
                DispatchIO.Handler failing = (done, d, e) -> {
                    calls.incrementAndGet();
                    if (done) {
                        lastCalls.incrementAndGet();
                    }
                    fail();
                };
                DispatchIO.Handler counting = (done, d, e) -> {
                    if (done) {
                        later.incrementAndGet();
                    }
                };
                if (read) {
                    io.read(0, DispatchIO.SIZE_MAX, q, failing);
                } else {
                    io.write(0, data, q, failing);
                }
                expectReported(kind);
                // The handler is called again (the data, then done), and each call fails: with a real
                // OutOfMemoryError each fills the heap. This thread allocates again only once the last call's
                // failure was reported, so that it does not compete with a call still filling the heap.
                await(kind, lastCalls, 1, "the failing handler's last call (done) never came");
                long end = System.nanoTime() + WAIT_NS;
                while (REPORTS.get() - reportsBefore < calls.get() && System.nanoTime() < end) {
                    LockSupport.parkNanos(1_000_000);
                }
                if (REPORTS.get() - reportsBefore < calls.get()) {
                    throw new AssertionError(kind + ": " + calls.get() + " failed calls, "
                            + (REPORTS.get() - reportsBefore) + " reported in 30 s");
                }
                if (read) {
                    io.read(0, DispatchIO.SIZE_MAX, q, counting);
                } else {
                    io.write(0, data, q, counting);
                }
                await(kind, later, 1, "an operation after the failed handler never completed");
            } finally {
                Files.delete(file);
            }
            keepsRunning(kind, q);
        }

        /** A work item that fails, submitted by {@code submit}: reported, completes, and the queue goes on. */
        private static void workItem(String kind, DispatchQueue q,
                                     java.util.function.BiConsumer<DispatchQueue, DispatchWorkItem> submit) {
            try (DispatchWorkItem item = DispatchWorkItem.create(Child::fail)) {
                submit.accept(q, item);
                expectReported(kind);
                if (!item.wait(30, TimeUnit.SECONDS)) {
                    throw new AssertionError(kind + ": the failed execution never completed");
                }
            }
            keepsRunning(kind, q);
        }

        /** asyncAndWait rethrows in its caller, as sync does; the queue and the call go on. */
        private static void asyncAndWaitOn(String kind, DispatchQueue q, boolean barrier) {
            if (barrier) {
                expectThrown(kind, () -> q.barrierAsyncAndWait(Child::fail));
                expectThrown(kind, () -> q.barrierAsyncAndWait(() -> {
                    fail();
                    return 1;
                }));
            } else {
                expectThrown(kind, () -> q.asyncAndWait(Child::fail));
                expectThrown(kind, () -> q.asyncAndWait(() -> {
                    fail();
                    return 1;
                }));
            }
            int value = barrier ? q.barrierAsyncAndWait(() -> 42) : q.asyncAndWait(() -> 42);
            if (value != 42) {
                throw new AssertionError(kind + ": an asyncAndWait after the failure returned " + value);
            }
            keepsRunning(kind, q);
        }

        private static void asyncOn(String kind, DispatchQueue q) {
            q.async(Child::fail);
            expectReported(kind);
            keepsRunning(kind, q);
        }

        private static void syncOn(String kind, DispatchQueue q) {
            expectThrown(kind, () -> q.sync(Child::fail));
            AtomicInteger ran = new AtomicInteger();
            q.sync(ran::incrementAndGet);
            await(kind, ran, 1, "a sync after the failure did not run");
            keepsRunning(kind, q);
        }

        private static void afterOn(String kind, DispatchQueue q) {
            q.after(1, TimeUnit.MILLISECONDS, Child::fail);
            expectReported(kind);
            keepsRunning(kind, q);
        }

        private static void groupAsyncOn(String kind, DispatchQueue q) {
            try (DispatchGroup g = DispatchGroup.create()) {
                g.async(q, Child::fail);
                expectReported(kind);
                if (!g.wait(30, TimeUnit.SECONDS)) {
                    throw new AssertionError(kind + ": the group never emptied after its task failed");
                }
                keepsRunning(kind, q);
            }
        }

        private static void applyOn(String kind, DispatchQueue q) {
            AtomicInteger others = new AtomicInteger();
            java.util.function.LongConsumer body = i -> {
                if (i == 3) {
                    fail();
                }
                others.incrementAndGet();
            };
            if (q == null) {
                DispatchQueue.applyAuto(8, body);
            } else {
                q.apply(8, body);
            }
            expectReported(kind);
            await(kind, others, 7, "the other iterations did not all run");
            keepsRunning(kind, q == null ? DispatchQueue.global() : q);
        }

        private static void sourceEvent(String kind, DispatchQueue q) {
            AtomicInteger later = new AtomicInteger();
            try (DispatchSource s = DispatchSource.dataAdd(q)) {
                s.setEventHandler(failingOnce(later));
                s.resume();
                s.mergeData(1);
                expectReported(kind);
                s.mergeData(1);
                await(kind, later, 1, "the event handler did not run again after its failure");
                s.cancel();
            }
            keepsRunning(kind, q);
        }

        private static void sourceRegistration(String kind, DispatchQueue q) {
            AtomicInteger events = new AtomicInteger();
            try (DispatchSource s = DispatchSource.dataAdd(q)) {
                s.setRegistrationHandler(Child::fail);
                s.setEventHandler(events::incrementAndGet);
                s.resume();
                expectReported(kind);
                s.mergeData(1);
                await(kind, events, 1, "no event was delivered after the registration handler failed");
                s.cancel();
            }
            keepsRunning(kind, q);
        }

        private static void sourceCancel(String kind, DispatchQueue q) {
            try (DispatchSource s = DispatchSource.dataAdd(q)) {
                s.setCancelHandler(Child::fail);
                s.resume();
                s.cancel();
                expectReported(kind);
            }
            keepsRunning(kind, q);
            try (DispatchSource again = DispatchSource.dataAdd(q)) { // sources on the queue still work
                AtomicInteger events = new AtomicInteger();
                again.setEventHandler(events::incrementAndGet);
                again.resume();
                again.mergeData(1);
                await(kind, events, 1, "a new source on the queue delivered nothing");
                again.cancel();
            }
        }

        private static void dataHandler(String kind, DispatchQueue q, boolean available) {
            AtomicInteger later = new AtomicInteger();
            try (IODataQueueDispatchSource dq = IODataQueueDispatchSource.create(4096, q)) {
                Runnable handler = failingOnce(later);
                if (available) {
                    dq.setDataAvailableHandler(handler);
                    dq.sendDataAvailable();
                } else {
                    dq.setDataServicedHandler(handler);
                    dq.sendDataServiced();
                }
                expectReported(kind);
                // A doorbell rung while the handler still runs may coalesce with it: ring until it runs again.
                long end = System.nanoTime() + WAIT_NS;
                while (later.get() == 0 && System.nanoTime() < end) {
                    if (available) {
                        dq.sendDataAvailable();
                    } else {
                        dq.sendDataServiced();
                    }
                    LockSupport.parkNanos(10_000_000);
                }
                await(kind, later, 1, "the handler did not run again after its failure");
            }
            keepsRunning(kind, q);
        }

        private static void dataCompletion(String kind, DispatchQueue q) {
            AtomicInteger done = new AtomicInteger();
            try (IODataQueueDispatchSource dq = IODataQueueDispatchSource.create(4096, q)) {
                dq.setEnableWithCompletion(false, Child::fail);
                expectReported(kind);
                dq.setEnableWithCompletion(true, done::incrementAndGet);
                dq.cancel(done::incrementAndGet);
                await(kind, done, 2, "the completions after the failed one did not both run");
            }
            keepsRunning(kind, q);
        }
    }
}
