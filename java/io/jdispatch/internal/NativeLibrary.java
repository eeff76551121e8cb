package io.jdispatch.internal;

import org.bytedeco.javacpp.Loader;

/**
 * Loads {@code libjnijdispatch} (and the libdispatch bundled beside it) once, keeping the cause of a failure
 * so that every later use reports it instead of a bare {@link NoClassDefFoundError}.
 */
public final class NativeLibrary {
    public static final String NAME = "jnijdispatch";

    // JavaCPP holds a FunctionPointer only weakly: these strong references keep the installed trampolines
    // alive (a collected one makes the next callback abort the process with a C++ NullPointerException).
    private static JDispatchNative.TaskFn taskFn;
    private static JDispatchNative.ApplyFn applyFn;

    private static final Throwable CAUSE = load();

    private NativeLibrary() {}

    private static Throwable load() {
        try {
            Loader.load(JDispatchNative.class);
            JDispatchNative.jd_jvm_install();
            // Loaded now, while fds and memory are free: with a class path of directories each class loads from a
            // file of its own, and a trampoline's catch block that could not load Upcalls would throw into C (abort).
            Upcalls.preload();
            taskFn = new JDispatchNative.TaskFn();
            applyFn = new JDispatchNative.ApplyFn();
            JDispatchNative.jd_callbacks_install(taskFn, applyFn);
        } catch (Throwable t) {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError("JDispatch could not load its native library '" + NAME
                    + "' for platform '" + Loader.getPlatform() + "' (looked for "
                    + JDispatchNative.class.getPackageName().replace('.', '/') + "/" + Loader.getPlatform()
                    + "/" + System.mapLibraryName(NAME) + " on the class path): " + t);
            e.initCause(t);
            return e;
        }
        return prime();
    }

    /**
     * Makes libdispatch open now the fds it would open on first use and crash without (jd_resources.h); when
     * too few are free, after the collection and backoff of {@link Reclaim}, the library fails to load with
     * the errno and the limit rather than crash later. Another failure (a timeout on a machine too slow to run
     * the priming sources in 10 s) leaves the library usable, as it was before priming existed.
     */
    private static Throwable prime() {
        try {
            Reclaim.retrying(() -> {
                int rc = JDispatchNative.jd_dispatch_prime();
                if (rc < 0 && JDispatchNative.jd_errno_is_exhaustion(-rc) != 0) {
                    throw new Reclaim.Exhausted(new IllegalStateException("JDispatch cannot start libdispatch: "
                            + "jd_dispatch_prime: " + JDispatchNative.jd_errno_text(-rc) + " (libdispatch needs a "
                            + "few fds that it opens on first use and crashes without)"));
                }
                return rc;
            });
            return null;
        } catch (IllegalStateException e) {
            return new UnsatisfiedLinkError(e.getMessage());
        }
    }

    /** Null when the library is loaded, else why it is not. */
    public static Throwable cause() {
        return CAUSE;
    }

    public static void ensure() {
        if (CAUSE != null) {
            throw CAUSE instanceof UnsatisfiedLinkError ule ? copy(ule) : new UnsatisfiedLinkError(CAUSE.toString());
        }
    }

    // A fresh error per throw, so each caller gets its own stack trace with the original as the cause.
    private static UnsatisfiedLinkError copy(UnsatisfiedLinkError e) {
        UnsatisfiedLinkError copy = new UnsatisfiedLinkError(e.getMessage());
        copy.initCause(e.getCause());
        return copy;
    }
}
