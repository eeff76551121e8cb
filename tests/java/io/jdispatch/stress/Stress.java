package io.jdispatch.stress;

import io.jdispatch.testutil.ProcessStats;

import java.util.concurrent.TimeUnit;

/**
 * Sizes of the stress tests: the short form runs in CI; `mvn verify -Djdispatch.stress=long` multiplies counts for a local soak. Figures are printed so the closing note can quote them.
 */
final class Stress {
    static final boolean LONG = "long".equals(System.getProperty("jdispatch.stress"));
    /**
     * Under scripts/sanitize (ASan runtime preloaded) RSS says nothing about leaks: ASan keeps freed memory in
     * its quarantine and adds shadow memory. RSS is then reported but not asserted; fds, heap and handles are.
     */
    static final boolean ASAN = String.valueOf(System.getenv("LD_PRELOAD")).contains("asan");

    private Stress() {}

    /** n in the short form, n * 10 in the long form. */
    static int count(int n) {
        return LONG ? n * 10 : n;
    }

    /** {@code shortForm} in CI, {@code longForm} (the figure) with -Djdispatch.stress=long. */
    static int count(int shortForm, int longForm) {
        return LONG ? longForm : shortForm;
    }

    /** One measured round of work. */
    interface Round {
        void run() throws Exception;
    }

    /** Process figures around the last measured round. */
    record Measured(ProcessStats before, ProcessStats after) {}

    /**
     * Runs {@code round} (after the caller's warm-up round) between two {@link ProcessStats}, printing a STRESS
     * line. The JVM's own native memory (C2 compiler arenas, code cache) can step up by several MB once, during
     * any round; a leak grows in every round. So a round whose RSS grew by more than {@code rssSlackKiB} is
     * measured again, three rounds at most: the caller asserts on the last one.
     */
    static Measured measure(String test, String work, long rssSlackKiB, Round round) throws Exception {
        ProcessStats before, after;
        int n = 0;
        do {
            n++;
            before = ProcessStats.now();
            long t0 = System.nanoTime();
            round.run();
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            after = ProcessStats.now();
            report(test, String.format("%s in %d ms (round %d); before %s; after %s", work, ms, n, before, after));
        } while (!ASAN && after.rssKiB() > before.rssKiB() + rssSlackKiB && n < 3);
        return new Measured(before, after);
    }

    /** Native memory did not grow by more than {@code slackKiB} (not asserted under ASan, see {@link #ASAN}). */
    static void assertRssFlat(ProcessStats before, ProcessStats after, long slackKiB, String what) {
        if (ASAN) {
            report(what, "RSS not asserted under ASan (quarantine): " + before.rssKiB() + " -> " + after.rssKiB() + " KiB");
            return;
        }
        if (after.rssKiB() > before.rssKiB() + slackKiB) {
            throw new AssertionError(what + ": RSS grew: " + before + " -> " + after);
        }
    }

    static void report(String test, String figures) {
        System.out.printf("STRESS %-40s %s%n", test, figures);
    }
}
