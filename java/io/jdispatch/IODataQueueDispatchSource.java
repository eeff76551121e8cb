package io.jdispatch;

import io.jdispatch.internal.DataQueueLayout;
import io.jdispatch.internal.DataQueueMemory;
import io.jdispatch.internal.DataQueueNative;
import io.jdispatch.internal.DataQueueNative.HandlerFn;
import io.jdispatch.internal.Handles;
import io.jdispatch.internal.NativeLibrary;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;
import java.util.function.ObjIntConsumer;

/**
 * DriverKit's IODataQueueDispatchSource: a single-producer single-consumer queue of variable-size entries in
 * shared memory, byte-compatible with DriverKit's layout ({@code native/include/jd_dataqueue.h},
 * {@link DataQueueLayout}), with DataAvailable / DataServiced notifications that run handlers on a
 * {@link DispatchQueue}, also across processes.
 *
 * <p>Zero copy, no JNI per message: {@link #enqueue} hands the block a direct ByteBuffer over the entry's
 * bytes in the shared region ({@code remaining()} = size, starting at {@code position()}); {@link #dequeue}
 * and {@link #peek} hand one over the entry's data. The buffer is valid only inside the block. A JNI call
 * happens only to ring a doorbell: on the empty -> non-empty transition, and after an overrun.
 *
 * <p>Two processes: {@link #create(int, DispatchQueue, Path)} makes the region file and two FIFOs beside it
 * ({@code <path>.avail}, {@code <path>.serviced}, owner-only); the other process calls
 * {@link #attach(Path, DispatchQueue)} (a C process: {@code jd_dq_attach_path}). The consumer installs a
 * DataAvailable handler, the producer a DataServiced handler.
 *
 * <p>Hostile memory: the other process can write anything into the region. A head, tail or size that cannot
 * be right makes enqueue/dequeue/peek return {@link IOReturn#kIOReturnError}; nothing outside the region is
 * ever touched. {@link #reset()} empties the queue afterwards (when both sides agree), or {@link #close()}.
 *
 * <p>Ownership: the region, fds and sources belong to this object; {@link #close()} releases them (a Cleaner
 * too, if this object becomes unreachable; handlers that capture it keep it reachable, so close it).
 */
public final class IODataQueueDispatchSource implements AutoCloseable {
    private final DataQueueMemory memory;
    private final State state;
    private final Cleaner.Cleanable cleanable;
    private final String description;
    /** Scratch for the batch calls that send themselves: one for the producer's thread, one for the consumer's. */
    private final boolean[] producerSend = new boolean[1];
    private final boolean[] consumerSend = new boolean[1];

    /** What the Cleaner needs: never a reference back to the source. */
    private static final class State implements Runnable {
        final long queue;
        final Path createdPath; // the creator removes the files at close
        long handleAvailable, handleServiced;
        boolean closed;

        State(long queue, Path createdPath) {
            this.queue = queue;
            this.createdPath = createdPath;
        }

        @Override
        public synchronized void run() {
            if (closed) {
                return;
            }
            closed = true;
            long[] ids = {handleAvailable, handleServiced};
            // The handlers' ids go once no handler can run any more: when the cancellation completed.
            DataQueueNative.jd_dq_cancel(queue, HandlerFn.INSTANCE, Handles.register((Runnable) () -> {
                for (long id : ids) {
                    Handles.remove(id);
                }
            }));
            DataQueueNative.jd_dq_free(queue);
            if (createdPath != null) {
                DataQueueNative.jd_dq_unlink(createdPath.toString());
            }
        }
    }

    private IODataQueueDispatchSource(long queue, Path createdPath, String description) {
        this.state = new State(queue, createdPath);
        this.description = description;
        this.cleanable = DispatchObject.CLEANER.register(this, state);
        try {
            int fd = DataQueueNative.jd_dq_memory_fd(queue);
            int queueByteCount = DataQueueNative.jd_dq_queue_byte_count(queue);
            // Java maps the region itself: the mapping lives as long as the buffer, so a close() racing with
            // an enqueue/dequeue can never leave Java reading unmapped memory.
            ByteBuffer region;
            try (FileChannel ch = FileChannel.open(Path.of("/proc/self/fd/" + fd), StandardOpenOption.READ,
                    StandardOpenOption.WRITE)) {
                region = ch.map(FileChannel.MapMode.READ_WRITE, 0, DataQueueLayout.HEADER_SIZE + (long) queueByteCount);
            }
            this.memory = new DataQueueMemory(region, queueByteCount);
        } catch (IOException | RuntimeException e) {
            cleanable.clean();
            throw e instanceof IOException io ? new UncheckedIOException(description + ": cannot map the region", io)
                    : (RuntimeException) e;
        }
    }

    // ---- Create / attach -------------------------------------------------------------------------------------

    /**
     * Create: an anonymous shared region (memfd, sealed against resizing) of queueByteCount bytes.
     *
     * @param queueByteCount the bytes for entries (headers included), a positive multiple of 4
     * @param queue where the handlers run
     * @return the new queue source
     */
    public static IODataQueueDispatchSource create(int queueByteCount, DispatchQueue queue) {
        return create(queueByteCount, queue, null);
    }

    /**
     * Create with a name: the region file {@code path} (created exclusively, mode 0600, e.g. under /dev/shm or
     * on a shared volume) and the FIFOs {@code path.avail}, {@code path.serviced}, removed again by close().
     *
     * @param queueByteCount the bytes for entries (headers included), a positive multiple of 4
     * @param queue where the handlers run
     * @param path the region file, or null for an anonymous region
     * @return the new queue source
     * @throws IllegalArgumentException (kIOReturnBadArgument) when queueByteCount is not a positive multiple of 4
     */
    public static IODataQueueDispatchSource create(int queueByteCount, DispatchQueue queue, Path path) {
        String bad = DataQueueLayout.checkQueueByteCount(queueByteCount);
        if (bad != null) {
            throw new IllegalArgumentException("IODataQueueDispatchSource.create: " + bad + " ("
                    + IOReturn.name(IOReturn.kIOReturnBadArgument) + ")");
        }
        String what = "IODataQueueDispatchSource.create(" + queueByteCount + (path != null ? ", " + path : "") + ")";
        return open(what, queue, path, (q, status) ->
                DataQueueNative.jd_dq_create(queueByteCount, q, path == null ? null : path.toString(), status));
    }

    /**
     * The second process: attaches to a queue created with a path; its size is the file's size - 128.
     *
     * @param path the region file given to {@link #create(int, DispatchQueue, Path)}
     * @param queue where the handlers run
     * @return the attached queue source
     */
    public static IODataQueueDispatchSource attach(Path path, DispatchQueue queue) {
        Objects.requireNonNull(path, "IODataQueueDispatchSource.attach: path is null");
        return open("IODataQueueDispatchSource.attach(" + path + ")", queue, null,
                (q, status) -> DataQueueNative.jd_dq_attach_path(path.toString(), q, status));
    }

    private interface Opener {
        long open(long queue, int[] status);
    }

    private static IODataQueueDispatchSource open(String what, DispatchQueue queue, Path createdPath, Opener opener) {
        NativeLibrary.ensure();
        Objects.requireNonNull(queue, what + ": queue is null");
        int[] status = new int[2];
        long q;
        long address = queue.acquire();
        try {
            q = opener.open(address, status);
        } finally {
            queue.releaseUse();
        }
        if (q == 0) {
            String cause = status[1] != 0 ? " (errno " + status[1] + errnoMeaning(status[1]) + ")" : "";
            if (status[0] == IOReturn.kIOReturnBadArgument) {
                throw new IllegalArgumentException(what + ": " + IOReturn.name(status[0]) + cause
                        + ": not a data queue region (its size must be 128 + a positive multiple of 4)");
            }
            throw new UncheckedIOException(new IOException(what + " failed: " + IOReturn.name(status[0]) + cause));
        }
        return new IODataQueueDispatchSource(q, createdPath, what);
    }

    /** The errnos an open can meet for a reason the caller can act on. */
    private static String errnoMeaning(int errno) {
        return switch (errno) {
            case 1, 13 -> ": permission denied: the region and its FIFOs are owner-only (0600)";
            case 2 -> ": no such file: no queue was created at this path";
            case 16 -> ": a producer and a consumer are already attached (one of each)";
            case 17 -> ": the path exists: create never reuses a file (remove it, or attach)";
            default -> "";
        };
    }

    // ---- the queue (no JNI unless a doorbell must ring) ------------------------------------------------------

    /**
     * Enqueue: reserves an entry of {@code size} bytes, lets the block fill it in place, publishes it, and sends
     * DataAvailable when the queue was empty. kIOReturnOverrun when there is no room (sets
     * needServicedCallback: a DataServiced notification follows the consumer's next dequeue).
     * If the block throws, nothing is published and the exception propagates.
     *
     * @param size the entry's data bytes
     * @param block fills the entry's data: a buffer of {@code size} bytes at its position
     * @return kIOReturnSuccess, kIOReturnOverrun, or kIOReturnError for a corrupted region
     */
    public int enqueue(int size, Consumer<ByteBuffer> block) {
        long r = memory.enqueue(checkSize(size), Objects.requireNonNull(block, "enqueue: block is null"));
        if (DataQueueMemory.send(r)) {
            sendDataAvailable();
        }
        return DataQueueMemory.code(r);
    }

    /**
     * EnqueueWithCoalesce: like enqueue, but sendDataAvailable[0] says whether to send DataAvailable.
     *
     * @param size the entry's data bytes
     * @param sendDataAvailable receives, in element 0, whether the caller should call {@link #sendDataAvailable()}
     * @param block fills the entry's data: a buffer of {@code size} bytes at its position
     * @return kIOReturnSuccess, kIOReturnOverrun, or kIOReturnError for a corrupted region
     */
    public int enqueueWithCoalesce(int size, boolean[] sendDataAvailable, Consumer<ByteBuffer> block) {
        long r = memory.enqueue(checkSize(size), Objects.requireNonNull(block, "enqueueWithCoalesce: block is null"));
        sendDataAvailable[0] = DataQueueMemory.send(r);
        return DataQueueMemory.code(r);
    }

    /**
     * Our extension, the producer's counterpart of {@link #dequeueBatch}: enqueues up to {@code count} entries in
     * order, entry i of {@code sizeOf.applyAsInt(i)} bytes filled in place by {@code block.accept(buffer, i)},
     * exactly as that many {@link #enqueue} calls would, but stores tail once and issues the rules' full fence
     * once per batch instead of once per entry (that fence, which the DriverKit protocol needs for its
     * notifications, is most of an enqueue's cost). Sends DataAvailable once if the queue was empty before the
     * batch. When the queue fills up the batch stops there, as enqueue's kIOReturnOverrun does
     * (needServicedCallback set, DataAvailable sent). If sizeOf or the block throws, the entries before it are
     * enqueued (and announced) and that one is not.
     *
     * @param count how many entries, at least 1
     * @param sizeOf entry index to its data bytes
     * @param block fills entry i's data: a buffer of {@code sizeOf.applyAsInt(i)} bytes at its position, and i
     * @return the number of entries enqueued: fewer than count when the queue filled up
     * @throws IllegalArgumentException if count &lt; 1 or sizeOf gives a negative size
     * @throws IllegalStateException (kIOReturnError) when the region holds an impossible head or tail
     */
    public int enqueueBatch(int count, IntUnaryOperator sizeOf, ObjIntConsumer<ByteBuffer> block) {
        boolean[] send = producerSend;
        try {
            return enqueueBatchWithCoalesce(count, sizeOf, send, block);
        } finally {
            if (send[0]) {
                sendDataAvailable();
            }
        }
    }

    /**
     * enqueueBatch, but sendDataAvailable[0] says whether to send DataAvailable (also when sizeOf or the block threw).
     *
     * @param count how many entries, at least 1
     * @param sizeOf entry index to its data bytes
     * @param sendDataAvailable receives, in element 0, whether the caller should call {@link #sendDataAvailable()}
     * @param block fills entry i's data: a buffer of {@code sizeOf.applyAsInt(i)} bytes at its position, and i
     * @return the number of entries enqueued: fewer than count when the queue filled up
     */
    public int enqueueBatchWithCoalesce(int count, IntUnaryOperator sizeOf, boolean[] sendDataAvailable,
                                        ObjIntConsumer<ByteBuffer> block) {
        if (count < 1) {
            throw new IllegalArgumentException("enqueueBatch: count " + count + " is not >= 1");
        }
        long r = memory.enqueueBatch(count, Objects.requireNonNull(sizeOf, "enqueueBatch: sizeOf is null"),
                Objects.requireNonNull(block, "enqueueBatch: block is null"), sendDataAvailable);
        if (DataQueueMemory.code(r) == IOReturn.kIOReturnError) {
            throw corrupt("enqueueBatch", r);
        }
        return DataQueueMemory.count(r);
    }

    /**
     * Dequeue: hands the next entry's data to the block, removes it, and sends DataServiced if a producer
     * ran out of room. kIOReturnUnderrun when empty. If the block throws, the entry stays queued.
     *
     * @param block reads the entry's data (a buffer valid only during the call), or null to drop the entry
     * @return kIOReturnSuccess, kIOReturnUnderrun, or kIOReturnError for a corrupted region
     */
    public int dequeue(Consumer<ByteBuffer> block) {
        long r = memory.dequeue(block);
        if (DataQueueMemory.send(r)) {
            sendDataServiced();
        }
        return DataQueueMemory.code(r);
    }

    /**
     * DequeueWithCoalesce: like dequeue, but sendDataServiced[0] says whether to send DataServiced.
     *
     * @param sendDataServiced receives, in element 0, whether the caller should call {@link #sendDataServiced()}
     * @param block reads the entry's data (a buffer valid only during the call), or null to drop the entry
     * @return kIOReturnSuccess, kIOReturnUnderrun, or kIOReturnError for a corrupted region
     */
    public int dequeueWithCoalesce(boolean[] sendDataServiced, Consumer<ByteBuffer> block) {
        long r = memory.dequeue(block);
        sendDataServiced[0] = DataQueueMemory.send(r);
        return DataQueueMemory.code(r);
    }

    /**
     * Our extension, for draining in a DataAvailable handler: dequeues up to {@code maxEntries} entries in order,
     * exactly as that many {@link #dequeue} calls would, but stores head once per batch and reads tail only when
     * the entries already seen run out (in DriverKit's layout head and tail share one cache line, which the
     * producer writes on every enqueue). Sends DataServiced once if a producer ran out of room. If the block
     * throws, the entries before it are dequeued and that one stays queued.
     *
     * @param maxEntries how many entries at most, at least 1
     * @param block reads each entry's data (a buffer valid only during the call)
     * @return the number of entries dequeued; 0 when the queue is empty
     * @throws IllegalArgumentException if maxEntries &lt; 1
     * @throws IllegalStateException (kIOReturnError) when the region holds an impossible head, tail or size; the
     *                               entries before it were dequeued
     */
    public int dequeueBatch(int maxEntries, Consumer<ByteBuffer> block) {
        boolean[] send = consumerSend;
        try {
            return dequeueBatchWithCoalesce(maxEntries, send, block);
        } finally {
            if (send[0]) { // also before a kIOReturnError exception: the flag is already cleared
                sendDataServiced();
            }
        }
    }

    /**
     * dequeueBatch, but sendDataServiced[0] says whether to send DataServiced.
     *
     * @param maxEntries how many entries at most, at least 1
     * @param sendDataServiced receives, in element 0, whether the caller should call {@link #sendDataServiced()}
     * @param block reads each entry's data (a buffer valid only during the call)
     * @return the number of entries dequeued; 0 when the queue is empty
     */
    public int dequeueBatchWithCoalesce(int maxEntries, boolean[] sendDataServiced, Consumer<ByteBuffer> block) {
        sendDataServiced[0] = false;
        if (maxEntries < 1) {
            throw new IllegalArgumentException("dequeueBatch: maxEntries " + maxEntries + " is not >= 1");
        }
        long r = memory.dequeueBatch(maxEntries, Objects.requireNonNull(block, "dequeueBatch: block is null"));
        sendDataServiced[0] = DataQueueMemory.send(r);
        if (DataQueueMemory.code(r) == IOReturn.kIOReturnError) {
            throw corrupt("dequeueBatch", r);
        }
        return DataQueueMemory.count(r);
    }

    private IllegalStateException corrupt(String call, long r) {
        return new IllegalStateException(call + ": " + IOReturn.name(IOReturn.kIOReturnError) + " on " + description
                + ": the shared region holds an impossible head, tail or entry size (after "
                + DataQueueMemory.count(r) + " entries); reset() or close() it");
    }

    /**
     * Peek: the next entry's data, without removing it.
     *
     * @param block reads the entry's data (a buffer valid only during the call)
     * @return kIOReturnSuccess, kIOReturnUnderrun when empty, or kIOReturnError for a corrupted region
     */
    public int peek(Consumer<ByteBuffer> block) {
        return memory.peek(Objects.requireNonNull(block, "peek: block is null"));
    }

    /** {@return true when the queue holds an entry} (IsDataAvailable) */
    public boolean isDataAvailable() {
        return memory.isDataAvailable();
    }

    /**
     * CanEnqueueData: would one entry of {@code size} bytes fit now.
     *
     * @param size the entry's data bytes
     * @return whether it fits
     */
    public boolean canEnqueueData(int size) {
        return canEnqueueData(size, 1);
    }

    /**
     * CanEnqueueData: would {@code count} entries of {@code size} bytes fit now.
     *
     * @param size each entry's data bytes
     * @param count how many entries
     * @return whether they fit
     */
    public boolean canEnqueueData(int size, int count) {
        if (count < 0) {
            throw new IllegalArgumentException("canEnqueueData: count must be >= 0, was " + count);
        }
        return memory.canEnqueue(checkSize(size), count);
    }

    /** {@return the bytes before each entry's data (4)} (GetDataQueueEntryHeaderSize) */
    public static int getDataQueueEntryHeaderSize() {
        return DataQueueLayout.ENTRY_HEADER_SIZE;
    }

    /** {@return the queue's size in bytes} (the queueByteCount of Create; an attached queue reads it from the region) */
    public int queueByteCount() {
        return memory.queueByteCount();
    }

    /** Empties the queue (e.g. after kIOReturnError); only while the other side is not using it. */
    public void reset() {
        memory.reset();
    }

    private static int checkSize(int size) {
        if (size < 0) {
            throw new IllegalArgumentException("entry size must be >= 0, was " + size);
        }
        return size;
    }

    // ---- notifications (JNI) -------------------------------------------------------------------------------

    /**
     * SetDataAvailableHandler: runs on the queue when data arrives; at once if data is already queued.
     *
     * @param handler the consumer's handler, or null to unset it
     */
    public void setDataAvailableHandler(Runnable handler) {
        setHandler(true, handler);
    }

    /**
     * SetDataServicedHandler: runs on the queue when the consumer made room after an overrun.
     *
     * @param handler the producer's handler, or null to unset it
     */
    public void setDataServicedHandler(Runnable handler) {
        setHandler(false, handler);
    }

    private void setHandler(boolean available, Runnable handler) {
        Objects.requireNonNull(handler, "handler is null");
        synchronized (state) {
            long q = open("set handler");
            long id = Handles.register(handler);
            int ret = available ? DataQueueNative.jd_dq_set_data_available_handler(q, HandlerFn.INSTANCE, id)
                    : DataQueueNative.jd_dq_set_data_serviced_handler(q, HandlerFn.INSTANCE, id);
            if (ret != IOReturn.kIOReturnSuccess) {
                Handles.remove(id);
                throw new IllegalStateException(this + ": " + (available ? "SetDataAvailableHandler" : "SetDataServicedHandler")
                        + " failed: " + IOReturn.name(ret) + " (cancelled?)");
            }
            // The old handler's id: C no longer passes it, but a call may be in flight; leave it to close().
            if (available) {
                state.handleAvailable = replace(state.handleAvailable, id);
            } else {
                state.handleServiced = replace(state.handleServiced, id);
            }
        }
    }

    private static long replace(long old, long id) {
        if (old != 0) {
            Handles.remove(old); // a call in flight finds nothing and does nothing
        }
        return id;
    }

    /**
     * SendDataAvailable: rings the DataAvailable doorbell (the consumer's handler runs).
     *
     * @return kIOReturnSuccess, or why the doorbell could not be rung
     */
    public int sendDataAvailable() {
        synchronized (state) {
            return DataQueueNative.jd_dq_send_data_available(open("SendDataAvailable"));
        }
    }

    /**
     * SendDataServiced: rings the DataServiced doorbell (the producer's handler runs).
     *
     * @return kIOReturnSuccess, or why the doorbell could not be rung
     */
    public int sendDataServiced() {
        synchronized (state) {
            return DataQueueNative.jd_dq_send_data_serviced(open("SendDataServiced"));
        }
    }

    /**
     * Is the other process still attached? False once it closed the queue or died (even by SIGKILL): the kernel
     * drops its attachment lock. One producer and one consumer: a third attach fails while both are attached.
     * After a peer died the queue is consistent (an entry becomes visible only when complete): a new peer
     * attaches and continues; see the README's data-queue section for the recovery procedure.
     *
     * @return whether the other process is attached
     */
    public boolean isPeerAttached() {
        synchronized (state) {
            int r = DataQueueNative.jd_dq_peer_attached(open("isPeerAttached"));
            if (r < 0) {
                throw new UncheckedIOException(new IOException(this + ": isPeerAttached failed: errno " + -r));
            }
            return r == 1;
        }
    }

    /** DataAvailable: runs this process's DataAvailable handler now, on the calling thread. */
    public void dataAvailable() {
        runHandler(state.handleAvailable);
    }

    /** DataServiced: runs this process's DataServiced handler now, on the calling thread. */
    public void dataServiced() {
        runHandler(state.handleServiced);
    }

    private void runHandler(long id) {
        open("run handler");
        if (Handles.get(id) instanceof Runnable r) {
            r.run();
        }
    }

    /**
     * SetEnableWithCompletion: stops / restarts delivering handlers; completion (may be null) runs on the queue after.
     *
     * @param enable false stops delivering DataAvailable / DataServiced, true restarts
     * @param completion runs on the queue once the change took effect, or null
     */
    public void setEnableWithCompletion(boolean enable, Runnable completion) {
        synchronized (state) {
            long id = completion == null ? 0 : Handles.register(completion);
            int ret = DataQueueNative.jd_dq_set_enable_with_completion(open("SetEnableWithCompletion"), enable,
                    completion == null ? null : HandlerFn.INSTANCE, id);
            if (ret != IOReturn.kIOReturnSuccess) {
                Handles.remove(id);
                throw new IllegalStateException(this + ": SetEnableWithCompletion(" + enable + ") failed: "
                        + IOReturn.name(ret));
            }
        }
    }

    /**
     * Cancel: no handler runs after completion (may be null), which runs on the queue. The queue stays usable.
     *
     * @param completion runs on the queue after the last handler, or null
     */
    public void cancel(Runnable completion) {
        synchronized (state) {
            long id = completion == null ? 0 : Handles.register(completion);
            DataQueueNative.jd_dq_cancel(open("Cancel"), completion == null ? null : HandlerFn.INSTANCE, id);
        }
    }

    private long open(String call) {
        if (state.closed) {
            throw new IllegalStateException(call + ": " + this + " is closed");
        }
        return state.queue;
    }

    /** Cancels the handlers and releases the region, fds and sources (the creator also removes its files). */
    @Override
    public void close() {
        cleanable.clean();
    }

    /** {@return true once {@link #close()} released the region} */
    public boolean isClosed() {
        return state.closed;
    }

    @Override
    public String toString() {
        return description;
    }
}
