package io.jdispatch.bench;

import org.openjdk.jmh.results.RunResult;
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

        runCFloors(nativeDir, m);
        runJmh(include, m);
        for (LatencyHarness h : LatencyHarness.all()) {
            System.out.println("# latency harness: " + h.name());
            h.run(m);
        }

        Report report = new Report(Rows.ALL, m, machine());
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
        ChainedOptionsBuilder opts = jmhOptions(include).exclude(PAIRED).forks(1)
                .warmupIterations(QUICK ? 1 : 3).warmupTime(TimeValue.milliseconds(QUICK ? 200 : 1000))
                .measurementIterations(QUICK ? 2 : 5).measurementTime(TimeValue.milliseconds(QUICK ? 200 : 1000));
        if (Runtime.version().feature() < 21) { // no virtual threads before Java 21: that baseline is n/a
            opts.param("executor", "dispatchSerial", "dispatchGlobal", "tpe1", "tpeN", "forkJoin");
        }
        for (RunResult r : new Runner(opts.build()).run()) {
            var primary = r.getPrimaryResult();
            m.put(key(r), primary.getScore(), primary.getScoreUnit());
            // Secondary results (e.g. @AuxCounters, or the per-thread scores of a @Group) count too.
            r.getSecondaryResults().forEach((label, res) ->
                    m.put(key(r) + ":" + label, res.getScore(), res.getScoreUnit()));
        }
        if (Pattern.compile(include).matcher(PAIRED_CLASS + ".jdispatch").find()) {
            runPaired(m);
        }
    }

    /**
     * The two-thread data-queue benchmark (ours against Agrona) depends on where the host puts this VM's two
     * vCPUs: a run sits in one of a few regimes, for seconds at a time, and the score moves by up to 5x between
     * them. Ours and the baseline therefore alternate, one fork each, for every parameter set, round after
     * round, and each side's median fork is its figure: both see the same regimes.
     */
    static final String PAIRED_CLASS = "io.jdispatch.bench.DataQueueBenchmark";
    private static final String PAIRED = Pattern.quote(PAIRED_CLASS) + "\\.";

    static void runPaired(Measurements m) throws Exception {
        Map<String, List<Double>> forks = new LinkedHashMap<>();
        String unit = null;
        for (int round = 0; round < (QUICK ? 1 : 5); round++) {
            for (String calls : List.of("entry", "batch")) {
                for (String size : List.of("8", "64", "256")) {
                    for (String method : List.of("jdispatch", "agronaBaseline")) {
                        ChainedOptionsBuilder opts = jmhOptions(PAIRED + method + "$").forks(1)
                                .param("mode", "twoThreads").param("calls", calls).param("size", size)
                                .warmupIterations(2).warmupTime(TimeValue.milliseconds(QUICK ? 200 : 500))
                                .measurementIterations(QUICK ? 2 : 3).measurementTime(TimeValue.milliseconds(QUICK ? 200 : 500));
                        for (RunResult r : new Runner(opts.build()).run()) {
                            forks.computeIfAbsent(key(r), k -> new ArrayList<>()).add(r.getPrimaryResult().getScore());
                            unit = r.getPrimaryResult().getScoreUnit();
                        }
                    }
                }
            }
        }
        for (Map.Entry<String, List<Double>> e : forks.entrySet()) {
            List<Double> v = e.getValue().stream().sorted().toList();
            m.put(e.getKey(), v.get(v.size() / 2), unit);
            System.out.println("# paired forks " + e.getKey() + ": " + e.getValue());
        }
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
