package io.jdispatch.upstream;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;
import io.jdispatch.FileDescriptors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A translation of libdispatch's {@code tests/dispatch_io_muxed.c} ("Dispatch IO Muxed"): a READ and a WRITE source
 * on the same file descriptor each get their event (and cancel themselves in it), for a file holding "test"
 * ({@code test_file_muxed}) and for the server end of a loopback TCP connection ({@code test_socket_muxed}, through
 * {@code test_stream_muxed}), where the read event needs the client's 512-byte write, made 500 ms later on a global
 * queue and checked to write all 512 bytes. The Windows-only {@code test_pipe_muxed} (a duplex named pipe) is not
 * applicable.
 *
 * <p>Changed: the temporary file is made and unlinked by {@link Files} in a JUnit {@code @TempDir} (upstream:
 * mkstemp in TMPDIR, then unlink); the sockets are {@code ServerSocketChannel} / {@code SocketChannel} (backlog 3, as
 * upstream); {@code dispatch_release} in the cancel handlers becomes {@code close()} after the group wait, which is
 * bounded to 60 s (upstream's test_group_wait). Added: the socket's read event does not come before the client's
 * write started (upstream only waits for it).
 */
class DispatchIoMuxedUpstreamTest {
    private static final DispatchQueue Q = DispatchQueue.global();

    /** A source on {@code fd} that cancels itself at its first event and leaves {@code g} when cancelled. */
    private static DispatchSource selfCancelling(DispatchSource source, DispatchGroup g, Runnable onEvent) {
        source.setEventHandler(() -> {
            onEvent.run();
            source.cancel();
        });
        source.setCancelHandler(g::leave);
        return source;
    }

    private static void waitFor(DispatchGroup g, Queue<String> problems) {
        assertTrue(g.wait(60, TimeUnit.SECONDS), "the group never emptied: " + problems);
    }

    @Test
    void testFileMuxed(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("dispatchtest_io");
        try (FileChannel fd = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE); DispatchGroup g = DispatchGroup.create()) {
            Files.delete(path);
            fd.write(ByteBuffer.wrap("test".getBytes(StandardCharsets.US_ASCII)));
            fd.position(0);
            g.enter();
            g.enter();
            try (DispatchSource reader = selfCancelling(DispatchSource.read(FileDescriptors.of(fd), Q), g, () -> {});
                 DispatchSource writer = selfCancelling(DispatchSource.write(FileDescriptors.of(fd), Q), g, () -> {})) {
                reader.resume();
                writer.resume();
                waitFor(g, new ConcurrentLinkedQueue<>());
                assertTrue(reader.isCancelled() && writer.isCancelled(), "both sources cancelled themselves");
            }
        }
    }

    @Test
    void testSocketMuxed() throws Exception {
        try (ServerSocketChannel listen = ServerSocketChannel.open()) {
            listen.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 3);
            try (SocketChannel client = SocketChannel.open(listen.getLocalAddress());
                 SocketChannel server = listen.accept()) {
                testStreamMuxed(server, client);
            }
        }
    }

    /** test_stream_muxed: READ and WRITE sources on {@code server}; the client writes 512 bytes after 500 ms. */
    private static void testStreamMuxed(SocketChannel server, SocketChannel client) {
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        AtomicBoolean writeStarted = new AtomicBoolean();
        try (DispatchGroup g = DispatchGroup.create()) {
            g.enter();
            g.enter();
            int serverfd = FileDescriptors.of(server);
            try (DispatchSource reader = selfCancelling(DispatchSource.read(serverfd, Q), g, () -> {
                if (!writeStarted.get()) {
                    problems.add("the server was readable before the client wrote");
                }
            }); DispatchSource writer = selfCancelling(DispatchSource.write(serverfd, Q), g, () -> {})) {
                reader.resume();
                writer.resume();
                Q.after(DispatchTime.fromNow(500, TimeUnit.MILLISECONDS), () -> {
                    g.enter();
                    try {
                        writeStarted.set(true);
                        int n = client.write(ByteBuffer.allocate(512));
                        if (n != 512) {
                            problems.add("num written " + n + ", expected 512");
                        }
                    } catch (Exception e) {
                        problems.add("write error " + e);
                    }
                    g.leave();
                });
                waitFor(g, problems);
                assertTrue(reader.isCancelled() && writer.isCancelled(), "both sources cancelled themselves");
            }
        }
        assertEquals(List.of(), List.copyOf(problems));
    }
}
