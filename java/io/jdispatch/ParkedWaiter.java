package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.QueueNative;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * A virtual thread waiting in Java, not in libdispatch, for a semaphore unit or an empty group: it parks
 * until {@link #grant()}ed or until its timeout, whichever comes first (exactly one of them wins).
 *
 * <p>A {@link DispatchTime} timeout is measured by libdispatch itself, so each clock (uptime, wall clock)
 * means what it means to dispatch_semaphore_wait: a dispatch_after on a private serial queue gives up the
 * wait. That timer stays armed until its deadline even when the wait ended first (libdispatch cannot
 * cancel a dispatch_after); it then finds the wait over and does nothing. A timeout given as a duration
 * parks for that long, with no timer.
 */
final class ParkedWaiter {
    private static final int WAITING = 0, GRANTED = 1, GAVE_UP = 2;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(ParkedWaiter.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Thread thread = Thread.currentThread();
    private volatile int state; // changed through STATE only

    /** Ends the wait successfully; false when it is already over (granted, or given up). */
    boolean grant() {
        if (STATE.compareAndSet(this, WAITING, GRANTED)) {
            LockSupport.unpark(thread);
            return true;
        }
        return false;
    }

    /** Ends the wait unsuccessfully; false when it was granted first. */
    boolean giveUp() {
        return STATE.compareAndSet(this, WAITING, GAVE_UP);
    }

    /** Parks until granted (true) or {@code timeout} (false: given up). NOW gives up at once. */
    boolean await(DispatchTime timeout) {
        if (timeout.rawValue() == DispatchTime.NOW.rawValue()) {
            return !giveUp();
        }
        if (timeout.rawValue() != DispatchTime.FOREVER.rawValue()) {
            QueueNative.jd_queue_after(timeout.rawValue(), wakeupQueue(), Handles.register((Runnable) () -> {
                if (giveUp()) {
                    LockSupport.unpark(thread);
                }
            }));
        }
        return awaitNanos(Long.MAX_VALUE);
    }

    /**
     * Parks until granted (true) or for {@code nanos} (false: given up); Long.MAX_VALUE: no limit. Not
     * interruptible, like the libdispatch waits it stands for; the interrupt status is kept.
     */
    boolean awaitNanos(long nanos) {
        if (nanos >= Long.MAX_VALUE / 2) {
            nanos = Long.MAX_VALUE; // beyond a century: no limit (and no overflow of the deadline)
        }
        long deadline = System.nanoTime() + nanos;
        boolean interrupted = false;
        int s;
        while ((s = state) == WAITING) {
            if (nanos == Long.MAX_VALUE) {
                LockSupport.park(this);
            } else {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    if (giveUp()) {
                        s = GAVE_UP;
                        break;
                    }
                    continue; // granted meanwhile
                }
                LockSupport.parkNanos(this, left);
            }
            interrupted |= Thread.interrupted();
        }
        if (interrupted) {
            thread.interrupt();
        }
        return s == GRANTED;
    }

    /**
     * Where timeouts and group notifications wake their waiters: a serial queue of our own, because serial
     * queues run on libdispatch's overcommit pool, which starts a thread even when every worker is busy.
     */
    static long wakeupQueue() {
        return Wakeups.QUEUE.address();
    }

    private static final class Wakeups {
        static final DispatchQueue QUEUE = DispatchQueue.createSerial("io.jdispatch.wakeups");
    }
}
