package io.jdispatch.testutil;

import io.jdispatch.Dispatch;
import io.jdispatch.DispatchChannel;

import java.io.FileInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Child-JVM program (run under a low {@code ulimit -n}): a DispatchChannel listener with a connection waiting
 * in its backlog and no fd free, so every accept fails with EMFILE for {@code args[0]} seconds; then fds are
 * freed. Prints how many failures reached the error handler meanwhile and in how many seconds (rounded up),
 * the first one, whether the connection was accepted while no fd was free (it must not be), and whether it was
 * accepted once fds were free.
 */
public final class AcceptBackOffProbe {
    private AcceptBackOffProbe() {}

    public static void main(String[] args) throws Exception {
        int seconds = Integer.parseInt(args[0]);
        Dispatch.ensureAvailable();
        AtomicInteger reports = new AtomicInteger();
        AtomicReference<Throwable> first = new AtomicReference<>();
        CountDownLatch accepted = new CountDownLatch(1);
        ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
        DispatchChannel listener = DispatchChannel.create(server, null);
        listener.setAcceptHandler(c -> {
            c.close();
            accepted.countDown();
        });
        listener.setErrorHandler((ch, e) -> {
            first.compareAndSet(null, e);
            reports.incrementAndGet();
        });
        listener.activate();
        SocketChannel client = SocketChannel.open(); // its fd now, while one is free

        // Others hold fds for a moment too: libdispatch's worker-pool monitor opens /proc files, and the JVM
        // reads its own. One held while the table filled and closed after would let the first accept
        // succeed. So take the fds again until none has come free for 100 ms.
        List<FileInputStream> filler = new ArrayList<>();
        for (int quiet = 0; quiet < 5; quiet++) {
            if (fill(filler) > 0) {
                quiet = -1;
            }
            Thread.sleep(20);
        }
        long start = System.nanoTime();
        client.connect(server.getLocalAddress()); // completes in the kernel's backlog; accept needs an fd
        Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
        int during = reports.get();
        boolean acceptedWithNoFdFree = accepted.getCount() == 0;
        long elapsedSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start) + 1; // rounded up
        for (FileInputStream f : filler) {
            f.close();
        }
        boolean served = accepted.await(30, TimeUnit.SECONDS);
        System.out.println("reports with no fd free: " + during);
        System.out.println("seconds with no fd free: " + elapsedSeconds);
        System.out.println("first: " + first.get());
        System.out.println("accepted with no fd free: " + acceptedWithNoFdFree);
        System.out.println("accepted after fds freed: " + served);
        client.close();
        listener.close();
    }

    /** Opens /dev/null until no fd is left; returns how many it opened. */
    private static int fill(List<FileInputStream> filler) {
        int opened = 0;
        try {
            while (true) {
                filler.add(new FileInputStream("/dev/null"));
                opened++;
            }
        } catch (IOException full) {
            return opened; // no fd free
        }
    }
}
