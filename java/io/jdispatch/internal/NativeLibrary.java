package io.jdispatch.internal;

import org.bytedeco.javacpp.Loader;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where C and Java meet: loads {@code libjnijdispatch} (and the libdispatch bundled beside it) once, installs
 * every trampoline, and reads the numbers both sides share from C ({@link #constant}). The failure to load is
 * kept, so that every later use reports its cause instead of a bare {@link NoClassDefFoundError}.
 *
 * <p>The mapping classes ({@link JDispatchNative}, {@link QueueNative}, {@link SourceNative},
 * {@link DataQueueNative}) do nothing when initialized: every public class that reaches them has called
 * {@link #ensure()} first.
 */
public final class NativeLibrary {
    /** The JNI library's name, as in {@code System.mapLibraryName}. */
    public static final String NAME = "jnijdispatch";

    // JavaCPP holds a FunctionPointer only weakly: these strong references keep the installed trampolines
    // alive (a collected one makes the next callback abort the process with a C++ NullPointerException).
    private static JDispatchNative.TaskFn taskFn;
    private static JDispatchNative.ApplyFn applyFn;
    private static SourceNative.SourceFn sourceFn;
    private static DataQueueNative.HandlerFn handlerFn;
    private static IoNative.IoFn ioFn;
    private static IoNative.DataApplyFn dataApplyFn;

    /** The C names {@link #constant} was asked for (NativeConstantsTest checks none of C's rows is left unread). */
    private static final Set<String> READ = ConcurrentHashMap.newKeySet();

    /** The thread that ran {@link #load} (set there, before {@link #CAUSE}: no initializer may reset it). */
    private static Thread loader;

    private static final Throwable CAUSE = load();

    private NativeLibrary() {}

    private static Throwable load() {
        loader = Thread.currentThread();
        try {
            Loader.load(JDispatchNative.class);
            JDispatchNative.jd_jvm_install();
            // Loaded now, while fds and memory are free: with a class path of directories each class loads from a
            // file of its own, and a trampoline's catch block that could not load Upcalls would throw into C (abort).
            Upcalls.preload();
            taskFn = new JDispatchNative.TaskFn();
            applyFn = new JDispatchNative.ApplyFn();
            sourceFn = new SourceNative.SourceFn();
            handlerFn = new DataQueueNative.HandlerFn();
            ioFn = new IoNative.IoFn();
            dataApplyFn = new IoNative.DataApplyFn();
            JDispatchNative.jd_callbacks_install(taskFn, applyFn);
            SourceNative.jd_source_install(sourceFn);
            DataQueueNative.jd_handler_install(handlerFn);
            IoNative.jd_io_install(ioFn, dataApplyFn);
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

    /**
     * A number C and Java share, read from the library's one table (jd_constants.c) by its C name: mapping
     * classes initialize their constants with it, so no number is copied by hand.
     *
     * @param cName the C name, e.g. "JD_SOURCE_CANCEL"
     * @return its value
     * @throws UnsatisfiedLinkError when the library is not loaded
     * @throws IllegalStateException when C has no such constant (a Java class and its library out of step)
     */
    public static int constant(String cName) {
        ensure();
        long value = JDispatchNative.jd_constant(cName);
        if (value == Long.MIN_VALUE || value != (int) value) {
            throw new IllegalStateException("jd_constant(\"" + cName + "\"): " + (value == Long.MIN_VALUE
                    ? "libjnijdispatch has no such constant" : "value " + value + " does not fit an int")
                    + " (jd_constants.c)");
        }
        READ.add(cName);
        return (int) value;
    }

    /** {@return the C names read through {@link #constant} so far} */
    public static Set<String> constantsRead() {
        return Set.copyOf(READ);
    }

    /**
     * The thread that loaded the library. libdispatch's constructor runs on it (unless something in the process
     * loaded libdispatch before) and binds the main queue to it.
     *
     * @return that thread (it may have ended since)
     */
    public static Thread loaderThread() {
        return loader;
    }

    /** Null when the library is loaded, else why it is not. */
    public static Throwable cause() {
        return CAUSE;
    }

    /**
     * Throws why the library is not loaded, if it is not.
     *
     * @throws UnsatisfiedLinkError naming the library, the platform and the cause
     */
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
