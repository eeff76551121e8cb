package io.jdispatch.upstream;

import io.jdispatch.DispatchQueue;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_queue_finalizer.c}, translated: a queue whose finalizer is set gets its context
 * from one of its own tasks, async'ed just before the owner releases it (so the task must run before the release
 * finishes, not be thrown away); the finalizer then runs and sees that context. A second queue with a null context
 * and a finalizer is released: that finalizer must never run. Upstream waits 1 s and uses the main queue for the
 * release; here the release happens from the test thread after the same 1 s (changed). The Java finalizer is a
 * {@code Runnable}, not {@code void (*)(void *ctxt)}, and the queue is closed when it runs, so "correct context" is
 * checked as: the finalizer runs at all (libdispatch calls it only for a non-null context, and q's context was null
 * until its task set it), and the context q's last task left is the magic value.
 */
class DispatchQueueFinalizerUpstreamTest {
    @Test
    void theFinalizerRunsWithTheContextSetByTheLastTaskAndNeverForANullContext() throws Exception {
        Object ctxtMagic = "magic-" + ThreadLocalRandom.current().nextLong();
        CountDownLatch finalized = new CountDownLatch(1);
        AtomicReference<Object> seen = new AtomicReference<>();
        AtomicInteger neverCall = new AtomicInteger();

        DispatchQueue q = DispatchQueue.createSerial("com.apple.testing.finalizer");
        q.setFinalizer(finalized::countDown);

        DispatchQueue qNullContext = DispatchQueue.createSerial("com.apple.testing.finalizer.context_null");
        qNullContext.setContext(null);
        qNullContext.setFinalizer(neverCall::incrementAndGet);
        qNullContext.close();

        Thread.sleep(1000);
        q.async(() -> { // the task must run before the release completes
            q.setContext(ctxtMagic);
            seen.set(q.getContext());
        });
        q.close();

        assertTrue(finalized.await(30, TimeUnit.SECONDS), "finalizer ran");
        assertSame(ctxtMagic, seen.get(), "correct context");
        Thread.sleep(200); // the null-context queue was freed long ago: its finalizer had every chance to run
        assertEquals(0, neverCall.get(), "never_call should not run");
    }
}
