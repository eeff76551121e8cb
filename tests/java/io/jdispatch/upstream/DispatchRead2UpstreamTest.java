package io.jdispatch.upstream;

import io.jdispatch.DispatchData;
import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchIO;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.FileDescriptors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.FileInputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A translation of libdispatch's {@code tests/dispatch_read2.c} ("Dispatch IO Convenience Read/Write"):
 * {@code dispatch_read} of a large file to its end, and the same read done by hand with a READ source and
 * concatenated no-copy data ({@code dispatch_read2}); a read of random bytes written back with {@code dispatch_write}
 * and read again; the same written as 320 subranges of 32 bytes; and reads of a pipe fed 32 bytes at a time.
 *
 * <p>Changed: the large file is an 8 MiB temporary file of random bytes (the C test's
 * {@code dispatch_test_get_large_file}); Darwin's F_NOCACHE is left out; the output file is a deleted temporary
 * file, as the C test unlinks its mkstemp file; {@code dispatch_read2}'s 512 KB buffers become direct buffers wrapped
 * without a copy ({@link DispatchData#createNoCopy}, the counterpart of DISPATCH_DATA_DESTRUCTOR_FREE) and its
 * final subrange is clipped here (this library refuses a range past the end that libdispatch clips); the last test
 * asserts that all 10,240 bytes arrived over at most 320 reads rather than exactly 320 (one read per 10 ms write
 * holds only on an idle machine), and its 10 ms pause is kept; group waits are bounded to 60 s.
 */
class DispatchRead2UpstreamTest {
    private static final DispatchQueue Q = DispatchQueue.global();

    private static void waitFor(DispatchGroup g) {
        assertTrue(g.wait(60, TimeUnit.SECONDS), "the group never emptied");
    }

    private static byte[] contents(DispatchData d) {
        ByteBuffer map = d.createMap();
        byte[] b = new byte[map.remaining()];
        map.get(b);
        return b;
    }

    /** The C test's dispatch_read2: dispatch_read done with a READ source, data concatenated region by region. */
    private static void dispatchRead2(FileChannel in, long length, DispatchQueue queue, DispatchIO.DataHandler handler,
                                      Queue<String> problems) {
        DispatchSource reader = DispatchSource.read(FileDescriptors.of(in), queue);
        AtomicReference<DispatchData> data = new AtomicReference<>(DispatchData.empty());
        AtomicLong bytesRead = new AtomicLong();
        int bufsiz = 1024 * 512;
        reader.setEventHandler(() -> {
            try {
                ByteBuffer buffer = ByteBuffer.allocateDirect(bufsiz);
                int actual = Math.max(0, in.read(buffer));
                if (actual > 0) {
                    bytesRead.addAndGet(actual);
                    try (DispatchData tmp = DispatchData.createNoCopy(buffer.flip(), null); DispatchData old = data.get()) {
                        data.set(old.concat(tmp));
                    }
                }
                if (actual < bufsiz || bytesRead.get() >= length) {
                    int eof = in.read(ByteBuffer.allocate(2));
                    if (eof != -1) {
                        problems.add("EOF: " + eof);
                    }
                    reader.cancel();
                }
            } catch (Exception e) {
                problems.add(e.toString());
                reader.cancel();
            }
        });
        reader.setCancelHandler(() -> {
            try (DispatchData all = data.get(); DispatchData d = all.subrange(0, Math.min(length, all.getSize()))) {
                handler.handle(d, 0);
            }
            reader.close();
        });
        reader.resume();
    }

    @Test
    void testRead(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("large.bin");
        byte[] file = new byte[8 << 20];
        new Random(2).nextBytes(file);
        Files.write(path, file);
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ); DispatchGroup g = DispatchGroup.create()) {
            DispatchIO.DataHandler b = (d, error) -> {
                if (error != 0) {
                    problems.add("read error " + DispatchIO.errorText(error));
                }
                if (d.getSize() != file.length) {
                    problems.add("dispatch data size " + d.getSize());
                } else if (!java.util.Arrays.equals(contents(d), file)) {
                    problems.add("dispatch data contents differ");
                }
                g.leave();
            };
            g.enter();
            DispatchIO.read(FileDescriptors.of(in), DispatchIO.SIZE_MAX, Q, b);
            waitFor(g);
            in.position(0);
            g.enter();
            dispatchRead2(in, file.length, Q, b, problems);
            waitFor(g);
        }
        assertEquals(List.of(), List.copyOf(problems));
    }

    @Test
    void testReadWrite(@TempDir Path dir) throws Exception {
        int sizIn = 10240;
        Path outPath = dir.resolve("dispatchtest_io");
        try (FileInputStream in = new FileInputStream("/dev/urandom");
             RandomAccessFile out = new RandomAccessFile(outPath.toFile(), "rw"); DispatchGroup g = DispatchGroup.create()) {
            Files.delete(outPath);
            AtomicReference<DispatchData> data = new AtomicReference<>();
            AtomicReference<DispatchData> readBack = new AtomicReference<>();
            Queue<String> problems = new ConcurrentLinkedQueue<>();
            int outFd = FileDescriptors.of(out.getFD());
            g.enter();
            DispatchIO.read(FileDescriptors.of(in.getFD()), sizIn, Q, (dataIn, errIn) -> {
                if (errIn != 0 || dataIn.getSize() != sizIn) {
                    problems.add("read: " + dataIn.getSize() + " bytes, " + DispatchIO.errorText(errIn));
                }
                data.set(dataIn.retain());
                DispatchIO.write(outFd, dataIn, Q, (dataOut, errOut) -> {
                    if (errOut != 0 || dataOut.getSize() != 0) {
                        problems.add("write: " + dataOut.getSize() + " left, " + DispatchIO.errorText(errOut));
                    }
                    try {
                        out.seek(0);
                    } catch (Exception e) {
                        problems.add(e.toString());
                    }
                    DispatchIO.read(outFd, sizIn, Q, (cmp, errCmp) -> {
                        readBack.set(cmp.retain());
                        if (errCmp != 0) {
                            problems.add("readback: " + DispatchIO.errorText(errCmp));
                        }
                        g.leave();
                    });
                });
            });
            waitFor(g);
            assertEquals(List.of(), List.copyOf(problems));
            try (DispatchData written = data.get(); DispatchData cmp = readBack.get()) {
                assertEquals(written.getSize(), cmp.getSize(), "readback size");
                assertArrayEquals(contents(written), contents(cmp), "readback contents");
            }
        }
    }

    @Test
    void testReadWrites(@TempDir Path dir) throws Exception {
        int chunksOut = 320, sizChunk = 32, sizIn = sizChunk * chunksOut;
        Path outPath = dir.resolve("dispatchtest_io");
        try (FileInputStream in = new FileInputStream("/dev/urandom");
             RandomAccessFile out = new RandomAccessFile(outPath.toFile(), "rw"); DispatchGroup g = DispatchGroup.create()) {
            Files.delete(outPath);
            int outFd = FileDescriptors.of(out.getFD());
            AtomicReference<DispatchData> data = new AtomicReference<>();
            Queue<String> problems = new ConcurrentLinkedQueue<>();
            g.enter();
            DispatchIO.read(FileDescriptors.of(in.getFD()), sizIn, Q, (dataIn, errIn) -> {
                if (errIn != 0 || dataIn.getSize() != sizIn) {
                    problems.add("read: " + dataIn.getSize() + " bytes, " + DispatchIO.errorText(errIn));
                }
                data.set(dataIn.retain());
                List<DispatchData> chunks = new ArrayList<>();
                for (int i = 0; i < chunksOut; i++) {
                    chunks.add(dataIn.subrange((long) i * sizChunk, sizChunk));
                }
                for (DispatchData d : chunks) {
                    g.enter();
                    DispatchIO.write(outFd, d, Q, (dataOut, errOut) -> {
                        if (errOut != 0 || dataOut.getSize() != 0) {
                            problems.add("write: " + dataOut.getSize() + " left, " + DispatchIO.errorText(errOut));
                        }
                        g.leave();
                    });
                }
                chunks.forEach(DispatchData::close);
                g.leave();
            });
            waitFor(g);
            out.seek(0);
            AtomicReference<DispatchData> readBack = new AtomicReference<>();
            g.enter();
            DispatchIO.read(outFd, sizIn, Q, (cmp, errCmp) -> {
                readBack.set(cmp.retain());
                if (errCmp != 0) {
                    problems.add("readback: " + DispatchIO.errorText(errCmp));
                }
                g.leave();
            });
            waitFor(g);
            assertEquals(List.of(), List.copyOf(problems));
            try (DispatchData written = data.get(); DispatchData cmp = readBack.get()) {
                assertEquals(written.getSize(), cmp.getSize(), "readback size");
                assertArrayEquals(contents(written), contents(cmp), "readback contents (writes in submission order)");
            }
        }
    }

    @Test
    void testWritesReadsEagain() throws Exception {
        int chunks = 320, sizChunk = 32, siz = sizChunk * chunks;
        Pipe pipe = Pipe.open();
        AtomicLong sizAcc = new AtomicLong();
        AtomicLong deliveries = new AtomicLong();
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        int readFd = FileDescriptors.of(pipe.source());
        try (FileInputStream in = new FileInputStream("/dev/urandom"); DispatchGroup g = DispatchGroup.create()) {
            DispatchIO.DataHandler[] b = new DispatchIO.DataHandler[1];
            b[0] = (data, err) -> {
                if (err != 0) {
                    problems.add("dispatch_read: " + DispatchIO.errorText(err));
                }
                deliveries.incrementAndGet();
                if (sizAcc.addAndGet(data.getSize()) < siz && err == 0) {
                    g.enter();
                    DispatchIO.read(readFd, siz, Q, b[0]);
                }
                g.leave();
            };
            g.enter();
            DispatchIO.read(readFd, siz, Q, b[0]);
            byte[] buf = new byte[sizChunk];
            for (int i = 0; i < chunks; i++) {
                assertEquals(sizChunk, in.read(buf));
                assertEquals(sizChunk, pipe.sink().write(ByteBuffer.wrap(buf)));
                Thread.sleep(10);
            }
            pipe.sink().close();
            waitFor(g);
        } finally {
            pipe.source().close();
            pipe.sink().close();
        }
        assertEquals(List.of(), List.copyOf(problems));
        assertEquals(siz, sizAcc.get(), "dispatch_read data size");
        assertTrue(deliveries.get() >= 1 && deliveries.get() <= chunks, "deliveries: " + deliveries.get());
    }
}
