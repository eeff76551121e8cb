package io.jdispatch.internal;

import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The JavaCPP mapping of work items, dispatch block objects whose body is a Java task
 * ({@code native/include/jd_block.h}). A block crosses as a {@code long} address; its body and its disposal run
 * through {@link JDispatchNative.TaskFn} with {@link Handles} ids. Nothing here checks its arguments or
 * libdispatch's rules on blocks: {@code io.jdispatch.DispatchWorkItem} does.
 */
@Properties(inherit = JDispatchNative.class, value = @Platform(include = "jd_block.h", library = "jnijdispatch"))
public final class BlockNative {
    private BlockNative() {}

    /** dispatch_block_create; 0 when libdispatch refused the flags (dispose ran already) or no memory (it did not). */
    public static native @Cast("intptr_t") long jd_block_create(@Cast("uint64_t") long flags, @Cast("int64_t") long runId,
                                                              @Cast("int64_t") long disposeId);

    public static native @Cast("intptr_t") long jd_block_retain(@Cast("void*") long block);

    public static native void jd_block_release(@Cast("void*") long block);

    public static native void jd_block_invoke(@Cast("void*") long block);

    public static native void jd_block_cancel(@Cast("void*") long block);

    public static native @Cast("intptr_t") long jd_block_testcancel(@Cast("void*") long block);

    public static native @Cast("intptr_t") long jd_block_wait(@Cast("void*") long block,
                                                            @Cast("dispatch_time_t") long timeout);

    public static native void jd_block_notify_block(@Cast("void*") long block, @Cast("dispatch_queue_t") long queue,
                                                    @Cast("void*") long notification);

    public static native void jd_block_notify_task(@Cast("void*") long block, @Cast("dispatch_queue_t") long queue,
                                                   @Cast("int64_t") long id);

    public static native void jd_block_perform_task(@Cast("uint64_t") long flags, @Cast("int64_t") long id);

    public static native void jd_block_async(@Cast("dispatch_queue_t") long queue, @Cast("void*") long block);

    public static native void jd_block_barrier_async(@Cast("dispatch_queue_t") long queue, @Cast("void*") long block);

    public static native void jd_block_sync(@Cast("dispatch_queue_t") long queue, @Cast("void*") long block);

    public static native void jd_block_barrier_sync(@Cast("dispatch_queue_t") long queue, @Cast("void*") long block);

    public static native void jd_block_after(@Cast("dispatch_time_t") long when, @Cast("dispatch_queue_t") long queue,
                                             @Cast("void*") long block);

    public static native void jd_block_group_async(@Cast("dispatch_group_t") long group,
                                                   @Cast("dispatch_queue_t") long queue, @Cast("void*") long block);

    public static native void jd_block_group_notify(@Cast("dispatch_group_t") long group,
                                                    @Cast("dispatch_queue_t") long queue, @Cast("void*") long block);
}
