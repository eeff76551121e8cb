package io.jdispatch;

import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;

/**
 * For tests: libdispatch's own count of internal references to a queue, read from the object's header. Nothing
 * of ours counts dispatch_release on a queue, but libdispatch does: a queue holds one internal reference on its
 * target, and gives it back only when it is disposed (_dispatch_dispose, after its last reference went). So the
 * target's count, minus its idle value, is the number of queues targeting it that were not released.
 */
public final class LibdispatchRefs {
    /**
     * os/object_private.h, _OS_OBJECT_HEADER: the isa (vtable) pointer, then {@code int do_ref_cnt}, then
     * {@code int do_xref_cnt}. Callers check the reading moves by one per retain (see the stress test).
     */
    private static final long REF_CNT_OFFSET = Loader.sizeof(Pointer.class);

    private LibdispatchRefs() {}

    /** {@return do_ref_cnt of the queue} (not closed: the caller holds it open) */
    public static int internalRefs(DispatchQueue queue) {
        long q = queue.acquire();
        try {
            return new IntPointer(new Pointer() {
                {
                    address = q + REF_CNT_OFFSET;
                }
            }).get();
        } finally {
            queue.releaseUse();
        }
    }
}
