package io.jdispatch;

import io.jdispatch.testutil.ChildJvm;
import io.jdispatch.testutil.DqPeer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static io.jdispatch.IOReturn.kIOReturnOverrun;
import static io.jdispatch.IOReturn.kIOReturnSuccess;
import static io.jdispatch.IOReturn.kIOReturnUnderrun;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A queue shared by fds instead of a path (sendFds / receiveFds; C: jd_dq_send_fds_to / jd_dq_receive_fds_at):
 * its region is a memfd sealed against shrinking and growing, so no peer can truncate it. Java to C and Java to
 * Java across processes, every entry checked (self-describing: DqPeer), and a C receiver's ftruncate refused.
 */
class DataQueueFdRouteTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    /** Produces entries first..last (DqPeer's format), waiting for DataServiced when the queue is full. */
    private static void produce(IODataQueueDispatchSource q, Semaphore room, long first, long last) throws Exception {
        for (long n = first; n <= last; ) {
            long seq = n;
            int ret = q.enqueue(DqPeer.sizeOf(n), b -> DqPeer.fill(b, seq));
            assertTrue(ret == kIOReturnSuccess || ret == kIOReturnOverrun, IOReturn.name(ret));
            if (ret == kIOReturnSuccess) {
                n++;
            } else {
                assertTrue(room.tryAcquire(30, TimeUnit.SECONDS), "no DataServiced at entry " + n);
            }
        }
    }

    @Test
    void javaSendsAMemfdQueueToACConsumerOverAUnixSocket(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("q.sock");
        Path out = dir.resolve("consumer.out");
        long last = 49_999;
        try (DispatchQueue queue = DispatchQueue.createSerial("fds.producer");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(16 * 1024, queue)) {
            Semaphore room = new Semaphore(0);
            q.setDataServicedHandler(room::release);
            // consume-seq prints every sequence number: into a file, read once the consumer has exited
            Process consumer = DqPeer.command("consume-seq", "unix:" + socket, String.valueOf(last))
                    .redirectErrorStream(true).redirectOutput(out.toFile()).start();
            q.sendFds(socket, WAIT);
            produce(q, room, 0, last);
            assertTrue(consumer.waitFor(60, TimeUnit.SECONDS), "consumer did not finish");
            String output = Files.readString(out);
            assertEquals(0, consumer.exitValue(), output);
            assertTrue(output.contains("consume-seq first 0 next " + (last + 1) + " OK"), output);
            assertFalse(Files.exists(socket), "the receiver removed its socket");
        }
    }

    @Test
    void aReceiverCannotShrinkOrGrowTheSealedRegion(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("q.sock");
        try (DispatchQueue queue = DispatchQueue.createSerial("fds.sealed");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(4096, queue)) {
            assertEquals(kIOReturnSuccess, q.enqueue(8, b -> b.putLong(b.position(), 7)));
            Process peer = DqPeer.command("resize", "unix:" + socket).redirectErrorStream(true).start();
            q.sendFds(socket, WAIT);
            String output = new String(peer.getInputStream().readAllBytes());
            assertTrue(peer.waitFor(60, TimeUnit.SECONDS), "peer did not finish");
            assertEquals(0, peer.exitValue(), output);
            assertTrue(output.contains("ftruncate to 0: EPERM"), output);
            assertTrue(output.contains("ftruncate to twice the size: EPERM"), output);
            long[] got = {0};
            assertEquals(kIOReturnSuccess, q.dequeue(b -> got[0] = b.getLong(b.position())), "the region is intact");
            assertEquals(7, got[0]);
        }
    }

    @Test
    void javaSendsAQueueToAJavaConsumerInAnotherJvm(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("q.sock");
        long last = 19_999;
        try (DispatchQueue queue = DispatchQueue.createSerial("fds.producer");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(16 * 1024, queue)) {
            Semaphore room = new Semaphore(0);
            q.setDataServicedHandler(room::release);
            CompletableFuture<ChildJvm.Result> child = CompletableFuture.supplyAsync(() -> {
                try {
                    return ChildJvm.run(dir, List.of("-cp", System.getProperty("java.class.path")),
                            Receiver.class.getName(), socket.toString(), String.valueOf(last));
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            q.sendFds(socket, WAIT);
            produce(q, room, 0, last);
            // Longer than ChildJvm's own hang timeout, which fails with the child's output.
            ChildJvm.Result r = child.get(ChildJvm.TIMEOUT_S + 60, TimeUnit.SECONDS);
            assertEquals(0, r.exitCode(), r.output());
            assertTrue(r.output().contains("received " + (last + 1) + " entries OK"), r.output());
        }
    }

    @Test
    void nobodyListeningIsATimeoutAndAnExistingSocketPathIsRefused(@TempDir Path dir) throws Exception {
        try (DispatchQueue queue = DispatchQueue.createSerial("fds.errors");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(4096, queue)) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> q.sendFds(dir.resolve("nobody.sock"), Duration.ofMillis(50)));
            assertTrue(e.getMessage().contains("ETIMEDOUT") && e.getMessage().contains("nobody.sock"), e.getMessage());
            Path taken = Files.writeString(dir.resolve("taken"), "someone else's");
            UncheckedIOException refused = assertThrows(UncheckedIOException.class,
                    () -> IODataQueueDispatchSource.receiveFds(taken, queue, Duration.ofMillis(50)));
            assertTrue(refused.getMessage().contains("EADDRINUSE") && refused.getMessage().contains(taken.toString()),
                    refused.getMessage());
            assertEquals("someone else's", Files.readString(taken), "left alone");
            UncheckedIOException timeout = assertThrows(UncheckedIOException.class,
                    () -> IODataQueueDispatchSource.receiveFds(dir.resolve("r.sock"), queue, Duration.ofMillis(50)));
            assertTrue(timeout.getMessage().contains("ETIMEDOUT"), timeout.getMessage());
            assertFalse(Files.exists(dir.resolve("r.sock")), "the receiver removed its socket");
        }
    }

    /** The child JVM: receives a queue at args[0] and consumes entries 0..args[1] in its DataAvailable handler. */
    public static final class Receiver {
        public static void main(String[] args) throws Exception {
            long last = Long.parseLong(args[1]);
            try (DispatchQueue queue = DispatchQueue.createSerial("fds.consumer");
                 IODataQueueDispatchSource q = IODataQueueDispatchSource.receiveFds(Path.of(args[0]), queue, WAIT)) {
                long[] next = {0};
                Throwable[] failure = {null};
                Semaphore done = new Semaphore(0);
                q.setDataAvailableHandler(() -> {
                    try {
                        int ret;
                        while ((ret = q.dequeue(b -> DqPeer.check(b, next[0]))) == kIOReturnSuccess) {
                            next[0]++;
                        }
                        if (ret != kIOReturnUnderrun) {
                            throw new AssertionError("dequeue: " + IOReturn.name(ret));
                        }
                    } catch (Throwable t) {
                        failure[0] = t;
                    }
                    if (next[0] > last || failure[0] != null) {
                        done.release();
                    }
                });
                if (!done.tryAcquire(60, TimeUnit.SECONDS)) {
                    throw new AssertionError("received only " + next[0] + " entries");
                }
                queue.sync(() -> {}); // the handler's writes are visible after this
                if (failure[0] != null) {
                    throw new AssertionError("at entry " + next[0], failure[0]);
                }
                System.out.println("received " + next[0] + " entries OK");
            }
        }
    }
}
