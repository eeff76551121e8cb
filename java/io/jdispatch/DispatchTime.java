package io.jdispatch;

import io.jdispatch.internal.QueueNative;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

/**
 * A {@code dispatch_time_t}: an opaque 64-bit point in time, either on libdispatch's uptime clock
 * ({@link #time}, {@link #now()}) or on the wall clock ({@link #walltime}), plus the two constants
 * {@link #NOW} and {@link #FOREVER}. Used as the deadline of {@link DispatchQueue#after} and the timeout of
 * {@link DispatchGroup#wait(DispatchTime)} / {@link DispatchSemaphore#wait(DispatchTime)}.
 *
 * @param rawValue the dispatch_time_t bits (unsigned in C)
 */
public record DispatchTime(long rawValue) {
    /** DISPATCH_TIME_NOW (0): "now" at the moment libdispatch reads it. */
    public static final DispatchTime NOW = new DispatchTime(0);
    /** DISPATCH_TIME_FOREVER (~0ull): never. */
    public static final DispatchTime FOREVER = new DispatchTime(~0L);

    static {
        Dispatch.ensureAvailable();
    }

    /**
     * dispatch_time(when, deltaNanos).
     *
     * @param when the starting point ({@link #NOW}: the current uptime)
     * @param deltaNanos a signed number of nanoseconds
     * @return {@code when} shifted by {@code deltaNanos}
     */
    public static DispatchTime time(DispatchTime when, long deltaNanos) {
        return new DispatchTime(QueueNative.dispatch_time(when.rawValue, deltaNanos));
    }

    /** {@return the current point on the uptime clock} (dispatch_time(DISPATCH_TIME_NOW, 0)) */
    public static DispatchTime now() {
        return time(NOW, 0);
    }

    /**
     * dispatch_time(DISPATCH_TIME_NOW, delay).
     *
     * @param delay how far from now
     * @param unit the unit of {@code delay}
     * @return that point on the uptime clock; a delay too long to represent gives {@link #FOREVER}
     */
    public static DispatchTime fromNow(long delay, TimeUnit unit) {
        return time(NOW, unit.toNanos(delay));
    }

    /**
     * dispatch_time(DISPATCH_TIME_NOW, delay).
     *
     * @param delay how far from now
     * @return that point on the uptime clock; a delay too long to represent gives {@link #FOREVER}
     */
    public static DispatchTime fromNow(Duration delay) {
        return time(NOW, saturatedNanos(delay));
    }

    /**
     * {@code dispatch_walltime(&instant, 0)}: a deadline on the wall clock (it follows changes of the system clock).
     *
     * @param instant the deadline
     * @return that deadline as a dispatch_time_t
     */
    public static DispatchTime walltime(Instant instant) {
        return new DispatchTime(QueueNative.jd_walltime(instant.getEpochSecond(), instant.getNano(), 0));
    }

    /** {@return now, on the wall clock} ({@code dispatch_walltime(NULL, 0)}) */
    public static DispatchTime walltimeNow() {
        return walltime(Instant.now());
    }

    /**
     * dispatch_time(this, deltaNanos).
     *
     * @param deltaNanos a signed number of nanoseconds
     * @return this time shifted by {@code deltaNanos}
     */
    public DispatchTime plus(long deltaNanos) {
        return time(this, deltaNanos);
    }

    @Override
    public String toString() {
        return this.equals(NOW) ? "DispatchTime.NOW" : this.equals(FOREVER) ? "DispatchTime.FOREVER"
                : "DispatchTime[0x" + Long.toHexString(rawValue) + "]";
    }

    static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException tooLong) {
            return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
    }

    /**
     * True while an uptime deadline (dispatch_time's clock, CLOCK_MONOTONIC on Linux) lies ahead. Linux libdispatch
     * waits on semaphores against CLOCK_REALTIME, converted from this deadline, so a wall-clock adjustment can end
     * a wait up to a fraction of a millisecond early (seen: 9.59 ms for 10 ms): the waits check it and wait out the
     * rest. Always false for NOW, FOREVER and wall-clock deadlines.
     */
    boolean pending() {
        return rawValue > 0 && rawValue < 1L << 62 && QueueNative.dispatch_time(0, 0) < rawValue;
    }
}
