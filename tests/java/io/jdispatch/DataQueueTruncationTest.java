package io.jdispatch;

import io.jdispatch.testutil.ChildJvm;
import io.jdispatch.testutil.DqPeer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static io.jdispatch.IOReturn.kIOReturnOverrun;
import static io.jdispatch.IOReturn.kIOReturnSuccess;
import static io.jdispatch.IOReturn.kIOReturnUnderrun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A peer that truncates a path queue's region file while this JVM uses the queue: the JVM survives, and each
 * call either works (before the truncation, or on pages that are still there) or throws
 * DataQueueTruncatedException, and keeps throwing it; no other failure, no InternalError. Java's own accesses
 * (enqueue, dequeue, peek, ...) and C's (setDataAvailableHandler looks at the region in C) are both covered.
 * And the JVM's own SIGBUS handling, which the data queue's handler chains to, still works. In child JVMs: a
 * SIGBUS that is not handled kills the JVM.
 */
class DataQueueTruncationTest {

    private static ChildJvm.Result child(Path home, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of(Child.class.getName()));
        cmd.addAll(List.of(args));
        return ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path")), cmd.toArray(String[]::new));
    }

    @Test
    void aPeerTruncatingTheRegionFileMakesTheCallsThrowAndNeverKillsTheJvm(@TempDir Path home) throws Exception {
        long seed = ThreadLocalRandom.current().nextLong();
        ChildJvm.Result r = child(home, "truncate", "40", String.valueOf(seed));
        assertEquals(0, r.exitCode(), "seed " + seed + ":\n" + r.output());
        assertTrue(r.output().contains("truncation: OK"), r.output());
    }

    @Test
    void theJvmStillTurnsAFaultInItsOwnMappedBufferIntoAnInternalError(@TempDir Path home) throws Exception {
        ChildJvm.Result r = child(home, "own-mapping");
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("own mapping: InternalError"), r.output());
    }

    /** The child JVM: {@code truncate ROUNDS SEED} or {@code own-mapping}. */
    public static final class Child {
        private static final int QUEUE_BYTES = 64 * 1024;
        private static final int PAGE = 4096;

        public static void main(String[] args) throws Exception {
            if (args[0].equals("own-mapping")) {
                ownMapping();
            } else {
                truncation(Integer.parseInt(args[1]), Long.parseLong(args[2]));
            }
        }

        /** A MappedByteBuffer of the program's own, truncated under it, once the data queue's handler is installed. */
        private static void ownMapping() throws Exception {
            Path path = DqPeer.tempPath("own-mapping");
            try (DispatchQueue queue = DispatchQueue.createSerial("own");
                 IODataQueueDispatchSource q = IODataQueueDispatchSource.create(4096, queue, path);
                 FileChannel ch = FileChannel.open(Path.of(path + ".other"), StandardOpenOption.CREATE_NEW,
                         StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.DELETE_ON_CLOSE)) {
                check(q.enqueue(4, b -> {}) == kIOReturnSuccess, "the queue works");
                MappedByteBuffer b = ch.map(FileChannel.MapMode.READ_WRITE, 0, PAGE);
                b.put(0, (byte) 1);
                ch.truncate(0);
                long sum = 0;
                try {
                    // HotSpot skips the faulting access and throws InternalError asynchronously, at the latest
                    // when the thread next leaves native code (Thread.yield).
                    for (int i = 0; i < 1_000_000; i++) {
                        sum += b.get(i % PAGE);
                        if (i % 1000 == 0) {
                            Thread.yield();
                        }
                    }
                    throw new AssertionError("no InternalError from a truncated MappedByteBuffer (sum " + sum + ")");
                } catch (InternalError e) {
                    System.out.println("own mapping: InternalError: " + e.getMessage());
                }
            }
        }

        private static void truncation(int rounds, long seed) throws Exception {
            Random random = new Random(seed);
            Map<String, Integer> threw = new TreeMap<>();
            try (DispatchQueue queue = DispatchQueue.createSerial("truncation")) {
                for (int round = 0; round < rounds; round++) {
                    String call = round(queue, random, round);
                    threw.merge(call, 1, Integer::sum);
                }
                // Every kind of call as the first to meet a region truncated to nothing (the header too), among
                // them SetDataAvailableHandler, which reads the region in C.
                for (long kind : new long[] {0, 2, 3, 4, 5, 6, 7, 15}) {
                    Path path = DqPeer.tempPath("truncated-first");
                    try (IODataQueueDispatchSource q = IODataQueueDispatchSource.create(QUEUE_BYTES, queue, path)) {
                        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
                            ch.truncate(0);
                        }
                        String call = step(q, new long[] {0, 0}, kind);
                        check(call != null, "call kind " + kind + " worked on a region truncated to 0 bytes");
                        System.out.println("first call on a truncated region: " + call + " threw");
                    } finally {
                        DqPeer.deleteQueueFiles(path);
                    }
                }
            }
            System.out.println("truncation: OK, " + rounds + " rounds; the call that met the truncation: " + threw);
        }

        /** One queue, truncated once by a peer thread; returns the call that threw. */
        private static String round(DispatchQueue queue, Random random, int round) throws Exception {
            Path path = DqPeer.tempPath("truncated");
            int full = 128 + QUEUE_BYTES;
            // Page-aligned: a size inside a page also zeroes the rest of that page, which the queue cannot tell
            // from a peer writing zeros into the entries (hostile memory), so this test could not check the data.
            long size = (long) random.nextInt(full / PAGE + 1) * PAGE;
            long delayNanos = random.nextInt(3_000_000);
            try (IODataQueueDispatchSource creator = IODataQueueDispatchSource.create(QUEUE_BYTES, queue, path);
                 IODataQueueDispatchSource q = round % 2 == 0 ? creator : IODataQueueDispatchSource.attach(path, queue)) {
                Thread peer = new Thread(() -> {
                    LockSupport.parkNanos(delayNanos);
                    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
                        ch.truncate(size);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }, "truncating peer");
                peer.start();
                long[] next = {0, 0}; // in, out
                String call = null;
                // Bounded by time (a hang detector), not by a count of calls: how soon the peer thread truncates
                // depends on the scheduler.
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                long i = 0;
                for (; call == null && (i % 1024 != 0 || System.nanoTime() < end); i++) {
                    call = step(q, next, i);
                }
                peer.join();
                check(call != null, "round " + round + ": no call met the truncation to " + size + " in 30 s (" + i + " calls)");
                String message = expectTruncated("dequeue", () -> q.dequeue(b -> {}));
                check(message.contains("region truncated by peer (the region file is now " + size + " bytes, the queue needs "
                        + full), message);
                expectTruncated("enqueue", () -> q.enqueue(8, b -> {}));
                expectTruncated("peek", () -> q.peek(b -> {}));
                expectTruncated("isDataAvailable", q::isDataAvailable);
                expectTruncated("canEnqueueData", () -> q.canEnqueueData(4));
                expectTruncated("SetDataAvailableHandler", () -> q.setDataAvailableHandler(() -> {}));
                return call;
            } finally {
                DqPeer.deleteQueueFiles(path);
            }
        }

        /** One call of the mix: null when it worked, its name when it threw DataQueueTruncatedException. */
        private static String step(IODataQueueDispatchSource q, long[] next, long i) {
            String call = null;
            try {
                switch ((int) (i % 8)) {
                    case 0, 1 -> {
                        call = "enqueue";
                        long n = next[0];
                        int ret = q.enqueue(DqPeer.sizeOf(n), b -> DqPeer.fill(b, n));
                        check(ret == kIOReturnSuccess || ret == kIOReturnOverrun, call + ": " + IOReturn.name(ret));
                        next[0] += ret == kIOReturnSuccess ? 1 : 0;
                    }
                    case 2 -> {
                        call = "dequeue";
                        int ret = q.dequeue(b -> DqPeer.check(b, next[1]));
                        check(ret == kIOReturnSuccess || ret == kIOReturnUnderrun, call + ": " + IOReturn.name(ret));
                        next[1] += ret == kIOReturnSuccess ? 1 : 0;
                    }
                    case 3 -> {
                        call = "peek";
                        int ret = q.peek(b -> DqPeer.check(b, next[1]));
                        check(ret == kIOReturnSuccess || ret == kIOReturnUnderrun, call + ": " + IOReturn.name(ret));
                    }
                    case 4 -> {
                        call = "isDataAvailable";
                        q.isDataAvailable();
                    }
                    case 5 -> {
                        call = "canEnqueueData";
                        q.canEnqueueData(64, 2);
                    }
                    case 6 -> {
                        call = "enqueueBatch";
                        long first = next[0];
                        next[0] += q.enqueueBatch(4, k -> DqPeer.sizeOf(first + k), (b, k) -> DqPeer.fill(b, first + k));
                    }
                    default -> {
                        if (i % 64 == 7) {
                            call = "SetDataAvailableHandler";
                            q.setDataAvailableHandler(() -> {});
                        } else {
                            call = "dequeueBatch";
                            q.dequeueBatch(8, b -> {
                                DqPeer.check(b, next[1]);
                                next[1]++;
                            });
                        }
                    }
                }
                return null;
            } catch (DataQueueTruncatedException e) {
                check(e.getMessage().startsWith(call + " on "), "the exception names its call: " + e.getMessage());
                return call;
            }
        }

        private static String expectTruncated(String call, Runnable r) {
            try {
                r.run();
            } catch (DataQueueTruncatedException e) {
                check(e.getMessage().startsWith(call + " on ") && e.getMessage().contains("region truncated by peer"),
                        e.getMessage());
                return e.getMessage();
            }
            throw new AssertionError(call + " after the truncation did not throw DataQueueTruncatedException");
        }

        private static void check(boolean ok, String what) {
            if (!ok) {
                throw new AssertionError(what);
            }
        }
    }
}
