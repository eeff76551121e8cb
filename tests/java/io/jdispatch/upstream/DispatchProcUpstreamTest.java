package io.jdispatch.upstream;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_proc.c} (upstream builds it on Darwin only; PROC sources are this binding's own
 * on Linux, on a pidfd), translated: five PROC_EXIT sources on one child ({@code sleep 2}) each fire exactly once with
 * data PROC_EXIT and cancel themselves; after a settling delay the child exited with status 0 and the event count is
 * 5. Then again with five sources on that already exited and reaped child (upstream's "bad pid" round,
 * rdar://problem/8090801): each must still report PROC_EXIT, once. Upstream starts the child suspended
 * (POSIX_SPAWN_START_SUSPENDED, which Java cannot express) so that the sources exist before it can exit; a 2 s sleep
 * gives the same order here. Upstream's settling delay is 5 s; here 1 s (scaled).
 */
class DispatchProcUpstreamTest {
    private static final int PID_CNT = 5;

    @Test
    void everyObserverOfAProcessSeesItsExitOnceAlsoAfterItWasReaped() throws Exception {
        Process child = new ProcessBuilder("/bin/sleep", "2").start();
        testProc(child);
        testProc(child); // the "bad pid" round: the child has exited and been reaped
    }

    private static void testProc(Process monitored) throws Exception {
        AtomicInteger eventCnt = new AtomicInteger();
        List<String> failures = new CopyOnWriteArrayList<>();
        DispatchSource[] procS = new DispatchSource[PID_CNT];
        try (DispatchGroup group = DispatchGroup.create()) {
            for (int i = 0; i < PID_CNT; ++i) {
                group.enter();
                DispatchSource proc = procS[i] = DispatchSource.proc(monitored, DispatchSource.PROC_EXIT,
                        DispatchQueue.global());
                proc.setEventHandler(() -> {
                    long flags = proc.getData();
                    if (flags != DispatchSource.PROC_EXIT) {
                        failures.add("DISPATCH_PROC_EXIT: data 0x" + Long.toHexString(flags));
                    }
                    eventCnt.incrementAndGet();
                    proc.cancel();
                });
                proc.setCancelHandler(group::leave);
                proc.resume();
            }
            if (!group.wait(DispatchTime.fromNow(10, TimeUnit.SECONDS))) {
                for (DispatchSource s : procS) {
                    s.cancel();
                }
                assertTrue(group.wait(DispatchTime.FOREVER));
            }
        } finally {
            for (DispatchSource s : procS) {
                if (s != null) {
                    s.close();
                }
            }
        }
        Thread.sleep(1000); // give a chance for any bug that gives too many events to show
        assertTrue(monitored.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, monitored.exitValue(), "Sub-process exited");
        assertEquals(List.of(), failures);
        assertEquals(PID_CNT, eventCnt.get(), "Event count");
    }
}
