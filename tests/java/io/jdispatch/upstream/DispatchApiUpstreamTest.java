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
 * libdispatch's {@code tests/dispatch_api.c}, translated: {@code dispatch_get_main_queue()} is not null and a task
 * {@code dispatch_async_f}'ed onto it runs once {@code dispatch_main()} services the main queue. In a JVM the main
 * queue belongs to the thread that loads JDispatch and {@code Dispatch.runMainQueue()} takes {@code dispatch_main}'s
 * role, so it runs in a child JVM ({@link UpstreamMainProbe} {@code api}), which also checks the task ran on that
 * thread. ({@code dispatch_c99.c} and {@code dispatch_plusplus.cpp} run the same program compiled as C99 and C++.)
 */
class DispatchApiUpstreamTest {
    @Test
    void aTaskAsyncedToTheMainQueueRunsWhenTheMainThreadServicesIt(@TempDir Path home) throws Exception {
        ChildJvm.Result r = ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path")),
                UpstreamMainProbe.class.getName(), "api");
        assertFalse(r.output().contains("FAIL "), r.output());
        assertTrue(r.output().contains("ok work ran\n"), r.output());
        assertEquals(0, r.exitCode(), r.output());
    }
}
