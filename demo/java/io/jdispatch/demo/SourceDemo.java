package io.jdispatch.demo;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;
import io.jdispatch.FileDescriptors;

import java.io.IOException;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Dispatch sources on real kernel events: a timer, a signal, a socket read, a child's exit, a file change. */
public final class SourceDemo {
    private static final int SIGUSR1 = 10; // Linux numbering

    private SourceDemo() {}

    public static void run() throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("demo.sources")) {
            timer(q);
            signal(q);
            socket(q);
            childExit(q);
            fileChange(q);
        }
    }

    static void timer(DispatchQueue q) throws InterruptedException {
        CountDownLatch fired = new CountDownLatch(3);
        try (DispatchSource t = DispatchSource.timer(false, q)) {
            long start = System.nanoTime();
            t.setEventHandler(() -> {
                System.out.printf("source: timer fired (data=%d) at +%d ms%n", t.getData(),
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
                fired.countDown();
            });
            t.setTimer(DispatchTime.fromNow(50, TimeUnit.MILLISECONDS), 50_000_000, 0);
            t.resume();
            Demo.await(fired, "3 timer fires");
        }
    }

    static void signal(DispatchQueue q) throws Exception {
        CountDownLatch registered = new CountDownLatch(1);
        CountDownLatch got = new CountDownLatch(1);
        try (DispatchSource s = DispatchSource.signal(SIGUSR1, q)) {
            s.setRegistrationHandler(registered::countDown);
            s.setEventHandler(() -> {
                System.out.printf("source: SIGUSR1 received (count=%d), handled on a queue, not in a signal handler%n",
                        s.getData());
                got.countDown();
            });
            s.resume();
            Demo.await(registered, "signal source registration"); // libdispatch catches the signal from here on
            long pid = ProcessHandle.current().pid();
            // The shell's own kill: minimal images have a shell but not always a `kill` program.
            Process kill = new ProcessBuilder("sh", "-c", "kill -s USR1 " + pid).inheritIO().start();
            if (!kill.waitFor(Demo.WAIT_S, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("sh -c 'kill -s USR1 " + pid + "' failed"
                        + (kill.isAlive() ? " to finish in " + Demo.WAIT_S + " s" : ": exit " + kill.exitValue()));
            }
            Demo.await(got, "SIGUSR1");
        }
    }

    static void socket(DispatchQueue q) throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel client = SocketChannel.open(server.getLocalAddress());
             SocketChannel peer = server.accept()) {
            peer.configureBlocking(false);
            CountDownLatch read = new CountDownLatch(1);
            CountDownLatch cancelled = new CountDownLatch(1);
            DispatchSource r = DispatchSource.read(FileDescriptors.of(peer), q);
            r.setEventHandler(() -> {
                ByteBuffer buf = ByteBuffer.allocate((int) Math.max(1, r.getData()));
                try {
                    peer.read(buf);
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
                System.out.printf("source: socket readable (estimate %d bytes), read \"%s\"%n", r.getData(),
                        new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
                read.countDown();
            });
            r.setCancelHandler(cancelled::countDown);
            r.resume();
            client.write(ByteBuffer.wrap("hello over TCP".getBytes(StandardCharsets.UTF_8)));
            Demo.await(read, "socket read");
            r.cancel();
            Demo.await(cancelled, "READ source cancel"); // the channels close only after this
            r.close();
        }
    }

    static void childExit(DispatchQueue q) throws Exception {
        Process child = new ProcessBuilder("sleep", "0.2").start();
        CountDownLatch exited = new CountDownLatch(1);
        try (DispatchSource p = DispatchSource.proc(child.pid(), DispatchSource.PROC_EXIT, q)) {
            p.setEventHandler(() -> {
                System.out.printf("source: child %d exited (data=0x%x = DISPATCH_PROC_EXIT, from a pidfd)%n",
                        p.getHandle(), p.getData());
                exited.countDown();
            });
            p.resume();
            Demo.await(exited, "child exit");
        }
    }

    static void fileChange(DispatchQueue q) throws Exception {
        Path file = Files.createTempFile("jdispatch-demo", ".txt");
        CountDownLatch deleted = new CountDownLatch(1);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE);
             DispatchSource v = DispatchSource.vnode(FileDescriptors.of(ch),
                     DispatchSource.VNODE_WRITE | DispatchSource.VNODE_EXTEND | DispatchSource.VNODE_DELETE, q)) {
            v.setEventHandler(() -> {
                long d = v.getData();
                System.out.printf("source: %s changed:%s%s%s (inotify)%n", file.getFileName(),
                        (d & DispatchSource.VNODE_WRITE) != 0 ? " WRITE" : "",
                        (d & DispatchSource.VNODE_EXTEND) != 0 ? " EXTEND" : "",
                        (d & DispatchSource.VNODE_DELETE) != 0 ? " DELETE" : "");
                if ((d & DispatchSource.VNODE_DELETE) != 0) {
                    deleted.countDown();
                }
            });
            v.resume();
            ch.write(ByteBuffer.wrap("some bytes".getBytes(StandardCharsets.UTF_8)));
            Thread.sleep(100); // two separate events in the output, rather than one coalesced
            Files.delete(file);
            Demo.await(deleted, "file delete");
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
