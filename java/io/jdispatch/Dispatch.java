package io.jdispatch;

import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.NativeLibrary;

import org.bytedeco.javacpp.Loader;

/**
 * Entry point: is the native library available, which libdispatch it runs on, and where exceptions thrown
 * by tasks and handlers go.
 *
 * <p>Not mapped, on purpose: {@code dispatch_once} (use a static initializer or a holder class) and
 * {@code dispatch_main} (the JVM's main thread never has to park for libdispatch: its worker threads run
 * tasks whatever the main thread does).
 */
public final class Dispatch {
    private static volatile Thread.UncaughtExceptionHandler exceptionHandler;

    private Dispatch() {}

    /** True when the JNI library and libdispatch are loaded. */
    public static boolean isAvailable() {
        return NativeLibrary.cause() == null;
    }

    /** Throws an {@link UnsatisfiedLinkError} naming the library, the platform and the cause when unavailable. */
    public static void ensureAvailable() {
        NativeLibrary.ensure();
    }

    /** Why the library is unavailable, or null when it is available. */
    public static Throwable unavailabilityCause() {
        return NativeLibrary.cause();
    }

    /** The JavaCPP platform name the library was looked up for, e.g. {@code linux-x86_64}. */
    public static String platform() {
        return Loader.getPlatform();
    }

    /** The libdispatch the native library was built against, e.g. "swift-corelibs-libdispatch 6.0.3". */
    public static String libdispatchVersion() {
        ensureAvailable();
        return JDispatchNative.jd_libdispatch_version();
    }

    /**
     * Sets where exceptions thrown by tasks and source handlers go. Null restores the default: the
     * running thread's uncaught-exception handler (which prints the stack trace unless the application
     * set a default handler). The queue that ran the task keeps running either way. Either handler is
     * called with the worker thread named {@code "<worker> [<queue label>]"}, so the default report reads
     * {@code Exception in thread "<worker> [<queue label>]"}; a JFR {@code io.jdispatch.TaskException}
     * event records it too.
     */
    public static void setUncaughtExceptionHandler(Thread.UncaughtExceptionHandler handler) {
        exceptionHandler = handler;
    }

    public static Thread.UncaughtExceptionHandler getUncaughtExceptionHandler() {
        return exceptionHandler;
    }

    /** Delivers an exception from a task or handler; never throws. */
    public static void reportException(Throwable t) {
        Thread current = Thread.currentThread();
        try {
            Thread.UncaughtExceptionHandler h = exceptionHandler;
            (h != null ? h : current.getUncaughtExceptionHandler()).uncaughtException(current, t);
        } catch (Throwable inHandler) {
            // The handler itself failed: the only safe thing left is to print both.
            t.printStackTrace();
            inHandler.printStackTrace();
        }
    }
}
