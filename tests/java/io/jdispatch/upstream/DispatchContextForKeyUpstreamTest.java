package io.jdispatch.upstream;

import io.jdispatch.DispatchGroup;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSpecificKey;
import io.jdispatch.DispatchTime;

import org.junit.jupiter.api.Test;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * libdispatch's {@code tests/dispatch_context_for_key.c}, translated: queue-specific data on a serial queue {@code q}
 * targeting a concurrent {@code tq} targeting the default global queue. Values set from q's own tasks and from a
 * global-queue task read back with {@code dispatch_queue_get_specific}; {@code dispatch_get_specific} in q's task
 * finds q's value and, up the target chain, tq's; replacing a value and setting null read back; the app context of q
 * reads back; and after the owner's releases all five "contexts" are destroyed: the four specific values and q's
 * context through q's finalizer. C's destructor callbacks have no Java form (a value is let go when replaced, removed
 * or its queue is freed), so "destroyed" is observed as the value becoming unreachable (a cleared
 * {@link WeakReference} after GC), and the finalizer runs as in C. Upstream runs it from a main-queue task; here on the
 * test thread (changed).
 */
class DispatchContextForKeyUpstreamTest {
    @Test
    void specificValuesReadBackUpTheTargetChainAndAreAllLetGo() throws Exception {
        List<WeakReference<Object>> destroyed = new ArrayList<>();
        Map<String, Object> failures = new ConcurrentHashMap<>();
        DispatchGroup finalizerGroup = DispatchGroup.create();
        runScenario(destroyed, failures, finalizerGroup);
        assertTrue(finalizerGroup.wait(DispatchTime.FOREVER));
        finalizerGroup.close();
        assertEquals(Map.of(), failures);

        long deadline = System.nanoTime() + 30_000_000_000L;
        while (destroyed.stream().anyMatch(r -> r.get() != null) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        // the fifth "context destroyed" is q's, through its finalizer (waited for above)
        long live = destroyed.stream().filter(r -> r.get() != null).count();
        assertEquals(0, live, "contexts destroyed: " + live + " of the 4 specific values still held");
    }

    private static void runScenario(List<WeakReference<Object>> destroyed, Map<String, Object> failures, DispatchGroup g)
            throws Exception {
        // new String(...): distinct objects that only the queues hold, so their collection is observable
        Object[] ctxts = {new String("ctxt for app"), new String("ctxt for key 1"), new String("ctxt for key 2"),
            new String("ctxt for key 1 bis"), new String("ctxt for key 4")};
        for (int i = 1; i < ctxts.length; i++) {
            destroyed.add(new WeakReference<>(ctxts[i]));
        }
        DispatchSpecificKey<Object> key1 = new DispatchSpecificKey<>();
        DispatchSpecificKey<Object> key2 = new DispatchSpecificKey<>();
        DispatchSpecificKey<Object> key4 = new DispatchSpecificKey<>();
        DispatchQueue q = DispatchQueue.createSerial("q");
        DispatchQueue tq = DispatchQueue.createConcurrent("tq");
        DispatchQueue ttq = DispatchQueue.global();
        tq.setSpecific(key4, ctxts[4]);
        tq.setTargetQueue(ttq);
        g.enter();
        q.setContext(ctxts[0]);
        q.setTargetQueue(tq);
        q.setFinalizer(g::leave);

        q.async(() -> q.setSpecific(key1, ctxts[1]));
        CountDownLatch retained = new CountDownLatch(1); // upstream's dispatch_retain(q) for the global tasks
        ttq.async(() -> {
            q.setSpecific(key2, ctxts[2]);
            ttq.async(() -> {
                expect(failures, "get context for key 2", ctxts[2], q.getSpecific(key2));
                retained.countDown();
            });
        });
        q.async(() -> {
            expect(failures, "get current context for key 1", ctxts[1], DispatchQueue.getCurrentSpecific(key1));
            expect(failures, "get current context for key 4 (on target queue)", ctxts[4],
                    DispatchQueue.getCurrentSpecific(key4));
            expect(failures, "get context for key 1", ctxts[1], q.getSpecific(key1));
        });
        q.async(() -> {
            q.setSpecific(key1, ctxts[3]);
            expect(failures, "get context for key 1 bis", ctxts[3], q.getSpecific(key1));
        });
        q.async(() -> {
            q.setSpecific(key1, null);
            expect(failures, "get context for key 1 null", null, q.getSpecific(key1));
        });
        assertSame(ctxts[0], q.getContext(), "get context for app");
        tq.close();
        assertTrue(retained.await(30, TimeUnit.SECONDS), "the global tasks ended");
        q.close();
    }

    private static void expect(Map<String, Object> failures, String what, Object expected, Object actual) {
        if (expected != actual) {
            failures.put(what, "expected " + expected + " but was " + actual);
        }
    }
}
