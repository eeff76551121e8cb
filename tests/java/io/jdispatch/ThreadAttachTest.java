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
            assertTrue(t.getName().startsWith("jdispatch-worker-"), t + " is not named as ours");
        });
    }

    /**
     * A worker libdispatch ends (after 5 s idle) is detached: its Thread dies. Many workers are made at once
     * (one per serial queue, each blocked), then left idle; the live count must fall (a hang detector only).
     */
    @Test
    void idleWorkersThatLibdispatchEndsAreDetached() throws Exception {
        int n = 12;
        CountDownLatch running = new CountDownLatch(n);
        CountDownLatch release = new CountDownLatch(1);
        Set<Thread> workers = ConcurrentHashMap.newKeySet();
        DispatchQueue[] queues = new DispatchQueue[n];
        for (int i = 0; i < n; i++) {
            queues[i] = DispatchQueue.createSerial("attach-" + i); // serial queues get a thread each when blocked
            queues[i].async(() -> {
                workers.add(Thread.currentThread());
                running.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        assertTrue(running.await(30, TimeUnit.SECONDS), "the blocked tasks did not all start");
        release.countDown();
        for (DispatchQueue q : queues) {
            q.close();
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (workers.stream().filter(Thread::isAlive).count() >= n && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertTrue(workers.stream().filter(Thread::isAlive).count() < n,
                "no worker was detached in 60 s of idling: " + workers);
    }
}
