package io.jdispatch;

import io.jdispatch.internal.SourceNative;

import static io.jdispatch.DispatchSource.*;

/** What dispatch_source_create accepts, checked before it is called: the handle and mask rules of each type. */
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
            case DATA_ADD, DATA_OR, DATA_REPLACE -> {
                requireZero(call, "handle", handle);
                requireZero(call, "mask", mask);
            }
            case TIMER -> {
                requireZero(call, "handle", handle);
                if ((mask & ~TIMER_STRICT) != 0) {
                    throw new IllegalArgumentException(call + ": a TIMER mask may only hold DISPATCH_TIMER_STRICT");
                }
            }
            case READ, WRITE -> {
                requireFd(call, handle);
                requireZero(call, "mask", mask);
            }
            case SIGNAL -> {
                requireZero(call, "mask", mask);
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
                unobservable(call, mask, PROC_FORK, "DISPATCH_PROC_FORK");
                unobservable(call, mask, PROC_EXEC, "DISPATCH_PROC_EXEC");
                unobservable(call, mask, PROC_SIGNAL, "DISPATCH_PROC_SIGNAL");
                unknownBits(call, mask, PROC_EXIT);
            }
            case VNODE -> {
                requireFd(call, handle);
                unobservable(call, mask, VNODE_FUNLOCK, "DISPATCH_VNODE_FUNLOCK");
                unknownBits(call, mask, VNODE_DELETE | VNODE_WRITE | VNODE_EXTEND | VNODE_ATTRIB | VNODE_LINK
                        | VNODE_RENAME | VNODE_REVOKE);
            }
            case MEMORYPRESSURE -> {
                requireZero(call, "handle", handle);
                unknownBits(call, mask, MEMORYPRESSURE_NORMAL | MEMORYPRESSURE_WARN | MEMORYPRESSURE_CRITICAL);
            }
        }
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

    private static void unobservable(String call, long mask, long bit, String name) {
        if ((mask & bit) != 0) {
            throw new UnsupportedOperationException(call + ": " + name + " cannot be observed on "
                    + Dispatch.platform() + " (the kernel reports no such event for another process/file)");
        }
    }

    private static void unknownBits(String call, long mask, long allowed) {
        if ((mask & ~allowed) != 0) {
            throw new IllegalArgumentException(call + ": unknown mask bits 0x" + Long.toHexString(mask & ~allowed));
        }
    }
}
