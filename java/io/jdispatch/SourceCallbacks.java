package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.SourceNative;

/** What the native trampoline finds in {@link Handles}: the handlers, and the source kept reachable. */
final class SourceCallbacks implements SourceNative.SourceCallback {
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

    SourceCallbacks(String label) {
        this.label = label;
    }

    @Override
    public void sourceCallback(int kind) {
        if (kind == SourceNative.EVENT) {
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
