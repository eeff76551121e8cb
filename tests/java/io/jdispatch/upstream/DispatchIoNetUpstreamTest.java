package io.jdispatch.upstream;

import io.jdispatch.DispatchData;
import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchIO;
import io.jdispatch.DispatchQueue;
import io.jdispatch.FileDescriptors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A translation of libdispatch's {@code tests/dispatch_io_net.c} ("Dispatch IO Network test"): a server reads a large
 * file with {@code dispatch_read}, sends it to a client over a TCP connection with one {@code dispatch_write} and
 * closes the connection; the client reads the same file with {@code dispatch_read}, reads the socket with
 * {@code dispatch_read(SIZE_MAX)} again and again until it gets no data, and compares the two.
 *
 * <p>Changed: server and client run in this JVM (the C test spawns itself as the client process) over a loopback
 * connection (127.0.0.1, an ephemeral port); the large file is an 8 MiB temporary file of random bytes; Darwin's
 * F_NOCACHE is left out; the checks are asserted after the group waits (bounded to 60 s).
 */
class DispatchIoNetUpstreamTest {
    private static final DispatchQueue Q = DispatchQueue.global();

    @Test
    void aFileSentOverTcpWithDispatchWriteArrivesWhole(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("large.bin");
        byte[] file = new byte[8 << 20];
        new Random(4).nextBytes(file);
        Files.write(path, file);
        long size = file.length;
        Queue<String> problems = new ConcurrentLinkedQueue<>();
        try (ServerSocketChannel server = ServerSocketChannel.open();
             FileChannel serverFile = FileChannel.open(path, StandardOpenOption.READ);
             FileChannel clientFile = FileChannel.open(path, StandardOpenOption.READ);
             DispatchGroup serverGroup = DispatchGroup.create(); DispatchGroup clientGroup = DispatchGroup.create()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            SocketChannel client = SocketChannel.open(server.getLocalAddress());
            SocketChannel accepted = server.accept();
            try {
                // Server
                serverGroup.enter();
                DispatchIO.read(FileDescriptors.of(serverFile), size, Q, (d, rErr) -> {
                    if (rErr != 0 || d.getSize() != size) {
                        problems.add("Server-read: " + d.getSize() + " bytes, " + DispatchIO.errorText(rErr));
                    }
                    serverGroup.enter();
                    DispatchIO.write(FileDescriptors.of(accepted), d, Q, (remaining, wErr) -> {
                        if (wErr != 0 || remaining.getSize() != 0) {
                            problems.add("Server-write: " + remaining.getSize() + " left, " + DispatchIO.errorText(wErr));
                        }
                        try {
                            accepted.close(); // the client's EOF
                        } catch (Exception e) {
                            problems.add(e.toString());
                        }
                        serverGroup.leave();
                    });
                    serverGroup.leave();
                });

                // Client
                AtomicReference<DispatchData> d1 = new AtomicReference<>();
                AtomicReference<DispatchData> d2 = new AtomicReference<>(DispatchData.empty());
                AtomicInteger gError = new AtomicInteger();
                clientGroup.enter();
                DispatchIO.read(FileDescriptors.of(clientFile), size, Q, (d, error) -> {
                    if (error != 0 || d.getSize() != size) {
                        problems.add("Client-dict-read: " + d.getSize() + " bytes, " + DispatchIO.errorText(error));
                    }
                    d1.set(d.retain());
                    clientGroup.leave();
                });
                int sockfd = FileDescriptors.of(client);
                DispatchIO.DataHandler[] b = new DispatchIO.DataHandler[1];
                b[0] = (d, error) -> {
                    try (DispatchData old = d2.get()) {
                        d2.set(old.concat(d));
                    }
                    if (error == 0 && d.getSize() > 0) {
                        DispatchIO.read(sockfd, DispatchIO.SIZE_MAX, Q, b[0]);
                    } else {
                        gError.set(error);
                        clientGroup.leave();
                    }
                };
                clientGroup.enter();
                DispatchIO.read(sockfd, DispatchIO.SIZE_MAX, Q, b[0]);

                assertTrue(clientGroup.wait(60, TimeUnit.SECONDS), "the client never finished: " + problems);
                assertTrue(serverGroup.wait(60, TimeUnit.SECONDS), "the server never finished: " + problems);
                assertEquals(List.of(), List.copyOf(problems));
                assertEquals("no error", DispatchIO.errorText(gError.get()), "Client-read error");
                try (DispatchData dict = d1.get(); DispatchData socket = d2.get()) {
                    assertEquals(size, socket.getSize(), "Client-dispatch data size");
                    assertArrayEquals(dict.toByteArray(), socket.toByteArray(), "Client-dispatch data contents");
                    assertArrayEquals(file, socket.toByteArray());
                }
            } finally {
                client.close();
                accepted.close();
            }
        }
    }
}
