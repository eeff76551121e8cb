package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.QueueNative;

/**
 * What dispatch_set_context holds: the context and finalizer, under one {@link Handles} id that is the C
 * context; libdispatch's finalizer function (the task trampoline) removes the id and runs this, once.
 * Never references the wrapper.
 */
final class QueueContext implements Runnable {
    volatile Object context;
    volatile Runnable finalizer;

    @Override
    public void run() {
        Runnable f = finalizer;
        if (f != null && context != null) {
            f.run();
        }
    }

    /**
     * The queue's context holder, found through dispatch_get_context, made and handed to libdispatch on first use
     * (holding the lifecycle). Not kept in this wrapper: a closed wrapper must not hold the context alive.
     */
    static QueueContext of(long q) {
        if (Handles.get(QueueNative.jd_queue_get_context(q)) instanceof QueueContext c) {
            return c;
        }
        QueueContext c = new QueueContext();
        QueueNative.jd_queue_set_context(q, Handles.register(c));
        return c;
    }
}
