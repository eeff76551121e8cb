package io.jdispatch.internal;

import org.bytedeco.javacpp.FunctionPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

import java.nio.Buffer;
import java.nio.ByteBuffer;

/**
 * The JavaCPP mapping of dispatch data and dispatch I/O ({@code native/include/jd_io.h}). Objects cross as
 * {@code long} addresses; handlers and appliers run through the two trampolines here, installed by
 * {@link NativeLibrary}, with {@link Handles} ids. Nothing here checks its arguments:
 * {@code io.jdispatch.DispatchData} and {@code io.jdispatch.DispatchIO} do.
 */
@Properties(inherit = JDispatchNative.class, value = @Platform(include = "jd_io.h", library = "jnijdispatch"))
public final class IoNative {
    private IoNative() {}

    /** Kinds passed to {@link IoCallback#ioCallback} (JD_IO_*): a read or write handler, a cleanup handler. */
    public static final int HANDLER = NativeLibrary.constant("JD_IO_HANDLER"),
            CLEANUP = NativeLibrary.constant("JD_IO_CLEANUP");

    /** What {@link Handles} maps an I/O handler's or cleanup handler's id to. */
    public interface IoCallback {
        /**
         * One call of the handler; never throws.
         *
         * @param kind  {@link #HANDLER} or {@link #CLEANUP}
         * @param done  the operation's last call (always true for a cleanup)
         * @param data  a dispatch_data_t valid for this call only, or 0
         * @param error an errno value, or 0
         */
        void ioCallback(int kind, boolean done, long data, int error);
    }

    /** What {@link Handles} maps an applier's id to: dispatch_data_apply's block, on the calling thread. */
    public interface RegionCallback {
        /**
         * One region; never throws.
         *
         * @param region the region's dispatch_data_t (valid for this call; retain it to keep it)
         * @param offset the region's offset in the data applied over
         * @param buffer the region's bytes
         * @param size   their count
         * @return true to go on, false to stop
         */
        boolean region(long region, long offset, long buffer, long size);
    }

    /** The one trampoline of every I/O handler and cleanup handler. Integers only (see jd_io.h). */
    public static final class IoFn extends FunctionPointer {
        IoFn() {
            allocate();
        }

        private native void allocate();

        // Nothing may escape: JavaCPP turns a Java exception into a C++ throw through libdispatch's C frames.
        public void call(@Cast("int64_t") long id, int kind, int done, @Cast("intptr_t") long data, int error) {
            try {
                if (Handles.get(id) instanceof IoCallback callback) {
                    callback.ioCallback(kind, done != 0, data, error);
                }
            } catch (Throwable t) {
                Upcalls.lastResort(t);
            }
        }
    }

    /** The one trampoline of every dispatch_data_apply applier; a failure stops the iteration. */
    public static final class DataApplyFn extends FunctionPointer {
        DataApplyFn() {
            allocate();
        }

        private native void allocate();

        public int call(@Cast("int64_t") long id, @Cast("intptr_t") long region, @Cast("int64_t") long offset,
                        @Cast("intptr_t") long buffer, @Cast("int64_t") long size) {
            try {
                return Handles.get(id) instanceof RegionCallback callback
                        && callback.region(region, offset, buffer, size) ? 1 : 0;
            } catch (Throwable t) {
                Upcalls.lastResort(t);
                return 0;
            }
        }
    }

    static native void jd_io_install(@Cast("jd_io_fn") IoFn io, @Cast("jd_data_apply_fn") DataApplyFn apply);

    // ---- dispatch_data_t ---------------------------------------------------------------------------------

    public static native @Cast("intptr_t") long jd_data_empty();

    public static native @Cast("intptr_t") long jd_data_create_copy(@Cast("const void*") long bytes, @Cast("size_t") long size);

    /** The bytes of a Java array, copied by libdispatch before this returns. */
    public static native @Cast("intptr_t") long jd_data_create_copy(@Cast("const void*") byte[] bytes, @Cast("size_t") long size);

    public static native @Cast("intptr_t") long jd_data_create_nocopy(@Cast("const void*") long bytes, @Cast("size_t") long size,
                                                                     @Cast("int64_t") long disposeId);

    public static native @Cast("size_t") long dispatch_data_get_size(@Cast("dispatch_data_t") long data);

    public static native @Cast("intptr_t") long dispatch_data_create_concat(@Cast("dispatch_data_t") long a,
                                                                           @Cast("dispatch_data_t") long b);

    public static native @Cast("intptr_t") long dispatch_data_create_subrange(@Cast("dispatch_data_t") long data,
            @Cast("size_t") long offset, @Cast("size_t") long length);

    public static native int jd_data_apply(@Cast("dispatch_data_t") long data, @Cast("int64_t") long id);

    /** {@code out}: the map's bytes and size. */
    public static native @Cast("intptr_t") long jd_data_create_map(@Cast("dispatch_data_t") long data,
                                                                  @Cast("int64_t*") long[] out);

    public static native @Cast("intptr_t") long jd_data_copy_region(@Cast("dispatch_data_t") long data,
            @Cast("size_t") long location, @Cast("int64_t*") long[] offset);

    public static native @Cast("int64_t") long jd_data_copy_out(@Cast("dispatch_data_t") long data, @Cast("size_t") long offset,
                                                               @Cast("size_t") long length, @Cast("void*") long dst,
                                                               @Cast("size_t") long dstOffset);

    /** Into a Java array (JNI copies the array back when this returns). */
    public static native @Cast("int64_t") long jd_data_copy_out(@Cast("dispatch_data_t") long data, @Cast("size_t") long offset,
                                                               @Cast("size_t") long length, @Cast("void*") byte[] dst,
                                                               @Cast("size_t") long dstOffset);

    // ---- dispatch_io_t -----------------------------------------------------------------------------------

    public static native @Cast("intptr_t") long jd_io_create(@Cast("uint64_t") long type, int fd,
            @Cast("dispatch_queue_t") long queue, @Cast("int64_t") long cleanupId);

    public static native @Cast("intptr_t") long jd_io_create_with_path(@Cast("uint64_t") long type, String path, int oflag,
            int mode, @Cast("dispatch_queue_t") long queue, @Cast("int64_t") long cleanupId);

    public static native @Cast("intptr_t") long jd_io_create_with_io(@Cast("uint64_t") long type,
            @Cast("dispatch_io_t") long io, @Cast("dispatch_queue_t") long queue, @Cast("int64_t") long cleanupId);

    public static native void jd_io_read(@Cast("dispatch_io_t") long channel, @Cast("int64_t") long offset,
            @Cast("uint64_t") long length, @Cast("dispatch_queue_t") long queue, @Cast("int64_t") long id);

    public static native void jd_io_write(@Cast("dispatch_io_t") long channel, @Cast("int64_t") long offset,
            @Cast("dispatch_data_t") long data, @Cast("dispatch_queue_t") long queue, @Cast("int64_t") long id);

    public static native void jd_io_barrier(@Cast("dispatch_io_t") long channel, @Cast("int64_t") long id);

    public static native void jd_io_close(@Cast("dispatch_io_t") long channel, @Cast("uint64_t") long flags);

    public static native int jd_io_get_descriptor(@Cast("dispatch_io_t") long channel);

    public static native void jd_io_set_high_water(@Cast("dispatch_io_t") long channel, @Cast("uint64_t") long highWater);

    public static native void jd_io_set_low_water(@Cast("dispatch_io_t") long channel, @Cast("uint64_t") long lowWater);

    public static native void jd_io_set_interval(@Cast("dispatch_io_t") long channel, @Cast("uint64_t") long interval,
                                                 @Cast("uint64_t") long flags);

    public static native void jd_read(int fd, @Cast("uint64_t") long length, @Cast("dispatch_queue_t") long queue,
                                      @Cast("int64_t") long id);

    public static native void jd_write(int fd, @Cast("dispatch_data_t") long data, @Cast("dispatch_queue_t") long queue,
                                       @Cast("int64_t") long id);

    // ---- native memory as ByteBuffers --------------------------------------------------------------------

    /**
     * A direct ByteBuffer over {@code size} bytes at {@code address} (JNI NewDirectByteBuffer): the caller keeps the
     * memory valid as long as the buffer, and every view of it, is reachable (views refer to this buffer).
     */
    public static ByteBuffer wrap(long address, long size) {
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a region of " + size + " bytes does not fit a ByteBuffer");
        }
        return new Raw(address, size).asByteBuffer();
    }

    /** {@return the address of a direct buffer's first byte (not its position)} */
    public static long address(Buffer direct) {
        return Raw.addressOf(direct);
    }

    /** A Pointer on an address, to reach JavaCPP's NewDirectByteBuffer and GetDirectBufferAddress. */
    private static final class Raw extends Pointer {
        Raw(long address, long size) {
            this.address = address;
            this.limit = size;
            this.capacity = size;
        }

        /** Bytes: JavaCPP would otherwise look a size up for this class, which no C type has. */
        @Override
        public int sizeof() {
            return 1;
        }

        static long addressOf(Buffer direct) {
            return getDirectBufferAddress(direct);
        }
    }
}
