package io.jdispatch.testutil;

import java.util.concurrent.locks.LockSupport;

/**
 * Fills the Java heap, keeping every block reachable, until not even an {@code Object[1]} fits; frees it
 * again on request. For child JVMs that test behaviour under heap exhaustion. Blocks are chained through
 * their slot 0, so the hog needs no collection of its own (which would need memory); the last blocks
 * filled are the smallest, so {@link #release(long)} can give back a few bytes precisely.
 */
public final class HeapHog {
    private static final int LARGEST = 1 << 16; // references per block: 256 KiB with compressed oops

    private Object[] head;

    /** Allocates until even the smallest block fails (each failure costs full GCs: few block sizes). */
    public void fill() {
        for (int n = LARGEST; n >= 1; ) {
            try {
                Object[] block = new Object[n];
                block[0] = head;
                head = block;
            } catch (OutOfMemoryError full) {
                n = n > 8 ? n / 8 : n - 1;
            }
        }
    }

    /** Drops the last (smallest) blocks until about {@code bytes} are free again. */
    public void release(long bytes) {
        long freed = 0;
        while (head != null && freed < bytes) {
            freed += 16 + 4L * head.length;
            head = (Object[]) head[0];
        }
    }

    /** True when an array of {@code bytes} cannot be allocated now (it is dropped at once if it can). */
    public static boolean cannotAllocate(int bytes) {
        try {
            byte[] probe = new byte[bytes];
            return probe.length < 0;
        } catch (OutOfMemoryError expected) {
            return true;
        }
    }

    /** Frees everything. */
    public void releaseAll() {
        head = null;
    }

    /** Sleeps without allocating (Thread.sleep may allocate a JFR event). */
    public static void pause(long millis) {
        long end = System.nanoTime() + millis * 1_000_000;
        for (long left; (left = end - System.nanoTime()) > 0; ) {
            LockSupport.parkNanos(left);
        }
    }
}
