package io.jdispatch;

import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.NativeLibrary;
import io.jdispatch.internal.QueueNative;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Cleaner;
import java.util.function.LongConsumer;
import java.util.function.LongFunction;
import java.util.function.LongUnaryOperator;

/**
 * Base of every wrapper that owns one libdispatch object (dispatch_object_t): the object is released
 * exactly once, by {@link #close()} or, if the user forgot, by a {@link Cleaner} after this wrapper became
 * unreachable.
 *
 * <p>Each native call on the object runs between {@link #acquire()} and {@link #releaseUse()}, so a
 * {@code close()} racing with a call never frees the object under it: the release happens when the last
 * such call returns. {@link #call}, {@link #callForLong}, {@link #callFor} and {@link #callWith} are that
 * idiom; only the paths that must allocate nothing (submitting a task: a full heap must not refuse it, and
 * a lambda would allocate where the JIT has not removed it) write it out.
 */
public abstract class DispatchObject implements AutoCloseable {
    static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "jdispatch-cleaner");
        t.setDaemon(true);
        return t;
    });

    private static final int CLOSED = 0x8000_0000;
    private static final VarHandle STATE;

    static {
        NativeLibrary.ensure();
        try {
            STATE = MethodHandles.lookup().findVarHandle(DispatchObject.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long address;
    private final Cleaner.Cleanable cleanable;
    /** CLOSED bit | number of native calls in progress. */
    @SuppressWarnings("unused")
    private volatile int state;

    /**
     * @param address the object, owned from now on by this wrapper
     * @param owned false for objects libdispatch owns (the global queues): never released
     */
    DispatchObject(long address, boolean owned) {
        this(address, owned ? new Release(address) : null);
    }

    /**
     * @param address the object, owned from now on by this wrapper
     * @param release runs once, when the object is disposed (close or Cleaner): for objects that must be
     *                brought back to a state libdispatch can release (a suspended queue, a semaphore below
     *                its initial value) before dispatch_release. Must not reference this wrapper. Null: never
     *                released (objects libdispatch owns).
     */
    DispatchObject(long address, Runnable release) {
        if (address == 0) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": libdispatch returned NULL");
        }
        this.address = address;
        this.cleanable = release != null ? CLEANER.register(this, release) : null;
    }

    /**
     * Marks the start of a native call; throws if the object is closed, unless {@link #aliveAfterClose()} says
     * libdispatch still holds it for the caller. Pair with {@link #releaseUse()}.
     */
    private long acquire() {
        int s;
        do {
            s = state;
            if ((s & CLOSED) != 0 && !aliveAfterClose()) {
                throw new IllegalStateException(name() + " is closed");
            }
        } while (!STATE.weakCompareAndSet(this, s, s + 1));
        return address;
    }

    /** {@link #acquire()}, refused naming {@code call} when the object is closed. */
    final long acquire(String call) {
        try {
            return acquire();
        } catch (IllegalStateException closed) {
            throw new IllegalStateException(call + ": " + closed.getMessage(), closed);
        }
    }

    /** Runs {@code body} with the object's address, open for its duration; refused naming {@code call} once closed. */
    final void call(String call, LongConsumer body) {
        long address = acquire(call);
        try {
            body.accept(address);
        } finally {
            releaseUse();
        }
    }

    /** {@link #call} returning a long. */
    final long callForLong(String call, LongUnaryOperator body) {
        long address = acquire(call);
        try {
            return body.applyAsLong(address);
        } finally {
            releaseUse();
        }
    }

    /** {@link #call} returning a value. */
    final <T> T callFor(String call, LongFunction<T> body) {
        long address = acquire(call);
        try {
            return body.apply(address);
        } finally {
            releaseUse();
        }
    }

    /** Two addresses, e.g. of a group and a queue. */
    @FunctionalInterface
    interface AddressPair {
        void accept(long first, long second);
    }

    /**
     * {@link #call} on this object and {@code other} together, both open for its duration; a null {@code other}
     * passes 0 (e.g. DISPATCH_TARGET_QUEUE_DEFAULT).
     */
    final void callWith(String call, DispatchObject other, AddressPair body) {
        long address = acquire(call);
        try {
            long second = other == null ? 0 : other.acquire(call);
            try {
                body.accept(address, second);
            } finally {
                if (other != null) {
                    other.releaseUse();
                }
            }
        } finally {
            releaseUse();
        }
    }

    /**
     * close() is dispatch_release: it ends the owner's reference, not the object. True when the calling thread
     * runs work that libdispatch still holds the object for (a queue's own tasks), so that work may keep using it.
     */
    boolean aliveAfterClose() {
        return false;
    }

    final void releaseUse() {
        if ((int) STATE.getAndAdd(this, -1) == (CLOSED | 1)) {
            dispose();
        }
    }

    /** How error messages name this object: its {@link #toString()} unless a subclass has a shorter name. */
    String name() {
        return toString();
    }

    /** The raw dispatch_object_t, for code that knows the object stays open (e.g. inside its own callbacks). */
    final long address() {
        return address;
    }

    /** {@return true once {@link #close()} released the dispatch object} (dispatch_release) */
    public final boolean isClosed() {
        return (state & CLOSED) != 0;
    }

    /** Releases the libdispatch object (once; later calls do nothing). Work already submitted still runs. */
    @Override
    public void close() {
        int s;
        do {
            s = state;
            if ((s & CLOSED) != 0) {
                return;
            }
        } while (!STATE.weakCompareAndSet(this, s, s | CLOSED));
        beforeRelease();
        if (s == 0) {
            dispose();
        }
    }

    /**
     * dispatch_set_target_queue(3): the queue this object's work (a queue's tasks, a source's handlers) is
     * submitted to; null means DISPATCH_TARGET_QUEUE_DEFAULT. libdispatch retains the target, so closing the
     * target's wrapper afterwards is fine. Retargets that make libdispatch abort are refused with an
     * {@link IllegalStateException} naming the rule.
     *
     * @param target the new target queue, or null for the default
     */
    public synchronized void setTargetQueue(DispatchQueue target) { // the monitor orders it with a source's activate
        refuseRetarget(target);
        callWith("dispatch_set_target_queue", target, (o, t) -> {
            QueueNative.dispatch_set_target_queue(o, t);
            retargeted(target);
        });
    }

    /** Throws when retargeting this object now would make libdispatch abort (called holding this object's monitor). */
    void refuseRetarget(DispatchQueue target) {}

    /** Called after a successful {@link #setTargetQueue} (holding this object's monitor). */
    void retargeted(DispatchQueue target) {}

    /** Hook for subclasses that must do something (e.g. cancel) before the last reference goes. */
    void beforeRelease() {}

    private void dispose() {
        if (cleanable != null) {
            cleanable.clean();
        }
    }

    private record Release(long address) implements Runnable {
        @Override
        public void run() {
            JDispatchNative.dispatch_release(address);
        }
    }
}
