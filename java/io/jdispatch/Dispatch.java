package io.jdispatch;

import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.NativeLibrary;

import org.bytedeco.javacpp.Loader;

import java.nio.charset.StandardCharsets;

/**
 * Entry point: is the native library available, which libdispatch it runs on, and where exceptions thrown
 * by tasks and handlers go.
 *
 * <p>Not mapped, on purpose: {@code dispatch_once} (use a static initializer or a holder class) and
 * {@code dispatch_main}, which pthread_exits the calling thread, something a JVM thread must never do (libdispatch's
 * worker threads run tasks whatever the main thread does; {@link #runMainQueue()} services the main queue).
 */
public final class Dispatch {
    private static volatile Thread.UncaughtExceptionHandler exceptionHandler;
    /** What {@link #reportException} prints when even printing fails: allocated now, while memory is there. */
    private static final byte[] UNREPORTABLE = ("jdispatch: could not report an exception thrown by a task or "
            + "handler (the uncaught-exception handler and printing it both failed, e.g. out of memory)\n")
            .getBytes(StandardCharsets.US_ASCII);

    static {
        Jfr.init(); // with the library's own initialisation: its JFR listener is in place before any task runs
    }

    private Dispatch() {}

    /** {@return true when the JNI library and libdispatch are loaded}: the natives JAR for this platform was found. */
    public static boolean isAvailable() {
        return NativeLibrary.cause() == null;
    }

    /** Throws an {@link UnsatisfiedLinkError} naming the library, the platform and the cause when unavailable. */
    public static void ensureAvailable() {
        NativeLibrary.ensure();
    }

    /** {@return why the library is unavailable, or null when it is available} */
    public static Throwable unavailabilityCause() {
        return NativeLibrary.cause();
    }

    /** {@return the JavaCPP platform name the library was looked up for}, e.g. {@code linux-x86_64} (JavaCPP's Loader.getPlatform()). */
    public static String platform() {
        return Loader.getPlatform();
    }

    /** {@return the libdispatch the native library was built against}, e.g. "swift-corelibs-libdispatch 6.0.3". */
    public static String libdispatchVersion() {
        ensureAvailable();
        return JDispatchNative.jd_libdispatch_version();
    }

    // ---- the main queue ------------------------------------------------------------------------------------

    /**
     * Services the main queue ({@link DispatchQueue#main()}) on the calling thread, the role {@code dispatch_main}
     * has in C, until {@link #stopMainQueue()}: runs its tasks as they come and waits in between (on the queue's
     * eventfd, _dispatch_get_main_queue_handle_4CF; each wakeup runs _dispatch_main_queue_callback_4CF, the hook
     * CoreFoundation's run loop uses on Linux). Not interruptible; each task starts with the thread's interrupt
     * status cleared and its exception goes to {@link #setUncaughtExceptionHandler}, as on a worker.
     *
     * @throws IllegalStateException from any thread but {@link #getMainQueueThread()} (libdispatch aborts on a
     *                               drain from another), from a virtual thread, inside a main-queue task (nested) or
     *                               inside another queue's task
     * @throws UnsupportedOperationException off Linux (there CFRunLoop or dispatch_main services the main queue)
     */
    public static void runMainQueue() {
        MainQueue.run();
    }

    /**
     * Runs the main queue's tasks queued now on the calling thread and returns: for a thread with an event loop of
     * its own. The same thread rules as {@link #runMainQueue()}.
     */
    public static void drainMainQueue() {
        MainQueue.drain();
    }

    /**
     * Makes {@link #runMainQueue()} return once it ran what is queued; from any thread, or from a main-queue task.
     * When no run is in progress, the next one returns after its first drain.
     */
    public static void stopMainQueue() {
        MainQueue.stop();
    }

    /**
     * {@return the thread that may run the main queue: the one that loaded JDispatch, to which libdispatch bound
     * it; null once that thread has ended (the main queue then runs on libdispatch's workers) or when it was a
     * virtual thread (its carrier got the main queue, and no Java code can run there)}
     */
    public static Thread getMainQueueThread() {
        ensureAvailable();
        return MainQueue.owner();
    }

    /**
     * Sets where exceptions thrown by tasks and source handlers go. Null restores the default: the
     * running thread's uncaught-exception handler (which prints the stack trace unless the application
     * set a default handler). The queue that ran the task keeps running either way. Either handler is
     * called with the worker thread named {@code "<worker> [<queue label>]"}, so the default report reads
     * {@code Exception in thread "<worker> [<queue label>]"}; a JFR {@code io.jdispatch.TaskException}
     * event records it too.
     *
     * @param handler where exceptions go from now on, or null for the default
     */
    public static void setUncaughtExceptionHandler(Thread.UncaughtExceptionHandler handler) {
        exceptionHandler = handler;
    }

    /** {@return the handler set by {@link #setUncaughtExceptionHandler}, or null for the default} */
    public static Thread.UncaughtExceptionHandler getUncaughtExceptionHandler() {
        return exceptionHandler;
    }

    /**
     * Delivers an exception from a task or handler; never throws, whatever the handler or printing throws
     * (e.g. an OutOfMemoryError), so that the queue that ran the task keeps running.
     *
     * @param t what the task or handler threw
     */
    public static void reportException(Throwable t) {
        try {
            Thread current = Thread.currentThread();
            Thread.UncaughtExceptionHandler h = exceptionHandler;
            (h != null ? h : current.getUncaughtExceptionHandler()).uncaughtException(current, t);
        } catch (Throwable inHandler) {
            try {
                // The handler itself failed: print both.
                t.printStackTrace();
                inHandler.printStackTrace();
            } catch (Throwable inPrinting) {
                // Printing needs memory too: say so with bytes allocated in advance, and give up.
                try {
                    System.err.write(UNREPORTABLE, 0, UNREPORTABLE.length);
                    System.err.flush();
                } catch (Throwable ignored) {
                    // Nothing is left to report with.
                }
            }
        }
    }
}
