package io.jdispatch;

import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.MainQueueNative;
import io.jdispatch.internal.NativeLibrary;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The main queue (dispatch_get_main_queue()) and its servicing ({@link Dispatch#runMainQueue()},
 * {@link Dispatch#drainMainQueue()}, see native/include/jd_main_queue.h). A serial queue whose {@code async}
 * tasks go through a {@link SerialDrain} as on any serial queue created here; libdispatch owns it, so, as for the
 * global queues, close() does nothing and suspend, resume, activate and retargeting are refused (libdispatch
 * ignores them on the main queue).
 *
 * <p>Who may run it: the thread libdispatch bound it to (the one that loaded JDispatch,
 * {@link NativeLibrary#loaderThread()}), a platform thread, while it is alive, from outside any other queue's
 * task (libdispatch aborts on a drain from any other thread); one run or drain at a time (a nested one would
 * return at once without running anything, libdispatch guards it so).
 */
final class MainQueue extends DispatchQueue {
    private static final Object LOCK = new Object();
    /** The owner is inside runMainQueue or drainMainQueue (its fd is open while it runs). Guarded by LOCK. */
    private static boolean busy;
    private static boolean running;
    /** stopMainQueue was called; the run that returns because of it clears it. Guarded by LOCK. */
    private static boolean stopRequested;

    private MainQueue(long address) {
        super(address, new Lifecycle(address, false), JDispatchNative.dispatch_queue_get_label(address),
                Attributes.SERIAL);
    }

    private static final class Holder {
        static final MainQueue INSTANCE = new MainQueue(MainQueueNative.jd_main_queue());
    }

    static MainQueue get() {
        return Holder.INSTANCE;
    }

    /** {@return the thread that may run the main queue now, or null (ended, virtual, or none)} */
    static Thread owner() {
        Thread t = NativeLibrary.loaderThread();
        return t != null && t.isAlive() && !VirtualThreads.isVirtual(t) ? t : null;
    }

    /** Runs the main queue's tasks on the calling thread until {@link #stop()}. */
    static void run() {
        enter("runMainQueue");
        synchronized (LOCK) {
            running = true;
        }
        try {
            while (true) {
                MainQueueNative.jd_main_queue_drain();
                synchronized (LOCK) {
                    if (stopRequested) {
                        stopRequested = false;
                        return;
                    }
                }
                check("poll of the main queue's eventfd", MainQueueNative.jd_main_queue_wait());
            }
        } finally {
            synchronized (LOCK) {
                running = false;
                busy = false;
            }
        }
    }

    /** Runs the main queue's tasks queued now, on the calling thread. */
    static void drain() {
        enter("drainMainQueue");
        try {
            MainQueueNative.jd_main_queue_drain();
        } finally {
            synchronized (LOCK) {
                busy = false;
            }
        }
    }

    /** Makes the run in progress (else the next one) return once it ran what is queued. */
    static void stop() {
        NativeLibrary.ensure();
        synchronized (LOCK) {
            stopRequested = true;
            if (running && MainQueueNative.jd_main_queue_supported() != 0) { // inside run(): the eventfd is open
                check("eventfd_write of the main queue's eventfd", MainQueueNative.jd_main_queue_wake());
            }
        }
    }

    /** Refuses every thread but the owner, and a nested run or drain; else marks the owner busy. */
    private static void enter(String call) {
        NativeLibrary.ensure();
        if (MainQueueNative.jd_main_queue_supported() == 0) {
            throw new UnsupportedOperationException(call + ": not on " + Dispatch.platform() + ", where the run "
                    + "loop (CFRunLoop) or dispatch_main services the main queue");
        }
        Thread me = Thread.currentThread();
        if (VirtualThreads.isVirtual(me)) {
            throw new IllegalStateException(call + " from a virtual thread: libdispatch binds the main queue to one "
                    + "platform thread (" + describeOwner() + ")");
        }
        if (me != owner()) {
            throw new IllegalStateException(call + " from " + me + ": libdispatch binds the main queue to the thread "
                    + "that loaded it, " + describeOwner() + ", and aborts on a drain from any other");
        }
        synchronized (LOCK) {
            if (busy) {
                throw new IllegalStateException(call + " inside a main-queue task (or a drain) of " + me + ": the "
                        + "main queue runs one drain at a time");
            }
            if (MainQueueNative.jd_main_queue_is_current_thread() == 0) {
                throw new IllegalStateException(call + " from " + me + ", which runs a task of another queue now (or "
                        + "libdispatch was loaded, and its main queue bound, before JDispatch): the main queue can only "
                        + "be run from outside other queues' tasks");
            }
            busy = true;
        }
    }

    private static String describeOwner() {
        Thread t = NativeLibrary.loaderThread();
        if (t == null) {
            return "no thread";
        }
        return t + (VirtualThreads.isVirtual(t) ? " (a virtual thread: its carrier then, which Java cannot run it on)"
                : t.isAlive() ? "" : " (ended: the main queue now runs on libdispatch's workers)");
    }

    private static void check(String call, int rc) {
        if (rc < 0) {
            throw new UncheckedIOException(new IOException(call + " failed: " + JDispatchNative.jd_errno_text(-rc)));
        }
    }

    // ---- what libdispatch ignores on the main queue ---------------------------------------------------------

    private IllegalStateException refused(String call) {
        return new IllegalStateException(call + " on " + this + ": the main queue cannot be suspended, resumed, "
                + "activated or retargeted (libdispatch ignores it there)");
    }

    /** Refused: libdispatch ignores dispatch_suspend on the main queue. */
    @Override
    public void suspend() {
        throw refused("dispatch_suspend");
    }

    /** Refused: libdispatch ignores dispatch_resume on the main queue. */
    @Override
    public void resume() {
        throw refused("dispatch_resume");
    }

    /** Refused: libdispatch ignores dispatch_activate on the main queue. */
    @Override
    public void activate() {
        throw refused("dispatch_activate");
    }

    /** Refused: libdispatch ignores dispatch_set_target_queue on the main queue. */
    @Override
    public void setTargetQueue(DispatchQueue target) {
        throw refused("dispatch_set_target_queue");
    }

    private IllegalStateException noContext(String call) {
        return new IllegalStateException(call + " on " + this + ": libdispatch ignores a context and a finalizer on "
                + "the main queue (it has none: never freed, as the global queues)");
    }

    /**
     * Refused: libdispatch ignores dispatch_set_context on the main queue.
     *
     * @param context not set
     * @throws IllegalStateException always
     */
    @Override
    public void setContext(Object context) {
        throw noContext("dispatch_set_context");
    }

    /**
     * Refused: libdispatch ignores dispatch_set_finalizer_f on the main queue (never freed).
     *
     * @param finalizer not set
     * @throws IllegalStateException always
     */
    @Override
    public void setFinalizer(Runnable finalizer) {
        throw noContext("dispatch_set_finalizer_f");
    }

    /** {@return null: the main queue has no context (libdispatch ignores dispatch_set_context on it)} */
    @Override
    public Object getContext() {
        return null;
    }

    /** Does nothing: libdispatch owns the main queue. */
    @Override
    public void close() {
    }
}
