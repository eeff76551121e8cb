package io.jdispatch.upstream;

import io.jdispatch.testutil.ChildJvm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_sync_on_main.c} (upstream builds it on Darwin only: it runs CFRunLoopRun),
 * translated: 10 {@code dispatch_sync}s onto the main queue from a serial queue's task, 50 ms apart, while a
 * self-re-arming 100 ms {@code dispatch_after} task also runs on the main queue; each sync must run on the main thread
 * (upstream {@code pthread_main_np() == 1}). The main thread runs {@code Dispatch.runMainQueue()} in place of
 * CFRunLoopRun, in a child JVM ({@link UpstreamMainProbe} {@code sync-on-main}). Upstream parameters.
 */
class DispatchSyncOnMainUpstreamTest {
    @Test
    void syncsOntoTheMainQueueRunOnTheMainThreadBesideItsTimer(@TempDir Path home) throws Exception {
        ChildJvm.Result r = ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path")),
                UpstreamMainProbe.class.getName(), "sync-on-main");
        assertFalse(r.output().contains("FAIL "), r.output());
        assertTrue(r.output().contains("ok sync on main\n"), r.output());
        assertEquals(0, r.exitCode(), r.output());
    }
}
