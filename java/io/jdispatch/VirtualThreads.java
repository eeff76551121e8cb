package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.Upcalls;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * How a blocking call behaves on a virtual thread (Java 21+). A virtual thread that blocks inside a native
 * frame keeps its carrier (it is pinned): a libdispatch wait would stall the carrier, and with every carrier
 * stalled the virtual threads that would signal never run. So on a virtual thread no call blocks in native
 * code: waits park in Java ({@link ParkedWaiter}), and a sync's queue is held by a platform thread while the
 * task runs on the virtual thread ({@link #syncHeld}).
 *
 * <p>Detected without a compile-time dependency on Java 21 (the library compiles for Java 17): a method
 * handle to {@code Thread.isVirtual()}, looked up once; absent on Java 17, where no thread is virtual.
 */
final class VirtualThreads {
    private static final MethodHandle IS_VIRTUAL = isVirtualHandle();
    private static final AtomicInteger HOLDER_COUNT = new AtomicInteger();

    /**
     * Platform threads that hold a queue in dispatch_sync_f (or run dispatch_apply_f) for a virtual thread:
     * as many as there are such calls in flight, so nested syncs never wait for a free holder; idle ones end
     * after a minute.
     */
    private static final Executor HOLDERS = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 60, TimeUnit.SECONDS,
            new SynchronousQueue<>(), r -> {
                Thread t = new Thread(r, "jdispatch-sync-holder-" + HOLDER_COUNT.incrementAndGet());
                t.setDaemon(true);
                return t;
            });

    /**
     * On a virtual thread, the queues whose sync tasks it runs, innermost first: its queue frames as
     * dispatch_get_specific (the innermost) and dispatch_assert_queue (all of them) see them on a platform thread.
     */
    private static final ThreadLocal<Held> HELD = new ThreadLocal<>();

    /** One sync frame: its queue, the frame around it, and whether the task runs as a barrier of the queue. */
    private record Held(DispatchQueue queue, Held outer, boolean barrier) {}

    private VirtualThreads() {}

    private static MethodHandle isVirtualHandle() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual", MethodType.methodType(boolean.class));
        } catch (NoSuchMethodException | IllegalAccessException beforeJava21) {
            return null;
        }
    }

    /** True when the calling thread is a virtual thread. */
    static boolean current() {
        return isVirtual(Thread.currentThread());
    }

    /** True when {@code thread} is a virtual thread. */
    static boolean isVirtual(Thread thread) {
        MethodHandle h = IS_VIRTUAL;
        if (h == null) {
            return false;
        }
        try {
            return (boolean) h.invokeExact(thread);
        } catch (Throwable t) {
            throw new AssertionError("Thread.isVirtual() threw", t);
        }
    }

    /**
     * For a virtual thread: whether it runs a sync task of {@code queue} or of a queue whose target chain
     * reaches {@code queue}, looking at the innermost sync only (as dispatch_get_specific does).
     */
    static boolean runsTaskOf(DispatchQueue queue) {
        Held h = HELD.get();
        for (DispatchQueue q = h == null ? null : h.queue; q != null; q = q.getTargetQueue()) {
            if (q == queue) {
                return true;
            }
        }
        return false;
    }

    /**
     * For a virtual thread, {@code DispatchQueue.onFrames}' answer (jd_queue_on_frames on a platform thread): the
     * queue of the innermost sync or, when created here, a queue in its target chain; or the queue of an
     * enclosing sync (the queue the next sync in was called from).
     */
    static boolean onFrames(DispatchQueue queue) {
        Held h = HELD.get();
        if (h == null) {
            return false;
        }
        if (queue.isGlobal() ? h.queue == queue : runsTaskOf(queue)) {
            return true;
        }
        for (Held outer = h.outer; outer != null; outer = outer.outer) {
            if (outer.queue == queue) {
                return true;
            }
        }
        return false;
    }

    /** For a virtual thread: whether one of its enclosing syncs is a barrier sync of {@code queue}. */
    static boolean inBarrier(DispatchQueue queue) {
        for (Held h = HELD.get(); h != null; h = h.outer) {
            if (h.barrier && h.queue == queue) {
                return true;
            }
        }
        return false;
    }

    /** For a virtual thread, the queue of the sync task it runs (dispatch_get_specific starts there), or null. */
    static DispatchQueue heldQueue() {
        Held h = HELD.get();
        return h == null ? null : h.queue;
    }

    /**
     * Runs a sync task on the calling virtual thread as the task of {@code queue}, without holding any
     * native frame: for a global queue, where dispatch_sync_f would run it on the caller at once too.
     */
    static void runAsTaskOf(DispatchQueue queue, boolean barrier, Runnable task) {
        Held outer = HELD.get();
        HELD.set(new Held(queue, outer, barrier));
        try {
            task.run();
        } finally {
            if (outer == null) {
                HELD.remove(); // a long-lived virtual thread keeps no entry
            } else {
                HELD.set(outer);
            }
        }
    }

    /**
     * dispatch_sync_f (or dispatch_barrier_sync_f, dispatch_async_and_wait_f ...: {@code enter}, given the id of
     * the work item) for a virtual thread: a holder thread enters the queue with that call and, once libdispatch
     * runs its work item (the queue and its targets are then owned, as for any sync; async-and-wait may run the
     * item on a worker, which then holds the queue), hands over to the caller, which runs {@code task} here,
     * parked in Java only. The holder returns from the call when the task is done; this returns after that, so
     * the queue is not released (by a close) under a holder still inside the call. {@code task} must not throw.
     */
    static void syncHeld(DispatchQueue queue, boolean barrier, LongConsumer enter, Runnable task) {
        handOver("dispatch_sync", hand -> enter.accept(Handles.register(hand)),
                () -> runAsTaskOf(queue, barrier, task));
    }

    /**
     * For a virtual thread, a native call that blocks and runs the caller's work on the calling thread
     * (dispatch_sync_f, dispatch_sync of a work item, a work item called directly): a holder thread makes the
     * call {@code enter}, which must have libdispatch run the hand-over it is given where the work would run.
     * The hand-over parks the holder while the virtual thread runs {@code task}. When libdispatch skips the
     * work (a cancelled work item), {@code task} does not run either. Returns once the holder's call returned;
     * {@code task} must not throw; what {@code enter} throws is rethrown, naming {@code call}.
     */
    static void handOver(String call, Consumer<Upcalls.OnCaller> enter, Runnable task) {
        Hand hand = new Hand();
        HOLDERS.execute(() -> hand.hold(() -> enter.accept(hand)));
        if (hand.await(Hand.ENTERED) == Hand.ENTERED) {
            try {
                task.run();
            } finally {
                hand.release();
            }
        }
        hand.await(Hand.RETURNED);
        hand.rethrow(call);
    }

    /**
     * Runs {@code call}, which blocks in native code (dispatch_apply_f), on a holder thread while the calling
     * virtual thread parks; rethrows what it throws.
     */
    static void onHolder(String name, Runnable call) {
        Hand hand = new Hand();
        HOLDERS.execute(() -> hand.hold(call));
        hand.await(Hand.RETURNED);
        hand.rethrow(name);
    }

    /**
     * The hand-over between a virtual thread and its holder: ENTERED (libdispatch runs the holder's work item
     * on the queue), RELEASED (the caller's task is done), RETURNED (the holder's native call returned).
     */
    private static final class Hand implements Upcalls.OnCaller {
        static final int WAITING = 0, ENTERED = 1, RELEASED = 2, RETURNED = 3;
        private final Thread caller = Thread.currentThread();
        /** The thread libdispatch runs the work item on: the holder, or a worker (async-and-wait). */
        private volatile Thread inside;
        private volatile int phase;
        private volatile Throwable failure;

        /** On the holder thread. */
        void hold(Runnable call) {
            try {
                call.run();
            } catch (Throwable t) {
                failure = t;
            } finally {
                phase = RETURNED;
                LockSupport.unpark(caller);
            }
        }

        /** libdispatch runs this on the holder (or a worker), inside the call, once the queue is the holder's. */
        @Override
        public void run() {
            inside = Thread.currentThread();
            phase = ENTERED;
            LockSupport.unpark(caller);
            while (phase != RELEASED) {
                LockSupport.park(this);
            }
            Thread.interrupted(); // a holder or worker is a pool thread: leave nothing for its next call
        }

        void release() {
            phase = RELEASED;
            LockSupport.unpark(inside);
        }

        /** Parks (not interruptibly, like the native call) until the phase is at least {@code least}. */
        int await(int least) {
            boolean interrupted = false;
            int p;
            while ((p = phase) < least) {
                LockSupport.park(this);
                interrupted |= Thread.interrupted();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            return p;
        }

        void rethrow(String call) {
            Throwable t = failure;
            if (t instanceof RuntimeException e) {
                throw e;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(call + " on a holder thread failed", t);
            }
        }
    }
}
