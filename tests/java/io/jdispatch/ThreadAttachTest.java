package io.jdispatch;

import io.jdispatch.internal.JDispatchNative;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** libdispatch's worker threads are attached to the JVM once each (as daemons), not once per callback. */
class ThreadAttachTest {
    /**
     * Every task records the native thread it ran on (jd_thread_id, checked against the kernel's own answer) and
     * its Java Thread. Attached once means: one Thread per native thread, one native
     * thread per Thread, and threads that ran several tasks (else a re-attach per callback would not show).
     */
    @Test
    void eachWorkerThreadIsAttachedOnceAsADaemon() throws Exception {
        Map<Long, Set<Thread>> javaThreadsByNativeThread = new ConcurrentHashMap<>();
        Map<Thread, Set<Long>> nativeThreadsByJavaThread = new ConcurrentHashMap<>();
        Map<Long, AtomicInteger> tasksByNativeThread = new ConcurrentHashMap<>();
        Set<String> wrongIds = ConcurrentHashMap.newKeySet();
        Thread caller = Thread.currentThread();
        int tasks = 20_000;
        CountDownLatch done = new CountDownLatch(tasks);
        for (int i = 0; i < tasks; i++) {
            DispatchQueue.global().async(() -> {
                long tid = JDispatchNative.jd_thread_id();
                Thread t = Thread.currentThread();
                String kernel = kernelThreadId();
                if (!kernel.equals(Long.toString(tid))) {
                    wrongIds.add("jd_thread_id " + tid + " on the thread the kernel calls " + kernel);
                }
                javaThreadsByNativeThread.computeIfAbsent(tid, k -> ConcurrentHashMap.newKeySet()).add(t);
                nativeThreadsByJavaThread.computeIfAbsent(t, k -> ConcurrentHashMap.newKeySet()).add(tid);
                tasksByNativeThread.computeIfAbsent(tid, k -> new AtomicInteger()).incrementAndGet();
                done.countDown();
            });
        }
        assertTrue(done.await(60, TimeUnit.SECONDS), done.getCount() + " of " + tasks + " tasks never ran");
        assertEquals(Set.of(), wrongIds, "jd_thread_id is not the id of the thread that ran the task");
        assertEquals(tasks, tasksByNativeThread.values().stream().mapToInt(AtomicInteger::get).sum(),
                "tasks recorded on some native thread");
        int busiest = tasksByNativeThread.values().stream().mapToInt(AtomicInteger::get).max().orElse(0);
        assertTrue(busiest > 1, "no native thread ran two tasks (" + tasksByNativeThread
                + "): a re-attach per callback could not show");
        javaThreadsByNativeThread.forEach((tid, threads) -> {
            // A detach and re-attach would have made a second Thread object for the same native thread.
            assertEquals(1, threads.size(), "native thread " + tid + " (" + tasksByNativeThread.get(tid)
                    + " tasks) was attached more than once: " + threads);
        });
        nativeThreadsByJavaThread.forEach((t, tids) -> {
            assertEquals(1, tids.size(), t + " stood for several native threads: " + tids);
            assertNotSame(caller, t, "a task ran on the test's own thread, not on a libdispatch worker");
            assertTrue(t.isDaemon(), t + " is not a daemon: it would keep the JVM alive");
            assertTrue(t.getName().startsWith("jdispatch-worker-"), t + " is not named as ours");
        });
        assertEquals(javaThreadsByNativeThread.size(), nativeThreadsByJavaThread.size(), "native threads vs Threads");
    }

    /** The calling thread's id as the kernel names it: /proc/thread-self links to {@code <pid>/task/<tid>}. */
    private static String kernelThreadId() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A worker libdispatch ends (after 5 s idle) is detached: its Thread dies. Many workers are made at once (one
     * per serial queue, each blocked), then left idle until libdispatch ended some of their native threads (gone
     * from /proc/self/task); the Thread of every one that ended must be dead. Detaching happens as the native
     * thread exits (a thread-specific destructor), before the kernel drops it from /proc.
     */
    @Test
    void idleWorkersThatLibdispatchEndsAreDetached() throws Exception {
        int n = 12;
        CountDownLatch running = new CountDownLatch(n);
        CountDownLatch release = new CountDownLatch(1);
        Map<Long, Thread> workers = new ConcurrentHashMap<>();
        DispatchQueue[] queues = new DispatchQueue[n];
        for (int i = 0; i < n; i++) {
            queues[i] = DispatchQueue.createSerial("attach-" + i); // serial queues get a thread each when blocked
            queues[i].async(() -> {
                workers.put(JDispatchNative.jd_thread_id(), Thread.currentThread());
                running.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
        }
        assertTrue(running.await(60, TimeUnit.SECONDS), running.getCount() + " of the blocked tasks did not start");
        assertEquals(n, workers.size(), "blocked tasks shared native threads: " + workers);
        release.countDown();
        for (DispatchQueue q : queues) {
            q.close();
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Map<Long, Thread> ended;
        while ((ended = endedNativeThreads(workers)).isEmpty() && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertFalse(ended.isEmpty(), "libdispatch ended none of its " + n + " workers in 60 s of idling: " + workers);
        Map<Long, Thread> stillAttached = new TreeMap<>();
        ended.forEach((tid, t) -> {
            if (t.isAlive()) {
                stillAttached.put(tid, t);
            }
        });
        assertEquals(Map.of(), stillAttached, "native threads that ended (of " + ended.keySet() + ") whose Thread "
                + "is alive: they exited attached to the JVM");
    }

    private static Map<Long, Thread> endedNativeThreads(Map<Long, Thread> workers) {
        Map<Long, Thread> ended = new TreeMap<>();
        workers.forEach((tid, t) -> {
            if (!Files.exists(Path.of("/proc/self/task/" + tid))) {
                ended.put(tid, t);
            }
        });
        return ended;
    }
}
