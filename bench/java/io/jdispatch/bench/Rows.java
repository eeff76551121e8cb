package io.jdispatch.bench;

import java.util.ArrayList;
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

    record Row(String operation, String ours, String floor, Map<String, String> alternatives, List<Target> targets) {
        Row(String operation, String ours, String floor, Map<String, String> alternatives, Target target) {
            this(operation, ours, floor, alternatives, List.of(target));
        }
    }

    private Rows() {}

    static final List<Row> ALL = rows();

    private static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("JNI crossing: empty downcall", "JniCrossingBenchmark.emptyJniCall", "c.noop_call", alts(), List.of()));
        for (String q : List.of("serial", "global")) {
            String key = "QueueAsyncBenchmark.submitAndAwait:executor=";
            rows.add(new Row("task dispatch: async of an empty Runnable, " + q + " queue",
                    key + (q.equals("serial") ? "dispatchSerial" : "dispatchGlobal"), "c.async." + q,
                    alts("ThreadPoolExecutor(1)", key + "tpe1", "ThreadPoolExecutor(cores)", key + "tpeN",
                            "ForkJoinPool", key + "forkJoin", "virtual-thread executor", key + "virtual"),
                    q.equals("serial") ? List.of(new Target("floor", 3.0), new Target("ThreadPoolExecutor(1)", 1.0))
                            : List.of(new Target("floor", 3.0))));
        }
        for (String q : List.of("serial", "global", "concurrent")) {
            // Serial and global queues rename once per drain batch; a concurrent queue's task is a batch of one.
            rows.add(new Row("worker named after the queue: async of an empty Runnable, " + q
                    + " queue (paired forks)",
                    "WorkerNamingBenchmark.named:queue=" + q, null,
                    alts("names off (-Djdispatch.threadNames=false)", "WorkerNamingBenchmark.unnamed:queue=" + q),
                    new Target("names off (-Djdispatch.threadNames=false)", q.equals("concurrent") ? 1.15 : 1.05)));
        }
        for (String q : List.of("fresh", "reused")) {
            rows.add(new Row("group notify cycle of libdispatch's tests/dispatch_group.c, 4 task queues, " + q
                    + (q.equals("fresh") ? " every cycle (as upstream)" : " across cycles") + " (paired with its floor)",
                    "GroupNotifyBenchmark.notifyCycle:queues=" + q, "c.group.notify_cycle." + q, alts(),
                    new Target("floor", 1.5)));
        }
        rows.add(new Row("event delivery: DATA_ADD mergeData -> Java handler ping-pong (paired with its floor)",
                "DispatchSourceEventBenchmark.pingPong", "c.source.pingpong",
                alts("ThreadPoolExecutor handoff", "DispatchSourceEventBenchmark.executorPingPong"), new Target("floor", 1.2)));
        rows.add(new Row("event delivery: coalesced mergeData, coalesced in Java first (paired with its floor)",
                "DispatchSourceEventBenchmark.coalescedMerge", "c.source.coalesced_merge",
                alts("one dispatch_source_merge_data through JNI per merge", "DispatchSourceEventBenchmark.coalescedMergeJniEach",
                        "empty JNI call", "JniCrossingBenchmark.emptyJniCall"), new Target("floor", 1.3)));
        for (String p : List.of("p50", "p99")) {
            rows.add(new Row("readiness " + p + ": socket write -> READ handler read it", "latency.read.dispatch." + p, null,
                    alts("java.nio Selector", "latency.read.selector." + p),
                    p.equals("p50") ? List.of(new Target("java.nio Selector", 1.0)) : List.<Target>of()));
        }
        for (String p : List.of("p50", "p99")) {
            rows.add(new Row("VNODE " + p + ": rename -> handler, a fresh source per rename", "latency.vnode.dispatch." + p,
                    "c.vnode.rename." + p, alts(), List.<Target>of()));
        }
        for (String p : List.of("p50", "p99", "max")) {
            rows.add(new Row("timer lateness " + p + ": 1 ms repeating, leeway 0", "latency.timer.dispatch." + p, null,
                    alts("ScheduledThreadPoolExecutor", "latency.timer.stpe." + p),
                    p.equals("p99") ? List.of(new Target("ScheduledThreadPoolExecutor", 1.0)) : List.<Target>of()));
        }
        for (String calls : List.of("entry", "batch")) {
            boolean entry = calls.equals("entry");
            String agrona = entry ? "Agrona OneToOneRingBuffer tryClaim/commit + read(h, 1)"
                    : "Agrona OneToOneRingBuffer tryClaim/commit + read(h, n)";
            for (int size : new int[] {8, 64, 256}) {
                String params = ":calls=" + calls + ":mode=twoThreads:size=" + size;
                // Per entry: the C floor is the same protocol (bench_dataqueue.c); Agrona has no fence and no
                // notification protocol. Batched: at least 2x Agrona's throughput.
                rows.add(new Row("data queue Java -> Java SPSC, " + size + " B entries, " + (entry
                        ? "enqueue + dequeue per entry" : "enqueueBatch + dequeueBatch") + " (paired forks)",
                        "DataQueueBenchmark.jdispatch" + params, entry ? "c.dataqueue.entry." + size : null,
                        alts(agrona, "DataQueueBenchmark.agronaBaseline" + params),
                        entry ? List.of(new Target("floor", 1.1), new Target(agrona, 1.5)) : List.of(new Target(agrona, 0.5))));
            }
        }
        for (int size : new int[] {8, 64, 256}) {
            // Throughput at least 0.8x of C -> C is time at most 1.25x.
            rows.add(new Row("data queue C -> Java across processes, " + size + " B entries",
                    "DataQueueCrossProcessBenchmark.cToJava:size=" + size, "DataQueueCrossProcessBenchmark.cToCFloor:size=" + size,
                    alts(), new Target("floor", 1.25)));
        }
        return List.copyOf(rows);
    }

    private static Map<String, String> alts(String... labelAndKey) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < labelAndKey.length; i += 2) {
            m.put(labelAndKey[i], labelAndKey[i + 1]);
        }
        return m;
    }
}
