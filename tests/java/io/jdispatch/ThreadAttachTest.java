package io.jdispatch;

import io.jdispatch.internal.JDispatchNative;

import org.junit.jupiter.api.Test;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** libdispatch's worker threads are attached to the JVM once each (as daemons), not once per callback. */
class ThreadAttachTest {
    @Test
    void eachWorkerThreadIsAttachedOnceAsADaemon() throws Exception {
        Map<Long, Set<Thread>> javaThreadsByNativeThread = new ConcurrentHashMap<>();
        int tasks = 20_000;
        CountDownLatch done = new CountDownLatch(tasks);
        for (int i = 0; i < tasks; i++) {
            DispatchQueue.global().async(() -> {
                javaThreadsByNativeThread.computeIfAbsent(JDispatchNative.jd_thread_id(), k -> ConcurrentHashMap.newKeySet())
                        .add(Thread.currentThread());
                done.countDown();
            });
        }
        assertTrue(done.await(30, TimeUnit.SECONDS));
        assertTrue(!javaThreadsByNativeThread.isEmpty());
        javaThreadsByNativeThread.forEach((tid, threads) -> {
            // A detach and re-attach would have made a second Thread object for the same native thread.
            assertEquals(1, threads.size(), "native thread " + tid + " was attached more than once: " + threads);
            Thread t = threads.iterator().next();
            assertTrue(t.isDaemon(), t + " is not a daemon: it would keep the JVM alive");
        });
    }
}
