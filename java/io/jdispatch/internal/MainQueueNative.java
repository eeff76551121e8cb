package io.jdispatch.internal;

import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The JavaCPP mapping of the main queue's servicing ({@code native/include/jd_main_queue.h}). Nothing here
 * checks which thread calls it: {@code io.jdispatch.MainQueue} does (libdispatch aborts on a drain from any
 * thread but the one the main queue is bound to).
 */
@Properties(inherit = JDispatchNative.class, value = @Platform(include = "jd_main_queue.h", library = "jnijdispatch"))
public final class MainQueueNative {
    private MainQueueNative() {}

    public static native int jd_main_queue_supported();

    public static native @Cast("intptr_t") long jd_main_queue();

    public static native int jd_main_queue_is_current_thread();

    public static native void jd_main_queue_drain();

    public static native int jd_main_queue_wait();

    public static native int jd_main_queue_wake();
}
