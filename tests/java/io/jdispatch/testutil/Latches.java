package io.jdispatch.testutil;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Bounded latch waits for tests and their child-JVM probes: a hang fails, it never blocks the build. */
public final class Latches {
    /** The bound on every wait: generous, since the build machine may be loaded. */
    public static final long WAIT_S = 60;

    private Latches() {}

    /** Waits for {@code latch}; an {@link AssertionError} naming {@code what} if it is not released in time. */
    public static void await(CountDownLatch latch, String what) {
        try {
            if (!latch.await(WAIT_S, TimeUnit.SECONDS)) {
                throw new AssertionError(what + " did not happen within " + WAIT_S + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(what + ": interrupted", e);
        }
    }

    /** A task that holds its queue until {@code release} is counted down (at most {@link #WAIT_S}). */
    public static Runnable blockUntil(CountDownLatch release) {
        return () -> await(release, "the release of a blocking task");
    }
}
