package io.jdispatch.demo;

import io.jdispatch.DispatchQueue;
import io.jdispatch.IODataQueueDispatchSource;
import io.jdispatch.IOReturn;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;

/**
 * One end of a data queue shared by path between two processes (or two containers sharing /dev/shm):
 * <pre>
 *   consume PATH COUNT   create the queue at PATH, print "ready", dequeue COUNT entries in DataAvailable
 *                        handlers, check that entry i is payload(i), print "consumed COUNT entries in order,
 *                        crc32 HEX"; exit 1 naming the first entry that is missing, repeated or wrong
 *   produce PATH COUNT   attach to the queue at PATH, enqueue payload(0..COUNT-1) (waiting for DataServiced
 *                        when full), print "produced COUNT entries, crc32 HEX"
 * </pre>
 * payload(i) is i as 8 bytes little-endian, then (i % 61) bytes of (byte) (i * 31).
 */
public final class DataQueuePeer {
    private static final int QUEUE_BYTES = 1 << 20;

    private DataQueuePeer() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !(args[0].equals("consume") || args[0].equals("produce"))) {
            System.err.println("usage: DataQueuePeer consume|produce PATH COUNT");
            System.exit(2);
        }
        Path path = Path.of(args[1]);
        int count = Integer.parseInt(args[2]);
        String result = args[0].equals("consume") ? consume(path, count) : produce(path, count);
        System.out.println(result);
        System.exit(result.startsWith("error") ? 1 : 0);
    }

    static int payloadSize(int i) {
        return 8 + i % 61;
    }

    static void writePayload(int i, ByteBuffer b) {
        int at = b.position();
        b.order(ByteOrder.LITTLE_ENDIAN).putLong(at, i);
        for (int k = 8; k < payloadSize(i); k++) {
            b.put(at + k, (byte) (i * 31));
        }
    }

    /** Null when b holds payload(i), else what is wrong. */
    static String checkPayload(int i, ByteBuffer b) {
        if (b.remaining() != payloadSize(i)) {
            return "entry " + i + " has " + b.remaining() + " bytes, expected " + payloadSize(i);
        }
        long seq = b.order(ByteOrder.LITTLE_ENDIAN).getLong(b.position());
        if (seq != i) {
            return "entry " + i + " carries sequence number " + seq + (seq < i ? " (a repeat)" : " (entries lost)");
        }
        for (int k = 8; k < b.remaining(); k++) {
            if (b.get(b.position() + k) != (byte) (i * 31)) {
                return "entry " + i + " byte " + k + " is corrupt";
            }
        }
        return null;
    }

    static String consume(Path path, int count) throws InterruptedException {
        try (DispatchQueue queue = DispatchQueue.createSerial("peer.consumer");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(QUEUE_BYTES, queue, path)) {
            CRC32 crc = new CRC32();
            int[] next = {0};
            String[] error = {null};
            byte[] copy = new byte[8 + 60];
            Semaphore done = new Semaphore(0);
            q.setDataAvailableHandler(() -> {
                while (next[0] < count && error[0] == null && q.dequeue(b -> {
                    error[0] = checkPayload(next[0], b);
                    int n = b.remaining();
                    b.get(b.position(), copy, 0, Math.min(n, copy.length));
                    crc.update(copy, 0, Math.min(n, copy.length));
                }) == IOReturn.kIOReturnSuccess) {
                    next[0]++;
                }
                if (next[0] == count || error[0] != null) {
                    done.release();
                }
            });
            System.out.println("ready");
            if (!done.tryAcquire(5, TimeUnit.MINUTES)) {
                return "error: received " + next[0] + " of " + count + " entries in 5 minutes";
            }
            queue.sync(() -> { });
            return error[0] != null ? "error: " + error[0]
                    : "consumed " + count + " entries in order, crc32 " + Long.toHexString(crc.getValue());
        }
    }

    static String produce(Path path, int count) throws InterruptedException {
        try (DispatchQueue queue = DispatchQueue.createSerial("peer.producer");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.attach(path, queue)) {
            Semaphore room = new Semaphore(0);
            q.setDataServicedHandler(room::release);
            CRC32 crc = new CRC32();
            byte[] copy = new byte[8 + 60];
            for (int i = 0; i < count; ) {
                int seq = i;
                int ret = q.enqueue(payloadSize(i), b -> writePayload(seq, b));
                if (ret == IOReturn.kIOReturnSuccess) {
                    ByteBuffer b = ByteBuffer.wrap(copy, 0, payloadSize(i));
                    writePayload(i, b);
                    crc.update(copy, 0, payloadSize(i));
                    i++;
                } else if (ret != IOReturn.kIOReturnOverrun || !room.tryAcquire(30, TimeUnit.SECONDS)) {
                    return "error: enqueue of entry " + i + " returned " + IOReturn.name(ret);
                }
            }
            return "produced " + count + " entries, crc32 " + Long.toHexString(crc.getValue());
        }
    }
}
