package io.jdispatch.demo;

import io.jdispatch.DispatchQueue;
import io.jdispatch.IODataQueueDispatchSource;
import io.jdispatch.IOReturn;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The shared-memory data queue across processes: this JVM creates a queue under /dev/shm and consumes it in a
 * DataAvailable handler on a dispatch queue; a child JVM (same class path) attaches by path and produces.
 */
public final class DataQueueDemo {
    private static final int COUNT = 1_000_000;
    private static final int SIZE = 64;

    private DataQueueDemo() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("produce")) {
            produce(Path.of(args[1]));
        } else {
            run();
        }
    }

    /** The consumer side (what Demo.main runs). */
    static void run() throws Exception {
        Path path = Path.of("/dev/shm", "jdispatch-demo-" + ProcessHandle.current().pid());
        try (DispatchQueue queue = DispatchQueue.createSerial("demo.dataqueue");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(1 << 20, queue, path)) {
            long[] received = {0};
            long[] bytes = {0};
            long[] wakeups = {0};
            Semaphore done = new Semaphore(0);
            q.setDataAvailableHandler(() -> {
                wakeups[0]++;
                int n;
                while ((n = q.dequeueBatch(256, b -> bytes[0] += b.remaining())) > 0) {
                    received[0] += n;
                }
                if (received[0] == COUNT) {
                    done.release();
                }
            });
            long start = System.nanoTime();
            Process producer = new ProcessBuilder(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), DataQueueDemo.class.getName(), "produce", path.toString()))
                    .inheritIO().start();
            if (!done.tryAcquire(120, TimeUnit.SECONDS)) {
                throw new IllegalStateException("data queue: received " + received[0] + " of " + COUNT);
            }
            double secs = (System.nanoTime() - start) / 1e9;
            if (!producer.waitFor(60, TimeUnit.SECONDS) || producer.exitValue() != 0) {
                throw new IllegalStateException("data queue: the producer JVM (pid " + producer.pid() + ") "
                        + (producer.isAlive() ? "did not exit in 60 s" : "exited with " + producer.exitValue()));
            }
            queue.sync(() -> {});
            System.out.printf("data queue: child JVM (pid %d) -> this JVM through %s: %d entries of %d B in %.2f s = "
                            + "%.0f entries/s (consumer woken %d times by DataAvailable, child JVM start included)%n",
                    producer.pid(), path, received[0], SIZE, secs, received[0] / secs, wakeups[0]);
        }
    }

    /** The producer side: attach by path, enqueue COUNT entries, wait for DataServiced when full. */
    static void produce(Path path) throws Exception {
        try (DispatchQueue queue = DispatchQueue.createSerial("demo.producer");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.attach(path, queue)) {
            Semaphore room = new Semaphore(0);
            q.setDataServicedHandler(room::release);
            for (long n = 0; n < COUNT; ) {
                long seq = n;
                int ret = q.enqueue(SIZE, b -> b.putLong(b.position(), seq));
                if (ret == IOReturn.kIOReturnSuccess) {
                    n++;
                } else if (ret != IOReturn.kIOReturnOverrun || !room.tryAcquire(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("producer: " + IOReturn.name(ret) + " at entry " + n);
                }
            }
        }
    }
}
