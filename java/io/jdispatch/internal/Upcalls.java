package io.jdispatch.internal;

import io.jdispatch.Dispatch;

/** Where the native trampolines land in Java. Nothing thrown here may reach native code. */
final class Upcalls {
    private Upcalls() {}

    static void task(long id) {
        Object task = Handles.remove(id);
        if (task instanceof Runnable) {
            run((Runnable) task);
        }
    }

    static void apply(long id, long index) {
        Object body = Handles.get(id);
        if (body instanceof java.util.function.LongConsumer) {
            try {
                ((java.util.function.LongConsumer) body).accept(index);
            } catch (Throwable t) {
                Dispatch.reportException(t);
            }
        }
    }

    /** For a failure outside user code (e.g. OutOfMemoryError in the lookup): report it, never rethrow. */
    static void lastResort(Throwable t) {
        try {
            Dispatch.reportException(t);
        } catch (Throwable ignored) {
            // Nothing more can be done on a native thread.
        }
    }

    static void run(Runnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            Dispatch.reportException(t);
        }
    }
}
