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

    /** 1 where the main queue can be serviced this way (Linux). */
    public static native int jd_main_queue_supported();

    /** dispatch_get_main_queue(), tagged for jd_queue_is_current. */
    public static native @Cast("intptr_t") long jd_main_queue();

    /** 1 when the calling thread's current queue is the main queue. */
    public static native int jd_main_queue_is_current_thread();

    /** _dispatch_main_queue_callback_4CF: runs what is queued (on the bound thread only). */
    public static native void jd_main_queue_drain();

    /** Waits for the main queue's eventfd and resets it: 0 or -errno. */
    public static native int jd_main_queue_wait();

    /** Writes the main queue's eventfd: 0 or -errno. */
    public static native int jd_main_queue_wake();
}
