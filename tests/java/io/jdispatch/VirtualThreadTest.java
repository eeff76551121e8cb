package io.jdispatch;

import io.jdispatch.testutil.ChildJvm;
import io.jdispatch.testutil.VirtualThreadProbe;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Blocking calls from virtual threads never block a carrier in native code: 2,000 virtual threads waiting
 * on a semaphore, a group or work items are all released by virtual-thread signals, syncs and asyncAndWaits of
 * sleeping tasks (and syncs and performs of sleeping work items) run side by side, and JFR records no
 * jdk.VirtualThreadPinned event (threshold 0) in any of it. Runs
 * {@link VirtualThreadProbe} in a child JVM of Java 21+ (this JVM, or the newest JDK in /usr/lib/jvm, so
 * the Java 17 pass runs it too): a wedged carrier pool hangs that JVM, not this one.
 */
class VirtualThreadTest {
    private static final Pattern RESULT = Pattern.compile("(?m)^RESULT (\\S+) ok=(\\w+) (.*)$");
    private static Path home;
    private static ChildJvm.Result run;

    @BeforeAll
    static void runProbe() throws Exception {
        var java = ChildJvm.javaAtLeast(21);
        // CI's host runs have Java 25 (scripts/test installs it): there a missing JDK is a failure, not a skip.
        assertTrue(java.isPresent() || !"true".equals(System.getenv("CI")), "CI=true but no JDK 21+ in /usr/lib/jvm");
        assumeTrue(java.isPresent(), "virtual threads need Java 21+: this JVM is " + Runtime.version()
                + " and /usr/lib/jvm holds no JDK 21+ (scripts/test's Java 25 pass runs this)");
        home = Files.createTempDirectory("vt-test");
        run = ChildJvm.runWith(java.get(), home, List.of("-cp", System.getProperty("java.class.path"),
                "--enable-native-access=ALL-UNNAMED"), VirtualThreadProbe.class.getName());
        System.out.println("VirtualThreadProbe on " + java.get() + ":\n" + run.output());
    }

    @AfterAll
    static void cleanUp() throws IOException {
        if (home != null) {
            try (Stream<Path> files = Files.walk(home)) {
                for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The scenario's result line, asserted ok (done, no pinned event); returns its milliseconds. */
    private static long passed(String scenario) {
        Matcher m = RESULT.matcher(run.output());
        while (m.find()) {
            if (m.group(1).equals(scenario)) {
                assertEquals("true", m.group(2), scenario + ": " + m.group(3) + "\n" + run.output());
                Matcher ms = Pattern.compile("ms=(\\d+) pinned=0").matcher(m.group(3));
                assertTrue(ms.find(), m.group(0));
                return Long.parseLong(ms.group(1));
            }
        }
        throw new AssertionError("no result for " + scenario + " (exit " + run.exitCode() + "):\n" + run.output());
    }

    @Test
    void twoThousandVirtualThreadsWaitOnASemaphoreAndAllPass() {
        passed("semaphore");
    }

    @Test
    void semaphoreValueStaysExactWithPlatformAndVirtualWaitersMixed() {
        passed("semaphore-mixed");
    }

    @Test
    void timedSemaphoreWaitsOnVirtualThreadsTimeOutNeverEarlyAndLoseNoUnit() {
        passed("semaphore-timeouts");
    }

    @Test
    void twoThousandVirtualThreadsWaitOnAGroupAndAllPass() {
        passed("group");
    }

    @Test
    void syncsOfSleepingTasksFromVirtualThreadsRunSideBySide() {
        // The probe checks that all 20 sync tasks were inside at once (2 pinned carriers allow 2); the time
        // (ideal 100 ms; 1,000 ms when pinned) is reported, not asserted: a loaded machine may stretch it.
        for (String scenario : List.of("sync-global", "sync-concurrent")) {
            passed(scenario);
        }
    }

    @Test
    void syncFromAVirtualThreadKeepsItsSemantics() {
        passed("sync-semantics");
    }

    @Test
    void asyncAndWaitsOfSleepingTasksFromVirtualThreadsRunSideBySide() {
        passed("async-and-wait-concurrent");
    }

    @Test
    void asyncAndWaitFromAVirtualThreadKeepsItsSemantics() {
        passed("async-and-wait-semantics");
    }

    @Test
    void assertionsAndCurrentSpecificsSeeAVirtualThreadsSyncFrames() {
        passed("queue-frames");
    }

    @Test
    void twoThousandVirtualThreadsWaitForWorkItemsAndAllPass() {
        passed("work-item-wait");
    }

    @Test
    void syncsAndPerformsOfSleepingWorkItemsFromVirtualThreadsRunSideBySide() {
        passed("work-item-sync");
    }

    @Test
    void aWorkItemSyncFromAVirtualThreadKeepsItsSemantics() {
        passed("work-item-semantics");
    }

    @Test
    void theProbeExitedCleanly() {
        assertEquals(0, run.exitCode(), run.output());
    }
}
