package io.jdispatch.internal;

import static io.jdispatch.IOReturn.kIOReturnBadArgument;
import static io.jdispatch.IOReturn.kIOReturnError;
import static io.jdispatch.IOReturn.kIOReturnOverrun;
import static io.jdispatch.IOReturn.kIOReturnSuccess;
import static io.jdispatch.IOReturn.kIOReturnUnderrun;
import static io.jdispatch.internal.DataQueueLayout.ENTRY_HEADER_SIZE;
import static io.jdispatch.internal.DataQueueLayout.HEADER_SIZE;
import static io.jdispatch.internal.DataQueueLayout.HEAD_OFFSET;
import static io.jdispatch.internal.DataQueueLayout.NEED_SERVICED_OFFSET;
import static io.jdispatch.internal.DataQueueLayout.TAIL_OFFSET;
import static io.jdispatch.internal.DataQueueLayout.entrySize;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;
import java.util.function.ObjIntConsumer;

/**
 * The data queue algorithm in Java over a mapped region, byte for byte what {@code jd_dataqueue_core.c} does,
 * with the same ordering: own index opaque (C relaxed), the other side's index acquire, index stores release,
 * and {@link VarHandle#fullFence()} where C has its two seq_cst fences. No JNI: the per-message path is this.
 *
 * <p>Hostile memory: head, tail and sizes are read once into locals, checked against the trusted
 * {@code queueByteCount}, and a bad value is {@code kIOReturnError}; the ByteBuffer bounds make an access
 * outside the region impossible anyway. One producer thread and one consumer thread: each side has its own
 * view, reused for every entry (zero allocation; valid only inside the block).
 *
 * <p>Results are packed in a long: the IOReturn in the low 32 bits, bit 32 = "send the notification", and for
 * {@link #dequeueBatch} the number of entries from bit 33. {@link #enqueueBatch} reports through a flag that it
 * only ever sets (DriverKit's coalescing contract: the caller clears it, then makes one or more calls).
 */
public final class DataQueueMemory {
    public static final long SEND = 1L << 32;
    private static final VarHandle INT = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

    private final ByteBuffer region;
    private final ByteBuffer entries;
    private final ByteBuffer producerView;
    /** Allocated between the two views (and referenced between them, so a copying GC tends to keep it there). */
    @SuppressWarnings("unused")
    private final long[] spacer;
    private final ByteBuffer consumerView;
    private final long queueByteCount;
    /** The SIGBUS guard's fault count for the region's mapping (native order); 0 while the region is whole. */
    private final ByteBuffer faults;

    /** @param region the header and {@code queueByteCount} bytes of entries (a direct buffer over shared memory) */
    public DataQueueMemory(ByteBuffer region, int queueByteCount) {
        this(region, queueByteCount, ByteBuffer.allocateDirect(4));
    }

    /**
     * @param region a guarded mapping's header and {@code queueByteCount} bytes of entries
     * @param faults its fault count ({@code jd_dq_mapping_faults}), read by {@link #regionLost()}
     */
    public DataQueueMemory(ByteBuffer region, int queueByteCount, ByteBuffer faults) {
        String bad = DataQueueLayout.checkQueueByteCount(queueByteCount);
        if (bad != null || region.capacity() < HEADER_SIZE + queueByteCount) {
            throw new IllegalArgumentException("DataQueueMemory: " + (bad != null ? bad
                    : "region of " + region.capacity() + " bytes is smaller than " + HEADER_SIZE + " + " + queueByteCount));
        }
        this.region = region.duplicate().order(ByteOrder.nativeOrder());
        this.entries = this.region.slice(HEADER_SIZE, queueByteCount).order(ByteOrder.nativeOrder());
        // Each side rewrites its view's position/limit per entry: two views on one cache line would pass that
        // line between the producer's and the consumer's core on every entry (measured: up to 4x slower).
        this.producerView = entries.duplicate().order(ByteOrder.nativeOrder());
        this.spacer = new long[2 * 16];
        this.consumerView = entries.duplicate().order(ByteOrder.nativeOrder());
        this.queueByteCount = queueByteCount;
        this.faults = faults.duplicate().order(ByteOrder.nativeOrder());
    }

    /**
     * True once an access to the region faulted: a peer truncated the file, and the guard
     * ({@code jd_dataqueue_guard.c}) put private zero pages under the mapping and counted the fault. Call it
     * after the accesses it is to judge: the count is written by a signal handler on this thread, and the fence
     * keeps the JIT from moving this load before them (prior stores to native memory it orders already).
     */
    public boolean regionLost() {
        VarHandle.loadLoadFence();
        return faults.getInt(0) != 0;
    }

    /** C's mapping of the same region faulted: from now on {@link #regionLost()} says so here too. */
    public void markRegionLost() {
        faults.putInt(0, 1);
    }

    public static int code(long result) {
        return (int) result;
    }

    public static boolean send(long result) {
        return (result & SEND) != 0;
    }

    public static int count(long result) {
        return (int) (result >>> 33);
    }

    public int queueByteCount() {
        return (int) queueByteCount;
    }

    /** Empties the queue and clears the flag. Only when no peer uses the region (creation, recovery). */
    public void reset() {
        for (int i = 0; i < HEADER_SIZE; i += 4) {
            region.putInt(i, 0);
        }
        VarHandle.fullFence();
    }

    private long head() {
        return Integer.toUnsignedLong((int) INT.getAcquire(region, HEAD_OFFSET));
    }

    private long tail() {
        return Integer.toUnsignedLong((int) INT.getAcquire(region, TAIL_OFFSET));
    }

    /** Where an entry of entrySize bytes goes, or -1 when it does not fit now (the rules of enqueue step 2-3). */
    private long findRoom(long head, long tail, long entrySize) {
        if (entrySize > queueByteCount) {
            return -1;
        }
        if (tail >= head) {
            if (entrySize <= queueByteCount - tail) {
                return tail;
            }
            return head > entrySize ? 0 : -1;
        }
        return head - tail > entrySize ? tail : -1;
    }

    public long enqueue(int size, Consumer<ByteBuffer> block) {
        long tail = Integer.toUnsignedLong((int) INT.getOpaque(region, TAIL_OFFSET));
        long head = head();
        if (head > queueByteCount || tail > queueByteCount) {
            return Integer.toUnsignedLong(kIOReturnError);
        }
        long entrySize = entrySize(Integer.toUnsignedLong(size));
        long at = findRoom(head, tail, entrySize);
        if (at < 0) {
            setNeedServiced();
            return Integer.toUnsignedLong(kIOReturnOverrun) | SEND; // wake the consumer so that it makes room
        }
        int data = (int) at + ENTRY_HEADER_SIZE;
        producerView.clear().position(data).limit(data + size);
        block.accept(producerView); // throws: nothing published
        return publishTail(seal(tail, at, size, entrySize), tail, head) ? SEND : 0;
    }

    /** No room: ask the consumer for DataServiced. Written only when clear: a retrying producer does not keep stealing the line. */
    private void setNeedServiced() {
        if (region.get(NEED_SERVICED_OFFSET) == 0) {
            region.put(NEED_SERVICED_OFFSET, (byte) 1);
        }
    }

    /** Completes the entry at {@code at} whose data is written: its size, then the wrap marker. Returns the new tail. */
    private long seal(long tail, long at, int size, long entrySize) {
        entries.putInt((int) at, size);
        if (at == 0 && tail != 0 && queueByteCount - tail >= ENTRY_HEADER_SIZE) {
            entries.putInt((int) tail, (int) (entrySize - ENTRY_HEADER_SIZE)); // the wrap marker
        }
        return at + entrySize;
    }

    /** Stores tail; DataAvailable is due when the queue was empty, or the consumer emptied it meanwhile. */
    private boolean publishTail(long newTail, long oldTail, long oldHead) {
        INT.setRelease(region, TAIL_OFFSET, (int) newTail);
        long head = oldHead;
        if (oldTail != oldHead) {
            VarHandle.fullFence(); // pairs with the consumer's fence after it empties the queue
            head = Integer.toUnsignedLong((int) INT.getOpaque(region, HEAD_OFFSET));
        }
        return oldTail == head;
    }

    /**
     * jd_dq_core_enqueue_batch: up to max (>= 1) entries, entry i of sizeOf(i) bytes filled by block(view, i), as
     * max enqueues would, but with tail stored once and the rules' fence issued once, when the batch ends. Head
     * is read again only when the head seen so far leaves no room. Result: the IOReturn of the entry that ended
     * the batch (kIOReturnOverrun when the queue filled up) and the count; send[0] is set to true when
     * DataAvailable must be sent (never cleared). If sizeOf or the block throws, the entries before are published
     * (send[0] set as for them) and that one is not.
     */
    public long enqueueBatch(int max, IntUnaryOperator sizeOf, ObjIntConsumer<ByteBuffer> block, boolean[] send) {
        if (max < 1) {
            return Integer.toUnsignedLong(kIOReturnBadArgument);
        }
        long oldTail = Integer.toUnsignedLong((int) INT.getOpaque(region, TAIL_OFFSET));
        long oldHead = head();
        if (oldHead > queueByteCount || oldTail > queueByteCount) {
            return Integer.toUnsignedLong(kIOReturnError);
        }
        long head = oldHead;
        long tail = oldTail;
        int code = kIOReturnSuccess;
        long n = 0;
        try {
            while (n < max) {
                int size = sizeOf.applyAsInt((int) n);
                if (size < 0) {
                    throw new IllegalArgumentException("enqueueBatch: entry " + n + " size must be >= 0, was " + size);
                }
                long entrySize = entrySize(size);
                long at = findRoom(head, tail, entrySize);
                if (at < 0) {
                    long seen = head;
                    head = head();
                    if (head > queueByteCount) {
                        code = kIOReturnError;
                        break;
                    }
                    if (head != seen) {
                        continue; // the consumer made room since: look again, as the next enqueue would
                    }
                    setNeedServiced();
                    code = kIOReturnOverrun;
                    break;
                }
                int data = (int) at + ENTRY_HEADER_SIZE;
                producerView.clear().position(data).limit(data + size);
                block.accept(producerView, (int) n);
                tail = seal(tail, at, size, entrySize);
                n++;
            }
        } finally {
            if (n > 0 && publishTail(tail, oldTail, oldHead)) {
                send[0] = true;
            }
            if (code == kIOReturnOverrun) {
                send[0] = true; // wake the consumer so that it makes room
            }
        }
        return Integer.toUnsignedLong(code) | n << 33;
    }

    /** {@link #locate}: the entry at head as (offset << 32 | size), or one of these. */
    private static final long UNDERRUN = -1, CORRUPT = -2;

    private long locate(long head, long tail) {
        if (head > queueByteCount || tail > queueByteCount) {
            return CORRUPT;
        }
        if (head == tail) {
            return UNDERRUN;
        }
        long offset = head;
        long size = 0;
        boolean wrapped = queueByteCount - head < ENTRY_HEADER_SIZE;
        if (!wrapped) {
            size = Integer.toUnsignedLong(entries.getInt((int) head));
            wrapped = entrySize(size) > queueByteCount - head;
        }
        if (wrapped) {
            if (head < tail || tail < ENTRY_HEADER_SIZE) {
                return CORRUPT;
            }
            offset = 0;
            size = Integer.toUnsignedLong(entries.getInt(0));
        }
        long end = offset < tail ? tail : queueByteCount;
        if (entrySize(size) > end - offset) {
            return CORRUPT;
        }
        return offset << 32 | size;
    }

    private static int failure(long located) {
        return located == UNDERRUN ? kIOReturnUnderrun : kIOReturnError;
    }

    public long dequeue(Consumer<ByteBuffer> block) {
        long head = Integer.toUnsignedLong((int) INT.getOpaque(region, HEAD_OFFSET));
        long tail = tail();
        long located = locate(head, tail);
        if (located == CORRUPT) {
            return Integer.toUnsignedLong(kIOReturnError);
        }
        int code = kIOReturnSuccess;
        if (located == UNDERRUN) {
            code = kIOReturnUnderrun;
        } else {
            int at = (int) (located >>> 32);
            int size = (int) located;
            if (block != null) {
                consumerView.clear().position(at + ENTRY_HEADER_SIZE).limit(at + ENTRY_HEADER_SIZE + size);
                block.accept(consumerView); // throws: the entry stays queued
            }
            long newHead = at + entrySize(size);
            INT.setRelease(region, HEAD_OFFSET, (int) newHead);
            if (newHead == tail) {
                VarHandle.fullFence(); // emptied: pairs with the producer's fence
            }
        }
        long result = Integer.toUnsignedLong(code);
        return needServiced() ? result | SEND : result;
    }

    /**
     * jd_dq_core_dequeue_batch: up to max (>= 1) entries as max dequeues would, storing head once at the end
     * and reading tail only when the entries seen so far run out. If the block throws, the entries before
     * are dequeued and that one stays queued.
     */
    public long dequeueBatch(int max, Consumer<ByteBuffer> block) {
        if (max < 1) {
            return Integer.toUnsignedLong(kIOReturnBadArgument);
        }
        long head = Integer.toUnsignedLong((int) INT.getOpaque(region, HEAD_OFFSET));
        long tail = tail();
        long published = head;
        long n = 0;
        long located = 0;
        try {
            while (n < max) {
                located = locate(head, tail);
                if (located == UNDERRUN && head != published) {
                    // caught up with the tail seen so far: publish, fence (as dequeue does on emptying), look again
                    INT.setRelease(region, HEAD_OFFSET, (int) head);
                    published = head;
                    VarHandle.fullFence();
                    tail = tail();
                    continue;
                }
                if (located < 0) {
                    break;
                }
                int at = (int) (located >>> 32);
                int size = (int) located;
                consumerView.clear().position(at + ENTRY_HEADER_SIZE).limit(at + ENTRY_HEADER_SIZE + size);
                block.accept(consumerView);
                head = at + entrySize(size);
                n++;
            }
        } finally {
            if (head != published) {
                INT.setRelease(region, HEAD_OFFSET, (int) head);
                if (head == tail) {
                    VarHandle.fullFence();
                }
            }
        }
        long result = Integer.toUnsignedLong(located == CORRUPT ? kIOReturnError
                : n == 0 ? kIOReturnUnderrun : kIOReturnSuccess) | n << 33;
        return needServiced() ? result | SEND : result;
    }

    /**
     * The end of a dequeue: a producer ran out of room, so DataServiced must follow. Only read: the flag stays set
     * until SendDataServiced clears it ({@code jd_dq_send_data_serviced}), as in DriverKit.
     */
    private boolean needServiced() {
        return region.get(NEED_SERVICED_OFFSET) != 0;
    }

    public int peek(Consumer<ByteBuffer> block) {
        long located = locate(Integer.toUnsignedLong((int) INT.getOpaque(region, HEAD_OFFSET)), tail());
        if (located < 0) {
            return failure(located);
        }
        int at = (int) (located >>> 32);
        consumerView.clear().position(at + ENTRY_HEADER_SIZE).limit(at + ENTRY_HEADER_SIZE + (int) located);
        block.accept(consumerView);
        return kIOReturnSuccess;
    }

    public boolean isDataAvailable() {
        return (int) INT.getOpaque(region, HEAD_OFFSET) != (int) INT.getAcquire(region, TAIL_OFFSET);
    }

    public boolean canEnqueue(int size, int count) {
        long tail = Integer.toUnsignedLong((int) INT.getOpaque(region, TAIL_OFFSET));
        long head = head();
        if (head > queueByteCount || tail > queueByteCount) {
            return false;
        }
        long entrySize = entrySize(Integer.toUnsignedLong(size));
        for (long i = 0; i < Integer.toUnsignedLong(count); i++) {
            long at = findRoom(head, tail, entrySize);
            if (at < 0) {
                return false;
            }
            tail = at + entrySize;
        }
        return true;
    }
}
