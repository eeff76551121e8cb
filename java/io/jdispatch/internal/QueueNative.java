package io.jdispatch.internal;

import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The JavaCPP mapping of queues, groups, semaphores and time ({@code native/include/jd_queue.h} and the
 * libdispatch functions that need no shim). Tasks run through {@link JDispatchNative.TaskFn} /
 * {@link JDispatchNative.ApplyFn}, installed once by {@link NativeLibrary}; a task is a {@link Handles} id.
 * Nothing here checks its arguments: the public classes in {@code io.jdispatch} do.
 */
@Properties(inherit = JDispatchNative.class, value = @Platform(include = "jd_queue.h", library = "jnijdispatch"))
public final class QueueNative {
    private QueueNative() {}

    // ---- queues ------------------------------------------------------------------------------------------

    /** DISPATCH_QUEUE_SERIAL or DISPATCH_QUEUE_CONCURRENT. */
    public static native @Cast("intptr_t") long jd_queue_attr(int concurrent);

    public static native @Cast("intptr_t") long dispatch_queue_attr_make_initially_inactive(
            @Cast("dispatch_queue_attr_t") long attr);

    public static native @Cast("intptr_t") long dispatch_queue_attr_make_with_qos_class(
            @Cast("dispatch_queue_attr_t") long attr, @Cast("dispatch_qos_class_t") int qosClass, int relativePriority);

    public static native @Cast("intptr_t") long dispatch_queue_attr_make_with_autorelease_frequency(
            @Cast("dispatch_queue_attr_t") long attr, @Cast("dispatch_autorelease_frequency_t") long frequency);

    public static native @Cast("intptr_t") long jd_queue_create(String label, @Cast("dispatch_queue_attr_t") long attr);

    /** The class; {@code relativePriority[0]} receives the relative priority (null: not wanted). */
    public static native @Cast("int") int dispatch_queue_get_qos_class(@Cast("dispatch_queue_t") long queue,
                                                                      int[] relativePriority);

    public static native int jd_queue_is_current(@Cast("dispatch_queue_t") long queue);

    public static native void jd_queue_barrier_async(@Cast("dispatch_queue_t") long queue, @Cast("int64_t") long id);

    public static native void jd_queue_barrier_sync(@Cast("dispatch_queue_t") long queue, @Cast("int64_t") long id);

    public static native void jd_queue_after(@Cast("dispatch_time_t") long when, @Cast("dispatch_queue_t") long queue,
                                             @Cast("int64_t") long id);

    public static native void jd_queue_apply(@Cast("size_t") long iterations, @Cast("dispatch_queue_t") long queue,
                                             @Cast("int64_t") long id);

    public static native void dispatch_set_target_queue(@Cast("dispatch_object_t") long object,
                                                        @Cast("dispatch_queue_t") long queue);

    public static native void dispatch_suspend(@Cast("dispatch_object_t") long object);

    public static native void dispatch_resume(@Cast("dispatch_object_t") long object);

    public static native void dispatch_activate(@Cast("dispatch_object_t") long object);

    // ---- dispatch_async_and_wait -------------------------------------------------------------------------

    public static native void jd_queue_async_and_wait(@Cast("dispatch_queue_t") long queue, @Cast("int64_t") long id);

    public static native void jd_queue_barrier_async_and_wait(@Cast("dispatch_queue_t") long queue,
                                                              @Cast("int64_t") long id);

    // ---- queue-specific data, context and finalizer: values are Handles ids ------------------------------

    public static native @Cast("int64_t") long jd_specific_key_next();

    public static native void jd_queue_set_specific(@Cast("dispatch_queue_t") long queue, @Cast("int64_t") long key,
                                                    @Cast("int64_t") long id);

    public static native @Cast("int64_t") long jd_queue_get_specific(@Cast("dispatch_queue_t") long queue,
                                                                     @Cast("int64_t") long key);

    public static native @Cast("int64_t") long jd_get_specific(@Cast("int64_t") long key);

    public static native void jd_queue_set_context(@Cast("dispatch_queue_t") long queue, @Cast("int64_t") long id);

    public static native @Cast("int64_t") long jd_queue_get_context(@Cast("dispatch_queue_t") long queue);

    // ---- assertions: call the libdispatch ones only where jd_queue_on_frames says they return ------------

    public static native int jd_queue_on_frames(@Cast("dispatch_queue_t") long queue);

    public static native int jd_queue_frame_depth();

    public static native int jd_queue_in_barrier(@Cast("dispatch_queue_t") long queue);

    public static native void dispatch_assert_queue(@Cast("dispatch_queue_t") long queue);

    public static native void dispatch_assert_queue_not(@Cast("dispatch_queue_t") long queue);

    public static native void dispatch_assert_queue_barrier(@Cast("dispatch_queue_t") long queue);

    // ---- groups ------------------------------------------------------------------------------------------

    public static native @Cast("intptr_t") long dispatch_group_create();

    public static native void dispatch_group_enter(@Cast("dispatch_group_t") long group);

    public static native void dispatch_group_leave(@Cast("dispatch_group_t") long group);

    public static native @Cast("intptr_t") long dispatch_group_wait(@Cast("dispatch_group_t") long group,
                                                                   @Cast("dispatch_time_t") long timeout);

    public static native void jd_group_async(@Cast("dispatch_group_t") long group, @Cast("dispatch_queue_t") long queue,
                                             @Cast("int64_t") long id);

    public static native void jd_group_notify(@Cast("dispatch_group_t") long group, @Cast("dispatch_queue_t") long queue,
                                              @Cast("int64_t") long id);

    // ---- semaphores --------------------------------------------------------------------------------------

    public static native @Cast("intptr_t") long dispatch_semaphore_create(@Cast("intptr_t") long value);

    public static native @Cast("intptr_t") long dispatch_semaphore_signal(@Cast("dispatch_semaphore_t") long semaphore);

    public static native @Cast("intptr_t") long dispatch_semaphore_wait(@Cast("dispatch_semaphore_t") long semaphore,
                                                                       @Cast("dispatch_time_t") long timeout);

    // ---- time --------------------------------------------------------------------------------------------

    public static native @Cast("int64_t") long dispatch_time(@Cast("dispatch_time_t") long when, @Cast("int64_t") long delta);

    public static native @Cast("int64_t") long jd_walltime(@Cast("int64_t") long seconds, @Cast("int64_t") long nanos,
                                                          @Cast("int64_t") long delta);
}
