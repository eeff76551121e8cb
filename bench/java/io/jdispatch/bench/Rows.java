package io.jdispatch.bench;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What bench/run compares with what: each row names one of our measurements, its C floor and the Java
 * alternatives, by their names in {@link Measurements}, plus the target the project set for it.
 * The one place to edit when a benchmark is added.
 */
final class Rows {
    /** ours / {@code against} (time per op) must not exceed {@code maxRatio}. */
    record Target(String against, double maxRatio) {}

    record Row(String operation, String ours, String floor, Map<String, String> alternatives, Target target) {}

    private Rows() {}

    static final List<Row> ALL = List.of(
            new Row("JNI crossing: empty downcall", "JniCrossingBenchmark.emptyJniCall", "c.noop_call",
                    alts(), null));

    private static Map<String, String> alts(String... labelAndKey) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < labelAndKey.length; i += 2) {
            m.put(labelAndKey[i], labelAndKey[i + 1]);
        }
        return m;
    }
}
