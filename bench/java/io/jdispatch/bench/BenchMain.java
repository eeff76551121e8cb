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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

        runCFloors(nativeDir, m);
        runJmh(include, m);
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

    /** Each C floor prints `RESULT <name> <value> <unit>` lines. */
    static void runCFloors(Path nativeDir, Measurements m) throws IOException, InterruptedException {
        List<Path> programs;
        try (Stream<Path> s = Files.list(nativeDir)) {
            programs = s.filter(p -> p.getFileName().toString().startsWith("bench_") && Files.isExecutable(p)
                    && Files.isRegularFile(p)).sorted().toList();
        }
        for (Path p : programs) {
            System.out.println("# C floor: " + p.getFileName());
            Process proc = new ProcessBuilder(p.toString()).redirectErrorStream(true).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    System.out.println("  " + line);
                    if (line.startsWith("RESULT ")) {
                        String[] f = line.split("\\s+");
                        m.put(f[1], Double.parseDouble(f[2]), f[3]);
                    }
                }
            }
            if (!proc.waitFor(5, TimeUnit.MINUTES) || proc.exitValue() != 0) {
                throw new IllegalStateException(p + " failed");
            }
        }
    }

    static void runJmh(String include, Measurements m) throws Exception {
        ChainedOptionsBuilder opts = jmhOptions(include).forks(1)
                .warmupIterations(QUICK ? 1 : 3).warmupTime(TimeValue.milliseconds(QUICK ? 200 : 1000))
                .measurementIterations(QUICK ? 2 : 5).measurementTime(TimeValue.milliseconds(QUICK ? 200 : 1000));
        for (Paired p : PAIRED) {
            opts.exclude(Pattern.quote(p.benchmark().getName()) + "\\.");
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
        Pattern selected = Pattern.compile(include);
        for (Paired p : PAIRED) {
            if (p.selectedBy(selected)) {
                runPaired(p, m);
            }
        }
    }

    /** Pairs per parameter set of a {@link Paired} benchmark (1 in a quick run). */
    static final int PAIR_ROUNDS = 5;

    /**
     * A benchmark whose two methods are compared on this shared machine: ours and the other alternate, one
     * fork each, for every parameter set, round after round ({@link #runPaired}).
     */
    record Paired(Class<?> benchmark, String ours, String other, List<Map<String, String>> paramSets) {
        boolean selectedBy(Pattern include) {
            return include.matcher(benchmark.getName() + "." + ours).find()
                    || include.matcher(benchmark.getName() + "." + other).find();
        }
    }

    static final List<Paired> PAIRED = List.of(
            // The two-thread data-queue benchmark (ours against Agrona) depends on where the host puts this VM's
            // two vCPUs: a run sits in one of a few regimes, for seconds at a time, and the score moves by up to
            // 5x between them.
            new Paired(DataQueueBenchmark.class, "jdispatch", "agronaBaseline", grid(
                    Map.entry("calls", List.of("entry", "batch")), Map.entry("size", List.of("8", "64", "256")),
                    Map.entry("mode", List.of("twoThreads")))),
            // Names on and off differ by tens of ns per task; unpaired forks scattered 0.85x-1.7x apart.
            new Paired(WorkerNamingBenchmark.class, "named", "unnamed", grid(
                    Map.entry("queue", List.of("serial", "global", "concurrent")))));

    /**
     * Runs {@code p} as pairs: for every parameter set, one fork of ours and one of the other back to back
     * (which goes first alternates from round to round), {@value #PAIR_ROUNDS} rounds. Both forks of a pair
     * see the same state of the host, so the pair's ratio holds where the forks' scores scatter; the row's
     * ratio is the median of its pairs' ratios ({@link Measurements#pairedRatio}), each side's figure its
     * median fork.
     */
    static void runPaired(Paired p, Measurements m) throws Exception {
        Map<Map<String, String>, List<RunResult[]>> pairs = new LinkedHashMap<>();
        for (int round = 0; round < (QUICK ? 1 : PAIR_ROUNDS); round++) {
            for (Map<String, String> params : p.paramSets()) {
                RunResult[] pair = new RunResult[2];
                for (int side : round % 2 == 0 ? new int[] {0, 1} : new int[] {1, 0}) {
                    pair[side] = fork(p.benchmark(), side == 0 ? p.ours() : p.other(), params);
                }
                pairs.computeIfAbsent(params, k -> new ArrayList<>()).add(pair);
            }
        }
        pairs.forEach((params, list) -> {
            String ours = key(list.get(0)[0]);
            String other = key(list.get(0)[1]);
            String unit = list.get(0)[0].getPrimaryResult().getScoreUnit();
            for (RunResult[] pair : list) {
                m.putPair(ours, pair[0].getPrimaryResult().getScore(), other, pair[1].getPrimaryResult().getScore(), unit);
            }
            m.put(ours, median(list, 0), unit);
            m.put(other, median(list, 1), unit);
            System.out.println("# " + m.describePairs(ours, other));
        });
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

    private static double median(List<RunResult[]> pairs, int side) {
        List<Double> v = pairs.stream().map(p -> p[side].getPrimaryResult().getScore()).sorted().toList();
        return v.get(v.size() / 2);
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
