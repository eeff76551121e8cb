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
            taskFn = new JDispatchNative.TaskFn();
            applyFn = new JDispatchNative.ApplyFn();
            JDispatchNative.jd_callbacks_install(taskFn, applyFn);
            Upcalls.preload();
            return null;
        } catch (Throwable t) {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError("JDispatch could not load its native library '" + NAME
                    + "' for platform '" + Loader.getPlatform() + "' (looked for "
                    + JDispatchNative.class.getPackageName().replace('.', '/') + "/" + Loader.getPlatform()
                    + "/" + System.mapLibraryName(NAME) + " on the class path): " + t);
            e.initCause(t);
            return e;
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
