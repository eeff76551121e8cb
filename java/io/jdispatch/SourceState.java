package io.jdispatch;

import io.jdispatch.internal.SourceNative;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A source's activation, suspension and cancellation, which libdispatch crashes on when misused (resuming a
 * source that is not suspended, suspending one not yet activated or cancelled, releasing an inactive or
 * suspended one): each transition is checked here before the native call. Guarded by the source's monitor,
 * which also orders {@link DispatchObject#setTargetQueue} with activation.
 */
final class SourceState {
    private final DispatchSource source;
    private final SourceCallbacks callbacks;
    /** Shared with the source's Release: jd_source_cancel may be called once only (the cancel trampoline frees its context). */
    final AtomicBoolean cancelIssued;
    private boolean activated;
    private boolean cancelled;
    private int suspendCount;

    SourceState(DispatchSource source, SourceCallbacks callbacks, AtomicBoolean cancelIssued) {
        this.source = source;
        this.callbacks = callbacks;
        this.cancelIssued = cancelIssued;
    }

    /** dispatch_activate, the first time. */
    void activate(long s) {
        synchronized (source) {
            if (!activated) {
                markActivated(s);
                SourceNative.dispatch_activate(s);
            }
        }
    }

    /** dispatch_resume: the activating resume of a new source, or one balancing a suspend. */
    void resume(long s) {
        synchronized (source) {
            if (suspendCount > 0) {
                suspendCount--;
            } else if (!activated) {
                markActivated(s);
            } else {
                throw new IllegalStateException("dispatch_resume: " + source + " is not suspended: each resume "
                        + "must balance a suspend (a new source needs exactly one resume to activate)");
            }
            SourceNative.dispatch_resume(s);
        }
    }

    /** dispatch_suspend of an activated source that is not cancelled. */
    void suspend(long s) {
        synchronized (source) {
            if (!activated) {
                throw new IllegalStateException("dispatch_suspend: " + source + " is not activated yet "
                        + "(a new source is already suspended: resume or activate it first)");
            }
            refuseIfCancelled("dispatch_suspend");
            suspendCount++;
            SourceNative.dispatch_suspend(s);
        }
    }

    /** dispatch_source_cancel; true the first time. */
    boolean cancel(long s) {
        synchronized (source) {
            if (cancelled) {
                return false;
            }
            cancelled = true;
            cancelOnce(s, cancelIssued);
            return true;
        }
    }

    /** Throws naming {@code call} once the source is cancelled (handlers and timers are then refused). */
    void refuseIfCancelled(String call) {
        synchronized (source) {
            if (cancelled) {
                throw new IllegalStateException(call + ": " + source + " is cancelled");
            }
        }
    }

    /** {@return whether the source was activated} (the caller holds the source's monitor) */
    boolean activated() {
        return activated;
    }

    /**
     * Before dispatch_release: libdispatch crashes on releasing an inactive or suspended source, so cancel,
     * activate and balance every suspend. Returns true when this cancelled the source.
     */
    boolean prepareRelease(long s) {
        synchronized (source) {
            boolean cancelledNow = cancel(s);
            if (!activated) {
                activated = true;
                SourceNative.dispatch_activate(s);
            }
            for (; suspendCount > 0; suspendCount--) {
                SourceNative.dispatch_resume(s);
            }
            return cancelledNow;
        }
    }

    /**
     * From activation until its cancel handler completed, a source is reachable from its callbacks in
     * {@link io.jdispatch.internal.Handles} (an armed source must not be collected). Before activation it is
     * not: a source dropped unused is collected, and its Release cancels and activates it so that libdispatch
     * can free it. Called right before the activating call: it gives back the fd held for libdispatch's
     * registration (jd_source_unreserve).
     */
    private void markActivated(long s) {
        activated = true;
        callbacks.owner = source;
        SourceNative.jd_source_unreserve(s);
    }

    /** jd_source_cancel (dispatch_source_cancel, counted as a release under way), the first time only. */
    static void cancelOnce(long address, AtomicBoolean issued) {
        if (issued.compareAndSet(false, true)) {
            SourceNative.jd_source_cancel(address);
        }
    }
}
