package io.jdispatch.bench.http;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * bench/run's HTTP benchmark: wrk (2 threads) against the same HTTP/1.1 keep-alive server on JDispatch's
 * {@code DispatchChannel} (its loops, the default, and a READ and a WRITE source per connection), in C on libdispatch (the floor, bench/native/http_floor.c),
 * on Netty's native epoll transport and on java.nio, each in a process of its own,
 * interleaved: every round starts each server once (in a rotating order), warms it up, then measures each
 * connection count. It reports the median over rounds of req/s, wrk's p50/p99, the server's CPU time per
 * request (/proc/PID/stat) and its thread count (idle, and the most seen during the measurement), with the
 * ratios to Netty and the targets. Writes {@code <results>/http.md}.
 *
 * <p>Properties: {@code bench.http.rounds} (3), {@code bench.http.seconds} (20), {@code bench.http.warmup} (10 s),
 * {@code bench.http.connections} ("64,1000"), {@code bench.http.jvmOpts} (the servers' JVM options),
 * {@code bench.http.jfr} (a directory: each server records a JFR profile there), {@code bench.quick}.
 */
public final class HttpBench {
    private HttpBench() {}

    private static final boolean QUICK = Boolean.getBoolean("bench.quick");
    private static final int ROUNDS = Integer.getInteger("bench.http.rounds", QUICK ? 1 : 3);
    private static final int SECONDS = Integer.getInteger("bench.http.seconds", QUICK ? 3 : 20);
    private static final int WARMUP = Integer.getInteger("bench.http.warmup", QUICK ? 1 : 10);
    private static final int[] CONNECTIONS = Arrays.stream(System.getProperty("bench.http.connections", "64,1000")
            .split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    private static final String JFR = System.getProperty("bench.http.jfr", "");
    private static final int CORES = Runtime.getRuntime().availableProcessors();

    /** One wrk run against one server. */
    record Run(double rps, double p50ms, double p99ms, long requests, String errors, double cpuUsPerRequest,
               int threadsIdle, int threadsMax) {}

    /** The servers compared, in the report's order: the Java ones (HttpServerMain) and the C floor. */
    static final String[] KINDS = {"jdispatch", "jdispatch-sources", "c-libdispatch", "netty", "nio"};

    /** Arguments: {@code [results dir] [native build dir (the C floor, http_floor)]}. */
    public static void main(String[] args) throws Exception {
        Path results = Path.of(args.length > 0 ? args[0] : "bench/results");
        Path cFloor = Path.of(args.length > 1 ? args[1] : "target/native", "http_floor");
        Files.createDirectories(results);
        long clockTicks = Long.parseLong(exec("getconf", "CLK_TCK").trim());
        Map<String, List<Run>> runs = new LinkedHashMap<>();   // "<connections> <kind>" -> a run per round
        for (int round = 0; round < ROUNDS; round++) {
            for (int k = 0; k < KINDS.length; k++) {
                String kind = KINDS[(k + round) % KINDS.length];
                try (Server s = new Server(kind, round, cFloor)) {
                    int idle = s.threads();
                    wrk(s.port, CONNECTIONS[0], WARMUP);
                    for (int c : CONNECTIONS) {
                        Run r = measure(s, c, idle, clockTicks);
                        System.out.printf(Locale.ROOT, "round %d %-9s c=%-5d %,10.0f req/s  p50 %.2f ms  p99 %.2f ms"
                                + "  %.1f us CPU/req  threads %d->%d  errors: %s%n", round + 1, kind, c, r.rps, r.p50ms,
                                r.p99ms, r.cpuUsPerRequest, r.threadsIdle, r.threadsMax, r.errors);
                        runs.computeIfAbsent(c + " " + kind, x -> new ArrayList<>()).add(r);
                    }
                }
            }
        }
        String md = report(runs);
        Files.writeString(results.resolve("http.md"), md);
        System.out.println();
        System.out.println(md);
        System.out.println("written: " + results.resolve("http.md"));
    }

    private static Run measure(Server s, int connections, int idle, long clockTicks) throws Exception {
        AtomicInteger most = new AtomicInteger(idle);
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                most.accumulateAndGet(s.threads(), Math::max);
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "thread-sampler");
        long cpu0 = s.cpuTicks();
        sampler.start();
        String out = wrk(s.port, connections, SECONDS);
        sampler.interrupt();
        sampler.join();
        long cpu = s.cpuTicks() - cpu0;
        long requests = longOf(out, "(\\d+) requests in");
        double cpuUs = requests == 0 ? Double.NaN : cpu * 1e6 / clockTicks / requests;
        Matcher e = Pattern.compile("Socket errors: (.*)").matcher(out);
        String errors = e.find() ? e.group(1).trim() : "none";
        Matcher non2xx = Pattern.compile("Non-2xx or 3xx responses: (\\d+)").matcher(out);
        if (non2xx.find()) {
            errors += ", non-2xx " + non2xx.group(1);
        }
        return new Run(doubleOf(out, "Requests/sec:\\s+([0-9.]+)"), latencyMs(out, "50%"), latencyMs(out, "99%"),
                requests, errors, cpuUs, idle, most.get());
    }

    private static String wrk(int port, int connections, int seconds) throws IOException, InterruptedException {
        return exec("wrk", "-t2", "-c" + connections, "-d" + seconds + "s", "--latency", "--timeout", "10s",
                "http://127.0.0.1:" + port + "/");
    }

    private static String exec(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " exited with " + p.exitValue() + ":\n" + out);
        }
        return out;
    }

    private static double doubleOf(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("no '" + regex + "' in wrk's output:\n" + text);
        }
        return Double.parseDouble(m.group(1));
    }

    private static long longOf(String text, String regex) {
        return (long) doubleOf(text, regex);
    }

    /** A line of wrk's "Latency Distribution", e.g. "99%    1.25ms", in milliseconds. */
    private static double latencyMs(String text, String percentile) {
        Matcher m = Pattern.compile("\\s" + percentile + "\\s+([0-9.]+)(us|ms|s)").matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("no " + percentile + " latency in wrk's output:\n" + text);
        }
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "ms" -> v;
            default -> v * 1000;
        };
    }

    private static double median(List<Run> rs, java.util.function.ToDoubleFunction<Run> f) {
        double[] v = rs.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String report(Map<String, List<Run>> runs) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "HTTP/1.1 keep-alive, wrk -t2 %d s per run, %d rounds (medians; each round"
                + " starts every server once, in a rotating order), %d cores, %s%n%n", SECONDS, ROUNDS, CORES,
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version")));
        b.append("| connections | server | req/s | vs Netty | p50 ms | p99 ms | CPU us/req | vs Netty | threads idle / max"
                + " | req/s per round | socket errors (last round) |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
        List<String> verdicts = new ArrayList<>();
        for (int c : CONNECTIONS) {
            List<Run> netty = runs.get(c + " netty");
            double nettyRps = median(netty, Run::rps);
            double nettyCpu = median(netty, Run::cpuUsPerRequest);
            for (String kind : KINDS) {
                List<Run> rs = runs.get(c + " " + kind);
                double rps = median(rs, Run::rps);
                double cpu = median(rs, Run::cpuUsPerRequest);
                int threads = rs.stream().mapToInt(Run::threadsMax).max().orElse(0);
                b.append(String.format(Locale.ROOT, "| %d | %s | %,.0f | %.2fx | %.2f | %.2f | %.1f | %.2fx | %d / %d | %s | %s |%n",
                        c, kind, rps, rps / nettyRps, median(rs, Run::p50ms), median(rs, Run::p99ms), cpu,
                        cpu / nettyCpu, rs.get(0).threadsIdle, threads,
                        String.join(", ", rs.stream().map(r -> String.format(Locale.ROOT, "%,.0f", r.rps)).toList()),
                        rs.get(rs.size() - 1).errors));
                if (!kind.equals("netty") && !kind.equals("nio")) {
                    verdicts.add(String.format(Locale.ROOT, "%s, c=%d: req/s %.2fx Netty (target >= 1.0x) %s; CPU/req %.2fx"
                            + " Netty (target <= 1.2x) %s", kind, c, rps / nettyRps, rps >= nettyRps ? "met" : "MISSED",
                            cpu / nettyCpu, cpu <= 1.2 * nettyCpu ? "met" : "MISSED"));
                    if (c >= 1000) {
                        verdicts.add(String.format(Locale.ROOT, "%s, c=%d: at most %d threads (target <= cores + 16 = %d) %s",
                                kind, c, threads, CORES + 16, threads <= CORES + 16 ? "met" : "MISSED"));
                    }
                }
            }
        }
        b.append('\n');
        for (String v : verdicts) {
            b.append("- ").append(v).append('\n');
        }
        return b.toString();
    }

    /** A server JVM; closing it ends its standard input and waits for it to exit. */
    private static final class Server implements AutoCloseable {
        final Process process;
        final int port;

        Server(String kind, int round, Path cFloor) throws IOException {
            process = new ProcessBuilder(kind.equals("c-libdispatch") ? List.of(cFloor.toString(), "0") : javaServer(kind, round))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String line;
            while ((line = r.readLine()) != null && !line.startsWith("LISTENING ")) {
                System.out.println("  " + kind + ": " + line);
            }
            if (line == null) {
                throw new IOException("the " + kind + " server exited before listening");
            }
            port = Integer.parseInt(line.substring("LISTENING ".length()).trim());
        }

        private static List<String> javaServer(String kind, int round) throws IOException {
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            String opts = System.getProperty("bench.http.jvmOpts", "");
            if (!opts.isBlank()) {
                cmd.addAll(Arrays.asList(opts.trim().split("\\s+")));
            }
            if (!JFR.isEmpty()) {
                Files.createDirectories(Path.of(JFR));
                cmd.add("-XX:StartFlightRecording=settings=profile,filename=" + Path.of(JFR, kind + "-r" + (round + 1) + ".jfr"));
            }
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), HttpServerMain.class.getName(), kind, "0"));
            return cmd;
        }

        int threads() {
            try {
                for (String l : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
                    if (l.startsWith("Threads:")) {
                        return Integer.parseInt(l.substring(8).trim());
                    }
                }
            } catch (IOException e) {
                // exited: no threads
            }
            return 0;
        }

        long cpuTicks() throws IOException {
            String stat = Files.readString(Path.of("/proc/" + process.pid() + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);   // utime, stime (fields 14 and 15)
        }

        @Override
        public void close() throws Exception {
            process.getOutputStream().close();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
            }
        }
    }
}
