package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.FileDescriptors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A translation of libdispatch's {@code tests/dispatch_read.c} ("Dispatch Source Read"): a READ source on a large
 * file; each event reads up to 500 KB, checks that the estimate the source reports is no more than what is left,
 * and when a read comes back short confirms EOF and cancels; the cancel handler checks that every byte was read.
 *
 * <p>Changed: the large file is a 4 MiB temporary file of random bytes (the C test's
 * {@code dispatch_test_get_large_file} picks a big file of the system); the source runs on a serial queue rather than
 * the main queue, and its finalizer's check ({@code test_fin}) is the cancel handler completing; the fd is a
 * {@link FileChannel}'s (non-blocking changes nothing for a regular file, so the C test's O_NONBLOCK is left out).
 */
class DispatchReadUpstreamTest {
    @Test
    void aReadSourceReadsALargeFileToItsEnd(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("large.bin");
        byte[] content = new byte[4 << 20];
        new Random(1).nextBytes(content);
        Files.write(path, content);
        long total = content.length;
        AtomicLong bytesRead = new AtomicLong();
        CompletableFuture<String> cancelled = new CompletableFuture<>();
        ByteBuffer buffer = ByteBuffer.allocate(1024 * 500);
        try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ);
             DispatchQueue q = DispatchQueue.createSerial("dispatch_read");
             DispatchSource reader = DispatchSource.read(FileDescriptors.of(in), q)) {
            reader.setEventHandler(() -> {
                try {
                    long estimated = reader.getData();
                    if (estimated > total - bytesRead.get()) {
                        cancelled.complete("estimated " + estimated + " > " + (total - bytesRead.get()) + " left");
                    }
                    buffer.clear();
                    int actual = Math.max(0, in.read(buffer));
                    bytesRead.addAndGet(actual);
                    if (actual < buffer.capacity()) {
                        buffer.clear();
                        int eof = in.read(buffer);
                        if (eof != -1) {
                            cancelled.complete("EOF: a read after a short one returned " + eof);
                        }
                        reader.cancel();
                    }
                } catch (Exception e) {
                    cancelled.completeExceptionally(e);
                }
            });
            reader.setCancelHandler(() -> cancelled.complete("bytes read " + bytesRead.get()));
            reader.resume();
            assertEquals("bytes read " + total, cancelled.get(30, TimeUnit.SECONDS));
        }
    }
}
