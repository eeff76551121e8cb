package io.jdispatch;

import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * For tests: libdispatch's own count of internal references to a queue, read from the object's header. Nothing
 * of ours counts the releases of queues, groups or semaphores, but libdispatch does: every dispatch object holds
 * one internal reference on its target queue and gives it back only when it is disposed (_dispatch_dispose, after
 * its last reference went). So the target's count, minus its idle value, is the number of objects targeting it
 * that were not released.
 */
public final class LibdispatchRefs {
    /**
     * os/object_private.h, _OS_OBJECT_HEADER: the isa (vtable) pointer, then {@code int do_ref_cnt}, then
     * {@code int do_xref_cnt}. {@link #checkedIdleRefs} checks that the reading moves by one per retain.
     */
    private static final long REF_CNT_OFFSET = Loader.sizeof(Pointer.class);
    private static final int CHECK_QUEUES = 100;

    private LibdispatchRefs() {}

    /** {@return do_ref_cnt of the queue} (not closed: the caller holds it open) */
    public static int internalRefs(DispatchQueue queue) {
        return (int) queue.callForLong("do_ref_cnt", q -> new IntPointer(new Pointer() {
            {
                address = q + REF_CNT_OFFSET;
            }
        }).get());
    }

    /**
     * The queue's idle do_ref_cnt, once the reading is shown to be that count: it must rise by exactly one per
     * queue made to target this one (100 of them, each having run a task) and fall back when they are closed.
     */
    public static int checkedIdleRefs(DispatchQueue target) throws InterruptedException {
        int idle = internalRefs(target);
        List<DispatchQueue> queues = new ArrayList<>();
        CountDownLatch ran = new CountDownLatch(CHECK_QUEUES);
        for (int i = 0; i < CHECK_QUEUES; i++) {
            DispatchQueue q = targeting(target, DispatchQueue.Attributes.SERIAL, "refs-check-" + i);
            q.async(ran::countDown);
            queues.add(q);
        }
        assertTrue(ran.await(60, TimeUnit.SECONDS), ran.getCount() + " tasks of the check's queues never ran");
        awaitRefs(target, idle + CHECK_QUEUES, "with " + CHECK_QUEUES + " open queues targeting it (idle: " + idle
                + "); if it never gets there, do_ref_cnt is not where LibdispatchRefs reads it");
        queues.forEach(DispatchQueue::close);
        awaitRefs(target, idle, "once those " + CHECK_QUEUES + " queues were closed: each reference above idle is a "
                + "closed queue never released");
        return idle;
    }

    /** A queue whose tasks run on {@code target} (retargeted before activation, the order libdispatch asks for). */
    public static DispatchQueue targeting(DispatchQueue target, DispatchQueue.Attributes kind, String label) {
        DispatchQueue q = DispatchQueue.create(label, kind.initiallyInactive());
        q.setTargetQueue(target);
        q.activate();
        return q;
    }

    /**
     * Waits up to 60 s, collecting garbage between reads (the Cleaner releases what a collection found
     * unreachable), until the queue's do_ref_cnt is {@code expected}; returns it. Work in flight holds references
     * for a moment, so only the end of the wait decides.
     */
    public static int awaitRefs(DispatchQueue queue, int expected, String when) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        int refs;
        while ((refs = internalRefs(queue)) != expected && System.nanoTime() < end) {
            System.gc();
            Thread.sleep(20);
        }
        assertEquals(expected, refs, queue + ": do_ref_cnt " + when + " (waited 60 s)");
        return refs;
    }
}
