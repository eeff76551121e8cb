package io.jdispatch.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Every figure of one run, by name, normalised to nanoseconds per operation. */
final class Measurements {
    record Value(double nsPerOp, double raw, String unit) {}

    private final Map<String, Value> values = new LinkedHashMap<>();

    /** Accepts time per op (ns/op, us/op, ms/op, s/op, also "us" for latencies) and throughput (ops/s, ops/ms, ...). */
    void put(String name, double value, String unit) {
        values.put(name, new Value(toNanosPerOp(value, unit), value, unit));
    }

    Value get(String name) {
        return values.get(name);
    }

    String dump() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(String.format("%-90s %14.3f %-8s = %12.3f ns/op%n", k, v.raw(), v.unit(), v.nsPerOp())));
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
