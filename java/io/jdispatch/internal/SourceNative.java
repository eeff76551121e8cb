package io.jdispatch.internal;

import org.bytedeco.javacpp.FunctionPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.Raw;

/**
 * JavaCPP mapping of the dispatch-source shim ({@code native/include/jd_source.h}) and of the libdispatch
 * source functions that need no shim. Sources cross as {@code long} addresses; nothing here checks its
 * arguments ({@link io.jdispatch.DispatchSource} does).
 */
@Properties(inherit = JDispatchNative.class,
            value = @Platform(include = {"jd_source.h", "jd_source_jni.h"}, library = "jnijdispatch"))
public final class SourceNative {
    private SourceNative() {}

    /** Kinds passed to {@link SourceCallback#sourceCallback(int)} (JD_SOURCE_*). */
    public static final int EVENT = NativeLibrary.constant("JD_SOURCE_EVENT"),
            CANCEL = NativeLibrary.constant("JD_SOURCE_CANCEL"),
            REGISTRATION = NativeLibrary.constant("JD_SOURCE_REGISTRATION");

    /** PROC flags of {@link #jd_source_create}: the pid named a process (then ESRCH means it exited). */
    public static final int PROC_EXISTED = NativeLibrary.constant("JD_PROC_EXISTED");
    /** The process has exited: nothing is opened, PROC_EXIT is reported at once. */
    public static final int PROC_EXITED = NativeLibrary.constant("JD_PROC_EXITED");

    /** What {@link Handles} maps a source's id to. */
    public interface SourceCallback {
        void sourceCallback(int kind);
    }

    /**
     * The one trampoline for every source handler, installed by {@link NativeLibrary}; {@code id} names the
     * source in {@link Handles}.
     */
    public static final class SourceFn extends FunctionPointer {
        SourceFn() {
            allocate();
        }

        private native void allocate();

        // Nothing may escape: JavaCPP turns a Java exception into a C++ throw through libdispatch's C frames.
        public void call(@Cast("int64_t") long id, int kind) {
            try {
                Object target = Handles.get(id);
                if (target instanceof SourceCallback callback) {
                    callback.sourceCallback(kind);
                }
            } catch (Throwable t) {
                Upcalls.lastResort(t);
            }
        }
    }

    static native void jd_source_install(@Cast("jd_source_fn") SourceFn fn);

    /** {@code flags}: {@link #PROC_EXISTED} or {@link #PROC_EXITED} for PROC, else 0. */
    public static native @Cast("int64_t") long jd_source_create(int type, @Cast("uint64_t") long handle,
            @Cast("uint64_t") long mask, int flags, @Cast("dispatch_queue_t") long queue, @Cast("int64_t") long id);

    public static native void jd_source_set_event(@Cast("dispatch_source_t") long source, int on);

    public static native void jd_source_set_registration(@Cast("dispatch_source_t") long source, int on);

    public static native void jd_source_close_on_cancel(@Cast("dispatch_source_t") long source, int fd);

    public static native void jd_source_unreserve(@Cast("dispatch_source_t") long source);

    public static native void jd_source_cancel(@Cast("dispatch_source_t") long source);

    public static native int jd_fd_check(int fd);

    public static native int jd_signal_send(@Cast("int64_t") long pid, int signo);

    /** SIGRTMIN, which glibc decides at run time. */
    public static native int jd_signal_rtmin();

    public static native int jd_channel_fd(@Raw(withEnv = true) Object channel);

    public static native @Cast("intptr_t") long dispatch_source_testcancel(@Cast("dispatch_source_t") long source);

    public static native @Cast("uintptr_t") long dispatch_source_get_data(@Cast("dispatch_source_t") long source);

    public static native void dispatch_source_merge_data(@Cast("dispatch_source_t") long source, @Cast("uintptr_t") long value);

    public static native void dispatch_source_set_timer(@Cast("dispatch_source_t") long source,
            @Cast("dispatch_time_t") long start, @Cast("uint64_t") long interval, @Cast("uint64_t") long leeway);

    public static native void dispatch_resume(@Cast("dispatch_object_t") long object);

    public static native void dispatch_suspend(@Cast("dispatch_object_t") long object);

    public static native void dispatch_activate(@Cast("dispatch_object_t") long object);

    public static native @Cast("const char*") String jd_signal_refusal(int signo);

    public static native @Cast("const char*") String jd_source_explain(int type, int errnum);

    /** The JD_TYPE_* code of a {@code DispatchSource.Type} constant's name ("PROC"), -1 if no type has it. */
    public static native int jd_source_type_code(String name);

    /** The C name of one mask bit of {@code type} ("DISPATCH_PROC_EXIT"), null if the type defines no such bit. */
    public static native @Cast("const char*") String jd_source_mask_bit_name(int type, @Cast("uint64_t") long bit);

    /** The mask bits dispatch_source_create(3) defines for {@code type} (0 for an unknown code). */
    public static native @Cast("uint64_t") long jd_source_known_mask(int type);

    /** The mask bits of {@code type} this OS observes; jd_source_create refuses the others. */
    public static native @Cast("uint64_t") long jd_source_supported_mask(int type);

    /** strerror(errnum): native errors are reported by their text, errno values are never hard-coded in Java. */
    public static native @Cast("const char*") String jd_strerror(int errnum);

}
