package io.jdispatch.stress;

/**
 * Sizes of the stress tests: the short form runs in CI; `mvn verify -Djdispatch.stress=long` multiplies counts for a local soak. Figures are printed so the closing note can quote them.
 */
final class Stress {
    static final boolean LONG = "long".equals(System.getProperty("jdispatch.stress"));

    private Stress() {}

    /** n in the short form, n * 10 in the long form. */
    static int count(int n) {
        return LONG ? n * 10 : n;
    }

    /** {@code shortForm} in CI, {@code longForm} (the figure) with -Djdispatch.stress=long. */
    static int count(int shortForm, int longForm) {
        return LONG ? longForm : shortForm;
    }

    static void report(String test, String figures) {
        System.out.printf("STRESS %-40s %s%n", test, figures);
    }
}
