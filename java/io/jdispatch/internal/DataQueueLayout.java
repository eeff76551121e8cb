package io.jdispatch.internal;

/**
 * The byte layout of the DriverKit data queue, mirroring {@code native/include/jd_dataqueue.h} (the one place
 * that states it; NativeConstantsTest checks every constant here against the C library by name).
 *
 * <pre>
 *   offset 0    +-----------------------------+
 *               | head   u32  (consumer only) |  offset into the entry area of the next entry to dequeue
 *          4    | tail   u32  (producer only) |  offset of the next free byte; may equal queueByteCount
 *          8    | needServicedCallback u8     |  set by a producer whose enqueue failed for lack of room
 *          9    | reserved, 119 bytes, zero   |
 *        128    +-----------------------------+
 *               | entries: queueByteCount B   |  each: u32 size (unrounded) + data padded to 4;
 *               +-----------------------------+  a wrapped entry starts at 0, a marker at the old tail
 * </pre>
 * Integers are in the machine's byte order. queueByteCount is not in the region: each process keeps its own.
 */
public final class DataQueueLayout {
    public static final int HEAD_OFFSET = 0;
    public static final int TAIL_OFFSET = 4;
    public static final int NEED_SERVICED_OFFSET = 8;
    public static final int RESERVED_OFFSET = 9;
    public static final int RESERVED_SIZE = 119;
    public static final int HEADER_SIZE = 128;
    public static final int ENTRY_HEADER_SIZE = 4;
    public static final int ENTRY_ALIGNMENT = 4;
    /** Ours, not DriverKit's: keeps offset sums far from 32-bit overflow. */
    public static final int MAX_QUEUE_BYTE_COUNT = 1 << 30;

    private DataQueueLayout() {}

    /** Bytes an entry of {@code size} data bytes occupies (as a long: never overflows). */
    public static long entrySize(long size) {
        return ENTRY_HEADER_SIZE + ((size + ENTRY_ALIGNMENT - 1) & ~(long) (ENTRY_ALIGNMENT - 1));
    }

    /** Null when valid, else the rule {@code queueByteCount} breaks. */
    public static String checkQueueByteCount(long queueByteCount) {
        if (queueByteCount <= 0 || queueByteCount > MAX_QUEUE_BYTE_COUNT) {
            return "queueByteCount must be in 1.." + MAX_QUEUE_BYTE_COUNT + ", was " + queueByteCount;
        }
        if (queueByteCount % ENTRY_ALIGNMENT != 0) {
            return "queueByteCount must be a multiple of " + ENTRY_ALIGNMENT + ", was " + queueByteCount;
        }
        return null;
    }
}
