package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.FileDescriptors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_select.c} (rdar://problem/7678012), translated: a READ source on
 * {@code /dev/random} fires, its handler reads at most 500 KiB and cancels, and the cancel handler closes the fd;
 * then a READ source on a 2 MiB regular file (upstream's {@code dispatch_test_get_large_file}: random bytes in a temp
 * file) reads it in 500 KiB chunks, each estimate ({@code getData()}) at most the bytes left, until a short read and
 * then EOF (0), for exactly the file's size; then {@code /dev/random} once more. Upstream's third stage ends in the
 * source's finalizer; sources have no finalizer here, so its cancel handler marks the end (changed). On a serial
 * queue instead of the main queue (changed). {@code FileChannel} reads return -1 at EOF where {@code read(2)} returns 0.
 */
class DispatchSelectUpstreamTest {
    private static final int BUFFER = 500 * 1024;

    @Test
    void readSourcesOnDevRandomAndOnARegularFileReadEverything(@TempDir Path dir) throws Exception {
        List<String> failures = new CopyOnWriteArrayList<>();
        try (DispatchQueue mainQ = DispatchQueue.createSerial("main")) {
            stage1(mainQ, failures);
            stage2(mainQ, dir, failures);
            stage1(mainQ, failures);
        }
        assertEquals(List.of(), failures);
    }

    private static void stage1(DispatchQueue mainQ, List<String> failures) throws Exception {
        FileChannel fd = FileChannel.open(Path.of("/dev/random"));
        CountDownLatch cancelled = new CountDownLatch(1);
        try (DispatchSource source = DispatchSource.read(FileDescriptors.of(fd), mainQ)) {
            source.setEventHandler(() -> {
                try {
                    int sz = fd.read(ByteBuffer.allocate(BUFFER));
                    if (sz > BUFFER + 1) {
                        failures.add("kevent read 1: " + sz);
                    }
                } catch (IOException e) {
                    failures.add("read: " + e);
                }
                source.cancel();
            });
            source.setCancelHandler(() -> {
                try {
                    fd.close();
                } catch (IOException e) {
                    failures.add("close: " + e);
                }
                cancelled.countDown();
            });
            source.resume();
            assertTrue(cancelled.await(60, TimeUnit.SECONDS), "the /dev/random source fired and was cancelled");
        }
    }

    private static void stage2(DispatchQueue mainQ, Path dir, List<String> failures) throws Exception {
        Path path = dir.resolve("large");
        byte[] bytes = new byte[2 * 1024 * 1024];
        new Random(7).nextBytes(bytes);
        Files.write(path, bytes);
        FileChannel fd = FileChannel.open(path);
        long expected = fd.size();
        long[] actual = {0};
        long[] bytesRead = {-1};
        CountDownLatch cancelled = new CountDownLatch(1);
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
        try (DispatchSource source = DispatchSource.read(FileDescriptors.of(fd), mainQ)) {
            source.setEventHandler(() -> {
                long est = source.getData();
                if (est > expected - actual[0]) {
                    failures.add("estimated " + est + " > " + (expected - actual[0]));
                }
                try {
                    int sz = fd.read(buffer.clear());
                    actual[0] += Math.max(sz, 0);
                    if (sz < BUFFER) {
                        int eof = fd.read(buffer.clear());
                        if (eof != -1) {
                            failures.add("EOF: read " + eof);
                        }
                        source.cancel();
                    }
                } catch (IOException e) {
                    failures.add("read: " + e);
                    source.cancel();
                }
            });
            source.setCancelHandler(() -> {
                bytesRead[0] = actual[0];
                try {
                    fd.close();
                } catch (IOException e) {
                    failures.add("close: " + e);
                }
                cancelled.countDown();
            });
            source.resume();
            assertTrue(cancelled.await(60, TimeUnit.SECONDS), "the file source read to EOF");
        }
        assertEquals(expected, bytesRead[0], "bytes read");
    }
}
