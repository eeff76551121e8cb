package io.jdispatch.internal;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FunctionPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.MemberGetter;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The JavaCPP mapping of {@code native/include/jd_dataqueue.h}: creating and attaching the shared region, the
 * doorbells and the libdispatch sources. Only control operations cross JNI; enqueue/dequeue are
 * {@link DataQueueMemory}. A {@code jd_dataqueue*} crosses as a long. Nothing here checks its arguments.
 */
@Properties(inherit = JDispatchNative.class, value = @Platform(include = "jd_dataqueue.h", library = "jnijdispatch"))
public final class DataQueueNative {
    private DataQueueNative() {}

    /**
     * The one trampoline for every data queue handler and completion (installed by {@link NativeLibrary}), called by the C handler
     * {@link #JAVA_HANDLER} with its ctx, a {@link Handles} id. Integers only: a Pointer argument made the JNI
     * glue allocate a Java object before this code could catch anything, and its OutOfMemoryError became a
     * C++ throw through libdispatch (process abort).
     */
    public static final class HandlerFn extends FunctionPointer {
        HandlerFn() {
            allocate();
        }

        private native void allocate();

        // Nothing may escape: JavaCPP turns a Java exception into a C++ throw through libdispatch's C frames.
        public void call(@Cast("int64_t") long id, int event) {
            try {
                // A completion runs once: drop its id. Handlers stay registered until their source is closed.
                Object what = event == EVENT_COMPLETION ? Handles.remove(id) : Handles.get(id);
                if (what instanceof Runnable r) {
                    Upcalls.runReporting(r);
                }
            } catch (Throwable t) {
                Upcalls.lastResort(t);
            }
        }
    }

    static native void jd_handler_install(@Cast("jd_handler_fn") HandlerFn fn);

    @MemberGetter
    private static native @Cast("intptr_t") long jd_dq_java_handler();

    /** The jd_dq_handler_fn to pass for Java handlers and completions (its ctx: a Handles id); 0 for none. */
    public static final long JAVA_HANDLER = jd_dq_java_handler();

    /** The event kind of a completion (JD_DQ_EVENT_COMPLETION): it runs once, then its id is dropped. */
    public static final int EVENT_COMPLETION = NativeLibrary.constant("JD_DQ_EVENT_COMPLETION");

    public static native @Cast("intptr_t") long jd_dq_create(int queueByteCount, @Cast("dispatch_queue_t") long queue,
            String path, @Cast("int32_t*") int[] status);

    public static native @Cast("intptr_t") long jd_dq_attach_path(String path, @Cast("dispatch_queue_t") long queue,
            @Cast("int32_t*") int[] status);

    public static native int jd_dq_unlink(String path);

    public static native @Cast("const char*") String jd_dq_explain(int errnum);

    public static native int jd_dq_send_fds_to(@Cast("jd_dataqueue*") long q, String socketPath, int timeoutMs);

    public static native @Cast("intptr_t") long jd_dq_receive_fds_at(String socketPath, int timeoutMs,
            @Cast("dispatch_queue_t") long queue, @Cast("int32_t*") int[] status);

    public static native void jd_dq_free(@Cast("jd_dataqueue*") long q);

    public static native int jd_dq_peer_attached(@Cast("jd_dataqueue*") long q);

    public static native int jd_dq_memory_fd(@Cast("jd_dataqueue*") long q);

    public static native int jd_dq_queue_byte_count(@Cast("jd_dataqueue*") long q);

    public static native int jd_dq_set_data_available_handler(@Cast("jd_dataqueue*") long q,
            @Cast("jd_dq_handler_fn") long fn, @Cast("void*") long ctx);

    public static native int jd_dq_set_data_serviced_handler(@Cast("jd_dataqueue*") long q,
            @Cast("jd_dq_handler_fn") long fn, @Cast("void*") long ctx);

    public static native int jd_dq_send_data_available(@Cast("jd_dataqueue*") long q);

    public static native int jd_dq_send_data_serviced(@Cast("jd_dataqueue*") long q);

    public static native void jd_dq_data_available(@Cast("jd_dataqueue*") long q);

    public static native void jd_dq_data_serviced(@Cast("jd_dataqueue*") long q);

    public static native int jd_dq_set_enable_with_completion(@Cast("jd_dataqueue*") long q, @Cast("bool") boolean enable,
            @Cast("jd_dq_handler_fn") long completion, @Cast("void*") long ctx);

    public static native int jd_dq_cancel(@Cast("jd_dataqueue*") long q, @Cast("jd_dq_handler_fn") long completion,
            @Cast("void*") long ctx);

    // ---- the SIGBUS-guarded mapping Java reads the region through (jd_dataqueue_guard.c) ----

    public static native @Cast("jd_dq_mapping*") long jd_dq_map_region(@Cast("jd_dataqueue*") long q);

    public static native @Cast("void*") BytePointer jd_dq_mapping_base(@Cast("jd_dq_mapping*") long mapping);

    public static native @Cast("void*") BytePointer jd_dq_mapping_faults(@Cast("jd_dq_mapping*") long mapping);

    public static native void jd_dq_unmap_region(@Cast("jd_dq_mapping*") long mapping);

    public static native @Cast("bool") boolean jd_dq_truncated(@Cast("jd_dataqueue*") long q);

    public static native long jd_dq_region_file_size(@Cast("jd_dataqueue*") long q);
}
