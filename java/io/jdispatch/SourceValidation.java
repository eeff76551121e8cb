package io.jdispatch;

import io.jdispatch.internal.SourceNative;

/**
 * What dispatch_source_create accepts, checked before it is called: the handle each type takes, and the mask
 * bits of each type's row in C (jd_source.c: which bits the man page defines and which this OS observes).
 */
final class SourceValidation {
    private SourceValidation() {}

    static String call(DispatchSource.Type type, long handle, long mask) {
        return "dispatch_source_create(" + type + ", " + handle + ", 0x" + Long.toHexString(mask) + ")";
    }

    static void validate(DispatchSource.Type type, long handle, long mask) {
        String call = call(type, handle, mask);
        switch (type) {
            case MACH_SEND, MACH_RECV -> throw new UnsupportedOperationException(call + ": Mach ports exist only on "
                    + "macOS; DISPATCH_SOURCE_TYPE_" + type + " is not available on " + Dispatch.platform());
            case DATA_ADD, DATA_OR, DATA_REPLACE, TIMER, MEMORYPRESSURE -> requireZero(call, "handle", handle);
            case READ, WRITE, VNODE -> requireFd(call, handle);
            case SIGNAL -> {
                String refusal = handle < 1 || handle > Integer.MAX_VALUE
                        ? "out of range: signal numbers are 1 .. NSIG-1" : SourceNative.jd_signal_refusal((int) handle);
                if (refusal != null) {
                    throw new IllegalArgumentException(call + ": signal " + handle + " cannot be watched in a JVM: "
                            + refusal);
                }
            }
            case PROC -> {
                if (handle <= 0 || handle > Integer.MAX_VALUE) {
                    throw new IllegalArgumentException(call + ": the handle must be a process id (> 0)");
                }
            }
        }
        checkMask(call, type, mask);
    }

    /** The mask against the type's row: unknown bits are bad input, known bits this OS cannot observe unsupported. */
    private static void checkMask(String call, DispatchSource.Type type, long mask) {
        long known = SourceNative.jd_source_known_mask(type.code());
        if (known == 0) {
            requireZero(call, "mask", mask);
            return;
        }
        long unknown = mask & ~known;
        if (unknown != 0) {
            throw new IllegalArgumentException(call + ": unknown mask bits 0x" + Long.toHexString(unknown) + " (a "
                    + type + " mask may only hold " + names(type, known) + ")");
        }
        long unobservable = mask & ~SourceNative.jd_source_supported_mask(type.code());
        if (unobservable != 0) {
            throw new UnsupportedOperationException(call + ": " + names(type, unobservable) + " (0x"
                    + Long.toHexString(unobservable) + ") cannot be observed on " + Dispatch.platform()
                    + " (the kernel reports no such event for another process/file)");
        }
    }

    /** The C names of the bits of {@code bits}, e.g. "DISPATCH_PROC_FORK | DISPATCH_PROC_EXEC". */
    private static String names(DispatchSource.Type type, long bits) {
        StringBuilder names = new StringBuilder();
        for (long rest = bits; rest != 0; rest &= rest - 1) {
            String name = SourceNative.jd_source_mask_bit_name(type.code(), Long.lowestOneBit(rest));
            names.append(names.length() == 0 ? "" : " | ").append(name);
        }
        return names.toString();
    }

    private static void requireZero(String call, String what, long value) {
        if (value != 0) {
            throw new IllegalArgumentException(call + ": the " + what + " is unused for this type and must be 0");
        }
    }

    private static void requireFd(String call, long fd) {
        if (fd < 0 || fd > Integer.MAX_VALUE || SourceNative.jd_fd_check((int) fd) != 0) {
            throw new IllegalArgumentException(call + ": " + fd + " is not an open file descriptor");
        }
    }
}
