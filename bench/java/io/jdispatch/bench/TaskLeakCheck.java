package io.jdispatch.bench;

import io.jdispatch.DispatchQueue;
import io.jdispatch.internal.Handles;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Shows that async tasks leak nothing: runs 10M empty tasks (batches of 100k, alternating a serial queue,
 * whose tasks go through its Java FIFO, and the global queue, one Handles id and libdispatch item per task)
 * and prints the Java heap after GC, the process RSS and the Handles count before, after 1M and after 10M.
 * Exits non-zero if a handle is left or the heap after GC grew by more than 16 MiB.
 * Run: java -Xmx64m -cp target/classes:target/test-classes:... io.jdispatch.bench.TaskLeakCheck [total tasks]
 * (a fixed heap makes RSS comparable: with the default heap, RSS follows how much heap G1 decides to touch).
 */
public final class TaskLeakCheck {
    private static final int BATCH = 100_000;

    private TaskLeakCheck() {}

    public static void main(String[] args) throws Exception {
        long total = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
        try (DispatchQueue serial = DispatchQueue.createSerial("leak-check")) {
            run(serial, 2 * BATCH); // warm up: JIT, worker threads, the Handles table
            long heapBefore = heapAfterGc();
            print("before", 0, heapBefore);
            long done = 0;
            long[] marks = total > 10_000_000L ? new long[] {1_000_000L, 10_000_000L, total} : new long[] {1_000_000L, total};
            for (long mark : marks) {
                run(serial, mark - done);
                done = mark;
                print("after " + mark / 1_000_000 + "M", done, heapAfterGc());
            }
            long growth = heapAfterGc() - heapBefore;
            int handles = Handles.size();
            System.out.printf("heap growth after GC: %+d KiB; handles left: %d%n", growth / 1024, handles);
            if (handles != 0 || growth > 16L << 20) {
                System.out.println("LEAK");
                System.exit(1);
            }
        }
    }

    private static void run(DispatchQueue serial, long tasks) {
        AtomicInteger remaining = new AtomicInteger();
        Thread waiter = Thread.currentThread();
        Runnable task = () -> {
            if (remaining.decrementAndGet() == 0) {
                LockSupport.unpark(waiter);
            }
        };
        for (long done = 0, batch = 0; done < tasks; done += BATCH, batch++) {
            int n = (int) Math.min(BATCH, tasks - done);
            remaining.set(n);
            DispatchQueue q = batch % 2 == 0 ? serial : DispatchQueue.global();
            for (int i = 0; i < n; i++) {
                q.async(task);
            }
            while (remaining.get() != 0) {
                LockSupport.park();
            }
        }
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void print(String when, long tasks, long heap) throws Exception {
        String rss = Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(l -> l.startsWith("VmRSS:")).findFirst().orElse("VmRSS: ?").replaceAll("\\s+", " ");
        System.out.printf("%-10s tasks=%,d heap after GC=%,d KiB %s handles=%d%n", when, tasks, heap / 1024, rss,
                Handles.size());
    }
}
