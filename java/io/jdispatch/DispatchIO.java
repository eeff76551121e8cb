package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.IoNative;
import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.SourceNative;

import java.time.Duration;
import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * A dispatch I/O channel, dispatch_io_t (dispatch_io_create(3)), and the one-shot {@link #read(int, long,
 * DispatchQueue, DataHandler) dispatch_read} / {@link #write(int, DispatchData, DispatchQueue, DataHandler)
 * dispatch_write}: asynchronous reads and writes of a file descriptor in {@link DispatchData} chunks, on
 * libdispatch's threads.
 *
 * <p>A channel is a stream ({@link #STREAM}: reads and writes in order, offsets ignored) or random-access
 * ({@link #RANDOM}: offsets from the fd's position at creation). One made from an fd ({@link #create}) takes
 * control of it: do not read, write or close the fd until the cleanup handler ran (libdispatch may change its
 * flags meanwhile); one made from a path ({@link #createWithPath}) opens and closes its own.
 *
 * <p>Handlers. A read or write handler is called as progress is made ({@link #setLowWater}, {@link #setHighWater},
 * {@link #setInterval}) and a last time with {@code done} true, with the data read (or, for a write, what is
 * left unwritten) and an errno value ({@code 0}: none; {@link #errorText} names it: the values are the
 * system's, never fixed in Java). The data is valid during the call only: it is closed when the handler returns
 * ({@link DispatchData#retain()} keeps it; buffers from its {@link DispatchData#apply} stay valid anyway).
 * Handlers, cleanup handlers and barriers run on libdispatch's threads (handlers on the queue given, barriers on
 * the channel's own queue); what they throw goes to {@link Dispatch#setUncaughtExceptionHandler} and the
 * channel and queues keep working.
 *
 * <p>{@link #close(int)} is dispatch_io_close (with {@link #STOP}: pending operations end with ECANCELED);
 * {@link #close()} is dispatch_release of this wrapper's reference (a Cleaner does it for a dropped wrapper):
 * libdispatch keeps the channel while operations are pending and closes it when the last reference goes.
 */
public final class DispatchIO extends DispatchObject {
    /** DISPATCH_IO_STREAM: a stream channel (a pipe, a socket, or a file read and written in order). */
    public static final int STREAM = 0;
    /** DISPATCH_IO_RANDOM: a random-access channel on a seekable fd, offsets relative to its initial position. */
    public static final int RANDOM = 1;
    /** DISPATCH_IO_STOP: {@link #close(int)} interrupts pending operations (their handlers get ECANCELED). */
    public static final int STOP = 0x1;
    /** DISPATCH_IO_STRICT_INTERVAL: {@link #setInterval} calls handlers at the interval even below the low water. */
    public static final int STRICT_INTERVAL = 0x1;
    /** SIZE_MAX: a read length meaning "to the end of the file", a water mark meaning "no limit". */
    public static final long SIZE_MAX = -1;
    /** open(2)'s O_RDONLY, for {@link #createWithPath}. */
    public static final int O_RDONLY = 0;
    /** open(2)'s O_WRONLY. */
    public static final int O_WRONLY = 01;
    /** open(2)'s O_RDWR. */
    public static final int O_RDWR = 02;
    /** open(2)'s O_CREAT. */
    public static final int O_CREAT = 0100;
    /** open(2)'s O_EXCL. */
    public static final int O_EXCL = 0200;
    /** open(2)'s O_TRUNC. */
    public static final int O_TRUNC = 01000;
    /** open(2)'s O_APPEND. */
    public static final int O_APPEND = 02000;

    private final int type;

    private DispatchIO(long address, int type) {
        super(address, true);
        this.type = type;
    }

    /** A read or write handler of a channel: see the class comment. */
    @FunctionalInterface
    public interface Handler {
        /**
         * One call of the operation's progress.
         *
         * @param done  true on the operation's last call
         * @param data  what was read, or what is left to write (empty if none); closed when this returns
         * @param error an errno value, 0 for none ({@link DispatchIO#errorText})
         */
        void handle(boolean done, DispatchData data, int error);
    }

    /** The handler of {@link #read(int, long, DispatchQueue, DataHandler)} and its write: called once. */
    @FunctionalInterface
    public interface DataHandler {
        /**
         * The operation's end.
         *
         * @param data  what was read, or what could not be written (empty if none); closed when this returns
         * @param error an errno value, 0 for none
         */
        void handle(DispatchData data, int error);
    }

    // ---- creating ----------------------------------------------------------------------------------------

    /**
     * dispatch_io_create: a channel on {@code fd}, which stays open (close it in {@code cleanup}, not before).
     *
     * @param type    {@link #STREAM} or {@link #RANDOM}
     * @param fd      an open file descriptor
     * @param queue   where {@code cleanup} runs
     * @param cleanup runs once, when the channel has closed and let the fd go, with an errno value (0, or
     *                why the channel failed); or null
     * @return the channel
     * @throws IllegalArgumentException for another type or an fd that is not open
     */
    public static DispatchIO create(int type, int fd, DispatchQueue queue, IntConsumer cleanup) {
        checkType("dispatch_io_create", type);
        if (SourceNative.jd_fd_check(fd) != 0) {
            throw new IllegalArgumentException("dispatch_io_create: " + fd + " is not an open file descriptor");
        }
        Objects.requireNonNull(queue, "dispatch_io_create: queue is null");
        return make("dispatch_io_create", type, cleanup,
                id -> queue.callForLong("dispatch_io_create", q -> IoNative.jd_io_create(type, fd, q, id)));
    }

    /**
     * dispatch_io_create_with_path: a channel that opens {@code path} with {@code oflag} and {@code mode} when
     * its first operation needs it, and closes it with the channel; an open that fails reaches the operations'
     * handlers and {@code cleanup} as their error.
     *
     * @param type    {@link #STREAM} or {@link #RANDOM}
     * @param path    an absolute path
     * @param oflag   open(2) flags ({@link #O_RDONLY}, {@link #O_WRONLY} | {@link #O_CREAT} ...)
     * @param mode    the permissions of a file {@link #O_CREAT} makes (e.g. 0644)
     * @param queue   where {@code cleanup} runs
     * @param cleanup runs once when the channel has closed, with an errno value; or null
     * @return the channel
     * @throws IllegalArgumentException for another type, or a path that is not absolute or holds a NUL
     */
    public static DispatchIO createWithPath(int type, String path, int oflag, int mode, DispatchQueue queue,
                                            IntConsumer cleanup) {
        checkType("dispatch_io_create_with_path", type);
        Objects.requireNonNull(path, "dispatch_io_create_with_path: path is null");
        if (!path.startsWith("/") || path.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("dispatch_io_create_with_path: path \"" + path + "\" is not an "
                    + "absolute path without NUL (libdispatch takes absolute paths only)");
        }
        Objects.requireNonNull(queue, "dispatch_io_create_with_path: queue is null");
        return make("dispatch_io_create_with_path", type, cleanup, id -> queue.callForLong(
                "dispatch_io_create_with_path", q -> IoNative.jd_io_create_with_path(type, path, oflag, mode, q, id)));
    }

    /**
     * dispatch_io_create_with_io: a channel of {@code type} on the fd (or path) of {@code io}, which it shares;
     * closing either does not close the other.
     *
     * @param type    {@link #STREAM} or {@link #RANDOM}
     * @param io      an open channel
     * @param queue   where {@code cleanup} runs
     * @param cleanup runs once when the new channel has closed, with an errno value; or null
     * @return the channel
     */
    public static DispatchIO createWithIO(int type, DispatchIO io, DispatchQueue queue, IntConsumer cleanup) {
        checkType("dispatch_io_create_with_io", type);
        Objects.requireNonNull(io, "dispatch_io_create_with_io: io is null");
        Objects.requireNonNull(queue, "dispatch_io_create_with_io: queue is null");
        long[] result = new long[1];
        return make("dispatch_io_create_with_io", type, cleanup, id -> {
            io.callWith("dispatch_io_create_with_io", queue,
                    (c, q) -> result[0] = IoNative.jd_io_create_with_io(type, c, q, id));
            return result[0];
        });
    }

    private static void checkType(String call, int type) {
        if (type != STREAM && type != RANDOM) {
            throw new IllegalArgumentException(call + ": type " + type + " is neither DISPATCH_IO_STREAM (" + STREAM
                    + ") nor DISPATCH_IO_RANDOM (" + RANDOM + ")");
        }
    }

    private static DispatchIO make(String call, int type, IntConsumer cleanup, java.util.function.LongUnaryOperator create) {
        Cleanup handler = cleanup == null ? null : new Cleanup(cleanup);
        long id = handler == null ? 0 : (handler.id = Handles.register(handler));
        long channel = 0;
        try {
            channel = create.applyAsLong(id);
        } finally {
            if (channel == 0 && id != 0) {
                Handles.remove(id); // libdispatch refused: the cleanup handler never runs
            }
        }
        if (channel == 0) {
            throw new IllegalStateException(call + " returned NULL (type " + type + ")");
        }
        try {
            return new DispatchIO(channel, type);
        } catch (Throwable t) {
            JDispatchNative.dispatch_release(channel);
            throw t;
        }
    }

    /** {@return {@link #STREAM} or {@link #RANDOM}} */
    public int getType() {
        return type;
    }

    // ---- operations --------------------------------------------------------------------------------------

    /**
     * dispatch_io_read: reads up to {@code length} bytes ({@link #SIZE_MAX}: to the end of the file) from
     * {@code offset} (random-access channels; stream channels read on from where they are), calling
     * {@code handler} on {@code queue} as data arrives and once more with {@code done} true.
     *
     * @param offset  where to start, at least 0 (ignored by a stream channel)
     * @param length  how many bytes at most, at least 0, or {@link #SIZE_MAX}
     * @param queue   where the handler runs
     * @param handler what is called
     */
    public void read(long offset, long length, DispatchQueue queue, Handler handler) {
        checkOffset("dispatch_io_read", offset);
        if (length < 0 && length != SIZE_MAX) {
            throw new IllegalArgumentException("dispatch_io_read: length " + length + " is negative (SIZE_MAX, -1, "
                    + "reads to the end)");
        }
        Objects.requireNonNull(queue, "dispatch_io_read: queue is null");
        Objects.requireNonNull(handler, "dispatch_io_read: handler is null");
        Operation op = new Operation(handler);
        op.id = Handles.register(op);
        boolean submitted = false;
        try {
            callWith("dispatch_io_read", queue, (c, q) -> IoNative.jd_io_read(c, offset, length, q, op.id));
            submitted = true;
        } finally {
            if (!submitted) {
                Handles.remove(op.id);
            }
        }
    }

    /**
     * dispatch_io_write: writes {@code data} at {@code offset} (random-access channels; stream channels append in
     * order), calling {@code handler} on {@code queue} as data is written, with what is still to write, and once
     * more with {@code done} true. libdispatch holds its own reference to {@code data}: closing it afterwards is fine.
     *
     * @param offset  where to write, at least 0 (ignored by a stream channel)
     * @param data    what to write
     * @param queue   where the handler runs
     * @param handler what is called
     */
    public void write(long offset, DispatchData data, DispatchQueue queue, Handler handler) {
        checkOffset("dispatch_io_write", offset);
        Objects.requireNonNull(data, "dispatch_io_write: data is null");
        Objects.requireNonNull(queue, "dispatch_io_write: queue is null");
        Objects.requireNonNull(handler, "dispatch_io_write: handler is null");
        Operation op = new Operation(handler);
        op.id = Handles.register(op);
        boolean submitted = false;
        try {
            callWith("dispatch_io_write", queue, (c, q) -> data.call("dispatch_io_write",
                    d -> IoNative.jd_io_write(c, offset, d, q, op.id)));
            submitted = true;
        } finally {
            if (!submitted) {
                Handles.remove(op.id);
            }
        }
    }

    private static void checkOffset(String call, long offset) {
        if (offset < 0) {
            throw new IllegalArgumentException(call + ": offset " + offset + " is negative");
        }
    }

    /**
     * dispatch_io_barrier: runs {@code barrier} once every operation submitted before it has completed, before
     * any submitted after it starts, on the channel's queue ({@link #getDescriptor()} is valid there).
     *
     * @param barrier what runs
     */
    public void barrier(Runnable barrier) {
        Objects.requireNonNull(barrier, "dispatch_io_barrier: barrier is null");
        long id = Handles.register(barrier);
        boolean submitted = false;
        try {
            call("dispatch_io_barrier", c -> IoNative.jd_io_barrier(c, id));
            submitted = true;
        } finally {
            if (!submitted) {
                Handles.remove(id);
            }
        }
    }

    /**
     * dispatch_io_close: no new operation is accepted; with {@link #STOP}, pending ones are interrupted (their
     * handlers end with ECANCELED), else they complete first. The cleanup handler runs after. Not
     * {@link #close()}: this wrapper's reference stays until that.
     *
     * @param flags 0 or {@link #STOP}
     */
    public void close(int flags) {
        if (flags != 0 && flags != STOP) {
            throw new IllegalArgumentException("dispatch_io_close: flags 0x" + Integer.toHexString(flags)
                    + " are neither 0 nor DISPATCH_IO_STOP (0x" + Integer.toHexString(STOP) + ")");
        }
        call("dispatch_io_close", c -> IoNative.jd_io_close(c, flags));
    }

    /**
     * {@return the channel's fd} (dispatch_io_get_descriptor): -1 once closed, or before a path channel opened
     * its file; reliable inside a {@link #barrier}
     */
    public int getDescriptor() {
        return (int) callForLong("dispatch_io_get_descriptor", IoNative::jd_io_get_descriptor);
    }

    /**
     * dispatch_io_set_high_water: handlers get at most this many bytes a call.
     *
     * @param highWater bytes, at least 1, or {@link #SIZE_MAX} (no limit, the default)
     */
    public void setHighWater(long highWater) {
        checkWater("dispatch_io_set_high_water", highWater);
        if (highWater == 0) { // libdispatch silently makes it 1: refuse what the documented rule excludes
            throw new IllegalArgumentException("dispatch_io_set_high_water: 0 is not at least 1 (a handler call "
                    + "carries at least one byte; SIZE_MAX, -1, means no limit)");
        }
        call("dispatch_io_set_high_water", c -> IoNative.jd_io_set_high_water(c, highWater));
    }

    /**
     * dispatch_io_set_low_water: handlers are called once at least this many bytes are there (or the operation
     * ends).
     *
     * @param lowWater bytes, at least 0 (the default is unspecified: libdispatch's choice), or {@link #SIZE_MAX}
     *                 (only when done)
     */
    public void setLowWater(long lowWater) {
        checkWater("dispatch_io_set_low_water", lowWater);
        call("dispatch_io_set_low_water", c -> IoNative.jd_io_set_low_water(c, lowWater));
    }

    private static void checkWater(String call, long value) {
        if (value < 0 && value != SIZE_MAX) {
            throw new IllegalArgumentException(call + ": " + value + " is negative (SIZE_MAX, -1, means no limit)");
        }
    }

    /**
     * dispatch_io_set_interval: handlers are called at least this often while an operation makes progress
     * (if at least the low water is there, unless {@link #STRICT_INTERVAL}).
     *
     * @param interval how often, not negative
     * @param flags    0 or {@link #STRICT_INTERVAL}
     */
    public void setInterval(Duration interval, int flags) {
        Objects.requireNonNull(interval, "dispatch_io_set_interval: interval is null");
        if (interval.isNegative()) {
            throw new IllegalArgumentException("dispatch_io_set_interval: interval " + interval + " is negative");
        }
        if (flags != 0 && flags != STRICT_INTERVAL) {
            throw new IllegalArgumentException("dispatch_io_set_interval: flags 0x" + Integer.toHexString(flags)
                    + " are neither 0 nor DISPATCH_IO_STRICT_INTERVAL (0x" + Integer.toHexString(STRICT_INTERVAL) + ")");
        }
        long nanos = DispatchTime.saturatedNanos(interval);
        call("dispatch_io_set_interval", c -> IoNative.jd_io_set_interval(c, nanos, flags));
    }

    // ---- dispatch_read / dispatch_write --------------------------------------------------------------------

    /**
     * dispatch_read: reads up to {@code length} bytes ({@link #SIZE_MAX}: to the end) from {@code fd} once, then
     * calls {@code handler} on {@code queue}. The fd stays the caller's; leave it open until the handler ran.
     *
     * @param fd      an open file descriptor
     * @param length  how many bytes at most, at least 0, or {@link #SIZE_MAX}
     * @param queue   where the handler runs
     * @param handler called once with the data and an errno value
     */
    public static void read(int fd, long length, DispatchQueue queue, DataHandler handler) {
        if (SourceNative.jd_fd_check(fd) != 0) {
            throw new IllegalArgumentException("dispatch_read: " + fd + " is not an open file descriptor");
        }
        if (length < 0 && length != SIZE_MAX) {
            throw new IllegalArgumentException("dispatch_read: length " + length + " is negative (SIZE_MAX, -1, reads "
                    + "to the end)");
        }
        Objects.requireNonNull(queue, "dispatch_read: queue is null");
        Objects.requireNonNull(handler, "dispatch_read: handler is null");
        OneShot op = new OneShot(handler);
        op.id = Handles.register(op);
        boolean submitted = false;
        try {
            queue.call("dispatch_read", q -> IoNative.jd_read(fd, length, q, op.id));
            submitted = true;
        } finally {
            if (!submitted) {
                Handles.remove(op.id);
            }
        }
    }

    /**
     * dispatch_write: writes {@code data} to {@code fd} once, then calls {@code handler} on {@code queue} with what
     * could not be written (empty when all was). The fd stays the caller's.
     *
     * @param fd      an open file descriptor
     * @param data    what to write (libdispatch holds its own reference)
     * @param queue   where the handler runs
     * @param handler called once
     */
    public static void write(int fd, DispatchData data, DispatchQueue queue, DataHandler handler) {
        if (SourceNative.jd_fd_check(fd) != 0) {
            throw new IllegalArgumentException("dispatch_write: " + fd + " is not an open file descriptor");
        }
        Objects.requireNonNull(data, "dispatch_write: data is null");
        Objects.requireNonNull(queue, "dispatch_write: queue is null");
        Objects.requireNonNull(handler, "dispatch_write: handler is null");
        OneShot op = new OneShot(handler);
        op.id = Handles.register(op);
        boolean submitted = false;
        try {
            data.callWith("dispatch_write", queue, (d, q) -> IoNative.jd_write(fd, d, q, op.id));
            submitted = true;
        } finally {
            if (!submitted) {
                Handles.remove(op.id);
            }
        }
    }

    /**
     * {@return an errno value's name and text} as C gives them, e.g. for the {@code error} of a handler
     *
     * @param error an errno value from a handler
     */
    public static String errorText(int error) {
        return error == 0 ? "no error" : JDispatchNative.jd_errno_text(error);
    }

    // ---- callbacks -----------------------------------------------------------------------------------------

    /** The borrowed data of one handler call: a wrapper of its own, or empty for none. */
    private static DispatchData borrow(long data) {
        return data == 0 ? DispatchData.empty() : DispatchData.retained(data);
    }

    /** A read or write: the id lives until the call with done. */
    private static final class Operation implements IoNative.IoCallback {
        final Handler handler;
        long id;

        Operation(Handler handler) {
            this.handler = handler;
        }

        @Override
        public void ioCallback(int kind, boolean done, long data, int error) {
            try {
                Thread.interrupted(); // nothing left over from the task before on this worker
                try (DispatchData d = borrow(data)) {
                    handler.handle(done, d, error);
                }
            } catch (Throwable t) {
                Dispatch.reportException(t);
            } finally {
                if (done) {
                    Handles.remove(id);
                }
            }
        }
    }

    /** dispatch_read / dispatch_write: called once. */
    private static final class OneShot implements IoNative.IoCallback {
        final DataHandler handler;
        long id;

        OneShot(DataHandler handler) {
            this.handler = handler;
        }

        @Override
        public void ioCallback(int kind, boolean done, long data, int error) {
            Handles.remove(id);
            try {
                Thread.interrupted();
                try (DispatchData d = borrow(data)) {
                    handler.handle(d, error);
                }
            } catch (Throwable t) {
                Dispatch.reportException(t);
            }
        }
    }

    /** A channel's cleanup handler: once. */
    private static final class Cleanup implements IoNative.IoCallback {
        final IntConsumer cleanup;
        long id;

        Cleanup(IntConsumer cleanup) {
            this.cleanup = cleanup;
        }

        @Override
        public void ioCallback(int kind, boolean done, long data, int error) {
            Handles.remove(id);
            try {
                Thread.interrupted();
                cleanup.accept(error);
            } catch (Throwable t) {
                Dispatch.reportException(t);
            }
        }
    }

    @Override
    public String toString() {
        return "DispatchIO@" + Integer.toHexString(System.identityHashCode(this)) + "("
                + (type == STREAM ? "stream" : "random") + ")";
    }
}
