package io.jdispatch.upstream;

import io.jdispatch.DispatchData;
import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchIO;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;
import io.jdispatch.FileDescriptors;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A translation of libdispatch's {@code tests/dispatch_io_pipe.c} ("Dispatch IO Pipe"): on an anonymous pipe, a READ
 * source, a WRITE source, {@code dispatch_read} and {@code dispatch_write}, each with the other end's transfer done
 * before ({@link Delay#IMMEDIATE}) or 500 ms after ({@link Delay#DELAYED}) the operation starts; a group counts
 * every step and the test waits for it.
 *
 * <p>Changed: only the anonymous pipe kind (the named kinds are Windows'); the pipe is a {@link Pipe} in blocking mode
 * (its fds go to libdispatch); the delayed step runs from {@link DispatchQueue#after} on a global queue rather than
 * from a one-shot timer source; what the C test checks with {@code test_sizet}/{@code test_errno} inside its blocks
 * is collected and asserted after the group wait; the pipe buffer's size is measured as the C test does, by writing
 * single bytes to a non-blocking pipe until it is full; the group wait is bounded to 30 s.
 */
class DispatchIoPipeUpstreamTest {
    enum Delay { IMMEDIATE, DELAYED }

    private static final DispatchQueue GLOBAL = DispatchQueue.global();
    private static int pipeBufferSize;

    /** The bytes a pipe holds (test_get_pipe_buffer_size). */
    private static synchronized int pipeBufferSize() throws IOException {
        if (pipeBufferSize == 0) {
            Pipe p = Pipe.open();
            try {
                p.sink().configureBlocking(false);
                ByteBuffer one = ByteBuffer.allocate(1);
                int size = 0;
                while (p.sink().write(one.clear()) > 0) {
                    size++;
                }
                pipeBufferSize = size;
            } finally {
                p.source().close();
                p.sink().close();
            }
        }
        return pipeBufferSize;
    }

    /** A pipe and what the steps found wrong, asserted once the group is empty. */
    private static final class Run implements AutoCloseable {
        final Pipe pipe = Pipe.open();
        final DispatchGroup group = DispatchGroup.create();
        final Queue<String> problems = new ConcurrentLinkedQueue<>();

        Run() throws IOException {}

        int readFd() {
            return FileDescriptors.of(pipe.source());
        }

        int writeFd() {
            return FileDescriptors.of(pipe.sink());
        }

        void expect(String what, long actual, long expected) {
            if (actual != expected) {
                problems.add(what + ": " + actual + ", expected " + expected);
            }
        }

        /** A step of the other end, counted by the group. */
        Runnable step(IoStep body) {
            return () -> {
                group.enter();
                try {
                    body.run();
                } catch (Exception e) {
                    problems.add(e.toString());
                } finally {
                    group.leave();
                }
            };
        }

        int write(int n) throws IOException {
            return pipe.sink().write(ByteBuffer.allocate(n));
        }

        int read(int n) throws IOException {
            return pipe.source().read(ByteBuffer.allocate(n));
        }

        void finish(Delay delay, Runnable delayed) {
            if (delay == Delay.DELAYED) {
                GLOBAL.after(DispatchTime.fromNow(500, TimeUnit.MILLISECONDS), delayed);
            }
            assertTrue(group.wait(30, TimeUnit.SECONDS), "the group never emptied: " + problems);
            assertEquals(List.of(), List.copyOf(problems));
        }

        @Override
        public void close() throws IOException {
            group.close();
            pipe.source().close();
            pipe.sink().close();
        }
    }

    @FunctionalInterface
    interface IoStep {
        void run() throws Exception;
    }

    @ParameterizedTest
    @EnumSource(Delay.class)
    void sourceRead(Delay delay) throws Exception {
        try (Run r = new Run()) {
            r.group.enter();
            Runnable writeBlock = r.step(() -> r.expect("num written", r.write(512), 512));
            if (delay == Delay.IMMEDIATE) {
                writeBlock.run();
            }
            DispatchSource reader = DispatchSource.read(r.readFd(), GLOBAL);
            reader.setEventHandler(r.step(() -> {
                r.expect("num available", reader.getData(), 512);
                r.expect("num read", r.read(512), 512);
                reader.cancel();
            }));
            reader.setCancelHandler(() -> {
                reader.close();
                r.group.leave();
            });
            reader.resume();
            r.finish(delay, writeBlock);
        }
    }

    @ParameterizedTest
    @EnumSource(Delay.class)
    void sourceWrite(Delay delay) throws Exception {
        int bufsize = pipeBufferSize();
        try (Run r = new Run()) {
            r.group.enter();
            IoStep writeBlock = () -> r.expect("num written", r.write(bufsize), bufsize);
            writeBlock.run(); // the pipe is full now
            Runnable readBlock = r.step(() -> r.expect("num read", r.read(bufsize), bufsize));
            if (delay == Delay.IMMEDIATE) {
                readBlock.run();
            }
            DispatchSource writer = DispatchSource.write(r.writeFd(), GLOBAL);
            writer.setEventHandler(r.step(() -> {
                long available = writer.getData();
                if (available <= 0) {
                    r.problems.add("num available: " + available + ", expected more than 0");
                }
                writeBlock.run();
                readBlock.run();
                writer.cancel();
            }));
            writer.setCancelHandler(() -> {
                writer.close();
                r.group.leave();
            });
            writer.resume();
            r.finish(delay, readBlock);
        }
    }

    @ParameterizedTest
    @EnumSource(Delay.class)
    void dispatchRead(Delay delay) throws Exception {
        try (Run r = new Run()) {
            r.group.enter();
            Runnable writeBlock = r.step(() -> r.expect("num written", r.write(512), 512));
            if (delay == Delay.IMMEDIATE) {
                writeBlock.run();
            }
            DispatchIO.read(r.readFd(), 512, GLOBAL, (data, err) -> {
                r.expect("read error", err, 0);
                r.expect("num read", data.getSize(), 512);
                r.group.leave();
            });
            r.finish(delay, writeBlock);
        }
    }

    @ParameterizedTest
    @EnumSource(Delay.class)
    void dispatchWrite(Delay delay) throws Exception {
        int bufsize = pipeBufferSize();
        try (Run r = new Run()) {
            r.group.enter();
            r.expect("num written", r.write(bufsize), bufsize); // full
            Runnable readBlock = r.step(() -> r.expect("num read", r.read(bufsize), bufsize));
            if (delay == Delay.IMMEDIATE) {
                readBlock.run();
            }
            try (DispatchData wd = DispatchData.create(new byte[bufsize])) {
                DispatchIO.write(r.writeFd(), wd, GLOBAL, (rest, err) -> {
                    r.expect("write error", err, 0);
                    r.expect("data left unwritten", rest.getSize(), 0);
                    readBlock.run();
                    r.group.leave();
                });
            }
            r.finish(delay, readBlock);
        }
    }
}
