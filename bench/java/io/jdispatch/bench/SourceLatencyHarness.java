package io.jdispatch.bench;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.FileDescriptors;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Latency of kernel-event sources, side by side with what a Java service would use otherwise, in one run
 * (a harness rather than JMH: each sample is one event, recorded in an HdrHistogram).
 * <ol>
 *   <li>timer lateness: a 1 ms repeating TIMER source with leeway 0 vs ScheduledThreadPoolExecutor
 *       scheduleAtFixedRate(1 ms); lateness = handler time - scheduled time of the fire.</li>
 *   <li>readiness: 1 byte written to a loopback TCP socket -> READ-source handler has read it, vs a
 *       java.nio Selector thread on the same socket pair.</li>
 *   <li>VNODE: a file renamed -> the VNODE_RENAME handler ran, a fresh source per rename, vs the same inotify +
 *       READ source program in C ({@code bench_vnode}).</li>
 * </ol>
 * Run: {@code java -cp target/classes:target/test-classes:$(cat /tmp/cp.txt) io.jdispatch.bench.SourceLatencyHarness [seconds]}
 */
public final class SourceLatencyHarness {
    private SourceLatencyHarness() {}

    static final long PERIOD = 1_000_000; // 1 ms

    public static void main(String[] args) throws Exception {
        measure(args.length > 0 ? Integer.parseInt(args[0]) : 5, new Measurements());
    }

    /** Prints the figures and records them (latency.timer.*, latency.read.*: p50, p99, max in us) into m. */
    static void measure(int seconds, Measurements m) throws Exception {
        int fires = seconds * 1000;
        System.out.println("timer lateness, 1 ms period, " + fires + " fires each (us):");
        Histogram stpe = stpeLateness(200);
        Histogram source = sourceLateness(200); // warm-up
        stpe = stpeLateness(fires);
        source = sourceLateness(fires);
        print("  ScheduledThreadPoolExecutor", stpe);
        print("  DispatchSource TIMER       ", source);
        ratio("  timer lateness ratio source/STPE", source, stpe);
        record(m, "latency.timer.stpe", stpe);
        record(m, "latency.timer.dispatch", source);

        int rounds = seconds * 4000;
        System.out.println("readiness, socket write -> handler has read (us), " + rounds + " rounds each:");
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             SocketChannel writer = SocketChannel.open(server.getLocalAddress());
             SocketChannel reader = server.accept()) {
            writer.socket().setTcpNoDelay(true);
            reader.configureBlocking(false);
            selectorReadiness(writer, reader, 1000);
            sourceReadiness(writer, reader, 1000);
            Histogram sel = selectorReadiness(writer, reader, rounds);
            Histogram src = sourceReadiness(writer, reader, rounds);
            print("  java.nio Selector          ", sel);
            print("  DispatchSource READ        ", src);
            ratio("  readiness ratio source/Selector", src, sel);
            record(m, "latency.read.selector", sel);
            record(m, "latency.read.dispatch", src);
        }
        int renames = seconds * 200;
        System.out.println("VNODE, rename -> handler, a fresh source per rename (the previous one closing) (us), "
                + renames + " renames:");
        vnodeLatency(200);
        Histogram vnode = vnodeLatency(renames);
        print("  DispatchSource VNODE       ", vnode);
        record(m, "latency.vnode.dispatch", vnode);
        System.out.println("(shared 2-core machine: compare the ratios within this run, not absolute times)");
    }

    static Histogram stpeLateness(int fires) throws InterruptedException {
        Histogram h = new Histogram(3);
        ScheduledThreadPoolExecutor stpe = new ScheduledThreadPoolExecutor(1);
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong n = new AtomicLong();
        long t0 = System.nanoTime();
        stpe.scheduleAtFixedRate(() -> {
            long k = n.getAndIncrement();
            if (k < fires) {
                h.recordValue(Math.max(0, System.nanoTime() - (t0 + k * PERIOD)) / 1000);
            } else {
                done.countDown();
            }
        }, 0, PERIOD, TimeUnit.NANOSECONDS);
        done.await();
        stpe.shutdownNow();
        return h;
    }

    static Histogram sourceLateness(int fires) throws InterruptedException {
        Histogram h = new Histogram(3);
        CountDownLatch done = new CountDownLatch(1);
        AtomicLong n = new AtomicLong(); // fires so far: getData() counts fires coalesced into one call
        try (DispatchQueue q = DispatchQueue.createSerial("bench.timer");
             DispatchSource t = DispatchSource.timer(true, q)) {
            long[] t0 = new long[1];
            t.setEventHandler(() -> {
                long now = System.nanoTime();
                long k = n.addAndGet(t.getData()) - 1; // index of the latest fire covered by this call
                if (k < fires) {
                    h.recordValue(Math.max(0, now - (t0[0] + k * PERIOD)) / 1000);
                } else {
                    done.countDown();
                }
            });
            t0[0] = System.nanoTime();
            t.setTimer(io.jdispatch.DispatchTime.NOW, PERIOD, 0);
            t.resume();
            done.await();
        }
        return h;
    }

    /**
     * A file renamed -> the VNODE_RENAME handler ran, each rename watched by a new source registered just before
     * it while the previous source is being cancelled and closed (closing an inotify instance takes an RCU grace
     * period: on the watchers' queue that once delayed every other watcher's events by milliseconds).
     */
    static Histogram vnodeLatency(int renames) throws Exception {
        Histogram h = new Histogram(3);
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("bench-vnode");
        try (DispatchQueue q = DispatchQueue.createSerial("bench.vnode")) {
            for (int i = 0; i < renames; i++) {
                java.nio.file.Path a = dir.resolve("a" + i), b = dir.resolve("b" + i);
                java.nio.file.Files.createFile(a);
                try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(a)) {
                    CountDownLatch registered = new CountDownLatch(1);
                    java.util.concurrent.BlockingQueue<Long> seen = new java.util.concurrent.LinkedBlockingQueue<>();
                    DispatchSource s = DispatchSource.vnode(FileDescriptors.of(ch), DispatchSource.VNODE_RENAME, q);
                    s.setRegistrationHandler(registered::countDown);
                    s.setEventHandler(() -> seen.offer(System.nanoTime()));
                    s.activate();
                    registered.await();
                    long t0 = System.nanoTime();
                    java.nio.file.Files.move(a, b);
                    Long t1 = seen.poll(5, TimeUnit.SECONDS);
                    if (t1 == null) {
                        throw new IllegalStateException("VNODE_RENAME not reported within 5 s");
                    }
                    h.recordValue((t1 - t0) / 1000);
                    s.close(); // cancels; the cancel handler closes the inotify instance
                }
                java.nio.file.Files.delete(b);
            }
        }
        java.nio.file.Files.delete(dir);
        return h;
    }

    static Histogram selectorReadiness(SocketChannel writer, SocketChannel reader, int rounds) throws Exception {
        Histogram h = new Histogram(3);
        AtomicLong received = new AtomicLong();
        AtomicLong sentAt = new AtomicLong();
        Selector selector = Selector.open();
        reader.register(selector, SelectionKey.OP_READ);
        Thread loop = new Thread(() -> {
            ByteBuffer buf = ByteBuffer.allocate(64);
            try {
                while (received.get() < rounds) {
                    selector.select();
                    selector.selectedKeys().clear();
                    buf.clear();
                    int r = reader.read(buf);
                    if (r > 0) {
                        h.recordValue((System.nanoTime() - sentAt.get()) / 1000);
                        received.addAndGet(r);
                    }
                }
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        }, "selector");
        loop.start();
        pingRounds(writer, received, sentAt, rounds);
        loop.join();
        selector.close(); // deregisters the channel
        reader.configureBlocking(false);
        return h;
    }

    static Histogram sourceReadiness(SocketChannel writer, SocketChannel reader, int rounds) throws Exception {
        Histogram h = new Histogram(3);
        AtomicLong received = new AtomicLong();
        AtomicLong sentAt = new AtomicLong();
        CountDownLatch cancelled = new CountDownLatch(1);
        try (DispatchQueue q = DispatchQueue.createSerial("bench.read")) {
            DispatchSource s = DispatchSource.read(FileDescriptors.of(reader), q);
            ByteBuffer buf = ByteBuffer.allocate(64);
            s.setEventHandler(() -> {
                buf.clear();
                try {
                    int r = reader.read(buf);
                    if (r > 0) {
                        h.recordValue((System.nanoTime() - sentAt.get()) / 1000);
                        received.addAndGet(r);
                    }
                } catch (IOException e) {
                    throw new RuntimeException(e);
                }
            });
            s.setCancelHandler(cancelled::countDown);
            s.resume();
            pingRounds(writer, received, sentAt, rounds);
            s.cancel();
            cancelled.await();
            s.close();
        }
        return h;
    }

    /** Writes one byte per round and waits (spinning) until the reader side has consumed it. */
    static void pingRounds(SocketChannel writer, AtomicLong received, AtomicLong sentAt, int rounds) throws IOException {
        ByteBuffer one = ByteBuffer.allocate(1);
        for (int i = 1; i <= rounds; i++) {
            one.clear();
            sentAt.set(System.nanoTime());
            writer.write(one);
            while (received.get() < i) {
                Thread.onSpinWait();
            }
        }
    }

    static void print(String name, Histogram h) {
        System.out.printf("%s p50=%6d p99=%6d max=%6d%n", name, h.getValueAtPercentile(50),
                h.getValueAtPercentile(99), h.getMaxValue());
    }

    static void record(Measurements m, String name, Histogram h) {
        m.put(name + ".p50", h.getValueAtPercentile(50), "us");
        m.put(name + ".p99", h.getValueAtPercentile(99), "us");
        m.put(name + ".max", h.getMaxValue(), "us");
    }

    static void ratio(String name, Histogram a, Histogram b) {
        System.out.printf("%s: p50 %.2f, p99 %.2f%n", name,
                (double) Math.max(1, a.getValueAtPercentile(50)) / Math.max(1, b.getValueAtPercentile(50)),
                (double) Math.max(1, a.getValueAtPercentile(99)) / Math.max(1, b.getValueAtPercentile(99)));
    }
}
