package io.jdispatch.internal;

import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Platform;
import org.bytedeco.javacpp.annotation.Properties;

/**
 * The JavaCPP mapping of workloops ({@code native/include/jd_workloop.h}). A workloop crosses as a
 * {@code long} address and takes the queue functions of {@link JDispatchNative} and {@link QueueNative}.
 * Nothing here checks its arguments: {@code io.jdispatch.DispatchWorkloop} does.
 */
@Properties(inherit = JDispatchNative.class, value = @Platform(include = "jd_workloop.h", library = "jnijdispatch"))
public final class WorkloopNative {
    private WorkloopNative() {}

    /** An active workloop; {@code qos} 0 for none (dispatch_workloop_create), else with that QoS floor. */
    public static native @Cast("intptr_t") long jd_workloop_create(String label, int qos, int relpri);

    /** dispatch_queue_get_qos_class: the class (0: none); {@code relpri[0]} gets the relative priority. */
    public static native int jd_workloop_qos_class(@Cast("dispatch_queue_t") long workloop, @Cast("int32_t*") int[] relpri);
}
