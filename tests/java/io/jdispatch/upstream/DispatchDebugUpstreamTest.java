package io.jdispatch.upstream;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_debug.c}, translated: {@code dispatch_debug} of the main queue, the default
 * global queue, a timer source (start FOREVER, interval 1 s, leeway 100 ns) and a group must work (upstream asserts
 * nothing else: it must not crash). {@code dispatch_debug} is the queues' {@code toString()} here, which must name
 * the queue; sources and groups have a plain {@code toString()}, checked to name the type. The timer targets the
 * default global queue instead of the main queue (changed: this JVM's main-queue thread does not service it, and
 * the source's cancel at close would stay queued there).
 */
class DispatchDebugUpstreamTest {
    @Test
    void debugDescriptionsOfTheMainQueueAGlobalQueueATimerAndAGroup() {
        String mainQ = DispatchQueue.main().toString();
        assertTrue(mainQ.startsWith("DispatchQueue[com.apple.main-thread] = { serial"), mainQ);
        String defaultQ = DispatchQueue.global().toString();
        assertTrue(defaultQ.equals("DispatchQueue[global-default] = { global }"), defaultQ);
        try (DispatchSource s = DispatchSource.timer(false, DispatchQueue.global())) {
            s.setTimer(DispatchTime.FOREVER, 1_000_000_000L, 100);
            assertTrue(s.toString().startsWith("DispatchSource[TIMER"), s.toString());
        }
        try (DispatchGroup g = DispatchGroup.create()) {
            assertTrue(g.toString().startsWith("DispatchGroup@"), g.toString());
        }
    }
}
