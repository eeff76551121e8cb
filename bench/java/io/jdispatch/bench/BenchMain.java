package io.jdispatch.bench;

import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.NoBenchmarksException;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * bench/run's driver: runs the C floors (target/native/bench_*), every JMH benchmark and the latency
 * harnesses in one run on one machine, then writes bench/results/report.md and a chart of the ratios.
 *
 * <p>Arguments: {@code <native build dir> <results dir> [jmh include regex]}.
 */
public final class BenchMain {
    /** -Dbench.quick=true: a smoke run (checks that every row is measured), not figures to quote. */
    static final boolean QUICK = Boolean.getBoolean("bench.quick");

    private BenchMain() {}

    public static void main(String[] args) throws Exception {
        Path nativeDir = Path.of(args.length > 0 ? args[0] : "target/native");
        Path resultsDir = Path.of(args.length > 1 ? args[1] : "bench/results");
        String include = args.length > 2 ? args[2] : "io\\.jdispatch\\.bench\\..*Benchmark.*";
        Files.createDirectories(resultsDir);
        Measurements m = new Measurements();
        String loadAtStart = loadAverage();

        List<Paired> paired = PAIRED.stream().filter(p -> p.selectedBy(Pattern.compile(include))).toList();
        runCFloors(nativeDir, paired.stream().map(Paired::floorProgram).filter(f -> f != null).toList(), m);
        runJmh(include, m);
        for (Paired p : paired) {
            runPaired(p, nativeDir, m);
        }
        for (LatencyHarness h : LatencyHarness.all()) {
            System.out.println("# latency harness: " + h.name());
            h.run(m);
        }

        Report report = new Report(Rows.ALL, m, machine() + "; load average (1, 5, 15 min) at start " + loadAtStart
                + ", at end " + loadAverage());
        Files.writeString(resultsDir.resolve("report.md"), report.markdown());
        report.writeChart(resultsDir.resolve("ratios.png"));
        Files.writeString(resultsDir.resolve("measurements.txt"), m.dump());
        System.out.println();
        System.out.println(report.markdown());
        System.out.println("written: " + resultsDir.resolve("report.md") + ", " + resultsDir.resolve("ratios.png"));
    }

    /** Runs every C floor but those in {@code paired} (they run round by round beside their Java forks). */
    static void runCFloors(Path nativeDir, List<String> paired, Measurements m) throws IOException, InterruptedException {
        List<Path> programs;
        try (Stream<Path> s = Files.list(nativeDir)) {
            programs = s.filter(p -> p.getFileName().toString().startsWith("bench_") && Files.isExecutable(p)
                    && Files.isRegularFile(p) && !paired.contains(p.getFileName().toString())).sorted().toList();
        }
        for (Path p : programs) {
            runCFloor(p, null).forEach((name, v) -> m.put(name, v.raw(), v.unit()));
        }
    }

    /**
     * Runs one C floor; it prints `RESULT <name> <value> <unit>` lines. {@code only} non-null measures just the
     * case that prints it (bench_util.h's BENCH_ONLY), null every case.
     */
    static Map<String, Measurements.Value> runCFloor(Path program, String only) throws IOException, InterruptedException {
        System.out.println("# C floor: " + program.getFileName() + (only != null ? " " + only : ""));
        Map<String, Measurements.Value> results = new LinkedHashMap<>();
        ProcessBuilder pb = new ProcessBuilder(program.toString()).redirectErrorStream(true);
        if (only != null) {
            pb.environment().put("BENCH_ONLY", only);
        }
        Process proc = pb.start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                System.out.println("  " + line);
                if (line.startsWith("RESULT ")) {
                    String[] f = line.split("\\s+");
                    double value = Double.parseDouble(f[2]);
                    results.put(f[1], new Measurements.Value(Measurements.toNanosPerOp(value, f[3]), value, f[3]));
                }
            }
        }
        if (!proc.waitFor(5, TimeUnit.MINUTES) || proc.exitValue() != 0) {
            throw new IllegalStateException(program + " failed");
        }
        return results;
    }

    static void runJmh(String include, Measurements m) throws Exception {
        ChainedOptionsBuilder opts = jmhOptions(include).forks(1)
                .warmupIterations(QUICK ? 1 : 3).warmupTime(TimeValue.milliseconds(QUICK ? 200 : 1000))
                .measurementIterations(QUICK ? 2 : 5).measurementTime(TimeValue.milliseconds(QUICK ? 200 : 1000));
        for (Paired p : PAIRED) {
            for (String method : p.methods()) {
                opts.exclude(Pattern.quote(p.benchmark().getName() + "." + method) + "$");
            }
        }
        if (Runtime.version().feature() < 21) { // no virtual threads before Java 21: that baseline is n/a
            opts.param("executor", "dispatchSerial", "dispatchGlobal", "tpe1", "tpeN", "forkJoin");
        }
        try {
            for (RunResult r : new Runner(opts.build()).run()) {
                var primary = r.getPrimaryResult();
                m.put(key(r), primary.getScore(), primary.getScoreUnit());
                // Secondary results (e.g. @AuxCounters, or the per-thread scores of a @Group) count too.
                r.getSecondaryResults().forEach((label, res) ->
                        m.put(key(r) + ":" + label, res.getScore(), res.getScoreUnit()));
            }
        } catch (NoBenchmarksException onlyPaired) {
            // The include regex selects paired benchmarks only: they run below.
        }
    }

    /** Pairs per parameter set of a {@link Paired} benchmark: -Dbench.pairs, 5 by default (1 in a quick run). */
    static final int PAIR_ROUNDS = Integer.getInteger("bench.pairs", 5);

    /**
     * A benchmark compared on this shared machine with another of its methods, with its C floor, or with both:
     * they alternate, one fork (or one run of the floor program) each, for every parameter set, round after
     * round ({@link #runPaired}). {@code other} is null when there is no Java alternative; {@code floorProgram}
     * is null when there is no floor, and {@code floorResult} names the floor's RESULT line for a parameter
     * set (null: that set has none).
     */
    record Paired(Class<?> benchmark, String ours, String other, List<Map<String, String>> paramSets,
                  String floorProgram, Function<Map<String, String>, String> floorResult) {
        Paired(Class<?> benchmark, String ours, String other, List<Map<String, String>> paramSets) {
            this(benchmark, ours, other, paramSets, null, params -> null);
        }

        List<String> methods() {
            return other == null ? List.of(ours) : List.of(ours, other);
        }

        boolean selectedBy(Pattern include) {
            return methods().stream().anyMatch(m -> include.matcher(benchmark.getName() + "." + m).find());
        }
    }

    /**
     * Two-thread benchmarks depend on where the host puts this VM's two vCPUs: a run sits in one of a few
     * regimes, for seconds at a time, and the score moves by up to 5x between them. Run back to back, ours and
     * what it is compared with see the same regime.
     */
    static final List<Paired> PAIRED = List.of(
            new Paired(DataQueueBenchmark.class, "jdispatch", "agronaBaseline", grid(
                    Map.entry("calls", List.of("entry", "batch")), Map.entry("size", List.of("8", "64", "256")),
                    Map.entry("mode", List.of("twoThreads"))),
                    "bench_dataqueue", params -> params.get("calls").equals("entry")
                            ? "c.dataqueue.entry." + params.get("size") : null),
            // Names on and off differ by tens of ns per task; unpaired forks scattered 0.85x-1.7x apart.
            new Paired(WorkerNamingBenchmark.class, "named", "unnamed", grid(
                    Map.entry("queue", List.of("serial", "global", "concurrent")))),
            new Paired(DispatchSourceEventBenchmark.class, "pingPong", null, List.of(Map.of()),
                    "bench_source_event", params -> "c.source.pingpong"),
            new Paired(DispatchSourceEventBenchmark.class, "coalescedMerge", null, List.of(Map.of()),
                    "bench_source_event", params -> "c.source.coalesced_merge"),
            new Paired(GroupNotifyBenchmark.class, "notifyCycle", null, grid(Map.entry("queues", List.of("fresh", "reused"))),
                    "bench_group", params -> "c.group.notify_cycle." + params.get("queues")));

    /**
     * Runs {@code p} as pairs: for every parameter set, one fork of ours, one of the other and one run of the
     * floor program back to back (ours first in even rounds, last in odd ones), {@link #PAIR_ROUNDS} rounds.
     * They see the same state of the host, so a pair's ratio holds where the forks' scores scatter; the row's
     * ratio is the median of its pairs' ratios ({@link Measurements#pairedRatio}), each side's figure its
     * median fork.
     */
    static void runPaired(Paired p, Path nativeDir, Measurements m) throws Exception {
        Map<Map<String, String>, List<double[]>> pairs = new LinkedHashMap<>();
        Map<Map<String, String>, String[]> keys = new LinkedHashMap<>();
        for (int round = 0; round < (QUICK ? 1 : PAIR_ROUNDS); round++) {
            for (Map<String, String> params : p.paramSets()) {
                String floor = p.floorResult().apply(params);
                List<String> sides = new ArrayList<>(p.methods());
                if (floor != null) {
                    sides.add(floor);
                }
                if (round % 2 == 1) {
                    Collections.reverse(sides);
                }
                double[] pair = new double[3]; // ns per op of ours, the other, the floor
                String[] key = {null, null, floor};
                for (String side : sides) {
                    if (side.equals(floor)) {
                        Measurements.Value c = runCFloor(nativeDir.resolve(p.floorProgram()), floor).get(floor);
                        if (c == null) {
                            throw new IllegalStateException(p.floorProgram() + " printed no RESULT " + floor);
                        }
                        pair[2] = c.nsPerOp();
                    } else {
                        int i = side.equals(p.ours()) ? 0 : 1;
                        RunResult r = fork(p.benchmark(), side, params);
                        key[i] = key(r);
                        pair[i] = Measurements.toNanosPerOp(r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreUnit());
                    }
                }
                keys.put(params, key);
                pairs.computeIfAbsent(params, k -> new ArrayList<>()).add(pair);
            }
        }
        pairs.forEach((params, list) -> {
            String[] key = keys.get(params);
            for (int i = 0; i < 3; i++) {
                if (key[i] != null) {
                    m.put(key[i], medianOf(list, i), "ns/op");
                }
            }
            for (int i = 1; i < 3; i++) {
                if (key[i] != null) {
                    for (double[] pair : list) {
                        m.putPair(key[0], pair[0], key[i], pair[i], "ns/op");
                    }
                    System.out.println("# " + m.describePairs(key[0], key[i]));
                }
            }
        });
    }

    private static double medianOf(List<double[]> pairs, int side) {
        List<Double> v = pairs.stream().map(p -> p[side]).sorted().toList();
        return v.get(v.size() / 2);
    }

    private static RunResult fork(Class<?> benchmark, String method, Map<String, String> params) throws Exception {
        ChainedOptionsBuilder opts = jmhOptions(Pattern.quote(benchmark.getName() + "." + method) + "$").forks(1)
                .warmupIterations(2).warmupTime(TimeValue.milliseconds(QUICK ? 200 : 500))
                .measurementIterations(QUICK ? 2 : 3).measurementTime(TimeValue.milliseconds(QUICK ? 200 : 500));
        params.forEach((k, v) -> opts.param(k, v));
        var results = new Runner(opts.build()).run();
        if (results.size() != 1) {
            throw new IllegalStateException("fork of " + benchmark.getSimpleName() + "." + method + " " + params
                    + ": " + results.size() + " results, expected 1 (a parameter missing from the set?)");
        }
        return results.iterator().next();
    }

    /** Every combination of the axes' values, the first axis outermost. */
    @SafeVarargs
    private static List<Map<String, String>> grid(Map.Entry<String, List<String>>... axes) {
        List<Map<String, String>> sets = List.of(Map.of());
        for (Map.Entry<String, List<String>> axis : axes) {
            List<Map<String, String>> next = new ArrayList<>();
            for (Map<String, String> set : sets) {
                for (String value : axis.getValue()) {
                    Map<String, String> s = new LinkedHashMap<>(set);
                    s.put(axis.getKey(), value);
                    next.add(s);
                }
            }
            sets = next;
        }
        return List.copyOf(sets);
    }

    private static ChainedOptionsBuilder jmhOptions(String include) {
        return new OptionsBuilder().include(include).shouldFailOnError(true);
    }

    /** Benchmark:param=value:... (params in JMH's order), the name Rows uses. */
    private static String key(RunResult r) {
        var p = r.getParams();
        StringBuilder key = new StringBuilder(p.getBenchmark().replaceFirst("^io\\.jdispatch\\.bench\\.", ""));
        for (String k : p.getParamsKeys()) {
            key.append(':').append(k).append('=').append(p.getParam(k));
        }
        return key.toString();
    }

    static String machine() {
        String cpu = "unknown CPU";
        try (Stream<String> lines = Files.lines(Path.of("/proc/cpuinfo"))) {
            cpu = lines.filter(l -> l.startsWith("model name")).findFirst().map(l -> l.replaceFirst(".*:\\s*", "")).orElse(cpu);
        } catch (IOException ignored) {
            // Not Linux: the name stays unknown.
        }
        return String.format("%s, %d cores, %s %s, Java %s", cpu, Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.name"), System.getProperty("os.version"), Runtime.version());
    }

    /**
     * /proc/loadavg's first three fields: on a machine shared with other work, what the figures ran against
     * (above the core count, runnable threads wait for a CPU and every score scatters).
     */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | ArrayIndexOutOfBoundsException notLinux) {
            return "unknown";
        }
    }

    /** A measurement that is not a JMH benchmark (latency percentiles): puts its figures into m. */
    interface LatencyHarness {
        String name();

        void run(Measurements m) throws Exception;

        static List<LatencyHarness> all() {
            return List.of(new LatencyHarness() {
                public String name() {
                    return "timer lateness and socket readiness (SourceLatencyHarness)";
                }

                public void run(Measurements m) throws Exception {
                    SourceLatencyHarness.measure(QUICK ? 1 : 5, m);
                }
            });
        }
    }
}
