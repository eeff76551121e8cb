package io.jdispatch;

import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.QueueNative;

import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
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
    /** Virtual threads parked in {@link #wait}, oldest first (given-up ones leave it themselves). */
    private final ConcurrentLinkedQueue<ParkedWaiter> parked = new ConcurrentLinkedQueue<>();

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
     * dispatch_semaphore_signal: increments the value. A virtual thread parked in {@link #wait} takes the
     * unit first, then a thread waiting in libdispatch.
     *
     * @return true when it woke a waiting thread
     */
    public boolean signal() {
        return callFor("dispatch_semaphore_signal", s -> {
            // The mirror moves before the native value can be seen by a waiter, so it is never above it.
            balance.value.incrementAndGet();
            return release(s);
        });
    }

    /**
     * Hands one unit to a parked virtual thread, else to libdispatch. A waiter parks only after it linked
     * itself and then failed a dispatch_semaphore_wait(NOW) (fence in between); here the native signal is
     * followed (fence) by a look at the parked waiters. So either that waiter's NOW takes the unit, or this
     * sees the waiter and takes the unit back with its own NOW for it: no unit stays in libdispatch while a
     * virtual thread sleeps. Every unit is either in the native value or handed to exactly one waiter.
     */
    private boolean release(long s) {
        while (true) {
            for (ParkedWaiter w; (w = parked.poll()) != null; ) {
                if (w.grant()) {
                    return true;
                }
            }
            boolean woke = QueueNative.dispatch_semaphore_signal(s) != 0;
            VarHandle.fullFence();
            if (parked.isEmpty() || QueueNative.dispatch_semaphore_wait(s, DispatchTime.NOW.rawValue()) != 0) {
                return woke; // nobody parked, or the unit was taken (by that waiter or by a native one)
            }
        }
    }

    /**
     * dispatch_semaphore_wait: decrements the value, waiting until {@code timeout}. On a virtual thread the
     * wait parks in Java (its carrier stays free) rather than in libdispatch; the value stays exact either
     * way, and virtual threads are served in FIFO order among themselves.
     *
     * @param timeout the deadline ({@link DispatchTime#FOREVER} waits as long as it takes)
     * @return true once decremented, false on timeout
     */
    public boolean wait(DispatchTime timeout) {
        Objects.requireNonNull(timeout, "dispatch_semaphore_wait: timeout is null");
        return waitFor(timeout, -1);
    }

    /**
     * dispatch_semaphore_wait(sema, dispatch_time(DISPATCH_TIME_NOW, timeout)).
     *
     * @param timeout how long to wait at most
     * @param unit the unit of {@code timeout}
     * @return true once decremented, false on timeout
     */
    public boolean wait(long timeout, TimeUnit unit) {
        Objects.requireNonNull(unit, "dispatch_semaphore_wait: unit is null");
        return wait(Duration.ofNanos(unit.toNanos(timeout)));
    }

    /**
     * dispatch_semaphore_wait(dispatch_time(DISPATCH_TIME_NOW, timeout)): false when no unit came within
     * {@code timeout} (zero or negative: only a unit available now counts).
     *
     * @param timeout how long to wait at most
     * @return true once decremented, false on timeout
     */
    public boolean wait(Duration timeout) {
        Objects.requireNonNull(timeout, "dispatch_semaphore_wait: timeout is null");
        return VirtualThreads.current() ? waitFor(null, Math.max(0, DispatchTime.saturatedNanos(timeout)))
                : waitFor(DispatchTime.fromNow(timeout), -1);
    }

    /** The wait, until {@code timeout}, or (virtual threads only, timeout null) for {@code timeoutNanos}. */
    private boolean waitFor(DispatchTime timeout, long timeoutNanos) {
        return callFor("dispatch_semaphore_wait", s -> {
            balance.value.decrementAndGet();
            boolean acquired = VirtualThreads.current() ? parkedWait(s, timeout, timeoutNanos) : nativeWait(s, timeout);
            if (!acquired) {
                balance.value.incrementAndGet(); // a timed-out wait gives its decrement back
            }
            return acquired;
        });
    }

    /** A platform thread's wait, in libdispatch. */
    private static boolean nativeWait(long s, DispatchTime timeout) {
        while (QueueNative.dispatch_semaphore_wait(s, timeout.rawValue()) != 0) {
            if (!timeout.pending()) { // libdispatch may give up a little early (DispatchTime.pending)
                return false;
            }
        }
        return true;
    }

    /** A virtual thread's wait: a unit available now, else parked until {@link #release} or the timeout. */
    private boolean parkedWait(long s, DispatchTime timeout, long timeoutNanos) {
        long now = DispatchTime.NOW.rawValue();
        if (QueueNative.dispatch_semaphore_wait(s, now) == 0) {
            return true;
        }
        if (timeoutNanos == 0 || (timeout != null && timeout.rawValue() == now)) {
            return false;
        }
        ParkedWaiter w = new ParkedWaiter();
        parked.add(w);
        VarHandle.fullFence(); // see release(): the link must be visible before the second try
        if (QueueNative.dispatch_semaphore_wait(s, now) == 0) {
            if (w.giveUp()) {
                parked.remove(w);
            } else {
                release(s); // a signal granted us meanwhile too: one unit is extra
            }
            return true;
        }
        if (timeout != null ? w.await(timeout) : w.awaitNanos(timeoutNanos)) {
            return true;
        }
        parked.remove(w);
        return false;
    }

    /** {@return the value it was created with} (the value passed to dispatch_semaphore_create) */
    public long getInitialValue() {
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
