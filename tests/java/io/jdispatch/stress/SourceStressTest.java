package io.jdispatch.stress;

import io.jdispatch.Dispatch;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.FileDescriptors;
import io.jdispatch.LibdispatchRefs;
import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ProcessStats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import static io.jdispatch.testutil.Latches.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Dispatch sources under load, races, GC and throwing handlers: nothing crashes, leaks or gets lost. */
class SourceStressTest {
    static final long WAIT_S = 60; // bound on every wait: a hang fails the test instead of blocking the build

    static long ms(long t0) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    }

    // ---- 10,000 READ sources at once -------------------------------------------------------------------------

    @Test
    void thousandsOfReadSourcesOnSocketPairsAllDeliver(@TempDir Path dir) throws Exception {
        int pairs = Stress.count(2_000, 10_000);
        requireFdLimit(pairs + 512);
        readSources(dir.resolve("warm.sock"), pairs); // a full warm-up round: JIT, thread pool, malloc arenas
        ProcessStats before = ProcessStats.now();
        long t0 = System.nanoTime();
        long addedFds = readSources(dir.resolve("s.sock"), pairs);
        long took = ms(t0);
        ProcessStats after = ProcessStats.now();
        Stress.report("READ sources on socket pairs", String.format("%d sources (%d fds open at once here, the peers "
                + "in a child), one event each, all delivered in %d ms; before %s; after %s", pairs, addedFds, took,
                before, after));
        assertTrue(addedFds >= pairs, "the sockets were not all open at once: " + addedFds + " fds");
        ProcessStats.awaitFdsAtMost(before.openFds(), "fds not given back (before " + before + ")");
        Stress.assertRssFlat(before, after, 16 * 1024, "READ sources on socket pairs");
    }

    /**
     * Accepts n Unix socket connections from a child process ({@link SocketPeers}), puts a READ source on each,
     * has the child write one byte on every one; returns how many fds were open at once here for it.
     */
    private static long readSources(Path socket, int n) throws Exception {
        List<SocketChannel> channels = new ArrayList<>(n);
        List<DispatchSource> sources = new ArrayList<>(n);
        DispatchQueue[] queues = {DispatchQueue.createSerial("read-a"), DispatchQueue.createSerial("read-b")};
        AtomicIntegerArray received = new AtomicIntegerArray(n);
        CountDownLatch delivered = new CountDownLatch(n);
        CountDownLatch cancelled = new CountDownLatch(n);
        long peakFds, startFds = ProcessStats.countOpenFds();
        Process peers = null;
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket), 128);
            peers = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), SocketPeers.class.getName(), socket.toString(),
                    String.valueOf(n)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(peers.getInputStream()));
            for (int i = 0; i < n; i++) {
                SocketChannel end = server.accept();
                channels.add(end);
                end.configureBlocking(false);
                DispatchSource s = DispatchSource.read(FileDescriptors.of(end), queues[i % 2]);
                int index = i;
                ByteBuffer buf = ByteBuffer.allocate(8);
                s.setEventHandler(() -> {
                    buf.clear();
                    try {
                        int got = end.read(buf);
                        if (got > 0 && received.addAndGet(index, got) == got) {
                            delivered.countDown();
                        }
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                });
                s.setCancelHandler(cancelled::countDown);
                s.resume();
                sources.add(s);
            }
            assertEquals("connected", out.readLine());
            peakFds = ProcessStats.countOpenFds();
            peers.getOutputStream().write("write\n".getBytes(StandardCharsets.US_ASCII));
            peers.getOutputStream().flush();
            assertEquals("written", out.readLine());
            await(delivered, "READ events on " + n + " sources (" + delivered.getCount() + " missing)");
            for (DispatchSource s : sources) {
                s.cancel();
            }
            await(cancelled, "cancel handlers");
            for (int i = 0; i < n; i++) {
                assertEquals(1, received.get(i), "source " + i + " read its one byte exactly once");
            }
        } finally {
            for (DispatchSource s : sources) {
                s.close();
            }
            for (SocketChannel c : channels) { // only after the cancel handlers: the man page's rule for fds
                c.close();
            }
            for (DispatchQueue q : queues) {
                q.close();
            }
            if (peers != null) {
                peers.getOutputStream().close();
                if (!peers.waitFor(WAIT_S, TimeUnit.SECONDS)) {
                    peers.destroyForcibly();
                }
            }
            Files.deleteIfExists(socket);
        }
        return peakFds - startFds;
    }

    private static void requireFdLimit(long needed) throws IOException {
        long soft = Files.readAllLines(Path.of("/proc/self/limits")).stream()
                .filter(l -> l.startsWith("Max open files")).map(l -> l.split("\\s+")[3])
                .mapToLong(v -> v.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(v)).findFirst().orElseThrow();
        assertTrue(soft >= needed, "this test needs " + needed + " fds but `ulimit -n` is " + soft + ": raise it");
    }

    // ---- 10M DATA_ADD merges from 4 threads -------------------------------------------------------------------

    @Test
    void dataAddMergesFromFourThreadsSumExactly() throws Exception {
        int total = Stress.count(1_000_000, 10_000_000);
        int threads = 4;
        AtomicLong sum = new AtomicLong();
        AtomicLong events = new AtomicLong();
        CountDownLatch done = new CountDownLatch(1);
        long expected = 0;
        for (int i = 0; i < total; i++) {
            expected += value(i);
        }
        long target = expected;
        ProcessStats before = ProcessStats.now();
        long t0 = System.nanoTime();
        try (DispatchSource s = DispatchSource.dataAdd(DispatchQueue.global())) {
            CountDownLatch registered = new CountDownLatch(1);
            s.setRegistrationHandler(registered::countDown);
            s.setEventHandler(() -> {
                events.incrementAndGet();
                if (sum.addAndGet(s.getData()) == target) {
                    done.countDown();
                }
            });
            s.resume();
            await(registered, "registration"); // merges must race with running handlers, not pile up before activation
            Thread[] producers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                int first = t;
                producers[t] = new Thread(() -> {
                    for (int i = first; i < total; i += threads) {
                        s.mergeData(value(i));
                    }
                });
                producers[t].start();
            }
            for (Thread t : producers) {
                t.join(TimeUnit.SECONDS.toMillis(WAIT_S));
            }
            await(done, "handler sum " + sum.get() + " of " + target);
        }
        long took = ms(t0);
        ProcessStats after = ProcessStats.now();
        Stress.report("DATA_ADD merges from 4 threads", String.format("%d merges (sum %d) in %d ms, %d handler calls; "
                + "before %s; after %s", total, target, took, events.get(), before, after));
        assertEquals(target, sum.get(), "the handler's sum equals the sum of all merges");
    }

    private static long value(int i) {
        return 1 + (i % 7); // not all ones: a lost or doubled merge changes the sum by a varying amount
    }

    // ---- create / resume / cancel / close of every source type -------------------------------------------------

    @Test
    void createResumeCancelCloseCyclesOfEveryTypeLeaveFdsNativeMemoryAndHeapFlat(@TempDir Path dir) throws Exception {
        int allCycles = Stress.count(10_000, 100_000);
        Pipe pipe = Pipe.open();
        Path file = Files.writeString(dir.resolve("watched"), "x");
        try (Pipe.SourceChannel in = pipe.source(); Pipe.SinkChannel out = pipe.sink();
             FileChannel watched = FileChannel.open(file); DispatchQueue queue = DispatchQueue.createSerial("cycles")) {
            int readFd = FileDescriptors.of(in), writeFd = FileDescriptors.of(out);
            int fileFd = FileDescriptors.of(watched);
            long self = ProcessHandle.current().pid();
            Map<String, Supplier<DispatchSource>> types = new LinkedHashMap<>();
            types.put("DATA_ADD", () -> DispatchSource.dataAdd(queue));
            types.put("DATA_OR", () -> DispatchSource.dataOr(queue));
            types.put("DATA_REPLACE", () -> DispatchSource.dataReplace(queue));
            types.put("TIMER", () -> {
                DispatchSource t = DispatchSource.timer(false, queue);
                t.setTimer(io.jdispatch.DispatchTime.fromNow(1, TimeUnit.HOURS), 1_000_000, 0);
                return t;
            });
            types.put("READ", () -> DispatchSource.read(readFd, queue));
            types.put("WRITE", () -> DispatchSource.write(writeFd, queue));
            types.put("SIGNAL", () -> DispatchSource.signal(10 /* SIGUSR1: never sent here */, queue));
            types.put("PROC", () -> DispatchSource.proc(self, DispatchSource.PROC_EXIT, queue));
            types.put("VNODE", () -> DispatchSource.vnode(fileFd, DispatchSource.VNODE_WRITE | DispatchSource.VNODE_DELETE, queue));
            types.put("MEMORYPRESSURE", () -> DispatchSource.memoryPressure(DispatchSource.MEMORYPRESSURE_WARN
                    | DispatchSource.MEMORYPRESSURE_CRITICAL | DispatchSource.MEMORYPRESSURE_NORMAL, queue));
            try {
                types.get("MEMORYPRESSURE").get().close();
            } catch (UnsupportedOperationException noPsi) {
                Stress.report("lifecycle MEMORYPRESSURE", "not creatable here: " + noPsi.getMessage());
                types.remove("MEMORYPRESSURE");
            }
            // Every type's code compiled before any is measured: C2's arenas (malloc'd, several MB while it compiles)
            // are the largest noise in native memory in use.
            for (Supplier<DispatchSource> type : types.values()) {
                lifecycles(type, 1000);
            }
            for (Map.Entry<String, Supplier<DispatchSource>> type : types.entrySet()) {
                // Closing an inotify instance (VNODE) or a PSI trigger (MEMORYPRESSURE, two per source) waits for
                // a kernel RCU grace period, one after the other on the watcher queue: ~5 ms and ~20 ms per cycle
                // here, so these two do fewer cycles.
                boolean slowClose = type.getKey().equals("VNODE") || type.getKey().equals("MEMORYPRESSURE");
                int cycles = slowClose ? Stress.count(100, 10_000) : allCycles;
                int handlesBefore = Handles.size();
                Stress.Slopes per = Stress.leakSlopes("lifecycle " + type.getKey(), 7, cycles, () -> {
                    lifecycles(type.getValue(), cycles);
                    // A handle goes just after its cancel handler returned (which counted the latch down).
                    ProcessStats.awaitHandlesAtMost(handlesBefore, type.getKey() + ": handles left registered");
                });
                // A leaked source costs >= 300 bytes of native memory (source + context) and its wrapper's heap. The
                // JVM's own malloc moves by up to a few hundred KiB per round: over the 100 cycles of a slow type that
                // is KiBs per cycle, so there a leak shows in fds and handles (exact) before native memory.
                Stress.assertFlat(per, slowClose ? 8192 : 128, 64, "lifecycle " + type.getKey());
            }
        }
    }

    /** n cycles, at most a batch of sources alive at once (so memory measures leaks, not backlog). */
    private static void lifecycles(Supplier<DispatchSource> factory, int n) throws InterruptedException {
        final int batch = 50; // VNODE: one inotify instance each, and the kernel allows 128 per user
        long fds = ProcessStats.countOpenFds();
        for (int start = 0; start < n; start += batch) {
            int size = Math.min(batch, n - start);
            CountDownLatch cancelled = new CountDownLatch(size);
            for (int i = 0; i < size; i++) {
                DispatchSource s = factory.get();
                s.setEventHandler(() -> { });
                s.setCancelHandler(cancelled::countDown);
                s.resume();
                s.cancel();
                s.close();
            }
            await(cancelled, "cancel handlers of a batch");
            // PROC/VNODE/MEMORYPRESSURE close their kernel fds just after the cancel handler (their hidden
            // watcher is cancelled then): wait for that, so that the batch bound holds for kernel objects too.
            // (+2: libdispatch opens its timerfd / signalfd once, on first use, and keeps it.)
            ProcessStats.awaitFdsAtMost(fds + 2, "kernel fds of cancelled sources");
        }
    }

    // ---- cancel and close racing with handlers and merges -------------------------------------------------------

    @Test
    void cancelAndCloseRacingWithHandlersAndMergesNeverCallBackAfterTheCancelHandler() throws Exception {
        int rounds = Stress.count(100, 3_000);
        AtomicInteger late = new AtomicInteger();
        AtomicLong events = new AtomicLong();
        long t0 = System.nanoTime();
        DispatchQueue serial = DispatchQueue.createSerial("race");
        try {
            for (int r = 0; r < rounds; r++) {
                DispatchQueue target = r % 2 == 0 ? serial : DispatchQueue.global();
                DispatchSource s = switch (r % 3) {
                    case 0 -> DispatchSource.dataAdd(target);
                    case 1 -> DispatchSource.dataOr(target);
                    default -> DispatchSource.timer(false, target);
                };
                AtomicBoolean cancelDone = new AtomicBoolean();
                CountDownLatch cancelled = new CountDownLatch(1);
                s.setEventHandler(() -> {
                    if (cancelDone.get()) {
                        late.incrementAndGet();
                    }
                    events.incrementAndGet();
                    s.getData(); // valid in the handler even while close() runs on another thread
                    Thread.onSpinWait();
                });
                s.setCancelHandler(() -> {
                    cancelDone.set(true);
                    cancelled.countDown();
                });
                if (s.getType() == DispatchSource.Type.TIMER) {
                    s.setTimer(io.jdispatch.DispatchTime.NOW, 20_000, 0); // every 20 µs
                }
                s.resume();
                AtomicBoolean stop = new AtomicBoolean();
                Thread[] mergers = new Thread[s.getType() == DispatchSource.Type.TIMER ? 0 : 2];
                for (int m = 0; m < mergers.length; m++) {
                    mergers[m] = new Thread(() -> {
                        try {
                            while (!stop.get()) {
                                s.mergeData(1);
                            }
                        } catch (IllegalStateException closed) {
                            // close() won the race: expected, the merge was refused cleanly
                        }
                    });
                    mergers[m].start();
                }
                busy(ThreadLocalRandom.current().nextInt(50, 500)); // let handlers run
                // cancel and close from two threads at once, while handlers and merges run
                Thread canceller = new Thread(() -> {
                    try {
                        s.cancel();
                    } catch (IllegalStateException closed) {
                        // close() (which cancels) came first: no call is valid after it
                    }
                });
                canceller.start();
                if (r % 2 == 0) {
                    s.close();
                }
                canceller.join(TimeUnit.SECONDS.toMillis(WAIT_S));
                await(cancelled, "cancel handler (round " + r + ")");
                busy(100); // merges keep hitting the cancelled source
                stop.set(true);
                for (Thread m : mergers) {
                    m.join(TimeUnit.SECONDS.toMillis(WAIT_S));
                    assertTrue(!m.isAlive(), "merger stuck (deadlock?)");
                }
                s.close();
            }
            serial.sync(() -> { });
        } finally {
            serial.close();
        }
        long took = ms(t0);
        Stress.report("cancel/close racing handlers+merges", String.format("%d rounds, %d handler calls in %d ms, %d after "
                + "a cancel handler", rounds, events.get(), took, late.get()));
        assertEquals(0, late.get(), "an event handler ran after its source's cancel handler");
    }

    private static void busy(long micros) {
        long end = System.nanoTime() + micros * 1_000;
        while (System.nanoTime() < end) {
            Thread.onSpinWait();
        }
    }

    // ---- sources dropped without close -------------------------------------------------------------------------

    /**
     * Cancelled: every cancel handler ran once. Released: the sources' queue's do_ref_cnt (each source holds one
     * reference on its target until it is disposed, see {@link LibdispatchRefs}) falls back to idle.
     */
    @Test
    void sourcesDroppedWithoutCloseAreReleasedByTheCleaner() throws Exception {
        int n = Stress.count(2_000, 5_000); // PROC sources hold a pidfd each: bounded by the fd limit
        long self = ProcessHandle.current().pid();
        AtomicInteger cancelHandlers = new AtomicInteger();
        DispatchQueue queue = DispatchQueue.createSerial("dropped");
        try {
            int idle = LibdispatchRefs.checkedIdleRefs(queue);
            int handlesAtStart = Handles.size();
            long fdsAtStart = ProcessStats.countOpenFds();
            dropSources(queue, self, n, cancelHandlers); // a full warm-up round
            ProcessStats.awaitHandlesCollected(handlesAtStart, "warm-up: sources never released");
            ProcessStats.awaitFdsAtMost(fdsAtStart + 2, "pidfds of the warm-up's dropped sources");
            ProcessStats before = ProcessStats.now();
            int handlesBefore = Handles.size();
            cancelHandlers.set(0);
            long t0 = System.nanoTime();
            long pidfdsWhileHeld = dropSources(queue, self, n, cancelHandlers);
            ProcessStats.awaitHandlesCollected(handlesBefore, "dropped sources: sources never released");
            long fdsAfter = ProcessStats.awaitFdsAtMost(before.openFds() + 2, "pidfds of the dropped sources");
            int refs = LibdispatchRefs.awaitRefs(queue, idle, "after " + 6 * n + " sources targeting it were dropped "
                    + "without close (idle: " + idle + "): each reference above idle is a source never released");
            long took = ms(t0);
            ProcessStats after = ProcessStats.now();
            Stress.report("sources dropped without close", String.format("%d inactive PROC (pidfd), %d inactive TIMER, %d "
                    + "cancelled DATA_ADD, released by the Cleaner in %d ms (their queue's do_ref_cnt back to %d, idle); "
                    + "pidfds while held %d, fds after %d; before %s; after %s",
                    n, n, n, took, refs, pidfdsWhileHeld, fdsAfter, before, after));
            assertTrue(pidfdsWhileHeld >= n, "the " + n + " PROC sources held " + pidfdsWhileHeld + " pidfds");
            assertEquals(3 * n, cancelHandlers.get(), "every dropped source was cancelled (cancel handler ran once)");
            Stress.assertRssFlat(before, after, 8 * 1024, "sources dropped without close");
        } finally {
            queue.close();
        }
    }

    /**
     * Creates and drops, per i: an inactive PROC and TIMER source, and a cancelled (never closed) DATA_ADD.
     * Returns the pidfds open then, while the dropped sources are not yet collected.
     */
    private static long dropSources(DispatchQueue queue, long pid, int n, AtomicInteger cancelHandlers) throws InterruptedException {
        CountDownLatch cancelledActive = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            DispatchSource proc = DispatchSource.proc(pid, DispatchSource.PROC_EXIT, queue);
            proc.setEventHandler(() -> { });
            proc.setCancelHandler(cancelHandlers::incrementAndGet);
            DispatchSource timer = DispatchSource.timer(false, queue);
            timer.setTimer(io.jdispatch.DispatchTime.NOW, 1_000_000, 0);
            timer.setCancelHandler(cancelHandlers::incrementAndGet);
            DispatchSource data = DispatchSource.dataAdd(queue);
            data.setCancelHandler(() -> {
                cancelHandlers.incrementAndGet();
                cancelledActive.countDown();
            });
            data.resume();
            data.mergeData(1);
            data.cancel();
        }
        await(cancelledActive, "cancel handlers of the active sources");
        return ProcessStats.countFdsLinkedTo("anon_inode:[pidfd]");
    }

    // ---- handler exceptions at high rate -----------------------------------------------------------------------

    @Test
    void handlersThrowingAtHighRateAreAllReportedAndEverythingKeepsRunning() throws Exception {
        int n = Stress.count(100_000, 1_000_000);
        Thread.UncaughtExceptionHandler previous = Dispatch.getUncaughtExceptionHandler();
        AtomicLong reported = new AtomicLong();
        AtomicLong foreign = new AtomicLong();
        Dispatch.setUncaughtExceptionHandler((t, e) -> {
            if (e instanceof Boom) {
                reported.incrementAndGet();
            } else {
                foreign.incrementAndGet();
            }
        });
        DispatchQueue queue = DispatchQueue.createSerial("throwing");
        long t0 = System.nanoTime();
        try (DispatchSource s = DispatchSource.dataAdd(queue)) {
            AtomicLong events = new AtomicLong();
            AtomicLong sum = new AtomicLong();
            s.setEventHandler(() -> {
                events.incrementAndGet();
                sum.addAndGet(s.getData());
                throw new Boom();
            });
            s.resume();
            // Source events: merges coalesce, so a handler call (and its exception) per event, not per merge.
            for (int i = 0; i < n; i++) {
                s.mergeData(1);
                if (i % 64 == 0) {
                    Thread.yield(); // let the handler run often: many events, not one big coalesced one
                }
            }
            waitFor(() -> sum.get() == n, "handler sum");
            long sourceEvents = events.get();
            waitFor(() -> reported.get() == sourceEvents, "exceptions of source handlers");
            // Tasks: one exception per task, bounded backlog.
            for (int done = 0; done < n; ) {
                int batch = Math.min(10_000, n - done);
                for (int i = 0; i < batch; i++) {
                    queue.async(() -> {
                        throw new Boom();
                    });
                }
                queue.sync(() -> { });
                done += batch;
            }
            long expected = sourceEvents + n;
            waitFor(() -> reported.get() == expected, "exceptions of tasks");
            long took = ms(t0);
            // Still running: the source delivers, the queue runs tasks.
            CountDownLatch alive = new CountDownLatch(2);
            s.setEventHandler(alive::countDown);
            s.mergeData(1);
            queue.async(alive::countDown);
            await(alive, "source and queue after " + expected + " exceptions");
            Stress.report("handler exceptions", String.format("%d source events + %d tasks threw, %d reported in %d ms",
                    sourceEvents, n, reported.get(), took));
            assertEquals(expected, reported.get(), "every exception reached the user handler");
            assertEquals(0, foreign.get(), "no other exception was reported");
        } finally {
            queue.close();
            Dispatch.setUncaughtExceptionHandler(previous);
        }
    }

    /** The exception the handlers throw (no stack trace needed to count it, but a real throw each time). */
    static final class Boom extends RuntimeException {
        Boom() {
            super("handler failure on purpose");
        }
    }

    private static void waitFor(Supplier<Boolean> condition, String what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (!condition.get() && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertTrue(condition.get(), what + ": not reached within " + WAIT_S + " s");
    }
}
