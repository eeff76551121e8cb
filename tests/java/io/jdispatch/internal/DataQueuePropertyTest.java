package io.jdispatch.internal;

import io.jdispatch.IOReturn;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile memory through the Java path: random headers and entry bytes, then dequeue/dequeueBatch/peek/enqueue/enqueueBatch. Only
 * kIOReturnSuccess/Underrun/Error/Overrun come back, no exception, and a block only ever sees bytes of the
 * entry area (the region is guarded by canary bytes around it).
 */
class DataQueuePropertyTest {
    private static final Set<Integer> ALLOWED = Set.of(IOReturn.kIOReturnSuccess, IOReturn.kIOReturnUnderrun,
            IOReturn.kIOReturnError, IOReturn.kIOReturnOverrun);

    /** 20,000 rounds; 2,000,000 with -Djdispatch.stress=long (a local soak of the hostile-peer checks). */
    private static final int ROUNDS = "long".equals(System.getProperty("jdispatch.stress")) ? 2_000_000 : 20_000;

    @Test
    void randomRegionsNeverEscapeTheEntryArea() {
        Random random = new Random(42);
        for (int round = 0; round < ROUNDS; round++) {
            int qbc = 4 * (1 + random.nextInt(64));
            ByteBuffer whole = ByteBuffer.allocateDirect(16 + DataQueueLayout.HEADER_SIZE + qbc + 16).order(ByteOrder.nativeOrder());
            for (int i = 0; i < whole.capacity(); i++) {
                whole.put(i, (byte) 0x5A);
            }
            ByteBuffer region = whole.slice(16, DataQueueLayout.HEADER_SIZE + qbc).order(ByteOrder.nativeOrder());
            for (int i = 0; i < region.capacity(); i++) {
                region.put(i, (byte) random.nextInt(256));
            }
            // Often plausible indices, sometimes anything.
            int head = random.nextBoolean() ? random.nextInt(qbc + 8) & ~3 : random.nextInt();
            int tail = random.nextBoolean() ? random.nextInt(qbc + 8) & ~3 : random.nextInt();
            region.putInt(DataQueueLayout.HEAD_OFFSET, head);
            region.putInt(DataQueueLayout.TAIL_OFFSET, tail);
            DataQueueMemory q = new DataQueueMemory(region, qbc);
            for (int op = 0; op < 8; op++) {
                int code;
                switch (random.nextInt(5)) {
                    case 0 -> code = DataQueueMemory.code(q.dequeue(b -> checkInside(b, qbc)));
                    case 2 -> code = DataQueueMemory.code(q.dequeueBatch(1 + random.nextInt(16), b -> checkInside(b, qbc)));
                    case 1 -> code = q.peek(b -> checkInside(b, qbc));
                    case 3 -> {
                        int size = random.nextInt(40);
                        code = DataQueueMemory.code(q.enqueueBatch(1 + random.nextInt(16), i -> size + i, (b, i) -> {
                            checkInside(b, qbc);
                            while (b.hasRemaining()) {
                                b.put((byte) 1);
                            }
                        }, new boolean[1]));
                    }
                    default -> code = DataQueueMemory.code(q.enqueue(random.nextInt(40), b -> {
                        checkInside(b, qbc);
                        while (b.hasRemaining()) {
                            b.put((byte) 1);
                        }
                    }));
                }
                assertTrue(ALLOWED.contains(code), "round " + round + ": " + IOReturn.name(code));
            }
            for (int i = 0; i < 16; i++) {
                assertTrue(whole.get(i) == 0x5A && whole.get(whole.capacity() - 1 - i) == 0x5A, "canary overwritten");
            }
        }
    }

    private static void checkInside(ByteBuffer b, int qbc) {
        assertTrue(b.position() >= DataQueueLayout.ENTRY_HEADER_SIZE && b.limit() <= qbc && b.capacity() == qbc,
                "view " + b + " outside the entry area of " + qbc);
    }
}
