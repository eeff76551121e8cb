/**
 * JDispatch: libdispatch (Grand Central Dispatch) for Java. Queues, groups, semaphores and time
 * ({@code dispatch/queue.h}, {@code group.h}, {@code semaphore.h}, {@code time.h}), dispatch sources
 * ({@code dispatch_source_create(3)}) and a shared-memory data queue with DriverKit's
 * {@code IODataQueueDispatchSource} semantics, all in package {@link io.jdispatch}.
 *
 * <p>The natives come from a separate JAR per platform (automatic module {@code io.jdispatch.linux.x86_64},
 * {@code io.jdispatch.linux.arm64}: put it on the class path or add it with {@code --add-modules}), found by
 * JavaCPP's {@code Loader} as a resource. On Java 22 and later, allow native access to
 * {@code org.bytedeco.javacpp} (it loads the libraries) and {@code io.jdispatch} (it declares the native methods).
 */
module io.jdispatch {
    requires org.bytedeco.javacpp;
    // JFR events when the runtime has jdk.jfr (a module-path application adds it with --add-modules jdk.jfr
    // or by requiring it); nothing of it is loaded otherwise.
    requires static jdk.jfr;

    exports io.jdispatch;
    // io.jdispatch.internal (the JavaCPP mapping classes, raw dispatch_* calls on addresses) is neither exported
    // nor opened: JavaCPP's Loader and the JNI code it generates need no reflective access to it
    // (tests/consumer/run runs a module-path application on it).
}
