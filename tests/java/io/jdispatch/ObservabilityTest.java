package io.jdispatch;

import io.jdispatch.testutil.ChildJvm;
import io.jdispatch.testutil.ExceptionReportProbe;

import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What a thread dump, an exception report, a JFR recording and the counters tell about queues: the worker
 * running a queue's task is named after the queue (and gets its name back), reports name the queue, slow
 * tasks, exceptions and source lifecycles are recorded as io.jdispatch.* JFR events (read back here from a
 * recording file), and getCounters() counts submitted, completed and pending tasks.
 */
class ObservabilityTest {
    private static final long WAIT_S = 30; // generous: only reached when something is broken

    @Test
    void aWorkerIsNamedAfterTheQueueWhileItRunsItsTasksAndGetsItsNameBack() throws Exception {
        try (DispatchQueue serial = DispatchQueue.createSerial("names.serial");
             DispatchQueue concurrent = DispatchQueue.createConcurrent("names.concurrent");
             DispatchQueue handlers = DispatchQueue.createSerial("names.handlers")) {
            Map<String, Thread> threads = new ConcurrentHashMap<>();
            Map<String, String> names = new ConcurrentHashMap<>();
            CountDownLatch ran = new CountDownLatch(5);
            record(serial, "serial", threads, names, ran);
            record(concurrent, "concurrent", threads, names, ran);
            record(DispatchQueue.global(), "global", threads, names, ran);
            concurrent.after(Duration.ofMillis(1), () -> {
                names.put("after", Thread.currentThread().getName());
                threads.put("after", Thread.currentThread());
                ran.countDown();
            });
            DispatchSource source = DispatchSource.dataAdd(handlers);
            source.setEventHandler(() -> {
                names.put("handler", Thread.currentThread().getName());
                threads.put("handler", Thread.currentThread());
                ran.countDown();
            });
            source.resume();
            source.mergeData(1);
            assertTrue(ran.await(WAIT_S, TimeUnit.SECONDS), "tasks did not run: " + names);
            assertLabelled(names.get("serial"), "names.serial");
            assertLabelled(names.get("concurrent"), "names.concurrent");
            assertLabelled(names.get("global"), "global-default");
            assertLabelled(names.get("after"), "names.concurrent");
            assertLabelled(names.get("handler"), "names.handlers");
            // Retargeted, a source's handlers run under the new target's name.
            try (DispatchQueue moved = DispatchQueue.createSerial("names.moved")) {
                CountDownLatch again = new CountDownLatch(1);
                source.setEventHandler(() -> {
                    names.put("moved", Thread.currentThread().getName());
                    again.countDown();
                });
                source.setTargetQueue(moved);
                source.mergeData(1);
                assertTrue(again.await(WAIT_S, TimeUnit.SECONDS), "the retargeted handler did not run");
                assertLabelled(names.get("moved"), "names.moved");
            }
            for (Map.Entry<String, Thread> e : threads.entrySet()) {
                Thread t = e.getValue();
                // Restored when the batch ends (a drain may still be spinning for more work for a moment).
                waitFor(() -> !t.getName().contains(" ["), e.getKey() + ": the worker kept the queue's name: " + t.getName());
            }
            source.cancel();
            source.close();
        }
    }

    private static void record(DispatchQueue q, String key, Map<String, Thread> threads, Map<String, String> names,
                               CountDownLatch ran) {
        q.async(() -> {
            names.put(key, Thread.currentThread().getName());
            threads.put(key, Thread.currentThread());
            ran.countDown();
        });
    }

    private static void assertLabelled(String threadName, String label) {
        assertTrue(threadName != null && threadName.endsWith(" [" + label + "]") && !threadName.startsWith(" ["),
                "a task of " + label + " ran on a thread named \"" + threadName + "\"");
    }

    @Test
    void theDefaultExceptionReportNamesTheQueue(@TempDir Path home) throws Exception {
        // Also with naming off, and on a runtime without jdk.jfr (a jlink image): no event class may be touched.
        for (List<String> naming : List.of(List.<String>of(), List.of("-Djdispatch.threadNames=false"),
                List.of("--limit-modules", "java.base"))) {
            List<String> args = new ArrayList<>(naming);
            args.addAll(List.of("-cp", System.getProperty("java.class.path")));
            ChildJvm.Result r = ChildJvm.run(home, args, ExceptionReportProbe.class.getName());
            assertEquals(0, r.exitCode(), naming + ":\n" + r.output());
            for (String label : List.of("report.serial", "report.concurrent")) {
                assertTrue(r.output().matches("(?s).*Exception in thread \"[^\"\n]* \\[" + label.replace(".", "\\.")
                        + "\\]\" java\\.lang\\.IllegalStateException: from a .*"), naming + ": no report naming "
                        + label + ":\n" + r.output());
            }
        }
    }

    @Test
    void withoutARecordingNoEventClassIsLoaded(@TempDir Path home) throws Exception {
        // Loading one registers it with JFR, which loads JFR's metadata (some 25 ms of CPU) in every application.
        ChildJvm.Result r = ChildJvm.run(home, List.of("-Xlog:class+load=info", "-cp", System.getProperty("java.class.path")),
                ExceptionReportProbe.class.getName());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("io.jdispatch.TaskRunner "), "class loading was not logged:\n" + r.output());
        for (String line : r.output().split("\n")) {
            assertFalse(line.matches(".*io\\.jdispatch\\.Jfr\\$(SlowTask|TaskException|SourceCreate|SourceCancel) .*")
                    || line.contains("jdk.jfr.internal.MetadataRepository "),
                    "loaded without a recording: " + line);
        }
    }

    @Test
    void slowTasksExceptionsAndSourceLifecyclesAreRecordedAsJfrEvents(@TempDir Path dir) throws Exception {
        Thread.UncaughtExceptionHandler previous = Dispatch.getUncaughtExceptionHandler();
        Map<String, String> reportedOn = new ConcurrentHashMap<>();
        CountDownLatch reported = new CountDownLatch(3);
        Dispatch.setUncaughtExceptionHandler((t, e) -> {
            reportedOn.put(e.getMessage(), t.getName());
            reported.countDown();
        });
        Path file = dir.resolve("events.jfr");
        try (Recording recording = new Recording();
             DispatchQueue slow = DispatchQueue.createSerial("jfr.slow");
             DispatchQueue failing = DispatchQueue.createConcurrent("jfr.failing");
             DispatchQueue handlers = DispatchQueue.createSerial("jfr.handlers")) {
            recording.enable("io.jdispatch.SlowTask").withThreshold(Duration.ofMillis(30));
            recording.enable("io.jdispatch.TaskException");
            recording.enable("io.jdispatch.SourceCreate");
            recording.enable("io.jdispatch.SourceCancel");
            recording.start();

            slow.async(() -> sleep(60));
            slow.sync(() -> sleep(60));
            failing.async(() -> {
                throw new IllegalStateException("from an async task");
            });
            DispatchSource source = DispatchSource.dataAdd(handlers);
            source.setEventHandler(() -> {
                sleep(60);
                throw new IllegalArgumentException("from a handler");
            });
            source.resume();
            source.mergeData(1);
            DispatchSource closed = DispatchSource.timer(false, handlers);
            handlers.async(() -> {
                throw new UnsupportedOperationException("from a serial task");
            });
            assertTrue(reported.await(WAIT_S, TimeUnit.SECONDS), "not every exception was reported: " + reportedOn);
            source.cancel();
            closed.close();
            slow.sync(() -> { });
            handlers.sync(() -> { });
            recording.stop();
            recording.dump(file);
        } finally {
            Dispatch.setUncaughtExceptionHandler(previous);
        }
        assertTrue(reportedOn.get("from an async task").endsWith(" [jfr.failing]"), reportedOn.toString());
        assertTrue(reportedOn.get("from a handler").endsWith(" [jfr.handlers]"), reportedOn.toString());

        // This test's events only (its queues' labels): other tests' late work may have run meanwhile.
        List<RecordedEvent> events = RecordingFile.readAllEvents(file).stream()
                .filter(e -> e.getEventType().getName().startsWith("io.jdispatch.")
                        && String.valueOf(e.getString("queue")).startsWith("jfr.")).toList();
        String all = events.stream().map(RecordedEvent::toString).collect(Collectors.joining("\n"));
        List<RecordedEvent> slowTasks = named(events, "io.jdispatch.SlowTask");
        for (RecordedEvent e : slowTasks) {
            assertTrue(e.getDuration().compareTo(Duration.ofMillis(30)) >= 0, "below the threshold: " + e);
        }
        assertTrue(slowTasks.stream().filter(e -> "jfr.slow".equals(e.getString("queue"))
                && e.getDuration().compareTo(Duration.ofMillis(60)) >= 0).count() >= 2,
                "the slow async and sync task of jfr.slow:\n" + all);
        assertTrue(slowTasks.stream().anyMatch(e -> "jfr.handlers".equals(e.getString("queue"))
                && e.getDuration().compareTo(Duration.ofMillis(60)) >= 0), "the slow handler:\n" + all);

        List<RecordedEvent> exceptions = named(events, "io.jdispatch.TaskException");
        assertEquals(3, exceptions.size(), all);
        assertException(exceptions, "jfr.failing", IllegalStateException.class, "from an async task");
        assertException(exceptions, "jfr.handlers", IllegalArgumentException.class, "from a handler");
        assertException(exceptions, "jfr.handlers", UnsupportedOperationException.class, "from a serial task");

        List<RecordedEvent> created = named(events, "io.jdispatch.SourceCreate");
        assertEquals(List.of("DATA_ADD jfr.handlers", "TIMER jfr.handlers"), created.stream()
                .map(e -> e.getString("type") + " " + e.getString("queue")).sorted().toList(), all);
        List<RecordedEvent> cancelled = named(events, "io.jdispatch.SourceCancel");
        assertEquals(List.of("DATA_ADD cancel()", "TIMER close()"), cancelled.stream()
                .map(e -> e.getString("type") + " " + e.getString("by")).sorted().toList(), all);
    }

    private static List<RecordedEvent> named(List<RecordedEvent> events, String name) {
        return events.stream().filter(e -> e.getEventType().getName().equals(name)).toList();
    }

    private static void assertException(List<RecordedEvent> events, String queue, Class<?> type, String message) {
        assertTrue(events.stream().anyMatch(e -> queue.equals(e.getString("queue"))
                && type.getName().equals(e.getString("exceptionClass")) && message.equals(e.getString("message"))),
                "no TaskException " + type.getSimpleName() + "(" + message + ") on " + queue + ": " + events);
    }

    @Test
    void countersCountSubmittedCompletedAndPendingTasks() throws Exception {
        try (DispatchQueue serial = DispatchQueue.createSerial("counters.serial");
             DispatchQueue concurrent = DispatchQueue.createConcurrent("counters.concurrent");
             DispatchGroup group = DispatchGroup.create()) {
            assertEquals(new DispatchQueue.Counters(0, 0, 0), serial.getCounters());
            serial.suspend();
            for (int i = 0; i < 100; i++) {
                serial.async(() -> { });
            }
            serial.after(DispatchTime.FOREVER, () -> { }); // never runs: stays pending
            assertEquals(new DispatchQueue.Counters(101, 0, 101), serial.getCounters());
            serial.resume();
            serial.sync(() -> { });
            AtomicReference<DispatchQueue.Counters> inside = new AtomicReference<>();
            Thread.UncaughtExceptionHandler previous = Dispatch.getUncaughtExceptionHandler();
            Dispatch.setUncaughtExceptionHandler((t, e) -> { });
            try {
                group.async(serial, () -> {
                    throw new IllegalStateException("counted as completed all the same");
                });
                serial.sync(() -> inside.set(serial.getCounters()));
                assertTrue(group.wait(Duration.ofSeconds(WAIT_S)));
            } finally {
                Dispatch.setUncaughtExceptionHandler(previous);
            }
            // 100 async + the after + 2 syncs + the group task; the running sync is not completed yet.
            assertEquals(new DispatchQueue.Counters(104, 102, 2), inside.get());
            assertEquals(new DispatchQueue.Counters(104, 103, 1), serial.getCounters());

            CountDownLatch release = new CountDownLatch(1);
            for (int i = 0; i < 10; i++) {
                concurrent.async(() -> await(release));
            }
            concurrent.barrierAsync(() -> { });
            DispatchQueue.Counters busy = concurrent.getCounters();
            assertEquals(11, busy.submitted());
            assertTrue(busy.pending() >= 1, busy.toString()); // the barrier waits for the blocked tasks
            release.countDown();
            concurrent.barrierSync(() -> { });
            group.notify(concurrent, () -> { });
            concurrent.apply(4, i -> { }); // not counted on a concurrent queue
            waitFor(() -> concurrent.getCounters().pending() == 0, "concurrent: " + concurrent.getCounters());
            assertEquals(new DispatchQueue.Counters(13, 13, 0), concurrent.getCounters());

            long before = DispatchQueue.global().getCounters().submitted();
            DispatchQueue.global().sync(() -> { });
            assertTrue(DispatchQueue.global().getCounters().submitted() > before);
        }
    }

    private static void waitFor(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail(what + " (after " + WAIT_S + " s)");
            }
            Thread.sleep(1);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(WAIT_S, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
