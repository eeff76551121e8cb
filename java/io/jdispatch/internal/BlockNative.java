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

    /** Block_copy: another reference to the same block (freed by its {@link #jd_block_release}). */
    public static native @Cast("intptr_t") long jd_block_retain(@Cast("void*") long block);

    /** Block_release of one reference; the last one frees the block (then the dispose id runs). */
    public static native void jd_block_release(@Cast("void*") long block);

    /** Calls the block on this thread: a direct execution. */
    public static native void jd_block_invoke(@Cast("void*") long block);

    /** dispatch_block_cancel. */
    public static native void jd_block_cancel(@Cast("void*") long block);

    /** dispatch_block_testcancel: non-zero once cancelled. */
    public static native @Cast("intptr_t") long jd_block_testcancel(@Cast("void*") long block);

    /** dispatch_block_wait: 0 once the first execution completed, non-zero on timeout. */
    public static native @Cast("intptr_t") long jd_block_wait(@Cast("void*") long block,
                                                            @Cast("dispatch_time_t") long timeout);

    /** dispatch_block_notify with another work item's block. */
    public static native void jd_block_notify_block(@Cast("void*") long block, @Cast("dispatch_queue_t") long queue,
                                                    @Cast("void*") long notification);

    /** dispatch_block_notify with a one-shot task id. */
    public static native void jd_block_notify_task(@Cast("void*") long block, @Cast("dispatch_queue_t") long queue,
                                                   @Cast("int64_t") long id);

    /** dispatch_block_perform(flags, body running the one-shot task id). */
    public static native void jd_block_perform_task(@Cast("uint64_t") long flags, @Cast("int64_t") long id);

    /** dispatch_async(queue, block). */
    public static native void jd_block_async(@Cast("dispatch_queue_t") long queue, @Cast("void*") long block);

    /** dispatch_barrier_async(queue, block). */
    public static native void jd_block_barrier_async(@Cast("dispatch_queue_t") long queue, @Cast("void*") long block);

    /** dispatch_sync(queue, block). */
    public static native void jd_block_sync(@Cast("dispatch_queue_t") long queue, @Cast("void*") long block);

    /** dispatch_barrier_sync(queue, block). */
    public static native void jd_block_barrier_sync(@Cast("dispatch_queue_t") long queue, @Cast("void*") long block);

    /** dispatch_after(when, queue, block). */
    public static native void jd_block_after(@Cast("dispatch_time_t") long when, @Cast("dispatch_queue_t") long queue,
                                             @Cast("void*") long block);

    /** dispatch_group_async(group, queue, block). */
    public static native void jd_block_group_async(@Cast("dispatch_group_t") long group,
                                                   @Cast("dispatch_queue_t") long queue, @Cast("void*") long block);

    /** dispatch_group_notify(group, queue, block). */
    public static native void jd_block_group_notify(@Cast("dispatch_group_t") long group,
                                                    @Cast("dispatch_queue_t") long queue, @Cast("void*") long block);
}
