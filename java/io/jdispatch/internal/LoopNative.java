package io.jdispatch.internal;

import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The JavaCPP mapping of the epoll sets under {@code io.jdispatch.DispatchChannel}'s loops
 * ({@code native/include/jd_loop.h}). Each call returns 0 or a count, or -errno ({@code -ENOSYS} where there
 * is no epoll). Nothing here checks its arguments: {@code io.jdispatch.ChannelLoop} does.
 */
@Properties(inherit = JDispatchNative.class, value = @Platform(include = "jd_loop.h", library = "jnijdispatch"))
public final class LoopNative {
    private LoopNative() {}

    /** Bits of an event's second word (JD_LOOP_*): readable, writable again, hung up or failed. */
    public static final int IN = NativeLibrary.constant("JD_LOOP_IN"),
            OUT = NativeLibrary.constant("JD_LOOP_OUT"),
            HANGUP = NativeLibrary.constant("JD_LOOP_HANGUP");

    /** The id under which a set reports its wake-up (JD_LOOP_WAKE_ID), never a registration's. */
    public static final long WAKE_ID = NativeLibrary.constant("JD_LOOP_WAKE_ID");

    /** The most events one {@link #jd_loop_wait} takes (JD_LOOP_BATCH). */
    public static final int BATCH = NativeLibrary.constant("JD_LOOP_BATCH");

    public static native int jd_loop_create(int[] fds);

    public static native int jd_loop_add(int epfd, int fd, @Cast("int64_t") long id);

    public static native int jd_loop_del(int epfd, int fd);

    public static native int jd_loop_wake(int wakefd);

    /** @param events the address of {@code 2 * max} int64 slots (a direct buffer's) */
    public static native int jd_loop_wait(int epfd, int wakefd, @Cast("int64_t*") long events, int max);

    public static native void jd_loop_close(int epfd, int wakefd);
}
