package io.jdispatch;

import io.jdispatch.testutil.ChildJvm;
import io.jdispatch.testutil.SignalProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static io.jdispatch.DispatchSourceTest.WAIT_S;
import static io.jdispatch.testutil.Latches.await;
import static io.jdispatch.DispatchSourceTest.collect;
import static io.jdispatch.DispatchSourceTest.take;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sources on real kernel events: fds (pipes, TCP), signals, process exit, file changes, memory pressure. */
class KernelSourceTest {
    DispatchQueue queue;

    @BeforeEach
    void setUp() {
        queue = DispatchQueue.createSerial("kernel-source-test");
    }

    @AfterEach
    void tearDown() {
        queue.close();
    }

    void drain() {
        queue.sync(() -> { });
    }

    // ---- READ / WRITE -------------------------------------------------------------------------------------

    @Test
    void readDataIsAnEstimateOfReadableBytesOnAPipe() throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SinkChannel sink = pipe.sink(); Pipe.SourceChannel src = pipe.source()) {
            src.configureBlocking(false);
            int fd = FileDescriptors.of(src);
            BlockingQueue<Long> seen = new LinkedBlockingQueue<>();
            BlockingQueue<String> read = new LinkedBlockingQueue<>();
            CountDownLatch cancelled = new CountDownLatch(1);
            DispatchSource s = DispatchSource.read(fd, queue);
            s.setEventHandler(() -> {
                long estimate = s.getData();
                seen.add(estimate);
                ByteBuffer buf = ByteBuffer.allocate((int) Math.max(estimate, 1));
                try {
                    src.read(buf); // non-blocking: the estimate is a suggested buffer size
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
                read.add(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
            });
            s.setCancelHandler(cancelled::countDown);
            sink.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)));
            s.resume();
            long estimate = take(seen);
            assertTrue(estimate >= 1 && estimate <= 5, "estimate " + estimate + " for 5 readable bytes");
            assertEquals("hello", readAll(read, 5));
            assertEquals(fd, s.getHandle());
            assertEquals(0, s.getMask());
            s.cancel();
            await(cancelled, "cancel handler"); // only now may the fd be closed (try-with-resources below)
            s.close();
        }
    }

    private static String readAll(BlockingQueue<String> read, int length) throws InterruptedException {
        StringBuilder sb = new StringBuilder();
        while (sb.length() < length) {
            String part = read.poll(WAIT_S, TimeUnit.SECONDS);
            if (part == null) {
                break;
            }
            sb.append(part);
        }
        return sb.toString();
    }

    /** The man page's rule for fd sources: the fd may be closed only once the cancel handler has run. */
    static void cancelAndAwait(DispatchSource s) throws InterruptedException {
        CountDownLatch cancelled = new CountDownLatch(1);
        s.setCancelHandler(cancelled::countDown);
        s.cancel();
        await(cancelled, "cancel handler of " + s);
        s.close();
    }

    @Test
    void readAndWriteSourcesOnARealTcpConnection() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open();
             SocketChannel client = SocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            server.configureBlocking(false);
            // An incoming connection makes the listening socket readable.
            DispatchSource acceptSource = DispatchSource.read(FileDescriptors.of(server), queue);
            BlockingQueue<Long> accepts = collect(acceptSource);
            acceptSource.resume();
            client.connect(server.getLocalAddress());
            assertTrue(take(accepts) >= 1, "READ on a listening socket: pending connections");
            cancelAndAwait(acceptSource);
            try (SocketChannel accepted = server.accept()) {
                accepted.configureBlocking(false);
                BlockingQueue<String> got = new LinkedBlockingQueue<>();
                DispatchSource reader = DispatchSource.read(FileDescriptors.of(accepted), queue);
                DispatchSource writer = DispatchSource.write(FileDescriptors.of(client), queue);
                reader.setEventHandler(() -> {
                    ByteBuffer buf = ByteBuffer.allocate(64);
                    try {
                        accepted.read(buf);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                    got.add(new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII));
                });
                BlockingQueue<Long> writable = collect(writer);
                writer.resume();
                // The event itself says "writable"; the man page defines no WRITE data (Linux reports 0).
                assertEquals(0L, take(writable), "WRITE: a fresh socket has buffer space");
                cancelAndAwait(writer);
                reader.resume();
                client.write(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)));
                assertEquals("ping", got.poll(WAIT_S, TimeUnit.SECONDS));
                cancelAndAwait(reader);
            }
        }
    }

    @Test
    void closeOnCancelClosesTheFdOnlyAfterTheCancelHandler() throws Exception {
        Pipe pipe = Pipe.open();
        int fd = FileDescriptors.of(pipe.source()); // handed over to the source: the channel is not closed
        Path link = Path.of("/proc/self/fd/" + fd);
        String target = Files.readSymbolicLink(link).toString();
        BlockingQueue<String> stateInCancelHandler = new LinkedBlockingQueue<>();
        DispatchSource s = DispatchSource.read(fd, queue);
        s.setCloseOnCancel(true);
        s.setCancelHandler(() -> stateInCancelHandler.add(Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? "open" : "closed"));
        s.resume();
        s.cancel();
        assertEquals("open", stateInCancelHandler.poll(WAIT_S, TimeUnit.SECONDS), "fd still open in the cancel handler");
        drain();
        boolean reused = Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)
                && Files.readSymbolicLink(link).toString().equals(target);
        assertFalse(reused, "the pipe fd was closed after the cancel handler");
        s.close();
        pipe.sink().close();
        assertThrows(IllegalStateException.class, () -> DispatchSource.dataAdd(queue).setCloseOnCancel(true));
    }

    @Test
    void badFileDescriptorsAreRefused() throws Exception {
        for (long fd : new long[]{-1, 1 << 20, 1L << 40}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DispatchSource.read(
                    (int) Math.min(fd, Integer.MAX_VALUE), queue));
            assertTrue(e.getMessage().contains("not an open file descriptor"), e.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> DispatchSource.create(DispatchSource.Type.WRITE, 1L << 40, 0, queue));
        assertThrows(IllegalArgumentException.class, () -> DispatchSource.create(DispatchSource.Type.READ, 0, 1, queue));
        Pipe pipe = Pipe.open();
        pipe.source().close();
        assertThrows(IllegalArgumentException.class, () -> FileDescriptors.of(pipe.source()));
        pipe.sink().close();
    }

    // ---- SIGNAL (child JVMs: an unhandled signal would kill the test JVM) ----------------------------------

    static ChildJvm.Result signalProbe(Path home, String... args) throws Exception {
        return ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path")),
                concat(SignalProbe.class.getName(), args));
    }

    private static String[] concat(String first, String... rest) {
        String[] all = new String[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    @Test
    void signalSourceCountsSignalsSinceTheLastHandler(@TempDir Path home) throws Exception {
        ChildJvm.Result r = signalProbe(home, "count", "3", "10");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("one by one: total=3 calls=3"), r.output());
        // 3 SIGUSR1 in a burst while suspended: none is delivered before resume, and each one the kernel kept is
        // counted. A standard signal sent while the same one is still pending coalesces with it (kernel rule), so
        // a burst gives between 1 and 3.
        assertTrue(r.output().contains("suspended: calls while suspended=0"), r.output());
        assertTrue(r.output().matches("(?s).*suspended: .* total=([4-6])\\b.*"), r.output());
    }

    @Test
    void realTimeSignalsSentWhileSuspendedAreCountedExactlyOnResume(@TempDir Path home) throws Exception {
        // Real-time signals queue (up to RLIMIT_SIGPENDING): every one of the burst is counted.
        ChildJvm.Result r = signalProbe(home, "count", "50", "100", "RTMIN+1");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("one by one: total=50 calls=50"), r.output());
        assertTrue(r.output().contains("suspended: calls while suspended=0 total=100\n"), r.output());
    }

    @Test
    void signalDataCountsEverySignalThatArrivedWhileTheHandlerRan(@TempDir Path home) throws Exception {
        // 1 SIGUSR1, then 4 more while that event's handler runs, each sent only once the previous one left the
        // kernel's pending set: none coalesced, so the data of the later calls add up to 4 (libdispatch's own
        // source gives [1, 1]). How they split over calls depends on when each count reached the source.
        ChildJvm.Result r = signalProbe(home, "busy", "5", "10");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().matches("(?s).*busy: data=\\[1, [0-9, ]+\\] sum=5 observer=5\n.*"), r.output());
    }

    @Test
    void aThousandRealTimeSignalsSentWhileTheHandlerBlocksAreAllCountedByEverySource(@TempDir Path home) throws Exception {
        ChildJvm.Result r = signalProbe(home, "burst", "1000", "RTMIN+2");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("burst: sent=1000 a=1000 b=1000"), r.output());
    }

    @Test
    void afterTheLastSourceIsCancelledTheSignalKillsTheJvmAgain(@TempDir Path home) throws Exception {
        ChildJvm.Result r = signalProbe(home, "restore", "10");
        assertTrue(r.output().contains("counted=1"), r.output());
        assertTrue(r.output().contains("cancelled and closed; blocked mask unchanged=true"), r.output());
        assertEquals(128 + 10, r.exitCode(), "SIGUSR1's default action is back: " + r.output());
    }

    @Test
    void afterTheLastSourceIsCancelledAJavaSignalHandlerRunsAgain(@TempDir Path home) throws Exception {
        ChildJvm.Result r = signalProbe(home, "restore-java", "10");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("counted=1"), r.output());
        assertTrue(r.output().contains("the Java handler ran again"), r.output());
    }

    @Test
    void withoutASourceTheSignalKeepsItsDefaultAction(@TempDir Path home) throws Exception {
        ChildJvm.Result r = signalProbe(home, "raw", "10");
        assertEquals(128 + 10, r.exitCode(), "SIGUSR1's default action terminates the JVM: " + r.output());
    }

    @Test
    void signalsTheJvmUsesAndOutOfRangeNumbersAreRefused() {
        for (int signo : new int[]{11, 7, 8, 4, 3, 12, 2, 15, 1, 9, 19, 32, 33}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DispatchSource.signal(signo, queue));
            assertTrue(e.getMessage().contains("signal " + signo + " cannot be watched"), e.getMessage());
        }
        String segv = assertThrows(IllegalArgumentException.class, () -> DispatchSource.signal(11, queue)).getMessage();
        assertTrue(segv.contains("SIGSEGV") && segv.contains("HotSpot"), segv);
        String term = assertThrows(IllegalArgumentException.class, () -> DispatchSource.signal(15, queue)).getMessage();
        assertTrue(term.contains("SIGTERM") && term.contains("shutdown hooks"), term);
        for (long signo : new long[]{0, -1, 65, 1000, 1L << 33}) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> DispatchSource.create(DispatchSource.Type.SIGNAL, signo, 0, queue)).getMessage();
            assertTrue(m.contains("out of range"), m);
        }
        assertThrows(IllegalArgumentException.class, () -> DispatchSource.create(DispatchSource.Type.SIGNAL, 10, 1, queue));
        try (DispatchSource ok = DispatchSource.signal(10, queue)) { // SIGUSR1 is allowed (not activated here)
            assertEquals(10, ok.getHandle());
        }
    }

    // ---- PROC ---------------------------------------------------------------------------------------------

    @Test
    void procExitOfAChildStartedFromJava() throws Exception {
        Process child = new ProcessBuilder("cat").start(); // exits when its stdin closes
        try (DispatchSource s = DispatchSource.proc(child.pid(), DispatchSource.PROC_EXIT, queue)) {
            BlockingQueue<Long> seen = collect(s);
            java.util.concurrent.atomic.AtomicInteger cancels = new java.util.concurrent.atomic.AtomicInteger();
            s.setCancelHandler(cancels::incrementAndGet);
            s.resume();
            drain();
            assertTrue(seen.isEmpty(), "no event while the child runs");
            child.getOutputStream().close();
            assertEquals(DispatchSource.PROC_EXIT, take(seen));
            assertEquals(child.pid(), s.getHandle());
            assertEquals(DispatchSource.PROC_EXIT, s.getMask());
            assertEquals(0, child.waitFor());
            drain();
            assertFalse(s.isCancelled(), "the process ending does not cancel the source");
            assertEquals(0, cancels.get(), "the cancel handler runs only because of cancel()");
        }
    }

    @Test
    void procOfAProcessThatHasAlreadyExitedReportsProcExitOnActivation() throws Exception {
        Process child = new ProcessBuilder("true").start();
        assertEquals(0, child.waitFor()); // the JDK has reaped it: pidfd_open(its pid) gives ESRCH (or a reused pid)
        ProcessHandle handle = child.toHandle();
        assertFalse(handle.isAlive());
        List<java.util.function.Supplier<DispatchSource>> factories = List.of(
                () -> DispatchSource.proc(child, DispatchSource.PROC_EXIT, queue),
                () -> DispatchSource.proc(handle, DispatchSource.PROC_EXIT, queue));
        for (java.util.function.Supplier<DispatchSource> factory : factories) {
            try (DispatchSource s = factory.get()) {
                BlockingQueue<Long> seen = collect(s);
                assertEquals(child.pid(), s.getHandle());
                assertEquals(DispatchSource.PROC_EXIT, s.getMask());
                s.resume();
                assertEquals(DispatchSource.PROC_EXIT, take(seen), "the exit is reported at once");
                drain();
                assertTrue(seen.isEmpty(), "one exit, one event: " + seen);
            }
        }
    }

    @Test
    void procOfALiveProcessFromJavaReportsItsExit() throws Exception {
        Process child = new ProcessBuilder("cat").start(); // exits when its stdin closes
        try (DispatchSource s = DispatchSource.proc(child, DispatchSource.PROC_EXIT, queue)) {
            BlockingQueue<Long> seen = collect(s);
            s.resume();
            drain();
            assertTrue(seen.isEmpty(), "no event while the child runs");
            child.getOutputStream().close();
            assertEquals(DispatchSource.PROC_EXIT, take(seen));
            assertEquals(0, child.waitFor());
            drain();
            assertTrue(seen.isEmpty(), "one exit, one event: " + seen);
        }
    }

    @Test
    void procRejectsUnobservableFlagsAndMissingProcesses() {
        long self = ProcessHandle.current().pid();
        for (long[] flag : new long[][]{{DispatchSource.PROC_FORK}, {DispatchSource.PROC_EXEC}, {DispatchSource.PROC_SIGNAL}}) {
            UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                    () -> DispatchSource.proc(self, DispatchSource.PROC_EXIT | flag[0], queue));
            assertTrue(e.getMessage().contains("DISPATCH_PROC_"), e.getMessage());
        }
        String m = assertThrows(IllegalArgumentException.class, () -> DispatchSource.proc(0, DispatchSource.PROC_EXIT, queue)).getMessage();
        assertTrue(m.contains("process id"), m);
        m = assertThrows(IllegalArgumentException.class, () -> DispatchSource.proc(self, 0x1, queue)).getMessage();
        assertTrue(m.contains("unknown mask bits 0x1"), m);
        // pid_max is at most 2^22: this pid cannot exist.
        m = assertThrows(IllegalArgumentException.class, () -> DispatchSource.proc((1 << 22) + 1, DispatchSource.PROC_EXIT, queue)).getMessage();
        assertTrue(m.contains("No such process"), m);
    }

    // ---- VNODE --------------------------------------------------------------------------------------------

    /** ORs handler data until all of {@code bits} were seen (generous bound). */
    static long awaitBits(BlockingQueue<Long> seen, long bits) throws InterruptedException {
        long got = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while ((got & bits) != bits && System.nanoTime() < deadline) {
            Long v = seen.poll(100, TimeUnit.MILLISECONDS);
            if (v != null) {
                got |= v;
            }
        }
        return got;
    }

    @Test
    void vnodeEventsForWriteAttribLinkRenameAndDelete(@TempDir Path dir) throws Exception {
        Path file = Files.createFile(dir.resolve("watched"));
        long all = DispatchSource.VNODE_DELETE | DispatchSource.VNODE_WRITE | DispatchSource.VNODE_EXTEND
                | DispatchSource.VNODE_ATTRIB | DispatchSource.VNODE_LINK | DispatchSource.VNODE_RENAME;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE);
             DispatchSource s = DispatchSource.vnode(FileDescriptors.of(ch), all, queue);
             DispatchSource writeOnly = DispatchSource.vnode(FileDescriptors.of(ch), DispatchSource.VNODE_WRITE, queue)) {
            BlockingQueue<Long> seen = collect(s);
            BlockingQueue<Long> onlyWrites = collect(writeOnly);
            s.resume();
            writeOnly.resume();
            ch.write(ByteBuffer.wrap(new byte[]{1, 2, 3}));
            long w = DispatchSource.VNODE_WRITE | DispatchSource.VNODE_EXTEND;
            assertEquals(w, awaitBits(seen, w) & w, "write that grows the file: WRITE | EXTEND");
            Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(0));
            assertTrue((awaitBits(seen, DispatchSource.VNODE_ATTRIB) & DispatchSource.VNODE_ATTRIB) != 0, "ATTRIB");
            Path link = Files.createLink(dir.resolve("hardlink"), file);
            assertTrue((awaitBits(seen, DispatchSource.VNODE_LINK) & DispatchSource.VNODE_LINK) != 0, "LINK");
            Files.delete(link);
            Path moved = Files.move(file, dir.resolve("renamed"));
            assertTrue((awaitBits(seen, DispatchSource.VNODE_RENAME) & DispatchSource.VNODE_RENAME) != 0, "RENAME");
            Files.delete(moved);
            assertTrue((awaitBits(seen, DispatchSource.VNODE_DELETE) & DispatchSource.VNODE_DELETE) != 0, "DELETE");
            drain();
            long writeOnlyBits = 0;
            for (Long v : onlyWrites) {
                writeOnlyBits |= v;
            }
            assertEquals(DispatchSource.VNODE_WRITE, writeOnlyBits, "data holds only bits of the source's mask");
        }
    }

    @Test
    void vnodeRefusesWhatInotifyCannotWatch(@TempDir Path dir) throws Exception {
        Pipe pipe = Pipe.open();
        try (Pipe.SourceChannel src = pipe.source(); Pipe.SinkChannel sink = pipe.sink()) {
            String m = assertThrows(IllegalArgumentException.class,
                    () -> DispatchSource.vnode(FileDescriptors.of(src), DispatchSource.VNODE_WRITE, queue)).getMessage();
            assertTrue(m.contains("inotify"), m);
        }
        Path file = Files.createFile(dir.resolve("f"));
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            int fd = FileDescriptors.of(ch);
            String m = assertThrows(UnsupportedOperationException.class,
                    () -> DispatchSource.vnode(fd, DispatchSource.VNODE_FUNLOCK, queue)).getMessage();
            assertTrue(m.contains("DISPATCH_VNODE_FUNLOCK"), m);
            Files.delete(file); // the fd now names a deleted file: no path left for inotify
            assertThrows(IllegalArgumentException.class, () -> DispatchSource.vnode(fd, DispatchSource.VNODE_DELETE, queue));
        }
    }

    // ---- MEMORYPRESSURE -----------------------------------------------------------------------------------

    @Test
    void memoryPressureIsCreatableWherePsiTriggersWorkElseAClearError() throws Exception {
        long mask = DispatchSource.MEMORYPRESSURE_NORMAL | DispatchSource.MEMORYPRESSURE_WARN
                | DispatchSource.MEMORYPRESSURE_CRITICAL;
        boolean psi = Files.isWritable(Path.of("/proc/pressure/memory"));
        if (psi) {
            CountDownLatch cancelled = new CountDownLatch(1);
            try (DispatchSource s = DispatchSource.memoryPressure(mask, queue)) {
                s.setEventHandler(() -> { });
                s.setCancelHandler(cancelled::countDown);
                s.resume();
                assertEquals(mask, s.getMask());
                s.cancel();
                await(cancelled, "cancel handler");
            }
        } else {
            String m = assertThrows(UnsupportedOperationException.class, () -> DispatchSource.memoryPressure(mask, queue)).getMessage();
            assertTrue(m.contains("PSI"), m);
        }
        String m = assertThrows(IllegalArgumentException.class,
                () -> DispatchSource.memoryPressure(0x8, queue)).getMessage();
        assertTrue(m.contains("unknown mask bits 0x8"), m);
        assertThrows(IllegalArgumentException.class, () -> DispatchSource.create(DispatchSource.Type.MEMORYPRESSURE, 1, mask, queue));
    }
}
