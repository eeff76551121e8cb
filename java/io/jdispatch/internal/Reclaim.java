package io.jdispatch.internal;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Creates that open fds or map memory, retried when they fail for lack of them (EMFILE, ENFILE, ENOMEM) once
 * other objects gave theirs back, as {@code java.nio.Bits.reserveMemory} does for direct memory. Two sources:
 * objects already closed, whose fds libdispatch's threads close a moment later ({@code jd_releases_pending}),
 * and objects dropped without close(), which only a collection hands to the Cleaner. So: wait for the releases
 * under way, then {@code System.gc()}, and retry with backoff for as long as releases keep beginning or ending
 * (the Cleaner and libdispatch's threads are at work), until {@link #QUIET_NANOS} pass without one, or
 * {@link #LIMIT_NANOS} in all. Then the caller's exception is thrown.
 */
public final class Reclaim {
    /** Give up when no release began or ended for this long after the collection... */
    private static final long QUIET_NANOS = TimeUnit.SECONDS.toNanos(2);
    /** ...and in any case after this long. */
    private static final long LIMIT_NANOS = TimeUnit.SECONDS.toNanos(30);
    private static final long FIRST_SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long MAX_SLEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long POLL_NANOS = TimeUnit.MICROSECONDS.toNanos(200);

    private Reclaim() {}

    /**
     * Thrown by an attempt that failed for lack of fds or memory. {@link #failure} is the exception the caller
     * gets when the retries fail too. Never seen outside {@link #retrying}.
     */
    public static final class Exhausted extends RuntimeException {
        private final RuntimeException failure;

        /** @param failure what the caller gets if no retry succeeds (its message names the call and the errno) */
        public Exhausted(RuntimeException failure) {
            super(failure.getMessage(), failure, false, false);
            this.failure = failure;
        }
    }

    /**
     * Runs {@code attempt} until it returns, throws something other than {@link Exhausted}, or the retries end
     * (then throws the last attempt's {@link Exhausted#failure}). An interrupt does not cut the retries short
     * (they are bounded); it is kept for the caller.
     */
    public static <T> T retrying(Supplier<T> attempt) {
        long start = System.nanoTime();
        long lastProgress = start;
        long marker = progressMarker();
        long sleepNanos = FIRST_SLEEP_NANOS;
        boolean collected = false;
        boolean interrupted = false;
        try {
            for (int failures = 0; ; failures++) {
                try {
                    return attempt.get();
                } catch (Exhausted e) {
                    long now = System.nanoTime();
                    if (collected && (now - lastProgress > QUIET_NANOS || now - start > LIMIT_NANOS)) {
                        throw e.failure;
                    }
                }
                // Closed objects are giving fds back: wait for them first; a second failure means it was not enough.
                if (!collected && (failures > 0 || JDispatchNative.jd_releases_pending() == 0)) {
                    System.gc();
                    collected = true;
                    lastProgress = System.nanoTime();
                }
                interrupted |= pause(sleepNanos);
                sleepNanos = Math.min(sleepNanos << 1, MAX_SLEEP_NANOS);
                long m = progressMarker();
                if (m != marker) {
                    marker = m;
                    lastProgress = System.nanoTime();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Begun + ended releases: moves whenever a release begins or ends. */
    private static long progressMarker() {
        return JDispatchNative.jd_releases_pending() + 2 * JDispatchNative.jd_releases_ended();
    }

    /**
     * Sleeps up to {@code nanos}, or less: while releases are under way, until they are done. True if the
     * thread was interrupted (the flag is cleared so that the next pause sleeps too).
     */
    private static boolean pause(long nanos) {
        long deadline = System.nanoTime() + nanos;
        boolean waitForReleases = JDispatchNative.jd_releases_pending() > 0;
        boolean interrupted = false;
        for (long left = nanos; left > 0; left = deadline - System.nanoTime()) {
            if (waitForReleases && JDispatchNative.jd_releases_pending() == 0) {
                break;
            }
            LockSupport.parkNanos(waitForReleases ? Math.min(left, POLL_NANOS) : left);
            interrupted |= Thread.interrupted();
        }
        return interrupted;
    }
}
