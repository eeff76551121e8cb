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

    /** Growth per cycle of each figure, judged over rounds (see {@link #leakSlopes}). */
    record Slopes(double nativeBytes, double fds, double heapBytes, String rounds) {}

    /**
     * Runs {@code rounds} rounds of {@code cycles} cycles each (after one warm-up round) and returns how much
     * native memory, fds and heap grow per cycle: the median of the rounds' growths. A leak grows every round, so
     * it sets the median; a one-off step (the JVM's C2 arenas or a new worker thread's caches, several MB at
     * once) is one round's growth, and barely moves the median. One before/after delta would be that step.
     */
    static Slopes leakSlopes(String test, int rounds, int cycles, Round round) throws Exception {
        round.run(); // warm-up: caches fill, code is compiled
        ProcessStats[] at = new ProcessStats[rounds + 1];
        at[0] = settled();
        long t0 = System.nanoTime();
        for (int r = 1; r <= rounds; r++) {
            round.run();
            at[r] = settled();
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        StringBuilder figures = new StringBuilder();
        for (ProcessStats s : at) {
            figures.append(String.format(" [%s]", s));
        }
        Slopes slopes = new Slopes(slope(at, cycles, s -> s.nativeKiB() * 1024.0), slope(at, cycles, s -> s.openFds()),
                slope(at, cycles, s -> s.heapUsedKiB() * 1024.0), figures.toString().trim());
        report(test, String.format("%d rounds of %d cycles in %d ms; per cycle: native %+.1f B, fds %+.5f, heap %+.1f B; %s",
                rounds, cycles, ms, slopes.nativeBytes(), slopes.fds(), slopes.heapBytes(), slopes.rounds()));
        return slopes;
    }

    /**
     * Figures once the Cleaner has caught up with what the round dropped (on a loaded machine it can lag behind
     * the collections): heap and native memory in use stopped falling between two readings, 20 readings at most.
     */
    private static ProcessStats settled() {
        ProcessStats last = ProcessStats.now();
        for (int i = 0; i < 20; i++) {
            ProcessStats next = ProcessStats.now();
            if (next.heapUsedKiB() > last.heapUsedKiB() - 64 && next.nativeKiB() > last.nativeKiB() - 64) {
                return next;
            }
            last = next;
        }
        return last;
    }

    private static double slope(ProcessStats[] at, int cycles, java.util.function.ToDoubleFunction<ProcessStats> f) {
        double[] growth = new double[at.length - 1];
        for (int r = 1; r < at.length; r++) {
            growth[r - 1] = (f.applyAsDouble(at[r]) - f.applyAsDouble(at[r - 1])) / cycles;
        }
        java.util.Arrays.sort(growth);
        int n = growth.length;
        return n % 2 == 1 ? growth[n / 2] : (growth[n / 2 - 1] + growth[n / 2]) / 2;
    }

    /**
     * No figure grows per cycle: native memory by less than {@code nativeBytes} (not asserted under ASan, see
     * {@link #ASAN}), heap by less than {@code heapBytes}, fds not at all (less than one per 1,000 cycles).
     */
    static void assertFlat(Slopes per, double nativeBytes, double heapBytes, String what) {
        if (!ASAN && per.nativeBytes() >= nativeBytes) {
            throw new AssertionError(what + ": native memory grows " + per.nativeBytes() + " B per cycle: " + per.rounds());
        }
        if (per.heapBytes() >= heapBytes) {
            throw new AssertionError(what + ": heap grows " + per.heapBytes() + " B per cycle: " + per.rounds());
        }
        if (per.fds() >= 0.001) {
            throw new AssertionError(what + ": fds grow " + per.fds() + " per cycle: " + per.rounds());
        }
    }

    static void report(String test, String figures) {
        System.out.printf("STRESS %-40s %s%n", test, figures);
    }
}
