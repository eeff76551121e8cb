package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.QueueNative;
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

    /** On a virtual thread, the innermost queue whose sync task it runs (dispatch_get_specific's view). */
    private static final ThreadLocal<Held> HELD = new ThreadLocal<>();

    private record Held(DispatchQueue queue, Held outer) {}

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
     * Runs a sync task on the calling virtual thread as the task of {@code queue}, without holding any
     * native frame: for a global queue, where dispatch_sync_f would run it on the caller at once too.
     */
    static void runAsTaskOf(DispatchQueue queue, Runnable task) {
        Held outer = HELD.get();
        HELD.set(new Held(queue, outer));
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
     * dispatch_sync_f (or dispatch_barrier_sync_f) for a virtual thread: a holder thread enters the queue
     * with dispatch_sync_f and, once libdispatch runs its work item (the queue and its targets are then
     * owned, as for any sync), hands over to the caller, which runs {@code task} here, parked in Java only.
     * The holder returns from dispatch_sync_f when the task is done; this returns after that, so the queue
     * is not released (by a close) under a holder still inside the call. {@code task} must not throw.
     */
    static void syncHeld(long q, boolean barrier, DispatchQueue queue, Runnable task) {
        handOver("dispatch_sync", hand -> {
            long id = Handles.register(hand);
            if (barrier) {
                QueueNative.jd_queue_barrier_sync(q, id);
            } else {
                JDispatchNative.jd_queue_sync(q, id);
            }
        }, () -> runAsTaskOf(queue, task));
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
        private volatile Thread holder;
        private volatile int phase;
        private volatile Throwable failure;

        /** On the holder thread. */
        void hold(Runnable call) {
            holder = Thread.currentThread();
            try {
                call.run();
            } catch (Throwable t) {
                failure = t;
            } finally {
                phase = RETURNED;
                LockSupport.unpark(caller);
            }
        }

        /** libdispatch runs this on the holder, inside dispatch_sync_f, once the queue is the holder's. */
        @Override
        public void run() {
            phase = ENTERED;
            LockSupport.unpark(caller);
            while (phase != RELEASED) {
                LockSupport.park(this);
            }
            Thread.interrupted(); // a holder is a pool thread: leave nothing for its next call
        }

        void release() {
            phase = RELEASED;
            LockSupport.unpark(holder);
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
