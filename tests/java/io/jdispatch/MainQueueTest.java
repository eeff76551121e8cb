package io.jdispatch;

import io.jdispatch.testutil.ChildJvm;
import io.jdispatch.testutil.MainQueueProbe;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The main queue in a JVM ({@link MainQueueProbe} in child JVMs: libdispatch binds the main queue to the thread that
 * loads it, so each scenario needs a JVM whose chosen thread loads JDispatch first, and a wrong drain aborts the
 * process): serviced by its thread with runMainQueue/drainMainQueue (FIFO, sync from another thread, after, work
 * items, group notify, sources, failures reported), every other caller refused, and the main queue running on
 * libdispatch's workers once its thread ended.
 */
class MainQueueTest {
    private static final List<String> SERVE = List.of("owner", "label", "current on its thread",
            "sync from its own thread refused", "suspend refused", "close does nothing", "not current elsewhere",
            "runMainQueue from another thread refused", "sync from another thread runs on the main queue's thread",
            "sync after 500 asyncs (FIFO)", "after, work item, group notify and a source on the main queue",
            "work item wait", "nested runMainQueue refused", "every task ran on the main thread",
            "a failing task was reported", "a stop before the run: the run drains once and returns",
            "drainMainQueue runs what is queued", "drain inside another queue's task refused");

    private static void assertPassed(ChildJvm.Result r, List<String> checks) {
        assertFalse(r.output().contains("FAIL "), r.output());
        for (String check : checks) {
            assertTrue(r.output().contains("ok " + check + "\n"), "'" + check + "' did not pass:\n" + r.output());
        }
        assertEquals(0, r.exitCode(), r.output());
    }

    @Test
    void itsThreadServicesItAndEveryOtherCallerIsRefused(@TempDir Path home) throws Exception {
        assertPassed(ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path")),
                MainQueueProbe.class.getName(), "serve"), SERVE);
    }

    @Test
    void fromAVirtualThreadRunMainQueueIsRefused(@TempDir Path home) throws Exception {
        Optional<Path> java = ChildJvm.javaAtLeast(21);
        // CI's host runs have Java 25 (scripts/test installs it): there a missing JDK is a failure, not a skip.
        assertTrue(java.isPresent() || !"true".equals(System.getenv("CI")), "CI=true but no JDK 21+ in /usr/lib/jvm");
        org.junit.jupiter.api.Assumptions.assumeTrue(java.isPresent(), "no JDK 21+ in /usr/lib/jvm");
        List<String> checks = new java.util.ArrayList<>(SERVE);
        checks.add("runMainQueue from a virtual thread refused");
        assertPassed(ChildJvm.runWith(java.get(), home, List.of("-cp", System.getProperty("java.class.path"),
                "--enable-native-access=ALL-UNNAMED"), MainQueueProbe.class.getName(), "serve"), checks);
    }

    @Test
    void onceItsThreadEndedTheMainQueueRunsOnWorkers(@TempDir Path home) throws Exception {
        assertPassed(ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path")),
                MainQueueProbe.class.getName(), "owner-exits"), List.of("the loader owned the main queue",
                "tasks run once the main queue's thread ended", "sync runs too", "no owner any more",
                "runMainQueue refused once its thread ended"));
    }
}
