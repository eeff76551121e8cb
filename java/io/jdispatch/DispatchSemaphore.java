package io.jdispatch;

import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.QueueNative;

import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A dispatch_semaphore_t: a counting semaphore ({@link #signal()} / {@link #wait(DispatchTime)}).
 *
 * <p>libdispatch aborts the process when a semaphore is released while its value is below the value it was
 * created with (someone still holds it, or waits on it). This class mirrors the value: {@link #close()} is
 * refused with an {@link IllegalStateException} in that state; the Cleaner, which cannot refuse, signals the
 * difference back before releasing. Note the no-argument {@code wait()} is {@link Object}'s: use
 * {@code wait(DispatchTime.FOREVER)}.
 */
public final class DispatchSemaphore extends DispatchObject {
    private final long initialValue;
    private final Balance balance;

    private DispatchSemaphore(long address, long initialValue, Balance balance) {
        super(address, balance);
        this.initialValue = initialValue;
        this.balance = balance;
    }

    /**
     * dispatch_semaphore_create(value).
     *
     * @param value the initial value, at least 0
     * @return the new semaphore
     */
    public static DispatchSemaphore create(long value) {
        if (value < 0) {
            throw new IllegalArgumentException("dispatch_semaphore_create: value " + value + " is negative");
        }
        long s = QueueNative.dispatch_semaphore_create(value);
        return new DispatchSemaphore(s, value, new Balance(s, value));
    }

    /**
     * dispatch_semaphore_signal: increments the value.
     *
     * @return true when it woke a waiting thread
     */
    public boolean signal() {
        long s = acquire();
        try {
            // The mirror moves before the native value can be seen by a waiter, so it is never above it.
            balance.value.incrementAndGet();
            return QueueNative.dispatch_semaphore_signal(s) != 0;
        } finally {
            releaseUse();
        }
    }

    /**
     * dispatch_semaphore_wait: decrements the value, waiting until {@code timeout}.
     *
     * @param timeout the deadline ({@link DispatchTime#FOREVER} waits as long as it takes)
     * @return true once decremented, false on timeout
     */
    public boolean wait(DispatchTime timeout) {
        Objects.requireNonNull(timeout, "dispatch_semaphore_wait: timeout is null");
        long s = acquire();
        try {
            balance.value.decrementAndGet();
            while (QueueNative.dispatch_semaphore_wait(s, timeout.rawValue()) != 0) {
                if (!timeout.pending()) { // libdispatch may give up a little early (DispatchTime.pending)
                    balance.value.incrementAndGet(); // a timed-out wait gives its decrement back
                    return false;
                }
            }
            return true;
        } finally {
            releaseUse();
        }
    }

    /**
     * dispatch_semaphore_wait(sema, dispatch_time(DISPATCH_TIME_NOW, timeout)).
     *
     * @param timeout how long to wait at most
     * @param unit the unit of {@code timeout}
     * @return true once decremented, false on timeout
     */
    public boolean wait(long timeout, TimeUnit unit) {
        return wait(DispatchTime.fromNow(timeout, unit));
    }

    /** {@return the value it was created with} (the value passed to dispatch_semaphore_create) */
    public long initialValue() {
        return initialValue;
    }

    /** Releases the semaphore; refused while its value is below the initial value. */
    @Override
    public void close() {
        long v = balance.value.get();
        if (v < initialValue && !isClosed()) {
            throw new IllegalStateException("close() of " + this + " while its value (" + v + ") is below its "
                    + "initial value (" + initialValue + "): a wait() is not balanced by a signal() yet (libdispatch "
                    + "aborts the process on releasing it so)");
        }
        super.close();
    }

    @Override
    public String toString() {
        return "DispatchSemaphore@" + Integer.toHexString(System.identityHashCode(this)) + "(initial " + initialValue + ")";
    }

    /** Shared with the Cleaner: must not reference the wrapper. */
    private static final class Balance implements Runnable {
        final long address;
        final long initialValue;
        final AtomicLong value;

        Balance(long address, long initialValue) {
            this.address = address;
            this.initialValue = initialValue;
            this.value = new AtomicLong(initialValue);
        }

        /** Runs when no call is in progress, so the mirror equals the native value. */
        @Override
        public void run() {
            for (long v = value.get(); v < initialValue; v++) {
                QueueNative.dispatch_semaphore_signal(address);
            }
            JDispatchNative.dispatch_release(address);
        }
    }
}
