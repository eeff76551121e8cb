package io.jdispatch.upstream;

import io.jdispatch.DispatchIO;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchTime;
import io.jdispatch.FileDescriptors;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A translation of libdispatch's {@code tests/dispatch_io_pipe_close.c}: a stream channel reads a pipe; once the
 * first byte arrives the handler closes the pipe's write end and, a moment later on the channel's queue, closes the
 * channel; the cleanup handler must then run (the C test ends the process there; a hang is its failure).
 *
 * <p>Changed: the pipe is a {@link Pipe} (its read end's fd goes to the channel, and the cleanup closes it, as the C
 * cleanup closes readFD); the read length is {@link DispatchIO#SIZE_MAX} rather than UINT_MAX (both mean "far more
 * than will come"); the C test's {@code dispatch_resume(io)} has no counterpart (a channel is not suspendable), and
 * the success is asserted here (cleanup error 0, one byte read) rather than printed; 30 s replace CTest's 5 s
 * timeout.
 */
class DispatchIoPipeCloseUpstreamTest {
    @Test
    void closingTheWriteEndAndThenTheChannelRunsTheCleanupHandler() throws Exception {
        Pipe pipe = Pipe.open();
        CompletableFuture<Integer> cleanup = new CompletableFuture<>();
        AtomicInteger bytesRead = new AtomicInteger();
        try (DispatchQueue q = DispatchQueue.createSerial("q");
             DispatchIO io = DispatchIO.create(DispatchIO.STREAM, FileDescriptors.of(pipe.source()), q, err -> {
                 try {
                     pipe.source().close();
                 } catch (Exception e) {
                     cleanup.completeExceptionally(e);
                 }
                 cleanup.complete(err);
             })) {
            io.setLowWater(0);
            io.read(0, DispatchIO.SIZE_MAX, q, (done, data, err) -> {
                if (data.getSize() > 0) { // only once: one byte is ever written
                    bytesRead.addAndGet((int) data.getSize());
                    try {
                        pipe.sink().close();
                    } catch (Exception e) {
                        cleanup.completeExceptionally(e);
                    }
                    q.after(DispatchTime.fromNow(1, TimeUnit.NANOSECONDS), () -> io.close(0));
                }
            });
            pipe.sink().write(ByteBuffer.wrap(new byte[] {'x'}));
            assertEquals(0, cleanup.get(30, TimeUnit.SECONDS), "the cleanup handler's error");
            assertEquals(1, bytesRead.get());
        } finally {
            pipe.source().close();
            pipe.sink().close();
        }
    }
}
