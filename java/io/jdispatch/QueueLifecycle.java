package io.jdispatch;

import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.QueueNative;

/**
 * A queue's native state that libdispatch crashes on when it is unbalanced: its suspension count, whether it
 * is still inactive, and whether {@code close()} began. Shared with the Cleaner and with the queue's
 * {@link SerialDrain}: it must not reference the wrapper (a queued drain would keep a dropped queue reachable).
 * Guarded by its own monitor.
 */
final class QueueLifecycle implements Runnable {
    final long address;
    private volatile int suspendCount; // written under the monitor; read without it by the drain
    private boolean inactive;
    /** close() began: the queue is being resumed for good, a suspend would undo that. */
    private boolean closing;

    QueueLifecycle(long address, boolean inactive) {
        this.address = address;
        this.inactive = inactive;
    }

    boolean isSuspended() {
        return suspendCount > 0;
    }

    int getSuspendCount() {
        return suspendCount;
    }

    synchronized boolean isInactive() {
        return inactive;
    }

    /** dispatch_suspend, counted. */
    synchronized void suspend(DispatchQueue queue) {
        refuseIfClosing("dispatch_suspend", queue);
        QueueNative.dispatch_suspend(address);
        suspendCount++;
    }

    /** dispatch_resume of one counted suspend; refused when there is none (libdispatch aborts on that). */
    synchronized void resume(DispatchQueue queue) {
        refuseIfClosing("dispatch_resume", queue);
        if (suspendCount == 0) {
            throw new IllegalStateException("dispatch_resume of " + queue.name() + ", which is not suspended: every "
                    + "resume must balance a suspend (libdispatch aborts the process on an extra resume)"
                    + (inactive ? "; start an inactive queue with activate()" : ""));
        }
        QueueNative.dispatch_resume(address);
        suspendCount--;
    }

    /** dispatch_activate, once; later calls do nothing. */
    synchronized void activate() {
        if (inactive) {
            QueueNative.dispatch_activate(address);
            inactive = false;
        }
    }

    private void refuseIfClosing(String call, DispatchQueue queue) {
        if (closing) {
            throw new IllegalStateException(call + ": " + queue.name() + " is closed");
        }
    }

    /** close(): undoes suspension and inactivity now; the release follows when no call is in flight. */
    synchronized void startClosing() {
        closing = true;
        undoSuspension();
    }

    /** Releases the queue, first undoing what libdispatch refuses to release (suspension, inactivity). */
    @Override
    public synchronized void run() {
        undoSuspension();
        JDispatchNative.dispatch_release(address);
    }

    private void undoSuspension() {
        for (; suspendCount > 0; suspendCount--) {
            QueueNative.dispatch_resume(address);
        }
        if (inactive) {
            QueueNative.dispatch_activate(address);
            inactive = false;
        }
    }
}
