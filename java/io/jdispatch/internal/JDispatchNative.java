package io.jdispatch.internal;

import org.bytedeco.javacpp.FunctionPointer;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;
import org.bytedeco.javacpp.annotation.Raw;

/**
 * The JavaCPP mapping of libdispatch and of the project's C shim ({@code native/include/jdispatch.h}).
 * Hand-written; the JavaCPP Maven plugin generates the JNI C++ from it and CMake compiles that into
 * {@code libjnijdispatch}. Other mapping classes inherit these properties so that all of them live in one
 * library.
 *
 * <p>libdispatch objects cross as {@code long} addresses (no Pointer object per call). Names are the C
 * names, so {@code man dispatch_queue_create} documents them. Nothing here checks its arguments: the public
 * classes in {@code io.jdispatch} do.
 */
@Properties(value = {
        @Platform(include = {"<dispatch/dispatch.h>", "jdispatch.h", "jd_resources.h", "jd_jvm.h"},
                  preload = {"BlocksRuntime", "dispatch"},
                  library = "jnijdispatch"),
        @Platform(value = "macosx", include = {"<dispatch/dispatch.h>", "jdispatch.h", "jd_resources.h", "jd_jvm.h"}, preload = {},
                  library = "jnijdispatch")})
public final class JDispatchNative {
    private JDispatchNative() {}

    // ---- callbacks: one trampoline per kind, a context id says what to run -------------------------------

    /** Called by libdispatch worker threads for every task; {@code id} names the task in {@link Handles}. */
    public static final class TaskFn extends FunctionPointer {
        TaskFn() {
            allocate();
        }

        private native void allocate();

        // Nothing may escape: JavaCPP turns a Java exception into a C++ throw through libdispatch's C frames.
        public void call(@Cast("int64_t") long id) {
            try {
                Upcalls.task(id);
            } catch (Throwable t) {
                Upcalls.lastResort(t);
            }
        }
    }

    /** Called by dispatch_apply_f once per iteration. */
    public static final class ApplyFn extends FunctionPointer {
        ApplyFn() {
            allocate();
        }

        private native void allocate();

        public void call(@Cast("int64_t") long id, @Cast("int64_t") long index) {
            try {
                Upcalls.apply(id, index);
            } catch (Throwable t) {
                Upcalls.lastResort(t);
            }
        }
    }

    public static native void jd_callbacks_install(@Cast("jd_task_fn") TaskFn task, @Cast("jd_apply_fn") ApplyFn apply);

    /** Installs the thread attachment every trampoline does first (jd_jvm.h); before any callback can run. */
    @Raw(withEnv = true)
    public static native void jd_jvm_install();

    // ---- queues ------------------------------------------------------------------------------------------

    public static native @Cast("intptr_t") long dispatch_queue_create(String label, @Cast("dispatch_queue_attr_t") long attr);

    public static native @Cast("intptr_t") long dispatch_get_global_queue(@Cast("intptr_t") long identifier, @Cast("uintptr_t") long flags);

    public static native void jd_queue_async(@Cast("dispatch_queue_t") long queue, @Cast("int64_t") long id);

    public static native void jd_queue_sync(@Cast("dispatch_queue_t") long queue, @Cast("int64_t") long id);

    public static native @Cast("const char*") String dispatch_queue_get_label(@Cast("dispatch_queue_t") long queue);

    // ---- objects -----------------------------------------------------------------------------------------

    public static native void dispatch_release(@Cast("dispatch_object_t") long object);

    public static native void dispatch_retain(@Cast("dispatch_object_t") long object);

    // ---- library -----------------------------------------------------------------------------------------

    /** A number C and Java share, by its C name (jd_constants.c); Long.MIN_VALUE for an unknown name. */
    public static native @Cast("int64_t") long jd_constant(String name);

    public static native int jd_constant_count();

    public static native @Cast("const char*") String jd_constant_name(int index);

    public static native @Cast("const char*") String jd_libdispatch_version();

    public static native @Cast("int64_t") long jd_thread_id();

    public static native void jd_noop();

    public static native @Cast("int64_t") long jd_malloc_in_use();

    // ---- file descriptors and memory (jd_resources.h) ----------------------------------------------------

    /** Opens libdispatch's lazily created fds now (see jd_resources.h); 0 or -errno. */
    public static native int jd_dispatch_prime();

    /** errnum's name and strerror text (and the limit, for EMFILE): errno values are never hard-coded in Java. */
    public static native @Cast("const char*") String jd_errno_text(int errnum);

    /** 1 for EMFILE, ENFILE, ENOMEM: a failure that {@link Reclaim} retries. */
    public static native int jd_errno_is_exhaustion(int errnum);

    /** Holds one fd (on /dev/null) for a later step: the fd, or -errno. */
    public static native int jd_fd_reserve();

    public static native void jd_fd_unreserve(int fd);

    /** Closed objects whose fds libdispatch's threads have not closed yet. */
    public static native @Cast("int64_t") long jd_releases_pending();

    /** Releases that ended since the process started. */
    public static native @Cast("int64_t") long jd_releases_ended();
}
