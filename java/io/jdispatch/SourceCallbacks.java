package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.SourceNative;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/** What the native trampoline finds in {@link Handles}: the handlers, and the source kept reachable. */
final class SourceCallbacks implements SourceNative.SourceCallback {
    private static final VarHandle PENDING;

    static {
        try {
            PENDING = MethodHandles.lookup().findVarHandle(SourceCallbacks.class, "pending", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        // Link every access mode now: the first use of one allocates, and the event path runs on a worker,
        // maybe under a full heap (the lesson of OutOfMemoryTest's wedges).
        SourceCallbacks linking = new SourceCallbacks("", DispatchSource.Type.DATA_ADD);
        linking.merge(1);
        linking.take();
        new SourceCallbacks("", DispatchSource.Type.DATA_OR).merge(1);
        new SourceCallbacks("", DispatchSource.Type.DATA_REPLACE).merge(1);
    }

    /** DATA_ADD, DATA_OR or DATA_REPLACE: merges coalesce in {@link #pending}, else null. */
    private final DispatchSource.Type mergedType;
    // The data merged since the last handler call, by mergedType's rule; 0 is "nothing pending", as in C.
    @SuppressWarnings("unused") // through PENDING
    private volatile long pending;
    /** What the last handler call was given (dispatch_source_get_data of a merged type). */
    volatile long latched;
    /** The target queue's label: handlers run with the worker named after it. */
    volatile String label;
    volatile long id;
    volatile Runnable event;
    volatile Runnable cancel;
    volatile Runnable registration;
    // Set from activation until the cancel handler completed: keeps an armed source reachable.
    volatile DispatchSource owner;
    // The thread running one of this source's handlers (handlers never overlap), else null.
    volatile Thread handlerThread;

    SourceCallbacks(String label, DispatchSource.Type type) {
        this.label = label;
        boolean merged = type == DispatchSource.Type.DATA_ADD || type == DispatchSource.Type.DATA_OR
                || type == DispatchSource.Type.DATA_REPLACE;
        this.mergedType = merged ? type : null;
    }

    /** {@return whether the data of this source is merged here (a DATA_ADD, DATA_OR or DATA_REPLACE source)} */
    boolean mergesInJava() {
        return mergedType != null;
    }

    /**
     * Merges {@code value} by libdispatch's rule for the type: added, OR-ed or stored.
     *
     * @return true when the data went from nothing pending to something: only then must libdispatch be told
     *         (a merge while data is pending reaches the handler call that the first one asked for)
     */
    boolean merge(long value) {
        long before;
        if (mergedType == DispatchSource.Type.DATA_ADD) {
            before = (long) PENDING.getAndAdd(this, value);
            return before == 0 && value != 0;
        }
        before = mergedType == DispatchSource.Type.DATA_OR ? (long) PENDING.getAndBitwiseOr(this, value)
                : (long) PENDING.getAndSet(this, value);
        return before == 0 && value != 0;
    }

    /** Takes the pending data for a handler call, as _dispatch_source_latch_and_call does; 0: no call. */
    private long take() {
        return (long) PENDING.getAndSet(this, 0L);
    }

    @Override
    public void sourceCallback(int kind) {
        if (kind == SourceNative.EVENT) {
            if (mergedType != null) {
                long data = take();
                if (data == 0) {
                    return; // the call before took this event's merges, or they came back to 0: C calls nothing
                }
                latched = data;
            }
            run(event);
        } else if (kind == SourceNative.REGISTRATION) {
            run(registration);
        } else if (kind == SourceNative.CANCEL) {
            try {
                run(cancel);
            } finally {
                owner = null;
                Handles.remove(id);
            }
        }
    }

    private void run(Runnable r) {
        if (r != null) {
            String saved = TaskRunner.nameWorker(label);
            handlerThread = Thread.currentThread();
            try {
                TaskRunner.run(r, label, null);
            } finally {
                handlerThread = null;
                TaskRunner.restoreName(saved);
            }
        }
    }
}
