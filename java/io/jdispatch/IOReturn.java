package io.jdispatch;

/**
 * IOKit's return codes (IOKit/IOReturn.h: {@code iokit_common_err(x) = 0xE0000000 | x}) used by
 * {@link IODataQueueDispatchSource}, with their C names. {@code native/include/jd_dataqueue.h} defines the same
 * values; NativeConstantsTest checks that both agree.
 */
public final class IOReturn {
    /** OK. */
    public static final int kIOReturnSuccess = 0;
    /** General error; from the data queue: the shared region holds an impossible head, tail or size. */
    public static final int kIOReturnError = 0xE00002BC;
    /** Cannot allocate memory; from the data queue: mapping the region or creating a doorbell source failed. */
    public static final int kIOReturnNoMemory = 0xE00002BD;
    /** Invalid argument. */
    public static final int kIOReturnBadArgument = 0xE00002C2;
    /** Misc. VM failure; from the data queue (C): a peer truncated the region (Java throws {@link DataQueueTruncatedException}). */
    public static final int kIOReturnVMError = 0xE00002C8;
    /** Not ready; from the data queue: the source is cancelled, or the region's producer (or consumer) slot is taken. */
    public static final int kIOReturnNotReady = 0xE00002D8;
    /** The queue is empty. */
    public static final int kIOReturnUnderrun = 0xE00002E7;
    /** The queue has no room for the entry. */
    public static final int kIOReturnOverrun = 0xE00002E8;

    private IOReturn() {}

    /**
     * The C name of a code.
     *
     * @param code an IOReturn value
     * @return its C name, e.g. "kIOReturnOverrun", or its hex value for a code not listed here
     */
    public static String name(int code) {
        return switch (code) {
            case kIOReturnSuccess -> "kIOReturnSuccess";
            case kIOReturnError -> "kIOReturnError";
            case kIOReturnNoMemory -> "kIOReturnNoMemory";
            case kIOReturnBadArgument -> "kIOReturnBadArgument";
            case kIOReturnVMError -> "kIOReturnVMError";
            case kIOReturnNotReady -> "kIOReturnNotReady";
            case kIOReturnUnderrun -> "kIOReturnUnderrun";
            case kIOReturnOverrun -> "kIOReturnOverrun";
            default -> String.format("0x%08X", code);
        };
    }
}
