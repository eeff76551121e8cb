package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.Reclaim;
import io.jdispatch.internal.SourceNative;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.Channel;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

/**
 * A dispatch source (dispatch_source_t, {@code man dispatch_source_create}): watches a kernel event or
 * application data and submits its event handler to its target queue.
 *
 * <p>Like in C, a new source is inactive: set its handlers, then {@link #resume()} (or {@link #activate()}).
 * Handlers run on the target queue, never concurrently with themselves; an exception thrown by a handler
 * goes to {@link Dispatch#reportException} and the source keeps working. After {@link #cancel()} the cancel
 * handler runs exactly once, and it is the last callback: no handler of this source runs after it.
 *
 * <p>Linux: DATA_ADD / DATA_OR / DATA_REPLACE, READ, WRITE and TIMER are libdispatch's own sources.
 * PROC (pidfd), VNODE (inotify) and MEMORYPRESSURE (PSI triggers) are DATA_OR sources fed by a hidden
 * libdispatch READ source on the kernel object, so suspension, coalescing and {@link #getData()} behave as
 * for any source. SIGNAL is a DATA_ADD source fed the same way from an eventfd that a signal handler adds 1 to
 * per delivered signal (libdispatch's own Linux SIGNAL source loses counts). MACH_SEND / MACH_RECV exist only
 * on macOS. See the README for what Linux cannot observe.
 *
 * <p>The misuses that make libdispatch crash the process are refused here with an exception: resuming a
 * source that is not suspended, suspending one not yet activated or already cancelled, changing handlers
 * or the timer of a cancelled source.
 */
public final class DispatchSource extends DispatchObject {
    /** DISPATCH_SOURCE_TYPE_*. */
    public enum Type {
        /** DISPATCH_SOURCE_TYPE_DATA_ADD: the values given to {@link #mergeData} are added up. */
        DATA_ADD,
        /** DISPATCH_SOURCE_TYPE_DATA_OR: the values given to {@link #mergeData} are OR-ed. */
        DATA_OR,
        /** DISPATCH_SOURCE_TYPE_DATA_REPLACE: the last value given to {@link #mergeData} wins. */
        DATA_REPLACE,
        /** DISPATCH_SOURCE_TYPE_MACH_SEND: macOS only (refused here). */
        MACH_SEND,
        /** DISPATCH_SOURCE_TYPE_MACH_RECV: macOS only (refused here). */
        MACH_RECV,
        /** DISPATCH_SOURCE_TYPE_MEMORYPRESSURE: the system's memory pressure, mask MEMORYPRESSURE_* (Linux: PSI). */
        MEMORYPRESSURE,
        /** DISPATCH_SOURCE_TYPE_PROC: a process, handle its pid, mask PROC_* (Linux: a pidfd). */
        PROC,
        /** DISPATCH_SOURCE_TYPE_READ: a file descriptor with bytes to read (data: an estimate of how many). */
        READ,
        /** DISPATCH_SOURCE_TYPE_SIGNAL: a signal, handle its number (data: how many since the last handler call). */
        SIGNAL,
        /** DISPATCH_SOURCE_TYPE_TIMER: a timer set with {@link #setTimer} (data: fires since the last handler call). */
        TIMER,
        /** DISPATCH_SOURCE_TYPE_VNODE: changes of a file, handle its fd, mask VNODE_* (Linux: inotify). */
        VNODE,
        /** DISPATCH_SOURCE_TYPE_WRITE: a file descriptor with room to write. */
        WRITE;

        /** The code of this type's row in C (JD_TYPE_*, looked up by name: the enum's order is no contract). */
        int code() {
            return Codes.OF[ordinal()];
        }

        private static final class Codes {
            static final int[] OF = new int[values().length];

            static {
                for (Type t : values()) {
                    OF[t.ordinal()] = SourceNative.jd_source_type_code(t.name());
                    if (OF[t.ordinal()] < 0) {
                        throw new IllegalStateException("jd_source_type_code(\"" + t + "\"): no row in jd_source.c");
                    }
                }
            }
        }
    }

    /** DISPATCH_MACH_SEND_DEAD, the mask of a MACH_SEND source (macOS only). */
    public static final long MACH_SEND_DEAD = 0x1;
    /** DISPATCH_MEMORYPRESSURE_NORMAL, _WARN, _CRITICAL: the mask and data bits of a MEMORYPRESSURE source. */
    public static final long MEMORYPRESSURE_NORMAL = 0x01, MEMORYPRESSURE_WARN = 0x02, MEMORYPRESSURE_CRITICAL = 0x04;
    /** DISPATCH_PROC_EXIT, _FORK, _EXEC, _SIGNAL: the mask and data bits of a PROC source (Linux: EXIT only). */
    public static final long PROC_EXIT = 0x80000000L, PROC_FORK = 0x40000000L, PROC_EXEC = 0x20000000L,
            PROC_SIGNAL = 0x08000000L;
    /** DISPATCH_VNODE_DELETE, _WRITE, _EXTEND, _ATTRIB, _LINK, _RENAME, _REVOKE, _FUNLOCK: the bits of a VNODE source. */
    public static final long VNODE_DELETE = 0x1, VNODE_WRITE = 0x2, VNODE_EXTEND = 0x4, VNODE_ATTRIB = 0x8,
            VNODE_LINK = 0x10, VNODE_RENAME = 0x20, VNODE_REVOKE = 0x40, VNODE_FUNLOCK = 0x100;
    /** DISPATCH_TIMER_STRICT, the mask of a TIMER source that must not fire late for power saving. */
    public static final long TIMER_STRICT = 0x1;

    private final Type type;
    private final long handle;
    private final long mask;
    final long id; // the source's entry in Handles (package-private for tests)
    private final SourceCallbacks callbacks;
    private final SourceState state;

    private DispatchSource(long address, Type type, long handle, long mask, long id, SourceCallbacks callbacks,
                           AtomicBoolean cancelIssued) {
        super(address, new Release(address, cancelIssued));
        this.state = new SourceState(this, callbacks, cancelIssued);
        this.type = type;
        this.handle = handle;
        this.mask = mask;
        this.id = id;
        this.callbacks = callbacks;
    }

    /**
     * dispatch_source_create(type, handle, mask, queue). The source starts inactive; {@code queue} null means
     * DISPATCH_TARGET_QUEUE_DEFAULT (the default global queue).
     *
     * @param type what the source watches
     * @param handle by type: the fd (READ, WRITE, VNODE), the pid (PROC), the signal number (SIGNAL); else 0
     * @param mask by type: which events (PROC_*, VNODE_*, MEMORYPRESSURE_*, TIMER_STRICT); else 0
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     * @throws UnsupportedOperationException for the Mach types, for mask bits this OS cannot observe, and for
     *         MEMORYPRESSURE where the kernel offers no pressure events
     * @throws IllegalArgumentException for a handle or mask the type does not accept (the message names the
     *         call, the value and the rule)
     * @throws UncheckedIOException when the process or the system is out of file descriptors or memory (EMFILE,
     *         ENFILE, ENOMEM; the message names the limit), also after unreachable objects were collected and
     *         closed ones had given theirs back (see the README's "Under load, faults and sanitizers")
     */
    public static DispatchSource create(Type type, long handle, long mask, DispatchQueue queue) {
        Objects.requireNonNull(type, "dispatch_source_create: type is null");
        return create(type, handle, mask, 0, queue);
    }

    /** {@link #create(Type, long, long, DispatchQueue)} with jd_source_create's flags (SourceNative.PROC_*). */
    private static DispatchSource create(Type type, long handle, long mask, int flags, DispatchQueue queue) {
        SourceValidation.validate(type, handle, mask);
        DispatchQueue target = queue != null ? queue : DispatchQueue.global();
        return Reclaim.retrying(() -> createOnce(type, handle, mask, flags, target));
    }

    private static DispatchSource createOnce(Type type, long handle, long mask, int flags, DispatchQueue target) {
        SourceCallbacks callbacks = new SourceCallbacks(target.getLabel(), type);
        long id = Handles.register(callbacks);
        callbacks.id = id;
        long address;
        try {
            address = target.callForLong(SourceValidation.call(type, handle, mask) + " on the target queue",
                    q -> SourceNative.jd_source_create(type.code(), handle, mask, flags, q, id));
        } catch (IllegalStateException closedTarget) {
            Handles.remove(id);
            throw closedTarget;
        }
        if (address < 0) {
            Handles.remove(id);
            int errnum = (int) -address;
            String msg = SourceValidation.call(type, handle, mask) + ": " + JDispatchNative.jd_errno_text(errnum)
                    + SourceNative.jd_source_explain(type.code(), errnum);
            if (JDispatchNative.jd_errno_is_exhaustion(errnum) != 0) {
                throw new Reclaim.Exhausted(new UncheckedIOException(new IOException(msg)));
            }
            throw type == Type.MEMORYPRESSURE ? new UnsupportedOperationException(msg)
                    : new IllegalArgumentException(msg);
        }
        if (Jfr.AVAILABLE) {
            Jfr.sourceCreate(type, handle, mask, callbacks.label);
        }
        return new DispatchSource(address, type, handle, mask, id, callbacks, new AtomicBoolean());
    }

    // ---- typed factories ----------------------------------------------------------------------------------

    /**
     * dispatch_source_create(DISPATCH_SOURCE_TYPE_TIMER, 0, strict ? DISPATCH_TIMER_STRICT : 0, queue);
     * configure it with {@link #setTimer}.
     *
     * @param strict DISPATCH_TIMER_STRICT
     * @param queue where the handlers run, or null for the default global queue
     * @return the new timer, inactive
     */
    public static DispatchSource timer(boolean strict, DispatchQueue queue) {
        return create(Type.TIMER, 0, strict ? TIMER_STRICT : 0, queue);
    }

    /**
     * dispatch_source_create(DISPATCH_SOURCE_TYPE_READ, fd, 0, queue).
     *
     * @param fd the file descriptor (see {@link FileDescriptors#of(Channel)})
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     */
    public static DispatchSource read(int fd, DispatchQueue queue) {
        return create(Type.READ, fd, 0, queue);
    }

    /**
     * dispatch_source_create(DISPATCH_SOURCE_TYPE_WRITE, fd, 0, queue).
     *
     * @param fd the file descriptor (see {@link FileDescriptors#of(Channel)})
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     */
    public static DispatchSource write(int fd, DispatchQueue queue) {
        return create(Type.WRITE, fd, 0, queue);
    }

    /**
     * A SIGNAL source: its data is the number of times {@code signo} was delivered since the last handler call
     * (also while suspended). The first source of a signal replaces its disposition with a counting handler,
     * from creation on; once the last one is cancelled (when its cancel handler runs) the disposition is what
     * it was before, e.g. SIGUSR1 terminates the JVM again. What the kernel itself merges: a standard signal
     * sent while the same one is still pending (not yet delivered to a thread) is lost; real-time signals
     * queue, each counted, up to RLIMIT_SIGPENDING queued signals per user (beyond it sigqueue fails with
     * EAGAIN and kill coalesces like a standard signal).
     *
     * @param signo the signal number (signals the JVM uses are refused)
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     */
    public static DispatchSource signal(int signo, DispatchQueue queue) {
        return create(Type.SIGNAL, signo, 0, queue);
    }

    /**
     * dispatch_source_create(DISPATCH_SOURCE_TYPE_DATA_ADD, 0, 0, queue).
     *
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     */
    public static DispatchSource dataAdd(DispatchQueue queue) {
        return create(Type.DATA_ADD, 0, 0, queue);
    }

    /**
     * dispatch_source_create(DISPATCH_SOURCE_TYPE_DATA_OR, 0, 0, queue).
     *
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     */
    public static DispatchSource dataOr(DispatchQueue queue) {
        return create(Type.DATA_OR, 0, 0, queue);
    }

    /**
     * dispatch_source_create(DISPATCH_SOURCE_TYPE_DATA_REPLACE, 0, 0, queue).
     *
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     */
    public static DispatchSource dataReplace(DispatchQueue queue) {
        return create(Type.DATA_REPLACE, 0, 0, queue);
    }

    /**
     * A PROC source on a process id. A pid with no process is refused ({@code IllegalArgumentException}, "No
     * such process"): a child the JDK started and already reaped is such a pid, so for those use
     * {@link #proc(Process, long, DispatchQueue)}, which reports PROC_EXIT instead.
     *
     * @param pid the process to watch
     * @param mask PROC_* bits (on Linux: PROC_EXIT)
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     */
    public static DispatchSource proc(long pid, long mask, DispatchQueue queue) {
        return create(Type.PROC, pid, mask, queue);
    }

    /**
     * A PROC source on {@code process}. If it has already exited (the JDK reaps the children it started, so
     * their pid may already be gone or reused), PROC_EXIT is reported at once after activation, as macOS does
     * for a pid that exited.
     *
     * @param process the process to watch
     * @param mask PROC_* bits (on Linux: PROC_EXIT)
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     */
    public static DispatchSource proc(ProcessHandle process, long mask, DispatchQueue queue) {
        Objects.requireNonNull(process, "dispatch_source_create(PROC): process is null");
        if (process.isAlive()) {
            DispatchSource s = create(Type.PROC, process.pid(), mask, SourceNative.PROC_EXISTED, queue);
            // The pidfd names the process found under this pid when it was opened: this one, if this one was
            // still alive afterwards (a process cannot come back). Else the pid may have been reused in between.
            if (process.isAlive()) {
                return s;
            }
            s.close();
        }
        return create(Type.PROC, process.pid(), mask, SourceNative.PROC_EXITED, queue);
    }

    /**
     * {@link #proc(ProcessHandle, long, DispatchQueue)} for a process started from Java.
     *
     * @param process the process to watch
     * @param mask PROC_* bits (on Linux: PROC_EXIT)
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     */
    public static DispatchSource proc(Process process, long mask, DispatchQueue queue) {
        Objects.requireNonNull(process, "dispatch_source_create(PROC): process is null");
        return proc(process.toHandle(), mask, queue);
    }

    /**
     * dispatch_source_create(DISPATCH_SOURCE_TYPE_VNODE, fd, mask, queue).
     *
     * @param fd an open file's descriptor (the source watches its own duplicate)
     * @param mask VNODE_* bits
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     */
    public static DispatchSource vnode(int fd, long mask, DispatchQueue queue) {
        return create(Type.VNODE, fd, mask, queue);
    }

    /**
     * dispatch_source_create(DISPATCH_SOURCE_TYPE_MEMORYPRESSURE, 0, mask, queue).
     *
     * @param mask MEMORYPRESSURE_* bits
     * @param queue where the handlers run, or null for the default global queue
     * @return the new source, inactive
     */
    public static DispatchSource memoryPressure(long mask, DispatchQueue queue) {
        return create(Type.MEMORYPRESSURE, 0, mask, queue);
    }

    // ---- handlers -----------------------------------------------------------------------------------------

    /**
     * dispatch_source_set_event_handler_f; null unsets it.
     *
     * @param handler runs on the source's queue per event (coalesced), never concurrently with itself
     */
    public void setEventHandler(Runnable handler) {
        callLive("dispatch_source_set_event_handler", s -> {
            callbacks.event = handler;
            // A merged type keeps its C handler: a call without a Java handler must take the pending data and
            // drop it, as libdispatch does for a source without a handler.
            SourceNative.jd_source_set_event(s, handler != null || callbacks.mergesInJava() ? 1 : 0);
        });
    }

    /**
     * dispatch_source_set_cancel_handler_f; null unsets it. For fd sources the handler is where the fd may
     * be closed (or use {@link #setCloseOnCancel}).
     *
     * @param handler runs once, after the last event handler call
     */
    public void setCancelHandler(Runnable handler) {
        // The C cancel trampoline stays installed: it ends the source's Java life.
        callLive("dispatch_source_set_cancel_handler", s -> callbacks.cancel = handler);
    }

    /**
     * dispatch_source_set_registration_handler_f; null unsets it.
     *
     * @param handler runs once the source is registered with the kernel, before the first event
     */
    public void setRegistrationHandler(Runnable handler) {
        callLive("dispatch_source_set_registration_handler", s -> {
            callbacks.registration = handler;
            SourceNative.jd_source_set_registration(s, handler != null ? 1 : 0);
        });
    }

    /**
     * For READ, WRITE and VNODE sources: closes the handle (the fd) right after the cancel handler returned,
     * which is the man page's rule for closing a descriptor safely. The fd then belongs to this source: do
     * not close it elsewhere (for a channel's fd, close the channel in the cancel handler instead).
     *
     * @param close whether the source closes its fd after the cancel handler
     */
    public void setCloseOnCancel(boolean close) {
        if (type != Type.READ && type != Type.WRITE && type != Type.VNODE) {
            throw new IllegalStateException("setCloseOnCancel: " + type + " sources have no file descriptor");
        }
        callLive("setCloseOnCancel", s -> SourceNative.jd_source_close_on_cancel(s, close ? (int) handle : -1));
    }

    // ---- state --------------------------------------------------------------------------------------------

    /** dispatch_activate: starts delivering events (idempotent). */
    public void activate() {
        call("dispatch_activate", state::activate);
    }

    /**
     * dispatch_resume: activates a new source, or undoes one {@link #suspend()}.
     *
     * @throws IllegalStateException if the source is active and not suspended (libdispatch would crash)
     */
    public void resume() {
        call("dispatch_resume", state::resume);
    }

    /** dispatch_suspend: events that happen while suspended coalesce and are delivered on resume. */
    public void suspend() {
        call("dispatch_suspend", state::suspend);
    }

    /**
     * dispatch_source_cancel: no new events are delivered; the cancel handler then runs once on the target
     * queue (after the source was activated and while it is not suspended). Idempotent.
     */
    public void cancel() {
        call("dispatch_source_cancel", s -> {
            if (state.cancel(s)) {
                recordCancel("cancel()");
            }
        });
    }

    private void recordCancel(String by) {
        if (Jfr.AVAILABLE) {
            Jfr.sourceCancel(type, handle, callbacks.label, by);
        }
    }

    /** {@return true once the source is cancelled} (dispatch_source_testcancel) */
    public boolean isCancelled() {
        return callFor("dispatch_source_testcancel", s -> SourceNative.dispatch_source_testcancel(s) != 0);
    }

    // ---- data ---------------------------------------------------------------------------------------------

    /** {@return the handle given to create} (dispatch_source_get_handle): fd, pid, signal number; 0 for the others */
    public long getHandle() {
        return handle;
    }

    /** {@return the mask given to create} (dispatch_source_get_mask) */
    public long getMask() {
        return mask;
    }

    /** {@return the type given to create} (the dispatch_source_type_t) */
    public Type getType() {
        return type;
    }

    /**
     * dispatch_source_get_data: the pending data, meaningful inside the event handler (a sum, an OR, the
     * last value, a fire or signal count, a byte estimate, or the observed mask bits, by type).
     *
     * @return the pending data
     */
    public long getData() {
        if (callbacks.mergesInJava()) {
            return callbacks.handlerThread == Thread.currentThread() ? callbacks.latched
                    : callForLong("dispatch_source_get_data", s -> callbacks.latched);
        }
        if (callbacks.handlerThread == Thread.currentThread()) {
            // Inside a handler the source is alive even after close(): the C side keeps a reference until
            // the cancel handler has returned.
            return SourceNative.dispatch_source_get_data(address());
        }
        return callForLong("dispatch_source_get_data", SourceNative::dispatch_source_get_data);
    }

    /**
     * dispatch_source_merge_data, for DATA_ADD / DATA_OR / DATA_REPLACE sources only.
     *
     * <p>The merge coalesces in Java first, by the same rule (added, OR-ed, stored; 0 is "nothing pending"),
     * and only the merge that makes pending data non-zero calls dispatch_source_merge_data. So a burst of merges
     * costs one JNI call and one libdispatch wakeup per handler call, not one per merge; the handler gets what
     * it would get in C, and a call whose data came back to 0 is not made, as in C.
     *
     * @param value added, OR-ed or set, by type; 0 delivers nothing
     */
    public void mergeData(long value) {
        if (!callbacks.mergesInJava()) {
            throw new IllegalStateException("dispatch_source_merge_data: " + this
                    + " is not a DATA_ADD, DATA_OR or DATA_REPLACE source (undefined for other types)");
        }
        if (isClosed()) {
            acquire("dispatch_source_merge_data"); // refuses it (naming the call) before the data changes
            releaseUse();
        }
        if (callbacks.merge(value)) {
            // Written out, as the submit paths are: a lambda capturing value could allocate on this path.
            long source = acquire("dispatch_source_merge_data");
            try {
                SourceNative.dispatch_source_merge_data(source, 1); // the data itself is in callbacks
            } finally {
                releaseUse();
            }
        }
    }

    /**
     * dispatch_source_set_timer: clears the pending fire count; the next fire is at {@code start} (an uptime
     * {@link DispatchTime} such as NOW or fromNow: uptime clock; walltime: wall clock; FOREVER: never), then
     * every {@code intervalNanos}.
     *
     * <p>{@code intervalNanos} is C's {@code uint64_t}, read as unsigned (as {@link Long#toUnsignedString}
     * prints it), so every interval C accepts can be given: a negative long is an interval of 2^63 ns or more,
     * which libdispatch clamps to 2^63 - 1 ns (292 years), so such a timer fires once at {@code start}, like
     * {@code DispatchTime.FOREVER.rawValue()} (~0), which is one of them. Interval 0 is a one-shot timer too
     * (libdispatch itself would take 0 as a 1 ns period, a busy timer).
     *
     * <p>{@code leewayNanos} must not be negative: read as unsigned it would be 2^63 ns or more, which for a
     * one-shot timer lets the system postpone the fire without bound (macOS honours leeway). Linux
     * libdispatch ignores leeway (timerfd fires at the deadline); it is passed on for macOS.
     *
     * @throws IllegalArgumentException if {@code leewayNanos} is negative
     * @param start the first fire
     * @param intervalNanos the period; 0 or {@code DispatchTime.FOREVER.rawValue()} for one shot
     * @param leewayNanos how late a fire may be (for power saving)
     */
    public void setTimer(DispatchTime start, long intervalNanos, long leewayNanos) {
        Objects.requireNonNull(start, "dispatch_source_set_timer: start is null");
        if (type != Type.TIMER) {
            throw new IllegalStateException("dispatch_source_set_timer: " + this + " is not a TIMER source");
        }
        if (leewayNanos < 0) {
            throw new IllegalArgumentException("dispatch_source_set_timer: leeway " + leewayNanos
                    + " ns is negative (as an unsigned leeway of " + Long.toUnsignedString(leewayNanos)
                    + " ns it would let a one-shot timer be postponed without bound)");
        }
        callLive("dispatch_source_set_timer", s -> {
            SourceNative.dispatch_source_set_timer(s, start.rawValue(),
                    intervalNanos == 0 ? DispatchTime.FOREVER.rawValue() : intervalNanos,
                    leewayNanos);
        });
    }

    /**
     * dispatch_source_set_timer with durations: the first fire at {@code start}, then every {@code interval}
     * ({@link Duration#ZERO}: one shot), with {@code leeway} (ignored by Linux libdispatch). Neither may be
     * negative; a duration beyond what nanoseconds hold (292 years) counts as forever.
     *
     * @param start the first fire
     * @param interval the period, {@link Duration#ZERO} for one shot
     * @param leeway how late a fire may be (for power saving)
     * @throws IllegalArgumentException if {@code interval} or {@code leeway} is negative
     */
    public void setTimer(DispatchTime start, Duration interval, Duration leeway) {
        Objects.requireNonNull(interval, "dispatch_source_set_timer: interval is null");
        Objects.requireNonNull(leeway, "dispatch_source_set_timer: leeway is null");
        if (interval.isNegative()) {
            throw new IllegalArgumentException("dispatch_source_set_timer: interval " + interval + " is negative "
                    + "(use Duration.ZERO for a one-shot timer)");
        }
        if (leeway.isNegative()) {
            throw new IllegalArgumentException("dispatch_source_set_timer: leeway " + leeway + " is negative");
        }
        long intervalNanos = DispatchTime.saturatedNanos(interval);
        setTimer(start, intervalNanos == Long.MAX_VALUE ? DispatchTime.FOREVER.rawValue() : intervalNanos,
                DispatchTime.saturatedNanos(leeway));
    }

    /** libdispatch aborts on retargeting a strict timer ({@link #TIMER_STRICT}) once it was activated. */
    @Override
    void refuseRetarget(DispatchQueue target) {
        if (state.activated() && type == Type.TIMER && (mask & TIMER_STRICT) != 0) {
            throw new IllegalStateException("dispatch_set_target_queue(" + this + ", " + target + "): a TIMER_STRICT "
                    + "source cannot change its target after activation (libdispatch aborts the process on that)");
        }
    }

    @Override
    void retargeted(DispatchQueue target) {
        callbacks.label = (target == null ? DispatchQueue.global() : target).getLabel(); // the default: the global queue
    }

    @Override
    void beforeRelease() {
        if (state.prepareRelease(address())) {
            recordCancel("close()");
        }
    }

    @Override
    public String toString() {
        return "DispatchSource[" + type + ", handle=" + handle + ", mask=0x" + Long.toHexString(mask) + ", id=" + id + "]";
    }

    /** {@link #call}, refused also once the source is cancelled (libdispatch crashes on such calls). */
    private void callLive(String call, LongConsumer body) {
        call(call, s -> {
            state.refuseIfCancelled(call);
            body.accept(s);
        });
    }

    /**
     * Releases the source once, from close() or the Cleaner. An unused source the Cleaner finds was never
     * activated: libdispatch crashes on releasing an inactive source, so cancel and activate it first (both
     * are no-ops after close()'s {@link #beforeRelease()}); its cancel trampoline then frees the C context.
     */
    private record Release(long address, AtomicBoolean cancelIssued) implements Runnable {
        @Override
        public void run() {
            SourceState.cancelOnce(address, cancelIssued);
            SourceNative.dispatch_activate(address);
            JDispatchNative.dispatch_release(address);
        }
    }
}
