package io.jdispatch.testutil;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.JDispatchNative;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * Open fds, resident memory, native memory in use (malloc) and live Java heap of this process, for stress
 * tests that must end flat. RSS also moves with allocator high-water marks and new threads' arenas; native
 * memory in use does not, so leak assertions use it and RSS is a coarse bound. Also the waits for the library's
 * handle table ({@link Handles}) to shrink back.
 */
public record ProcessStats(long openFds, long rssKiB, long nativeKiB, long heapUsedKiB) {

    public static ProcessStats now() {
        long heap = heapAfterGc(); // first: the Cleaner may free native memory during these collections
        long malloc = JDispatchNative.jd_malloc_in_use();
        return new ProcessStats(countOpenFds(), currentRssKiB(), malloc < 0 ? -1 : malloc / 1024, heap);
    }

    public static long countOpenFds() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * How many of this process's fds link to {@code target}, as /proc/self/fd shows them (pidfds:
     * {@code anon_inode:[pidfd]}). Counting one kind leaves out the fds other threads open for a moment.
     */
    public static long countFdsLinkedTo(String target) {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> target.equals(linkOf(fd))).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String linkOf(Path fd) {
        try {
            return Files.readSymbolicLink(fd).toString();
        } catch (IOException e) {
            return null; // closed since the listing
        }
    }

    /**
     * Waits up to 60 s until a count of this process's fds is at most max, and returns that count. One read
     * decides: other threads (the JVM, libdispatch's pool monitor reading /proc) open fds for a moment, so a
     * second read may see one that was never the test's.
     */
    public static long awaitFdsAtMost(long max, String what) throws InterruptedException {
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        long open;
        while ((open = countOpenFds()) > max && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        if (open > max) {
            throw new AssertionError(what + ": " + open + " fds open after 60 s, expected at most " + max);
        }
        return open;
    }

    /**
     * Waits up to 60 s until the handle table holds at most max entries, and returns the count of the read that
     * ended the wait (the assertion is on that read: another thread may register a handle just after it).
     * Handles go asynchronously (after a task or cancel handler returned), so a single read may come too early.
     */
    public static int awaitHandlesAtMost(int max, String what) throws InterruptedException {
        return awaitHandles(max, false, what);
    }

    /**
     * {@link #awaitHandlesAtMost}, collecting garbage between reads: for handles only the Cleaner of dropped,
     * never closed objects removes (it sees only what a collection found unreachable).
     */
    public static int awaitHandlesCollected(int max, String what) throws InterruptedException {
        return awaitHandles(max, true, what);
    }

    private static int awaitHandles(int max, boolean collect, String what) throws InterruptedException {
        long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        int size;
        while ((size = Handles.size()) > max && System.nanoTime() < end) {
            if (collect) {
                System.gc();
                Thread.sleep(20);
            } else {
                Thread.sleep(1);
            }
        }
        if (size > max) {
            throw new AssertionError(what + ": " + size + " handles registered after 60 s, expected at most " + max);
        }
        return size;
    }

    public static long currentRssKiB() {
        try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
            return lines.filter(l -> l.startsWith("VmRSS:")).findFirst()
                    .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Used heap after a few full collections (so what is left is live). */
    public static long heapAfterGc() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return (rt.totalMemory() - rt.freeMemory()) / 1024;
    }

    /**
     * False where native memory cannot be measured (an AddressSanitizer build, whose allocator also inflates
     * RSS): leak tests then check counts, fds and heap, and leave memory to the regular run.
     */
    public boolean nativeMemoryMeasured() {
        return nativeKiB >= 0;
    }

    @Override
    public String toString() {
        return String.format("fds=%d rss=%d KiB native=%d KiB heap=%d KiB", openFds, rssKiB, nativeKiB, heapUsedKiB);
    }
}
