package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.testutil.ProcessStats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
