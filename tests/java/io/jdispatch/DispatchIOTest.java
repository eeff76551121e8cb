package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.Latches;
import io.jdispatch.testutil.ProcessStats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.BufferedReader;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** DispatchIO channels on fds and paths, dispatch_read / dispatch_write, close, barriers, water marks, fds and misuse. */
class DispatchIOTest {
    private static final long WAIT_S = 30;

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + seed);
        }
        return b;
    }

    /** What a read's handler calls gathered: the bytes in order, the calls, the last error. */
    static final class Collected implements DispatchIO.Handler {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<Long> chunkSizes = Collections.synchronizedList(new ArrayList<>());
        final CompletableFuture<Integer> done = new CompletableFuture<>();

        @Override
        public synchronized void handle(boolean isDone, DispatchData data, int error) {
            if (data.getSize() > 0) {
                chunkSizes.add(data.getSize());
                bytes.writeBytes(data.toByteArray());
            }
            if (isDone) {
                done.complete(error);
            }
        }

        int await() throws Exception {
            return done.get(WAIT_S, TimeUnit.SECONDS);
        }

        synchronized byte[] get() {
            return bytes.toByteArray();
        }
    }

    @Test
    void aPathChannelWritesAFileAndARandomChannelReadsItBackAtOffsets(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("out.bin");
        byte[] content = bytes(100_000, 3);
        CompletableFuture<Integer> cleanedUp = new CompletableFuture<>();
        try (DispatchQueue q = DispatchQueue.createSerial("io-test");
             DispatchIO out = DispatchIO.createWithPath(DispatchIO.STREAM, file.toString(),
                     DispatchIO.O_WRONLY | DispatchIO.O_CREAT | DispatchIO.O_TRUNC, 0600, q, cleanedUp::complete);
             DispatchData data = DispatchData.create(Arrays.copyOf(content, 60_000))
                     .concat(DispatchData.create(Arrays.copyOfRange(content, 60_000, 100_000)))) {
            Collected written = new Collected();
            out.write(0, data, q, written);
            assertEquals(0, written.await(), "write error");
            out.close(0);
            assertEquals(0, cleanedUp.get(WAIT_S, TimeUnit.SECONDS));
            assertArrayEquals(content, Files.readAllBytes(file));

            try (DispatchIO in = DispatchIO.createWithPath(DispatchIO.RANDOM, file.toString(), DispatchIO.O_RDONLY, 0, q,
                    null)) {
                Collected middle = new Collected();
                in.read(40_000, 1000, q, middle);
                assertEquals(0, middle.await());
                assertArrayEquals(Arrays.copyOfRange(content, 40_000, 41_000), middle.get());
                Collected toEnd = new Collected();
                in.read(99_000, DispatchIO.SIZE_MAX, q, toEnd);
                assertEquals(0, toEnd.await());
                assertArrayEquals(Arrays.copyOfRange(content, 99_000, 100_000), toEnd.get());
                in.close(0);
            }
        }
    }

    @Test
    void aPathThatCannotBeOpenedReachesTheHandlerAsItsErrno(@TempDir Path dir) throws Exception {
        try (DispatchIO in = DispatchIO.createWithPath(DispatchIO.STREAM, dir.resolve("missing").toString(),
                DispatchIO.O_RDONLY, 0, DispatchQueue.global(), null)) {
            Collected r = new Collected();
            in.read(0, DispatchIO.SIZE_MAX, DispatchQueue.global(), r);
            int error = r.await();
            assertTrue(DispatchIO.errorText(error).startsWith("ENOENT"), DispatchIO.errorText(error));
        }
    }

    @Test
    void aStreamChannelOnAPipeCarriesBytesAndTheCleanupHandlersRun() throws Exception {
        Pipe pipe = Pipe.open();
        byte[] content = bytes(300_000, 5); // more than a pipe holds: the writer waits for the reader
        CountDownLatch cleanups = new CountDownLatch(2);
        AtomicInteger cleanupErrors = new AtomicInteger();
        try (DispatchQueue q = DispatchQueue.createSerial("io-pipe");
             DispatchIO reader = DispatchIO.create(DispatchIO.STREAM, FileDescriptors.of(pipe.source()), q, e -> {
                 cleanupErrors.addAndGet(Math.abs(e));
                 cleanups.countDown();
             });
             DispatchIO writer = DispatchIO.create(DispatchIO.STREAM, FileDescriptors.of(pipe.sink()), q, e -> {
                 cleanupErrors.addAndGet(Math.abs(e));
                 cleanups.countDown();
             });
             DispatchData data = DispatchData.create(content)) {
            assertEquals(DispatchIO.STREAM, reader.getType());
            reader.setLowWater(1); // deliver what the pipe gives as it comes
            Collected read = new Collected();
            reader.read(0, content.length, q, read);
            Collected written = new Collected();
            writer.write(0, data, q, written);
            assertEquals(0, written.await());
            assertEquals(0, read.await());
            assertArrayEquals(content, read.get());
            assertTrue(read.chunkSizes.size() > 1, "partial progress: " + read.chunkSizes.size() + " calls");
            reader.close(0);
            writer.close(0);
            assertTrue(cleanups.await(WAIT_S, TimeUnit.SECONDS), "both cleanup handlers ran");
            assertEquals(0, cleanupErrors.get());
        } finally {
            pipe.source().close();
            pipe.sink().close();
        }
    }

    @Test
    void closeWithStopEndsAPendingReadWithEcanceledAndRunsTheCleanup() throws Exception {
        Pipe pipe = Pipe.open(); // nothing is ever written: the read would wait forever
        CompletableFuture<Integer> cleanedUp = new CompletableFuture<>();
        try (DispatchIO reader = DispatchIO.create(DispatchIO.STREAM, FileDescriptors.of(pipe.source()),
                DispatchQueue.global(), cleanedUp::complete)) {
            Collected read = new Collected();
            reader.read(0, 100, DispatchQueue.global(), read);
            assertFalse(read.done.isDone());
            reader.close(DispatchIO.STOP);
            int error = read.await();
            assertTrue(DispatchIO.errorText(error).startsWith("ECANCELED"), DispatchIO.errorText(error));
            cleanedUp.get(WAIT_S, TimeUnit.SECONDS);
            Collected after = new Collected(); // a closed channel refuses new operations: ECANCELED at once
            reader.read(0, 100, DispatchQueue.global(), after);
            assertTrue(DispatchIO.errorText(after.await()).startsWith("ECANCELED"));
        } finally {
            pipe.source().close();
            pipe.sink().close();
        }
    }

    @Test
    void aBarrierRunsAfterTheWritesBeforeItWithTheDescriptorValid(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("barrier.bin");
        CompletableFuture<long[]> seen = new CompletableFuture<>();
        try (DispatchQueue q = DispatchQueue.createSerial("io-barrier");
             DispatchIO out = DispatchIO.createWithPath(DispatchIO.RANDOM, file.toString(),
                     DispatchIO.O_RDWR | DispatchIO.O_CREAT, 0600, q, null)) {
            AtomicInteger writesDone = new AtomicInteger();
            for (int i = 0; i < 10; i++) {
                try (DispatchData d = DispatchData.create(bytes(10_000, i))) {
                    out.write(i * 10_000L, d, q, (done, rest, error) -> {
                        if (done && error == 0) {
                            writesDone.incrementAndGet();
                        }
                    });
                }
            }
            out.barrier(() -> {
                try {
                    seen.complete(new long[] {writesDone.get(), out.getDescriptor(), Files.size(file)});
                } catch (Exception e) {
                    seen.completeExceptionally(e);
                }
            });
            long[] s = seen.get(WAIT_S, TimeUnit.SECONDS);
            assertTrue(s[1] >= 0, "the descriptor inside the barrier: " + s[1]);
            assertEquals(100_000, s[2], "the file holds every write before the barrier");
            out.close(0);
        }
    }

    @Test
    void waterMarksBoundEachHandlerCall(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("water.bin");
        byte[] content = bytes(64 * 1024, 9);
        Files.write(file, content);
        try (DispatchIO in = DispatchIO.createWithPath(DispatchIO.STREAM, file.toString(), DispatchIO.O_RDONLY, 0,
                DispatchQueue.global(), null)) {
            in.setHighWater(1000);
            in.setLowWater(1);
            in.setInterval(Duration.ofMillis(1), 0);
            Collected r = new Collected();
            in.read(0, DispatchIO.SIZE_MAX, DispatchQueue.global(), r);
            assertEquals(0, r.await());
            assertArrayEquals(content, r.get());
            assertTrue(r.chunkSizes.stream().allMatch(n -> n <= 1000), "chunks above the high water: " + r.chunkSizes);
            assertTrue(r.chunkSizes.size() >= 66, r.chunkSizes.size() + " calls for 64 KiB in chunks of 1000");
        }
    }

    @Test
    void aChannelFromAChannelSharesItsFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("shared.bin");
        byte[] content = bytes(5000, 1);
        Files.write(file, content);
        CompletableFuture<Integer> cleanedUp = new CompletableFuture<>();
        try (DispatchIO first = DispatchIO.createWithPath(DispatchIO.STREAM, file.toString(), DispatchIO.O_RDONLY, 0,
                DispatchQueue.global(), null);
             DispatchIO random = DispatchIO.createWithIO(DispatchIO.RANDOM, first, DispatchQueue.global(),
                     cleanedUp::complete)) {
            Collected r = new Collected();
            random.read(4000, 1000, DispatchQueue.global(), r);
            assertEquals(0, r.await());
            assertArrayEquals(Arrays.copyOfRange(content, 4000, 5000), r.get());
            random.close(0);
            assertEquals(0, cleanedUp.get(WAIT_S, TimeUnit.SECONDS));
            Collected still = new Collected(); // closing the new channel leaves the first one working
            first.read(0, DispatchIO.SIZE_MAX, DispatchQueue.global(), still);
            assertEquals(0, still.await());
            assertArrayEquals(content, still.get());
        }
    }

    @Test
    void dispatchReadAndDispatchWriteMoveBytesOnceOnFdsTheCallerKeeps(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("rw.bin");
        byte[] content = bytes(20_000, 4);
        try (FileOutputStream out = new FileOutputStream(file.toFile());
             DispatchData d = DispatchData.create(content)) {
            CompletableFuture<long[]> written = new CompletableFuture<>();
            DispatchIO.write(FileDescriptors.of(out.getFD()), d, DispatchQueue.global(),
                    (rest, error) -> written.complete(new long[] {rest.getSize(), error}));
            assertArrayEquals(new long[] {0, 0}, written.get(WAIT_S, TimeUnit.SECONDS), "nothing left, no error");
        }
        assertArrayEquals(content, Files.readAllBytes(file));
        try (FileInputStream in = new FileInputStream(file.toFile())) {
            AtomicReference<byte[]> got = new AtomicReference<>();
            CompletableFuture<Integer> read = new CompletableFuture<>();
            DispatchIO.read(FileDescriptors.of(in.getFD()), DispatchIO.SIZE_MAX, DispatchQueue.global(), (data, error) -> {
                got.set(data.toByteArray());
                read.complete(error);
            });
            assertEquals(0, read.get(WAIT_S, TimeUnit.SECONDS));
            assertArrayEquals(content, got.get());
            assertTrue(in.getFD().valid(), "the fd is still the caller's");
        }
    }

    @Test
    void theDataAHandlerGetsIsClosedAfterItUnlessRetained(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("borrow.bin");
        Files.write(file, bytes(100, 2));
        AtomicReference<DispatchData> borrowed = new AtomicReference<>();
        AtomicReference<DispatchData> kept = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        try (DispatchIO in = DispatchIO.createWithPath(DispatchIO.STREAM, file.toString(), DispatchIO.O_RDONLY, 0,
                DispatchQueue.global(), null)) {
            in.read(0, DispatchIO.SIZE_MAX, DispatchQueue.global(), (isDone, data, error) -> {
                if (data.getSize() > 0) {
                    borrowed.set(data);
                    kept.set(data.retain());
                }
                if (isDone) {
                    done.countDown();
                }
            });
            assertTrue(done.await(WAIT_S, TimeUnit.SECONDS));
        }
        assertTrue(borrowed.get().isClosed());
        assertThrows(IllegalStateException.class, () -> borrowed.get().toByteArray());
        assertArrayEquals(bytes(100, 2), kept.get().toByteArray());
        kept.get().close();
    }

    /** Channels made, used and closed in rounds: the open fds and the handle table stay flat (median per round). */
    @Test
    void channelsOpenedAndClosedInRoundsLeaveNoFdOpen(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("fds.bin");
        Files.write(file, bytes(4096, 1));
        int handles = Handles.size();
        long[] fds = new long[7];
        for (int round = 0; round < fds.length; round++) {
            for (int i = 0; i < 30; i++) {
                CountDownLatch cleaned = new CountDownLatch(3);
                Pipe pipe = Pipe.open();
                try (DispatchIO in = DispatchIO.createWithPath(DispatchIO.STREAM, file.toString(), DispatchIO.O_RDONLY,
                        0, DispatchQueue.global(), e -> cleaned.countDown());
                     DispatchIO r = DispatchIO.create(DispatchIO.STREAM, FileDescriptors.of(pipe.source()),
                             DispatchQueue.global(), e -> cleaned.countDown());
                     DispatchIO w = DispatchIO.create(DispatchIO.STREAM, FileDescriptors.of(pipe.sink()),
                             DispatchQueue.global(), e -> cleaned.countDown());
                     DispatchData d = DispatchData.create(bytes(100, i))) {
                    Collected c = new Collected();
                    in.read(0, DispatchIO.SIZE_MAX, DispatchQueue.global(), c);
                    Collected piped = new Collected();
                    r.read(0, 100, DispatchQueue.global(), piped);
                    w.write(0, d, DispatchQueue.global(), new Collected());
                    assertEquals(0, c.await());
                    assertEquals(0, piped.await());
                    in.close(0);
                    r.close(0);
                    w.close(0);
                    assertTrue(cleaned.await(WAIT_S, TimeUnit.SECONDS));
                } finally {
                    pipe.source().close();
                    pipe.sink().close();
                }
            }
            fds[round] = ProcessStats.countOpenFds();
        }
        long[] growth = new long[fds.length - 1];
        for (int i = 1; i < fds.length; i++) {
            growth[i - 1] = fds[i] - fds[i - 1];
        }
        Arrays.sort(growth);
        assertTrue(growth[growth.length / 2] <= 0, "open fds grow " + growth[growth.length / 2] + " a round of 30: "
                + Arrays.toString(fds));
        // At most as many as before: ids that earlier tests\' dropped objects held may go meanwhile.
        ProcessStats.awaitHandlesAtMost(handles, "every handler's and cleanup's id was dropped");
    }

    /**
     * Channels dropped without close() or close(int) after a read: the Cleaner releases them, libdispatch then closes
     * each one (its cleanup handler runs) and its file; the fds stay flat over rounds.
     */
    @Test
    void channelsDroppedWithoutCloseAreReleasedByTheCleaner(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("dropped.bin");
        Files.write(file, bytes(1000, 1));
        AtomicInteger cleanups = new AtomicInteger();
        int perRound = 20;
        long[] fds = new long[6];
        for (int round = 0; round < fds.length; round++) {
            for (int i = 0; i < perRound; i++) {
                DispatchIO in = DispatchIO.createWithPath(DispatchIO.STREAM, file.toString(), DispatchIO.O_RDONLY, 0,
                        DispatchQueue.global(), e -> cleanups.incrementAndGet());
                Collected c = new Collected();
                in.read(0, DispatchIO.SIZE_MAX, DispatchQueue.global(), c);
                assertEquals(0, c.await());
            }
            int expected = (round + 1) * perRound;
            for (int i = 0; i < 1500 && cleanups.get() < expected; i++) { // 30 s at least
                System.gc();
                Thread.sleep(20);
            }
            assertEquals(expected, cleanups.get(), "cleanup handlers of dropped channels after round " + round);
            fds[round] = ProcessStats.countOpenFds();
        }
        long[] growth = new long[fds.length - 1];
        for (int i = 1; i < fds.length; i++) {
            growth[i - 1] = fds[i] - fds[i - 1];
        }
        Arrays.sort(growth);
        assertTrue(growth[growth.length / 2] <= 0, "open fds grow " + growth[growth.length / 2] + " a round: "
                + Arrays.toString(fds));
    }

    @Test
    void badInputIsRefusedNamingTheCallAndTheValue(@TempDir Path dir) throws Exception {
        DispatchQueue g = DispatchQueue.global();
        assertMessage(IllegalArgumentException.class, "dispatch_io_create: type 5 is neither",
                () -> DispatchIO.create(5, 0, g, null));
        assertMessage(IllegalArgumentException.class, "dispatch_io_create: -1 is not an open file descriptor",
                () -> DispatchIO.create(DispatchIO.STREAM, -1, g, null));
        assertMessage(IllegalArgumentException.class, "dispatch_io_create_with_path: path \"relative\" is not an absolute",
                () -> DispatchIO.createWithPath(DispatchIO.STREAM, "relative", DispatchIO.O_RDONLY, 0, g, null));
        assertMessage(IllegalArgumentException.class, "dispatch_read: -7 is not an open file descriptor",
                () -> DispatchIO.read(-7, 1, g, (d, e) -> { }));
        Path file = dir.resolve("f");
        Files.write(file, new byte[10]);
        try (DispatchIO io = DispatchIO.createWithPath(DispatchIO.RANDOM, file.toString(), DispatchIO.O_RDONLY, 0, g,
                null)) {
            assertMessage(IllegalArgumentException.class, "dispatch_io_read: offset -1 is negative",
                    () -> io.read(-1, 1, g, (a, b, c) -> { }));
            assertMessage(IllegalArgumentException.class, "dispatch_io_read: length -2 is negative",
                    () -> io.read(0, -2, g, (a, b, c) -> { }));
            assertMessage(IllegalArgumentException.class, "dispatch_io_close: flags 0x2 are neither",
                    () -> io.close(2));
            assertMessage(IllegalArgumentException.class, "dispatch_io_set_interval: flags 0x4 are neither",
                    () -> io.setInterval(Duration.ofMillis(1), 4));
            assertMessage(IllegalArgumentException.class, "dispatch_io_set_high_water: -5 is negative",
                    () -> io.setHighWater(-5));
            io.close();
            assertMessage(IllegalStateException.class, "dispatch_io_read: ", () -> io.read(0, 1, g, (a, b, c) -> { }));
            assertMessage(IllegalStateException.class, "dispatch_io_barrier: ", () -> io.barrier(() -> { }));
        }
        int handles = Handles.size();
        DispatchData closed = DispatchData.create(new byte[1]);
        closed.close();
        try (DispatchIO io = DispatchIO.createWithPath(DispatchIO.RANDOM, file.toString(), DispatchIO.O_RDONLY, 0, g,
                null)) {
            assertMessage(IllegalStateException.class, "dispatch_io_write: ", () -> io.write(0, closed, g, (a, b, c) -> { }));
        }
        assertTrue(Handles.size() <= handles, "a refused operation leaves no handler registered");
    }

    private static void assertMessage(Class<? extends Throwable> type, String start, Runnable call) {
        Throwable t = assertThrows(type, call::run);
        assertTrue(t.getMessage().startsWith(start), t.getMessage());
    }

    // ---- the hostile-user round -----------------------------------------------------------------------

    private static void assertNames(Class<? extends Throwable> type, Runnable call, String... names) {
        Throwable t = assertThrows(type, call::run);
        for (String name : names) {
            assertTrue(String.valueOf(t.getMessage()).contains(name), "does not name \"" + name + "\": " + t);
        }
    }

    /** What a write's handler saw last: the bytes left and the error of the call with done. */
    static final class Written implements DispatchIO.Handler {
        final CompletableFuture<long[]> done = new CompletableFuture<>();
        final AtomicInteger doneCalls = new AtomicInteger();

        @Override
        public void handle(boolean isDone, DispatchData rest, int error) {
            if (isDone) {
                doneCalls.incrementAndGet();
                done.complete(new long[] {rest.getSize(), error});
            }
        }

        /** For dispatch_write, called once. */
        void handle(DispatchData rest, int error) {
            handle(true, rest, error);
        }

        /** {@return bytes left unwritten, errno} */
        long[] await() throws Exception {
            return done.get(WAIT_S, TimeUnit.SECONDS);
        }
    }

    /**
     * The arguments the first bad-input test leaves out, to every method: each refused naming the call and the
     * rule, no handler left registered, and the channel reads its file correctly afterwards.
     */
    @Test
    void everyOtherBadArgumentIsRefusedAndTheChannelStillReads(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("f");
        byte[] content = bytes(1000, 6);
        Files.write(file, content);
        DispatchQueue g = DispatchQueue.global();
        DispatchQueue closedQueue = DispatchQueue.createSerial("closed-queue");
        closedQueue.close();
        DispatchIO.Handler h = (done, d, e) -> { };
        int handles = Handles.size();
        try (FileInputStream in = new FileInputStream(file.toFile());
             DispatchData data = DispatchData.create(new byte[4]);
             DispatchIO io = DispatchIO.createWithPath(DispatchIO.RANDOM, file.toString(), DispatchIO.O_RDONLY, 0, g,
                     null)) {
            int fd = FileDescriptors.of(in.getFD());
            assertNames(NullPointerException.class, () -> DispatchIO.create(DispatchIO.STREAM, fd, null, null),
                    "dispatch_io_create: queue is null");
            assertNames(IllegalArgumentException.class, () -> DispatchIO.create(DispatchIO.STREAM, Integer.MAX_VALUE, g,
                    null), "dispatch_io_create: " + Integer.MAX_VALUE + " is not an open file descriptor");
            assertNames(IllegalArgumentException.class, () -> DispatchIO.create(-1, fd, g, null), "type -1 is neither");
            assertNames(NullPointerException.class, () -> DispatchIO.createWithPath(DispatchIO.STREAM, null,
                    DispatchIO.O_RDONLY, 0, g, null), "dispatch_io_create_with_path: path is null");
            assertNames(IllegalArgumentException.class, () -> DispatchIO.createWithPath(DispatchIO.STREAM, file + "\0x",
                    DispatchIO.O_RDONLY, 0, g, null), "dispatch_io_create_with_path", "without NUL");
            assertNames(IllegalArgumentException.class, () -> DispatchIO.createWithPath(DispatchIO.STREAM, "",
                    DispatchIO.O_RDONLY, 0, g, null), "path \"\" is not an absolute path");
            assertNames(NullPointerException.class, () -> DispatchIO.createWithPath(DispatchIO.STREAM, file.toString(),
                    DispatchIO.O_RDONLY, 0, null, null), "dispatch_io_create_with_path: queue is null");
            assertNames(IllegalStateException.class, () -> DispatchIO.createWithPath(DispatchIO.STREAM, file.toString(),
                    DispatchIO.O_RDONLY, 0, closedQueue, e -> { }), "dispatch_io_create_with_path", "closed-queue", "closed");
            assertNames(NullPointerException.class, () -> DispatchIO.createWithIO(DispatchIO.STREAM, null, g, null),
                    "dispatch_io_create_with_io: io is null");
            assertNames(NullPointerException.class, () -> DispatchIO.createWithIO(DispatchIO.STREAM, io, null, null),
                    "dispatch_io_create_with_io: queue is null");
            assertNames(IllegalArgumentException.class, () -> DispatchIO.createWithIO(2, io, g, null), "type 2 is neither");
            assertNames(NullPointerException.class, () -> io.read(0, 1, null, h), "dispatch_io_read: queue is null");
            assertNames(NullPointerException.class, () -> io.read(0, 1, g, (DispatchIO.Handler) null), "dispatch_io_read: handler is null");
            assertNames(IllegalArgumentException.class, () -> io.read(0, Long.MIN_VALUE, g, h),
                    "dispatch_io_read: length " + Long.MIN_VALUE + " is negative");
            assertNames(IllegalArgumentException.class, () -> io.read(Long.MIN_VALUE, 1, g, h),
                    "dispatch_io_read: offset " + Long.MIN_VALUE + " is negative");
            assertNames(IllegalStateException.class, () -> io.read(0, 1, closedQueue, h), "dispatch_io_read", "closed");
            assertNames(IllegalArgumentException.class, () -> io.write(-1, data, g, h), "dispatch_io_write: offset -1");
            assertNames(NullPointerException.class, () -> io.write(0, null, g, h), "dispatch_io_write: data is null");
            assertNames(NullPointerException.class, () -> io.write(0, data, null, h), "dispatch_io_write: queue is null");
            assertNames(NullPointerException.class, () -> io.write(0, data, g, (DispatchIO.Handler) null), "dispatch_io_write: handler is null");
            assertNames(NullPointerException.class, () -> io.barrier(null), "dispatch_io_barrier: barrier is null");
            assertNames(IllegalArgumentException.class, () -> io.close(-1), "dispatch_io_close: flags 0xffffffff");
            assertNames(IllegalArgumentException.class, () -> io.setLowWater(-2), "dispatch_io_set_low_water: -2 is negative");
            assertNames(IllegalArgumentException.class, () -> io.setHighWater(Long.MIN_VALUE),
                    "dispatch_io_set_high_water: " + Long.MIN_VALUE);
            assertNames(IllegalArgumentException.class, () -> io.setHighWater(0),
                    "dispatch_io_set_high_water: 0 is not at least 1");
            assertNames(NullPointerException.class, () -> io.setInterval(null, 0), "dispatch_io_set_interval: interval is null");
            assertNames(IllegalArgumentException.class, () -> io.setInterval(Duration.ofNanos(-1), 0),
                    "dispatch_io_set_interval: interval PT-0.000000001S is negative");
            assertNames(IllegalArgumentException.class, () -> DispatchIO.read(fd, -2, g, (d, e) -> { }),
                    "dispatch_read: length -2 is negative");
            assertNames(NullPointerException.class, () -> DispatchIO.read(fd, 1, null, (d, e) -> { }),
                    "dispatch_read: queue is null");
            assertNames(NullPointerException.class, () -> DispatchIO.read(fd, 1, g, (DispatchIO.DataHandler) null), "dispatch_read: handler is null");
            assertNames(IllegalArgumentException.class, () -> DispatchIO.write(Integer.MIN_VALUE, data, g, (d, e) -> { }),
                    "dispatch_write: " + Integer.MIN_VALUE + " is not an open file descriptor");
            assertNames(NullPointerException.class, () -> DispatchIO.write(fd, null, g, (d, e) -> { }),
                    "dispatch_write: data is null");
            assertNames(IllegalStateException.class, () -> DispatchIO.write(fd, data, closedQueue, (d, e) -> { }),
                    "dispatch_write", "closed");

            // Extreme but valid values: accepted, the channel unchanged.
            io.setHighWater(Long.MAX_VALUE);
            io.setLowWater(DispatchIO.SIZE_MAX);
            io.setLowWater(0);
            io.setInterval(Duration.ofSeconds(Long.MAX_VALUE), DispatchIO.STRICT_INTERVAL);
            io.setInterval(Duration.ZERO, 0);
            Collected past = new Collected(); // where offset + length overflows off_t: the kernel's EINVAL, no bytes
            io.read(Long.MAX_VALUE, 10, g, past);
            String error = DispatchIO.errorText(past.await());
            assertTrue(error.startsWith("EINVAL"), error);
            assertEquals(0, past.get().length);
            Collected all = new Collected();
            io.read(0, Long.MAX_VALUE, g, all);
            assertEquals(0, all.await());
            assertArrayEquals(content, all.get(), "the channel after every refusal");
        }
        ProcessStats.awaitHandlesAtMost(handles, "a refused operation leaves no handler registered");
    }

    /** A random-access channel on a pipe (it cannot seek) ends its operations with ESPIPE, at once, not a hang. */
    @Test
    void aRandomAccessChannelOnAPipeEndsItsOperationsWithEspipe() throws Exception {
        Pipe pipe = Pipe.open();
        CompletableFuture<Integer> cleanedUp = new CompletableFuture<>();
        try (DispatchIO io = DispatchIO.create(DispatchIO.RANDOM, FileDescriptors.of(pipe.source()),
                DispatchQueue.global(), cleanedUp::complete)) {
            Collected r = new Collected();
            io.read(0, 10, DispatchQueue.global(), r);
            String error = DispatchIO.errorText(r.await());
            assertTrue(error.startsWith("ESPIPE"), error);
            io.close(0);
            cleanedUp.get(WAIT_S, TimeUnit.SECONDS);
        } finally {
            pipe.source().close();
            pipe.sink().close();
        }
    }

    /**
     * A file on a full filesystem (a 64 KiB tmpfs, mounted for the test; skipped where mount is refused): a
     * channel's write of 256 KiB and a dispatch_write both end with ENOSPC, and what is written plus what the
     * handler says is left is all of it, the written part intact: nothing is lost silently.
     */
    @Test
    void aWriteToAFullFilesystemEndsWithEnospcAndAccountsForEveryByte(@TempDir Path dir) throws Exception {
        Path mount = Files.createDirectory(dir.resolve("tmpfs"));
        Process m = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mount.toString())
                .redirectErrorStream(true).start();
        String why = new String(m.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(m.waitFor() == 0, "mount -t tmpfs refused here (not root, or no CAP_SYS_ADMIN): " + why);
        try {
            byte[] content = bytes(256 * 1024, 8);
            Path viaChannel = mount.resolve("channel.bin");
            try (DispatchIO io = DispatchIO.createWithPath(DispatchIO.STREAM, viaChannel.toString(),
                    DispatchIO.O_WRONLY | DispatchIO.O_CREAT, 0600, DispatchQueue.global(), null);
                 DispatchData data = DispatchData.create(content)) {
                Written w = new Written();
                io.write(0, data, DispatchQueue.global(), w);
                assertAccounted(content, viaChannel, w.await(), "dispatch_io_write");
                assertEquals(1, w.doneCalls.get());
                io.close(0);
            }
            Files.delete(viaChannel); // room again for the second one
            Path viaWrite = mount.resolve("write.bin");
            try (FileOutputStream out = new FileOutputStream(viaWrite.toFile());
                 DispatchData data = DispatchData.create(content)) {
                Written w = new Written();
                DispatchIO.write(FileDescriptors.of(out.getFD()), data, DispatchQueue.global(), (rest, e) -> w.handle(rest, e));
                assertAccounted(content, viaWrite, w.await(), "dispatch_write");
            }
        } finally {
            Process u = new ProcessBuilder("umount", mount.toString()).redirectErrorStream(true).start();
            String out = new String(u.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, u.waitFor(), "umount " + mount + ": " + out);
        }
    }

    private static void assertAccounted(byte[] content, Path file, long[] result, String call) throws IOException {
        String error = DispatchIO.errorText((int) result[1]);
        assertTrue(error.startsWith("ENOSPC"), call + " on a full filesystem: " + error);
        byte[] written = Files.readAllBytes(file);
        assertTrue(written.length < content.length, call + ": " + written.length + " bytes written of " + content.length);
        assertEquals(content.length, written.length + result[0], call + ": bytes written (" + written.length
                + ") plus bytes left (" + result[0] + ")");
        assertArrayEquals(Arrays.copyOf(content, written.length), written, call + ": the bytes written");
    }

    /**
     * close(STOP) and close(0), twice, from inside the channel's own read handler, then dispatch_release from
     * inside it too: the operation ends once, the cleanup runs once, later operations end with ECANCELED, the
     * released wrapper refuses calls naming them, and nothing stays registered.
     */
    @Test
    void closedTwiceAndFromInsideItsOwnHandlerEachOperationEndsOnceAndTheCleanupRunsOnce(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("close-inside.bin");
        Files.write(file, bytes(100_000, 3));
        int handles = Handles.size();
        AtomicInteger cleanups = new AtomicInteger();
        CountDownLatch cleaned = new CountDownLatch(1);
        AtomicInteger doneCalls = new AtomicInteger();
        CompletableFuture<Integer> done = new CompletableFuture<>();
        DispatchQueue q = DispatchQueue.createSerial("io-close-inside");
        DispatchIO io = DispatchIO.createWithPath(DispatchIO.STREAM, file.toString(), DispatchIO.O_RDONLY, 0, q, e -> {
            cleanups.incrementAndGet();
            cleaned.countDown();
        });
        io.setHighWater(100);
        io.setLowWater(1);
        AtomicInteger calls = new AtomicInteger();
        io.read(0, DispatchIO.SIZE_MAX, q, (isDone, data, error) -> {
            if (calls.incrementAndGet() == 1) {
                io.close(DispatchIO.STOP);
                io.close(DispatchIO.STOP);
                io.close(0);
                io.close();
                io.close();
            }
            if (isDone) {
                doneCalls.incrementAndGet();
                done.complete(error);
            }
        });
        int error = done.get(WAIT_S, TimeUnit.SECONDS);
        assertTrue(error == 0 || DispatchIO.errorText(error).startsWith("ECANCELED"), DispatchIO.errorText(error));
        assertTrue(cleaned.await(WAIT_S, TimeUnit.SECONDS), "the cleanup handler ran");
        q.sync(() -> { }); // a second done or cleanup would have been queued before this
        assertEquals(1, doneCalls.get(), "calls with done");
        assertEquals(1, cleanups.get(), "cleanup runs");
        assertNames(IllegalStateException.class, () -> io.close(0), "dispatch_io_close: ", "is closed");
        assertNames(IllegalStateException.class, () -> io.read(0, 1, q, (a, b, c) -> { }), "dispatch_io_read: ");
        q.close();
        ProcessStats.awaitHandlesAtMost(handles, "handler and cleanup ids");
    }

    /**
     * close(STOP) from one thread while four others submit reads and writes as fast as they can: every
     * operation that was accepted ends exactly once (done, with no error or ECANCELED), the cleanup runs
     * once, and no handler id and no fd outlives the channel.
     */
    @Test
    void stoppedFromAnotherThreadWhileOperationsAreSubmittedEachEndsOnceAndNothingLeaks(@TempDir Path dir)
            throws Exception {
        Path file = dir.resolve("concurrent.bin");
        Files.write(file, bytes(1 << 20, 5));
        int handles = Handles.size();
        long fds = fdsOnceWarm();
        for (int round = 0; round < 5; round++) {
            CountDownLatch cleaned = new CountDownLatch(1);
            AtomicInteger cleanups = new AtomicInteger();
            DispatchIO io = DispatchIO.createWithPath(DispatchIO.RANDOM, file.toString(), DispatchIO.O_RDWR, 0,
                    DispatchQueue.global(), e -> {
                        cleanups.incrementAndGet();
                        cleaned.countDown();
                    });
            Map<Integer, AtomicInteger> ends = new ConcurrentHashMap<>();
            List<Integer> badErrors = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger submitted = new AtomicInteger();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> submitters = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                boolean writes = t % 2 == 1;
                submitters.add(new Thread(() -> {
                    Latches.await(start, "the start");
                    try (DispatchData d = DispatchData.create(bytes(4096, 1))) {
                        for (int i = 0; i < 500; i++) {
                            int op = submitted.incrementAndGet();
                            AtomicInteger endCount = new AtomicInteger();
                            ends.put(op, endCount);
                            DispatchIO.Handler h = (isDone, data, error) -> {
                                if (isDone) {
                                    endCount.incrementAndGet();
                                    if (error != 0 && !DispatchIO.errorText(error).startsWith("ECANCELED")) {
                                        badErrors.add(error);
                                    }
                                }
                            };
                            long offset = ThreadLocalRandom.current().nextLong(256) * 4096;
                            if (writes) {
                                io.write(offset, d, DispatchQueue.global(), h);
                            } else {
                                io.read(offset, 4096, DispatchQueue.global(), h);
                            }
                        }
                    }
                }));
            }
            submitters.forEach(Thread::start);
            start.countDown();
            await(() -> submitted.get() >= 200, () -> "200 operations submitted");
            io.close(DispatchIO.STOP);
            for (Thread t : submitters) {
                t.join();
            }
            await(() -> ends.values().stream().allMatch(c -> c.get() >= 1),
                    () -> ends.values().stream().filter(c -> c.get() == 0).count() + " of " + ends.size()
                            + " operations never ended");
            assertTrue(cleaned.await(WAIT_S, TimeUnit.SECONDS), "the cleanup handler ran");
            io.close();
            DispatchQueue.global().sync(() -> { });
            assertEquals(List.of(), ends.values().stream().filter(c -> c.get() > 1).map(AtomicInteger::get).toList(),
                    "operations that ended more than once");
            assertEquals(List.of(), badErrors, "errors other than ECANCELED");
            assertEquals(1, cleanups.get(), "cleanup runs");
        }
        ProcessStats.awaitHandlesAtMost(handles, "every operation's and cleanup's id was dropped");
        ProcessStats.awaitFdsAtMost(fds, "the channels' files were closed");
    }

    /**
     * A stream read of a FIFO whose writer, a child process, is SIGKILLed mid-stream: the read delivers every
     * byte it wrote and then ends (end of file, no error), the cleanup runs and the fd count is back. The child
     * says when it has written all (a line on its stdout) before it is killed: no race with it.
     */
    @Test
    void aStreamReadOfAPipeWhoseWriterIsKilledMidStreamGetsEveryByteAndEnds(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor(), "mkfifo");
        int total = 200_000; // more than a pipe holds: the child waits for the reader
        long fds = fdsOnceWarm();
        Process writer = new ProcessBuilder("bash", "-c",
                "exec 3>\"$0\"; yes 0123456789abcdef | head -c " + total + " >&3; echo written; exec sleep 600",
                fifo.toString()).redirectErrorStream(true).start();
        try {
            CompletableFuture<FileChannel> opened = CompletableFuture.supplyAsync(() -> {
                try {
                    return FileChannel.open(fifo, StandardOpenOption.READ); // returns once the child opened its end
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            FileChannel in = opened.get(WAIT_S, TimeUnit.SECONDS);
            BufferedReader childOut = new BufferedReader(new InputStreamReader(writer.getInputStream(),
                    StandardCharsets.US_ASCII));
            CompletableFuture<Integer> cleanedUp = new CompletableFuture<>();
            try (DispatchQueue q = DispatchQueue.createSerial("io-fifo");
                 DispatchIO io = DispatchIO.create(DispatchIO.STREAM, FileDescriptors.of(in), q, cleanedUp::complete)) {
                io.setLowWater(1);
                Collected r = new Collected();
                io.read(0, DispatchIO.SIZE_MAX, q, r);
                assertEquals("written", CompletableFuture.supplyAsync(() -> {
                    try {
                        return childOut.readLine();
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).get(WAIT_S, TimeUnit.SECONDS), "the child's line once it wrote everything");
                await(() -> r.get().length == total, () -> "read " + r.get().length + " of " + total);
                assertFalse(r.done.isDone(), "the read ended while the writer was alive");
                writer.destroyForcibly(); // SIGKILL: its end of the pipe closes with it
                assertTrue(writer.waitFor(WAIT_S, TimeUnit.SECONDS), "the child died");
                assertEquals(0, r.await(), "a writer's death is an end of file, no error");
                byte[] got = r.get();
                assertEquals(total, got.length);
                byte[] line = "0123456789abcdef\n".getBytes(StandardCharsets.US_ASCII);
                for (int i = 0; i < total; i++) {
                    if (got[i] != line[i % line.length]) {
                        throw new AssertionError("byte " + i + " is " + got[i]);
                    }
                }
                io.close(0);
                assertEquals(0, cleanedUp.get(WAIT_S, TimeUnit.SECONDS));
            } finally {
                in.close();
            }
        } finally {
            writer.destroyForcibly().waitFor();
        }
        ProcessStats.awaitFdsAtMost(fds, "the FIFO's fd and the child's pipes");
    }

    /**
     * The open fds once libdispatch has made the ones it makes at its first I/O (its epoll and event fds) and the
     * JVM has started a child process once: a baseline for a test run alone as well as after others.
     */
    private static long fdsOnceWarm() throws Exception {
        Pipe pipe = Pipe.open();
        try (DispatchIO r = DispatchIO.create(DispatchIO.STREAM, FileDescriptors.of(pipe.source()),
                DispatchQueue.global(), null); DispatchData d = DispatchData.create(new byte[1])) {
            Collected c = new Collected();
            r.read(0, 1, DispatchQueue.global(), c);
            DispatchIO.write(FileDescriptors.of(pipe.sink()), d, DispatchQueue.global(), (rest, e) -> { });
            assertEquals(0, c.await());
            r.close(0);
        } finally {
            pipe.source().close();
            pipe.sink().close();
        }
        assertEquals(0, new ProcessBuilder("true").start().waitFor());
        return ProcessStats.countOpenFds();
    }

    private static void await(BooleanSupplier condition, java.util.function.Supplier<String> what)
            throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertTrue(condition.getAsBoolean(), what.get() + " after 60 s");
    }
}
