package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.IoNative;
import io.jdispatch.internal.JDispatchNative;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * A dispatch_data_t (dispatch_data_create(3)): an immutable run of bytes made of one or more regions of memory,
 * which libdispatch concatenates and slices without copying. {@link DispatchIO} reads into and writes from it.
 *
 * <p>Lifetimes. {@link #close()} is dispatch_release of this wrapper's reference (a Cleaner does it for a wrapper
 * dropped without close); objects made from it ({@link #concat}, {@link #subrange}, {@link #retain()}) hold
 * references of their own, so the bytes live until the last of them is released. The read-only buffers that
 * {@link #apply} and {@link #createMap()} hand out do not copy: each holds its own reference to the region it
 * shows, released when the buffer (and every view of it) has become unreachable, so a buffer stays valid
 * however long it is kept, also after the data was closed: no use of one can reach freed memory. They are
 * read-only because libdispatch shares regions between objects.
 *
 * <p>{@link #create(ByteBuffer)} copies (DISPATCH_DATA_DESTRUCTOR_DEFAULT); {@link #createNoCopy} wraps a direct
 * buffer without copying, keeps it reachable until libdispatch frees the data and then runs its destructor.
 * Every method but {@link #close()}, {@link #isClosed()} and {@link #getSize()} is refused with an
 * {@link IllegalStateException} once closed. Thread-safe: the object never changes.
 */
public final class DispatchData extends DispatchObject {
    private final long size;

    private DispatchData(long address) {
        super(address, true);
        this.size = IoNative.dispatch_data_get_size(address);
    }

    /**
     * Takes over one reference to {@code address} (a +1 result of libdispatch); released again if the wrapper
     * cannot be made (no memory), so that nothing leaks.
     */
    static DispatchData adopt(long address, String call) {
        if (address == 0) {
            throw new IllegalStateException(call + " returned NULL (no memory for the data object)");
        }
        try {
            return new DispatchData(address);
        } catch (Throwable t) {
            JDispatchNative.dispatch_release(address);
            throw t;
        }
    }

    /** A new owned reference to {@code address}, which the caller holds for the duration (dispatch_retain). */
    static DispatchData retained(long address) {
        JDispatchNative.dispatch_retain(address);
        return adopt(address, "dispatch_retain");
    }

    /**
     * DISPATCH_DATA_EMPTY: no bytes. A new wrapper each time (closing it does not affect other callers; the
     * object itself is libdispatch's and never freed).
     *
     * @return an empty data object
     */
    public static DispatchData empty() {
        return adopt(IoNative.jd_data_empty(), "DISPATCH_DATA_EMPTY");
    }

    /**
     * dispatch_data_create(bytes, size, NULL, DISPATCH_DATA_DESTRUCTOR_DEFAULT): a copy of the bytes between the
     * buffer's position and limit (direct or heap, read-only or not); the buffer's position is not changed.
     *
     * @param bytes what to copy
     * @return the new data object ({@link #empty()} for no bytes)
     */
    public static DispatchData create(ByteBuffer bytes) {
        Objects.requireNonNull(bytes, "dispatch_data_create: bytes is null");
        int n = bytes.remaining();
        if (n == 0) {
            return empty();
        }
        if (bytes.isDirect()) {
            long address = IoNative.address(bytes) + bytes.position();
            long data = IoNative.jd_data_create_copy(address, n);
            java.lang.ref.Reference.reachabilityFence(bytes); // the copy is made: the memory may go now
            return adopt(data, "dispatch_data_create");
        }
        byte[] copy = new byte[n];
        bytes.duplicate().get(copy);
        return adopt(IoNative.jd_data_create_copy(copy, n), "dispatch_data_create");
    }

    /**
     * dispatch_data_create with DISPATCH_DATA_DESTRUCTOR_DEFAULT over a whole array: a copy of it.
     *
     * @param bytes what to copy
     * @return the new data object
     */
    public static DispatchData create(byte[] bytes) {
        Objects.requireNonNull(bytes, "dispatch_data_create: bytes is null");
        return create(ByteBuffer.wrap(bytes));
    }

    /**
     * dispatch_data_create(bytes, size, NULL, destructor) without a copy: the data object refers to the bytes
     * between the direct buffer's position and limit. The buffer stays reachable until libdispatch frees the data
     * (this object and every object made from it released); then {@code destructor} runs on a global queue, its
     * exception reported to {@link Dispatch#setUncaughtExceptionHandler}, and the buffer is let go. The bytes
     * must not change meanwhile: libdispatch and other objects read them at any time.
     *
     * @param direct     a direct buffer (a heap buffer may move: use {@link #create(ByteBuffer)})
     * @param destructor runs once the data is freed, or null
     * @return the new data object (for no bytes, {@link #empty()}; the destructor runs then too, at once)
     * @throws IllegalArgumentException for a heap buffer
     */
    public static DispatchData createNoCopy(ByteBuffer direct, Runnable destructor) {
        Objects.requireNonNull(direct, "dispatch_data_create: buffer is null");
        if (!direct.isDirect()) {
            throw new IllegalArgumentException("dispatch_data_create without a copy: " + direct + " is a heap buffer "
                    + "(the garbage collector may move its bytes; a no-copy data object needs a direct buffer)");
        }
        int n = direct.remaining();
        long address = IoNative.address(direct) + direct.position();
        long id = Handles.register(new Destructor(direct, destructor));
        long data = 0;
        try {
            data = IoNative.jd_data_create_nocopy(address, n, id);
        } finally {
            if (data == 0) {
                Handles.remove(id);
            }
        }
        return adopt(data, "dispatch_data_create");
    }

    /** Holds the buffer until libdispatch's destructor block runs it (the task trampoline removes it then). */
    private record Destructor(ByteBuffer buffer, Runnable destructor) implements Runnable {
        @Override
        public void run() {
            if (destructor != null) {
                destructor.run();
            }
        }
    }

    /** {@return the number of bytes} (dispatch_data_get_size; also after close) */
    public long getSize() {
        return size;
    }

    /**
     * dispatch_retain: another owned reference to the same bytes, closed on its own. A handler's data is closed
     * when the handler returns; this keeps it.
     *
     * @return the new wrapper
     */
    public DispatchData retain() {
        return callFor("dispatch_retain", DispatchData::retained);
    }

    /**
     * dispatch_data_create_concat(this, other): this object's bytes followed by {@code other}'s, without copying.
     *
     * @param other the bytes that follow
     * @return the new data object
     */
    public DispatchData concat(DispatchData other) {
        Objects.requireNonNull(other, "dispatch_data_create_concat: other is null");
        long[] result = new long[1];
        callWith("dispatch_data_create_concat", other,
                (a, b) -> result[0] = IoNative.dispatch_data_create_concat(a, b));
        return adopt(result[0], "dispatch_data_create_concat");
    }

    /**
     * dispatch_data_create_subrange: {@code length} bytes from {@code offset}, without copying. libdispatch
     * clips a range past the end; this refuses it, as {@link ByteBuffer#slice(int, int)} does.
     *
     * @param offset the first byte, from 0
     * @param length the number of bytes
     * @return the new data object
     * @throws IndexOutOfBoundsException when the range is not inside the data
     */
    public DispatchData subrange(long offset, long length) {
        checkRange("dispatch_data_create_subrange", offset, length);
        return adopt(callForLong("dispatch_data_create_subrange",
                d -> IoNative.dispatch_data_create_subrange(d, offset, length)), "dispatch_data_create_subrange");
    }

    private void checkRange(String call, long offset, long length) {
        if (offset < 0 || length < 0 || offset > size - length) {
            throw new IndexOutOfBoundsException(call + ": offset " + offset + ", length " + length
                    + " is not a range inside " + size + " bytes (0 <= offset, 0 <= length, offset + length <= size)");
        }
    }

    /** What {@link #apply} calls for each region. */
    @FunctionalInterface
    public interface Applier {
        /**
         * One region, in order.
         *
         * @param offset the region's offset in the data
         * @param region the region's bytes, read-only, position 0, not copied (valid as long as it is reachable)
         * @return true to go on to the next region, false to stop
         */
        boolean apply(long offset, ByteBuffer region);
    }

    /**
     * dispatch_data_apply: calls {@code applier} for each region in order, on this thread, without copying. What
     * the applier throws stops the iteration and is rethrown here (a checked one in a CompletionException).
     *
     * @param applier what to call
     * @return true when every region was visited, false when the applier stopped (an empty data object: true)
     */
    public boolean apply(Applier applier) {
        Objects.requireNonNull(applier, "dispatch_data_apply: applier is null");
        Regions regions = new Regions(applier);
        long id = Handles.register(regions);
        boolean all;
        try {
            all = callForLong("dispatch_data_apply", d -> IoNative.jd_data_apply(d, id)) != 0;
        } finally {
            Handles.remove(id);
        }
        DispatchQueue.rethrow(regions.failure);
        return all;
    }

    /** One apply: the user's applier, and what it threw (the trampoline must not see it). */
    private static final class Regions implements IoNative.RegionCallback {
        final Applier applier;
        Throwable failure;

        Regions(Applier applier) {
            this.applier = applier;
        }

        @Override
        public boolean region(long region, long offset, long buffer, long size) {
            try {
                return applier.apply(offset, keepAlive(region, buffer, size));
            } catch (Throwable t) {
                failure = t;
                return false;
            }
        }
    }

    /**
     * A read-only buffer over {@code size} bytes at {@code buffer}, which {@code object} (a dispatch_data_t) keeps
     * valid: the buffer holds a reference to the object of its own, released by the Cleaner once the buffer and
     * its views are unreachable (views refer to the buffer they were made from).
     */
    private static ByteBuffer keepAlive(long object, long buffer, long size) {
        ByteBuffer raw = IoNative.wrap(buffer, size);
        ByteBuffer view = raw.asReadOnlyBuffer();
        JDispatchNative.dispatch_retain(object);
        try {
            CLEANER.register(raw, new ReleaseObject(object));
        } catch (Throwable t) {
            JDispatchNative.dispatch_release(object);
            throw t;
        }
        return view;
    }

    private record ReleaseObject(long object) implements Runnable {
        @Override
        public void run() {
            JDispatchNative.dispatch_release(object);
        }
    }

    /**
     * dispatch_data_create_map: the bytes as one contiguous read-only buffer (libdispatch copies a data object
     * of several regions into a new one, and returns the region itself otherwise). The buffer keeps the map valid
     * as long as it is reachable, as {@link #apply}'s buffers do.
     *
     * @return the bytes, position 0, limit {@link #getSize()}
     * @throws IllegalStateException when the data is larger than a ByteBuffer can be (2^31 - 1 bytes)
     */
    public ByteBuffer createMap() {
        if (size > Integer.MAX_VALUE) {
            throw new IllegalStateException("dispatch_data_create_map: " + size + " bytes do not fit a ByteBuffer");
        }
        if (size == 0) {
            callForLong("dispatch_data_create_map", d -> 0); // refused when closed, as for any other size
            return ByteBuffer.allocate(0).asReadOnlyBuffer();
        }
        long[] out = new long[2];
        long map = callForLong("dispatch_data_create_map", d -> IoNative.jd_data_create_map(d, out));
        if (map == 0) {
            throw new IllegalStateException("dispatch_data_create_map returned NULL (no memory for the copy)");
        }
        try {
            return keepAlive(map, out[0], out[1]);
        } finally {
            JDispatchNative.dispatch_release(map); // the buffer holds its own reference
        }
    }

    /** A region of a data object, and where it starts in that object: {@link #copyRegion}'s result. */
    public record Region(DispatchData data, long offset) {}

    /**
     * dispatch_data_copy_region: the region that holds byte {@code location}, and the region's offset.
     *
     * @param location a byte of the data, from 0
     * @return the region (a data object to close) and its offset
     * @throws IndexOutOfBoundsException when {@code location} is not a byte of the data
     */
    public Region copyRegion(long location) {
        if (location < 0 || location >= size) {
            throw new IndexOutOfBoundsException("dispatch_data_copy_region: location " + location + " is not a byte of "
                    + size + " bytes (0 <= location < size)");
        }
        long[] offset = new long[1];
        long region = callForLong("dispatch_data_copy_region", d -> IoNative.jd_data_copy_region(d, location, offset));
        return new Region(adopt(region, "dispatch_data_copy_region"), offset[0]);
    }

    /**
     * Copies {@code length} bytes from {@code offset} into {@code dst} from {@code dstOffset}.
     *
     * @param offset    the first byte of the data to copy
     * @param dst       where to
     * @param dstOffset the first index of {@code dst} written
     * @param length    the number of bytes
     * @throws IndexOutOfBoundsException when either range is out of bounds
     */
    public void copyBytes(long offset, byte[] dst, int dstOffset, int length) {
        Objects.requireNonNull(dst, "copyBytes: dst is null");
        if (dstOffset < 0 || length < 0 || dstOffset > dst.length - length) { // Objects.checkFromIndexSize names no call
            throw new IndexOutOfBoundsException("copyBytes: dstOffset " + dstOffset + ", length " + length
                    + " is not a range inside dst of " + dst.length + " bytes (0 <= dstOffset, 0 <= length, "
                    + "dstOffset + length <= dst.length)");
        }
        checkRange("copyBytes", offset, length);
        call("copyBytes", d -> IoNative.jd_data_copy_out(d, offset, length, dst, dstOffset));
    }

    /**
     * Copies {@code dst.remaining()} bytes from {@code offset} into {@code dst} (direct or heap), advancing its
     * position.
     *
     * @param offset the first byte of the data to copy
     * @param dst    where to
     * @throws IndexOutOfBoundsException when the data has fewer than {@code dst.remaining()} bytes from {@code offset}
     * @throws java.nio.ReadOnlyBufferException when {@code dst} is read-only
     */
    public void copyBytes(long offset, ByteBuffer dst) {
        Objects.requireNonNull(dst, "copyBytes: dst is null");
        if (dst.isReadOnly()) {
            throw new java.nio.ReadOnlyBufferException();
        }
        int n = dst.remaining();
        checkRange("copyBytes", offset, n);
        if (dst.isDirect()) {
            long address = IoNative.address(dst);
            call("copyBytes", d -> IoNative.jd_data_copy_out(d, offset, n, address, dst.position()));
            java.lang.ref.Reference.reachabilityFence(dst);
        } else {
            copyBytes(offset, dst.array(), dst.arrayOffset() + dst.position(), n);
        }
        dst.position(dst.position() + n);
    }

    /**
     * {@return all the bytes, copied into a new array}
     *
     * @throws IllegalStateException when there are more than an array can hold
     */
    public byte[] toByteArray() {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("toByteArray: " + size + " bytes do not fit an array");
        }
        byte[] bytes = new byte[(int) size];
        copyBytes(0, bytes, 0, bytes.length);
        return bytes;
    }

    @Override
    public String toString() {
        return "DispatchData@" + Integer.toHexString(System.identityHashCode(this)) + "(" + size + " bytes)";
    }
}
