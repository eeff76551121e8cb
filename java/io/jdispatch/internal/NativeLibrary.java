package io.jdispatch.internal;

import org.bytedeco.javacpp.Loader;

/**
 * Loads {@code libjnijdispatch} (and the libdispatch bundled beside it) once, keeping the cause of a failure
 * so that every later use reports it instead of a bare {@link NoClassDefFoundError}.
 */
public final class NativeLibrary {
    public static final String NAME = "jnijdispatch";

    /**
     * The installed trampolines, strongly held: JavaCPP keeps only a weak reference to a FunctionPointer,
     * and a callback through a collected one aborts the process.
     */
    private static final Object[] TRAMPOLINES = new Object[2];

    private static final Throwable CAUSE = load();

    private NativeLibrary() {}

    private static Throwable load() {
        try {
            Loader.load(JDispatchNative.class);
            JDispatchNative.TaskFn task = new JDispatchNative.TaskFn();
            JDispatchNative.ApplyFn apply = new JDispatchNative.ApplyFn();
            TRAMPOLINES[0] = task;
            TRAMPOLINES[1] = apply;
            JDispatchNative.jd_callbacks_install(task, apply);
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
