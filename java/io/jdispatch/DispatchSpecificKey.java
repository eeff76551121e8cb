package io.jdispatch;

import io.jdispatch.internal.NativeLibrary;
import io.jdispatch.internal.QueueNative;

/**
 * A key for queue-specific data ({@link DispatchQueue#setSpecific}, {@link DispatchQueue#getSpecific},
 * {@link DispatchQueue#getCurrentSpecific}): the {@code const void *key} of dispatch_queue_set_specific, typed by
 * the values it holds. Keys compare by identity, as libdispatch compares key pointers: each key made here is a
 * distinct value that no other key (nor the binding's own per-queue key) ever equals. Keep keys in static
 * fields, as C code keeps its key variables.
 *
 * @param <T> the type of the values held under this key
 */
public final class DispatchSpecificKey<T> {
    static {
        NativeLibrary.ensure();
    }

    /** The C key: an odd number from jd_specific_key_next, never a queue's address, never reused. */
    final long value = QueueNative.jd_specific_key_next();

    /** Makes a key distinct from every other. */
    public DispatchSpecificKey() {}

    @Override
    public String toString() {
        return "DispatchSpecificKey[0x" + Long.toHexString(value) + "]";
    }
}
