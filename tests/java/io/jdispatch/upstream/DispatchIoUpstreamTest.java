package io.jdispatch.upstream;

import io.jdispatch.DispatchData;
import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchIO;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchTime;
import io.jdispatch.FileDescriptors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A translation of part of libdispatch's {@code tests/dispatch_io.c}: {@code test_io_close} (four random-access reads
 * of a large file's quarters on a channel closed at once, from an fd or a path, plain, with a strict interval, or
 * stopped by a timer; a read after the close ends with ECANCELED), {@code test_io_stop} (a pending pipe read ended by
 * a STOP close) and {@code test_io_read_write} (a stream channel's reads written to another channel as they come,
 * then read back).
 *
 * <p>Changed: the large file is an 8 MiB temporary file of random bytes (the C test's {@code LARGE_FILE} and
 * {@code dispatch_test_get_large_file}), Darwin's F_GLOBAL_NOCACHE is left out; the timers are
 * {@link DispatchQueue#after} on a global queue (2 s, as in C) rather than timer sources; what C checks in its
 * blocks is collected and asserted after the group wait (bounded to 60 s); the output file is a deleted temporary
 * file. Not ported (yet): {@code test_read_many_files} and {@code test_enumerate_dir_trees} (they walk system
 * directories), and {@code test_io_from_io}.
 */
class DispatchIoUpstreamTest {
    private static final DispatchQueue Q = DispatchQueue.global();
    private static final int READSIZE = 512 * 1024;

    private static Path largeFile(Path dir) throws IOException {
        Path path = dir.resolve("large.bin");
        byte[] b = new byte[8 << 20];
        new Random(3).nextBytes(b);
        Files.write(path, b);
        return path;
    }

    private static void waitFor(DispatchGroup g, Queue<String> problems) {
        assertTrue(g.wait(60, TimeUnit.SECONDS), "the group never emptied: " + problems);
    }

    private static boolean isEcanceled(int error) {
        return DispatchIO.errorText(error).startsWith("ECANCELED");
    }

    /** test_io_close; withTimer 0: none, 1: a strict 2 s interval with READSIZE low water, 2: a STOP close after 2 s. */
    @ParameterizedTest
    @CsvSource({"0,false", "0,true", "1,false", "1,true", "2,false", "2,true"})
    void testIoClose(int withTimer, boolean fromPath, @TempDir Path dir) throws Exception {
        int chunks = 4;
        Path path = largeFile(dir);
        FileChannel fd = FileChannel.open(path, StandardOpenOption.READ);
        long size = Files.size(path) / chunks;
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        try (DispatchGroup g = DispatchGroup.create()) {
            g.enter();
            java.util.function.IntConsumer cleanup = error -> {
                if (error != 0) {
                    problems.add("create error " + DispatchIO.errorText(error));
                }
                g.leave();
                try {
                    fd.close();
                } catch (IOException e) {
                    problems.add(e.toString());
                }
            };
            DispatchIO io = fromPath
                    ? DispatchIO.createWithPath(DispatchIO.RANDOM, path.toString(), DispatchIO.O_RDONLY, 0, Q, cleanup)
                    : DispatchIO.create(DispatchIO.RANDOM, FileDescriptors.of(fd), Q, cleanup);
            io.setHighWater(READSIZE);
            if (withTimer == 1) {
                io.setLowWater(READSIZE);
                io.setInterval(Duration.ofSeconds(2), DispatchIO.STRICT_INTERVAL);
            } else if (withTimer == 2) {
                DispatchIO kept = io; // the C test retains the channel for its timer
                Q.after(DispatchTime.fromNow(2, TimeUnit.SECONDS), () -> {
                    if (!kept.isClosed()) {
                        kept.close(DispatchIO.STOP);
                    }
                });
            }
            AtomicLongArray chunkSize = new AtomicLongArray(chunks);
            for (int i = 0; i < chunks; i++) {
                int chunk = i;
                g.enter();
                io.read(chunk * size, size, Q, (done, d, error) -> {
                    chunkSize.addAndGet(chunk, d.getSize());
                    if (d.getSize() > 0 && d.getSize() < READSIZE && error == 0 && !done) {
                        io.close(DispatchIO.STOP); // the interval fired
                        return;
                    }
                    if (done) {
                        if (error != 0 && !(withTimer != 0 && isEcanceled(error))) {
                            problems.add("read error " + DispatchIO.errorText(error));
                        }
                        g.leave();
                    }
                });
            }
            io.close(0);
            io.close(0);
            AtomicReference<String> closed = new AtomicReference<>("the read after close never ended");
            g.enter();
            io.read(0, 1, Q, (done, d, error) -> {
                closed.set("closed done " + done + ", canceled " + isEcanceled(error) + ", data " + d.getSize());
                g.leave();
            });
            waitFor(g, problems);
            assertEquals("closed done true, canceled true, data 0", closed.get());
            assertEquals(List.of(), List.copyOf(problems));
            long total = 0;
            for (int i = 0; i < chunks; i++) {
                if (withTimer != 0) {
                    assertTrue(chunkSize.get(i) <= size, "chunk size " + chunkSize.get(i));
                } else {
                    assertEquals(size, chunkSize.get(i), "chunk size");
                }
                total += chunkSize.get(i);
            }
            assertTrue(withTimer != 0 ? total <= chunks * size : total == chunks * size, "total size " + total);
            if (!io.isClosed()) {
                io.close();
            }
        } finally {
            fd.close();
        }
    }

    @Test
    void testIoStop() throws Exception {
        Pipe pipe = Pipe.open();
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        try (DispatchGroup g = DispatchGroup.create()) {
            g.enter();
            DispatchIO io = DispatchIO.create(DispatchIO.STREAM, FileDescriptors.of(pipe.source()), Q, error -> {
                if (error != 0) {
                    problems.add("create error " + DispatchIO.errorText(error));
                }
                try {
                    pipe.source().close();
                    pipe.sink().close();
                } catch (IOException e) {
                    problems.add(e.toString());
                }
                g.leave();
            });
            g.enter();
            io.read(0, 1, Q, (done, d, error) -> {
                if (done) {
                    if (!isEcanceled(error)) {
                        problems.add("read error " + DispatchIO.errorText(error) + ", expected ECANCELED");
                    }
                    g.leave();
                }
            });
            Q.after(DispatchTime.fromNow(2, TimeUnit.SECONDS), () -> {
                io.close(DispatchIO.STOP);
                io.close();
            });
            waitFor(g, problems);
            assertEquals(List.of(), List.copyOf(problems));
        } finally {
            pipe.source().close();
            pipe.sink().close();
        }
    }

    @Test
    void testIoReadWrite(@TempDir Path dir) throws Exception {
        Path pathIn = largeFile(dir);
        Path pathOut = dir.resolve("dispatchtest_io");
        int sizIn = (int) Math.min(1024 * 1024, Files.size(pathIn));
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        FileChannel in = FileChannel.open(pathIn, StandardOpenOption.READ);
        AtomicReference<DispatchData> data = new AtomicReference<>(DispatchData.empty());
        try (RandomAccessFile out = new RandomAccessFile(pathOut.toFile(), "rw"); DispatchGroup g = DispatchGroup.create()) {
            Files.delete(pathOut);
            g.enter();
            DispatchIO ioIn = DispatchIO.create(DispatchIO.STREAM, FileDescriptors.of(in), Q, error -> {
                if (error != 0) {
                    problems.add("dispatch_io_create " + DispatchIO.errorText(error));
                }
                try {
                    in.close();
                } catch (IOException e) {
                    problems.add(e.toString());
                }
                g.leave();
            });
            ioIn.setHighWater(sizIn / 4);
            g.enter();
            DispatchIO ioOut = DispatchIO.create(DispatchIO.STREAM, FileDescriptors.of(out.getFD()), Q, error -> {
                if (error != 0) {
                    problems.add("dispatch_io_create " + DispatchIO.errorText(error));
                }
                g.leave();
            });
            ioOut.setHighWater(sizIn / 16);
            g.enter();
            ioIn.read(0, sizIn, Q, (doneIn, dataIn, errIn) -> {
                if (dataIn.getSize() > sizIn) {
                    problems.add("read size " + dataIn.getSize());
                }
                if (dataIn.getSize() > 0) {
                    g.enter();
                    ioOut.write(0, dataIn, Q, (doneOut, dataOut, errOut) -> {
                        if (doneOut) {
                            if (errOut != 0 || dataOut.getSize() != 0) {
                                problems.add("dispatch_io_write " + DispatchIO.errorText(errOut) + ", "
                                        + dataOut.getSize() + " left");
                            }
                            g.leave();
                        } else if (dataOut.getSize() > sizIn) {
                            problems.add("remaining write size " + dataOut.getSize());
                        }
                    });
                    synchronized (data) {
                        try (DispatchData old = data.get()) {
                            data.set(old.concat(dataIn));
                        }
                    }
                }
                if (doneIn) {
                    if (errIn != 0) {
                        problems.add("dispatch_io_read " + DispatchIO.errorText(errIn));
                    }
                    ioOut.close(); // dispatch_release(io_out): it closes once its writes are done
                    g.leave();
                }
            });
            ioIn.close();
            waitFor(g, problems);
            out.seek(0);
            AtomicReference<DispatchData> cmp = new AtomicReference<>();
            g.enter();
            DispatchIO.read(FileDescriptors.of(out.getFD()), sizIn, Q, (c, err) -> {
                if (err != 0) {
                    problems.add("dispatch_read " + DispatchIO.errorText(err));
                }
                cmp.set(c.retain());
                g.leave();
            });
            waitFor(g, problems);
            assertEquals(List.of(), List.copyOf(problems));
            try (DispatchData written = data.get(); DispatchData back = cmp.get()) {
                assertEquals(sizIn, back.getSize(), "readback size");
                assertArrayEquals(written.toByteArray(), back.toByteArray(), "readback contents");
                byte[] expected = Arrays.copyOf(Files.readAllBytes(pathIn), sizIn);
                assertArrayEquals(expected, back.toByteArray(), "the file's first MiB");
            }
        } finally {
            in.close();
        }
    }
}
