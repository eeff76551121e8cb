package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.JDispatchNative;

import java.util.Objects;
import java.util.concurrent.Executor;

/**
 * A libdispatch queue (dispatch_queue_t). Tasks submitted with {@link #async} run on libdispatch's worker
 * threads, in FIFO order on a serial queue. A queue is an {@link Executor}.
 */
public class DispatchQueue extends DispatchObject implements Executor {
    private final String label;

    DispatchQueue(long address, boolean owned, String label) {
        super(address, owned);
        this.label = label;
    }

    /** dispatch_queue_create(label, DISPATCH_QUEUE_SERIAL). */
    public static DispatchQueue createSerial(String label) {
        return new DispatchQueue(JDispatchNative.dispatch_queue_create(label, 0), true, label);
    }

    /** dispatch_get_global_queue(DISPATCH_QUEUE_PRIORITY_DEFAULT, 0): the default global concurrent queue. */
    public static DispatchQueue global() {
        return Globals.DEFAULT;
    }

    /** dispatch_async_f: runs {@code task} on this queue. */
    public void async(Runnable task) {
        Objects.requireNonNull(task, "dispatch_async: task is null");
        long q = acquire();
        try {
            JDispatchNative.jd_queue_async(q, Handles.register(task));
        } finally {
            releaseUse();
        }
    }

    /** dispatch_sync_f: runs {@code task} on this queue and waits for it. Never call it on the current queue. */
    public void sync(Runnable task) {
        Objects.requireNonNull(task, "dispatch_sync: task is null");
        long q = acquire();
        try {
            JDispatchNative.jd_queue_sync(q, Handles.register(task));
        } finally {
            releaseUse();
        }
    }

    @Override
    public void execute(Runnable command) {
        async(command);
    }

    public String label() {
        return label;
    }

    @Override
    public String toString() {
        return "DispatchQueue[" + label + "]";
    }

    private static final class Globals {
        static final DispatchQueue DEFAULT =
                new DispatchQueue(JDispatchNative.dispatch_get_global_queue(0, 0), false, "global-default");
    }
}
