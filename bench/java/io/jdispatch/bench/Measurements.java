package io.jdispatch.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Every figure of one run, by name, normalised to nanoseconds per operation. */
final class Measurements {
    record Value(double nsPerOp, double raw, String unit) {}

    /** One fork of ours and one of the other, run back to back (BenchMain.runPaired), in ns per op. */
    record Pair(double oursNs, double otherNs) {
        double ratio() {
            return oursNs / otherNs;
        }
    }

    private record Sides(String ours, String other) {}

    private final Map<String, Value> values = new LinkedHashMap<>();
    /** The pairs of each two paired measurements, in the order they ran. */
    private final Map<Sides, List<Pair>> pairs = new LinkedHashMap<>();

    /** Accepts time per op (ns/op, us/op, ms/op, s/op, also "us" for latencies) and throughput (ops/s, ops/ms, ...). */
    void put(String name, double value, String unit) {
        values.put(name, new Value(toNanosPerOp(value, unit), value, unit));
    }

    Value get(String name) {
        return values.get(name);
    }

    /** Records one pair of forks of {@code ours} and {@code other} (values in {@code unit}, as for put). */
    void putPair(String ours, double oursValue, String other, double otherValue, String unit) {
        pairs.computeIfAbsent(new Sides(ours, other), k -> new ArrayList<>())
                .add(new Pair(toNanosPerOp(oursValue, unit), toNanosPerOp(otherValue, unit)));
    }

    /** The pairs of {@code ours} and {@code other} in the order they ran; empty when they were not paired. */
    List<Pair> pairs(String ours, String other) {
        return pairs.getOrDefault(new Sides(ours, other), List.of());
    }

    /** The median of the pairs' ratios ours / other (the upper one of an even count), or null when not paired. */
    Double pairedRatio(String ours, String other) {
        List<Double> r = pairs(ours, other).stream().map(Pair::ratio).sorted().toList();
        return r.isEmpty() ? null : r.get(r.size() / 2);
    }

    /** "pairs A / B (ns/op, ratio): a1 / b1 = r1; ...; median ratio r", or null when not paired. */
    String describePairs(String ours, String other) {
        List<Pair> list = pairs(ours, other);
        if (list.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder("pairs " + ours + " / " + other + " (ns/op, ratio):");
        list.forEach(p -> sb.append(String.format(" %.3f / %.3f = %.3f;", p.oursNs(), p.otherNs(), p.ratio())));
        return sb.append(String.format(" median ratio %.3f", pairedRatio(ours, other))).toString();
    }

    String dump() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(String.format("%-90s %14.3f %-8s = %12.3f ns/op%n", k, v.raw(), v.unit(), v.nsPerOp())));
        pairs.keySet().forEach(k -> sb.append(describePairs(k.ours(), k.other())).append('\n'));
        return sb.toString();
    }

    static double toNanosPerOp(double value, String unit) {
        String u = unit.trim();
        if (u.startsWith("ops/")) {
            return nanos(u.substring(4)) / value;
        }
        return value * nanos(u.endsWith("/op") ? u.substring(0, u.length() - 3) : u);
    }

    private static double nanos(String unit) {
        return switch (unit) {
            case "ns" -> 1;
            case "us", "µs" -> TimeUnit.MICROSECONDS.toNanos(1);
            case "ms" -> TimeUnit.MILLISECONDS.toNanos(1);
            case "s" -> TimeUnit.SECONDS.toNanos(1);
            default -> throw new IllegalArgumentException("unknown time unit '" + unit + "'");
        };
    }
}
