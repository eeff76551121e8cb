package io.jdispatch;

import io.jdispatch.internal.DataQueueLayout;
import io.jdispatch.internal.DataQueueMemory;
import io.jdispatch.internal.DataQueueNative;
import io.jdispatch.internal.Handles;
import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.NativeLibrary;
import io.jdispatch.internal.Reclaim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
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
 * <p>Coalescing: each {@code ...WithCoalesce} call takes a {@code boolean[1]} flag that it only ever sets to
 * true, never clears (DriverKit's contract). The caller sets it to false, makes one or more calls with it, and
 * sends the notification once afterwards if it is true:
 * <pre>{@code
 * boolean[] send = {false};
 * for (...) q.enqueueWithCoalesce(size, send, block);   // or dequeueWithCoalesce until kIOReturnUnderrun
 * if (send[0]) q.sendDataAvailable();                  // or sendDataServiced()
 * }</pre>
 * {@link #enqueue} and {@link #dequeue} are exactly that with one call.
 *
 * <p>Hostile memory: the other process can write anything into the region. A head, tail or size that cannot
 * be right makes enqueue/dequeue/peek return {@link IOReturn#kIOReturnError}; nothing outside the region is
 * ever touched. {@link #reset()} empties the queue afterwards (when both sides agree), or {@link #close()}.
 * DriverKit checks less, so on a corrupt header it sometimes returns something else; see {@link #dequeue}.
 * A peer that truncates a path region's file takes the pages away: the call that meets the hole throws
 * {@link DataQueueTruncatedException} (and so does every later one); the process is never killed by the
 * SIGBUS. A memfd region ({@link #create(int, DispatchQueue)}) is sealed against resizing.
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
            DataQueueNative.jd_dq_cancel(queue, DataQueueNative.JAVA_HANDLER, Handles.register((Runnable) () -> {
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
            int queueByteCount = DataQueueNative.jd_dq_queue_byte_count(queue);
            // Java's own mapping of the region, guarded against a peer truncating the file (jd_dq_map_region).
            // It lives as long as the buffer (every view keeps this one reachable), so a close() racing with an
            // enqueue/dequeue can never leave Java reading unmapped memory.
            long mapping = DataQueueNative.jd_dq_map_region(queue);
            if (mapping == 0) {
                throw new UncheckedIOException(new IOException(description + ": cannot map the region"));
            }
            ByteBuffer region = DataQueueNative.jd_dq_mapping_base(mapping)
                    .capacity(DataQueueLayout.HEADER_SIZE + (long) queueByteCount).asByteBuffer();
            DispatchObject.CLEANER.register(region, () -> DataQueueNative.jd_dq_unmap_region(mapping));
            ByteBuffer faults = DataQueueNative.jd_dq_mapping_faults(mapping).capacity(Integer.BYTES).asByteBuffer();
            this.memory = new DataQueueMemory(region, queueByteCount, faults);
        } catch (RuntimeException e) {
            cleanable.clean();
            throw e;
        }
    }

    // ---- Create / attach -------------------------------------------------------------------------------------

    /**
     * Create: an anonymous shared region (memfd, sealed against shrinking and growing) of queueByteCount bytes,
     * with eventfd doorbells; another process gets it through {@link #sendFds} / {@link #receiveFds}.
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

    /**
     * The receiving side of {@link #sendFds}, in another process (C: {@code jd_dq_receive_fds_at}): listens at
     * the Unix socket {@code socketPath} (which must not exist; it is created owner-only and removed again) for
     * up to {@code timeout}, receives the region and doorbell fds from one sender running as the same user, and
     * attaches to that queue, its handlers running on {@code queue}. No path names the region, so nobody can
     * truncate it unless it was sent one; a region from {@link #create(int, DispatchQueue)} is sealed anyway.
     *
     * @param socketPath where to listen (a path that does not exist yet)
     * @param queue where the handlers run
     * @param timeout how long to wait for the sender
     * @return the attached queue source
     * @throws UncheckedIOException naming the errno: ETIMEDOUT when no sender came, EACCES for another user's
     */
    public static IODataQueueDispatchSource receiveFds(Path socketPath, DispatchQueue queue, Duration timeout) {
        Objects.requireNonNull(socketPath, "IODataQueueDispatchSource.receiveFds: socketPath is null");
        int ms = timeoutMillis(Objects.requireNonNull(timeout, "IODataQueueDispatchSource.receiveFds: timeout is null"));
        return open("IODataQueueDispatchSource.receiveFds(" + socketPath + ")", queue, null,
                (q, status) -> DataQueueNative.jd_dq_receive_fds_at(socketPath.toString(), ms, q, status));
    }

    private static int timeoutMillis(Duration timeout) {
        return timeout.isNegative() ? 0 : (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
    }

    /**
     * SendFds (C: {@code jd_dq_send_fds} / {@code jd_dq_send_fds_to}): shares this queue with another process
     * without a path it could truncate: the region (from {@link #create(int, DispatchQueue)}: a memfd sealed
     * against shrinking and growing) and both doorbells go with SCM_RIGHTS over the Unix socket at
     * {@code socketPath}, where the other process waits in {@link #receiveFds} (a C process: in
     * {@code jd_dq_receive_fds_at}). Retries while nobody listens there yet, for up to {@code timeout}; the
     * receiver must run as the same user. Holds this source's lock (doorbells and control calls wait) until it
     * returns: send before the queue is in use.
     *
     * @param socketPath the Unix socket where the receiver listens
     * @param timeout how long to retry while nobody listens there yet
     * @throws UncheckedIOException naming the errno: ETIMEDOUT when nobody listened, EACCES for another user
     */
    public void sendFds(Path socketPath, Duration timeout) {
        Objects.requireNonNull(socketPath, "sendFds: socketPath is null");
        int ms = timeoutMillis(Objects.requireNonNull(timeout, "sendFds: timeout is null"));
        synchronized (state) {
            int r = DataQueueNative.jd_dq_send_fds_to(nativeQueue("sendFds"), socketPath.toString(), ms);
            if (r < 0) {
                throw new UncheckedIOException(new IOException("sendFds(" + socketPath + ") of " + this + ": "
                        + JDispatchNative.jd_errno_text(-r)));
            }
        }
    }

    private interface Opener {
        long open(long queue, int[] status);
    }

    /** Tries again after a failure for lack of fds or memory (see {@link Reclaim}): create or attach. */
    private static IODataQueueDispatchSource open(String what, DispatchQueue queue, Path createdPath, Opener opener) {
        NativeLibrary.ensure();
        Objects.requireNonNull(queue, what + ": queue is null");
        return Reclaim.retrying(() -> openOnce(what, queue, createdPath, opener));
    }

    private static IODataQueueDispatchSource openOnce(String what, DispatchQueue queue, Path createdPath, Opener opener) {
        // The constructor opens the region once more to map it: hold that fd, so that the native open cannot
        // take the last one (a failed mapping would release the queue asynchronously, and retry for nothing).
        int spare = JDispatchNative.jd_fd_reserve();
        if (spare < 0) {
            throw new Reclaim.Exhausted(new UncheckedIOException(new IOException(what + " failed: "
                    + JDispatchNative.jd_errno_text(-spare))));
        }
        int[] status = new int[2];
        long q;
        try {
            q = queue.callForLong(what, address -> opener.open(address, status));
        } finally {
            JDispatchNative.jd_fd_unreserve(spare);
        }
        if (q == 0) {
            String cause = status[1] != 0
                    ? ": " + JDispatchNative.jd_errno_text(status[1]) + DataQueueNative.jd_dq_explain(status[1]) : "";
            if (status[0] == IOReturn.kIOReturnBadArgument) {
                throw new IllegalArgumentException(what + ": " + IOReturn.name(status[0]) + cause
                        + ": not a data queue region (its size must be 128 + a positive multiple of 4)");
            }
            UncheckedIOException failed = new UncheckedIOException(new IOException(what + " failed: "
                    + IOReturn.name(status[0]) + cause));
            throw status[1] != 0 && JDispatchNative.jd_errno_is_exhaustion(status[1]) != 0
                    ? new Reclaim.Exhausted(failed) : failed;
        }
        try {
            return new IODataQueueDispatchSource(q, createdPath, what);
        } catch (UncheckedIOException mapFailed) {
            // Mapping a region just made fails only for want of an fd (another thread took the spare one) or of
            // address space.
            throw new Reclaim.Exhausted(mapFailed);
        }
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
        long r;
        try {
            r = memory.enqueue(checkSize(size), Objects.requireNonNull(block, "enqueue: block is null"));
        } finally {
            checkRegion("enqueue");
        }
        if (DataQueueMemory.send(r)) {
            sendDataAvailable();
        }
        return DataQueueMemory.code(r);
    }

    /**
     * EnqueueWithCoalesce: like enqueue, but instead of sending DataAvailable it sets sendDataAvailable[0] to true
     * when DataAvailable is due; it never sets it to false (see the class comment: one flag for several calls).
     *
     * @param size the entry's data bytes
     * @param sendDataAvailable receives, in element 0, whether the caller should call {@link #sendDataAvailable()}
     * @param block fills the entry's data: a buffer of {@code size} bytes at its position
     * @return kIOReturnSuccess, kIOReturnOverrun, or kIOReturnError for a corrupted region
     */
    public int enqueueWithCoalesce(int size, boolean[] sendDataAvailable, Consumer<ByteBuffer> block) {
        long r;
        try {
            r = memory.enqueue(checkSize(size), Objects.requireNonNull(block, "enqueueWithCoalesce: block is null"));
        } finally {
            checkRegion("enqueueWithCoalesce");
        }
        if (DataQueueMemory.send(r)) {
            sendDataAvailable[0] = true;
        }
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
     * @return the number of entries enqueued (fewer than count when the queue filled up), or kIOReturnError
     *         (negative) when the region holds an impossible head or tail before the first entry
     * @throws IllegalArgumentException if count &lt; 1 or sizeOf gives a negative size
     */
    public int enqueueBatch(int count, IntUnaryOperator sizeOf, ObjIntConsumer<ByteBuffer> block) {
        boolean[] send = producerSend;
        send[0] = false;
        try {
            return enqueueBatchWithCoalesce(count, sizeOf, send, block);
        } finally {
            if (send[0]) {
                sendDataAvailable();
            }
        }
    }

    /**
     * enqueueBatch, but instead of sending DataAvailable it sets sendDataAvailable[0] to true when it is due (also
     * when sizeOf or the block threw); it never sets it to false.
     *
     * @param count how many entries, at least 1
     * @param sizeOf entry index to its data bytes
     * @param sendDataAvailable receives, in element 0, whether the caller should call {@link #sendDataAvailable()}
     * @param block fills entry i's data: a buffer of {@code sizeOf.applyAsInt(i)} bytes at its position, and i
     * @return as {@link #enqueueBatch}: the number of entries enqueued, or kIOReturnError
     */
    public int enqueueBatchWithCoalesce(int count, IntUnaryOperator sizeOf, boolean[] sendDataAvailable,
                                        ObjIntConsumer<ByteBuffer> block) {
        if (count < 1) {
            throw new IllegalArgumentException("enqueueBatch: count " + count + " is not >= 1");
        }
        long r;
        try {
            r = memory.enqueueBatch(count, Objects.requireNonNull(sizeOf, "enqueueBatch: sizeOf is null"),
                    Objects.requireNonNull(block, "enqueueBatch: block is null"), sendDataAvailable);
        } finally {
            checkRegion("enqueueBatch");
        }
        return countOrCode(r);
    }

    /**
     * Dequeue: hands the next entry's data to the block, removes it, and sends DataServiced if a producer
     * ran out of room (needServicedCallback set; {@link #sendDataServiced} clears it). kIOReturnUnderrun when
     * empty. If the block throws, the entry stays queued.
     *
     * <p>A corrupt header (an impossible head, tail or size) is {@link IOReturn#kIOReturnError} here and in
     * {@link #dequeueWithCoalesce}, {@link #peek} and the batch calls, with
     * nothing read and head left where it is. DriverKit checks only head, and each size, against queueByteCount, so it differs: head ==
     * tail beyond queueByteCount is kIOReturnUnderrun there; a tail beyond queueByteCount, an entry reaching past
     * tail, or a wrap to offset 0 while head &lt; tail is read on there (the block gets those bytes and head
     * moves). Ours never reads outside the region nor hands out bytes that are not one published entry, and a
     * corrupt queue is never taken for an empty one. (Enqueue likewise: kIOReturnError where DriverKit says
     * kIOReturnUnderrun.) {@code native/include/jd_dataqueue.h} lists every case.
     *
     * @param block reads the entry's data (a buffer valid only during the call), or null to drop the entry
     * @return kIOReturnSuccess, kIOReturnUnderrun, or kIOReturnError for a corrupted region
     */
    public int dequeue(Consumer<ByteBuffer> block) {
        long r;
        try {
            r = memory.dequeue(block);
        } finally {
            checkRegion("dequeue");
        }
        if (DataQueueMemory.send(r)) {
            sendDataServiced();
        }
        return DataQueueMemory.code(r);
    }

    /**
     * DequeueWithCoalesce: like dequeue, but instead of sending DataServiced it sets sendDataServiced[0] to true
     * when needServicedCallback is set (also on kIOReturnUnderrun); it never sets it to false, and leaves
     * needServicedCallback set in the region for {@link #sendDataServiced} to clear. The DriverKit pattern: loop
     * until kIOReturnUnderrun with one flag, then send once. A corrupt header: see {@link #dequeue}.
     *
     * @param sendDataServiced receives, in element 0, whether the caller should call {@link #sendDataServiced()}
     * @param block reads the entry's data (a buffer valid only during the call), or null to drop the entry
     * @return kIOReturnSuccess, kIOReturnUnderrun, or kIOReturnError for a corrupted region
     */
    public int dequeueWithCoalesce(boolean[] sendDataServiced, Consumer<ByteBuffer> block) {
        long r;
        try {
            r = memory.dequeue(block);
        } finally {
            checkRegion("dequeueWithCoalesce");
        }
        if (DataQueueMemory.send(r)) {
            sendDataServiced[0] = true;
        }
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
     * @return the number of entries dequeued (0 when the queue is empty), or kIOReturnError (negative) when the
     *         region holds an impossible head, tail or size before the first entry; entries before a corrupt one
     *         are dequeued and counted, and the next call returns kIOReturnError (how this differs from
     *         DriverKit: {@link #dequeue})
     * @throws IllegalArgumentException if maxEntries &lt; 1
     */
    public int dequeueBatch(int maxEntries, Consumer<ByteBuffer> block) {
        boolean[] send = consumerSend;
        send[0] = false;
        try {
            return dequeueBatchWithCoalesce(maxEntries, send, block);
        } finally {
            if (send[0]) { // also with kIOReturnError: a producer is waiting
                sendDataServiced();
            }
        }
    }

    /**
     * dequeueBatch, but instead of sending DataServiced it sets sendDataServiced[0] to true when it is due (also
     * with kIOReturnError); it never sets it to false, and leaves needServicedCallback set for
     * {@link #sendDataServiced}.
     *
     * @param maxEntries how many entries at most, at least 1
     * @param sendDataServiced receives, in element 0, whether the caller should call {@link #sendDataServiced()}
     * @param block reads each entry's data (a buffer valid only during the call)
     * @return as {@link #dequeueBatch}: the number of entries dequeued, or kIOReturnError
     */
    public int dequeueBatchWithCoalesce(int maxEntries, boolean[] sendDataServiced, Consumer<ByteBuffer> block) {
        if (maxEntries < 1) {
            throw new IllegalArgumentException("dequeueBatch: maxEntries " + maxEntries + " is not >= 1");
        }
        long r;
        try {
            r = memory.dequeueBatch(maxEntries, Objects.requireNonNull(block, "dequeueBatch: block is null"));
        } finally {
            checkRegion("dequeueBatch");
        }
        if (DataQueueMemory.send(r)) {
            sendDataServiced[0] = true;
        }
        return countOrCode(r);
    }

    /**
     * A batch's result, in the data path's one error style (codes, as enqueue and dequeue): the entries moved, or
     * kIOReturnError (negative) if the region was corrupt before the first one. Corruption after some entries
     * returns their count; it stays in the region, so the next call returns the code.
     */
    private static int countOrCode(long r) {
        int n = DataQueueMemory.count(r);
        return DataQueueMemory.code(r) == IOReturn.kIOReturnError && n == 0 ? IOReturn.kIOReturnError : n;
    }

    /**
     * Peek: the next entry's data, without removing it. kIOReturnUnderrun when empty; kIOReturnError on a corrupt
     * header, also where DriverKit would return kIOReturnUnderrun or read on (see {@link #dequeue}).
     *
     * @param block reads the entry's data (a buffer valid only during the call)
     * @return kIOReturnSuccess, kIOReturnUnderrun when empty, or kIOReturnError for a corrupted region
     */
    public int peek(Consumer<ByteBuffer> block) {
        try {
            return memory.peek(Objects.requireNonNull(block, "peek: block is null"));
        } finally {
            checkRegion("peek");
        }
    }

    /** {@return true when the queue holds an entry} (IsDataAvailable) */
    public boolean isDataAvailable() {
        boolean available = memory.isDataAvailable();
        checkRegion("isDataAvailable");
        return available;
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
        boolean fits = memory.canEnqueue(checkSize(size), count);
        checkRegion("canEnqueueData");
        return fits;
    }

    /** {@return the bytes before each entry's data (4)} (GetDataQueueEntryHeaderSize) */
    public static int getDataQueueEntryHeaderSize() {
        return DataQueueLayout.ENTRY_HEADER_SIZE;
    }

    /** {@return the queue's size in bytes} (the queueByteCount of Create; an attached queue reads it from the region) */
    public int getQueueByteCount() {
        return memory.queueByteCount();
    }

    /** Empties the queue (e.g. after kIOReturnError); only while the other side is not using it. */
    public void reset() {
        try {
            memory.reset();
        } finally {
            checkRegion("reset");
        }
    }

    /**
     * After an operation's accesses to the region (also when its block threw: garbage read from a lost page may
     * be why): throws if one of them faulted, i.e. a peer truncated the region file. One load and a branch.
     */
    private void checkRegion(String call) {
        if (memory.regionLost()) {
            throw truncated(call);
        }
    }

    private DataQueueTruncatedException truncated(String call) {
        long need = DataQueueLayout.HEADER_SIZE + (long) memory.queueByteCount();
        long size;
        synchronized (state) {
            size = state.closed ? Long.MIN_VALUE : DataQueueNative.jd_dq_region_file_size(state.queue);
        }
        String now = size >= 0 ? "the region file is now " + size + " bytes"
                : size == Long.MIN_VALUE ? "the source is closed" : "fstat: " + JDispatchNative.jd_errno_text((int) -size);
        return new DataQueueTruncatedException(call + " on " + description + ": region truncated by peer (" + now
                + ", the queue needs " + need + "; " + IOReturn.name(IOReturn.kIOReturnVMError)
                + "): close it; a new queue must be created");
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
            long q = nativeQueue("set handler");
            long id = Handles.register(handler);
            int ret = available
                    ? DataQueueNative.jd_dq_set_data_available_handler(q, DataQueueNative.JAVA_HANDLER, id)
                    : DataQueueNative.jd_dq_set_data_serviced_handler(q, DataQueueNative.JAVA_HANDLER, id);
            if (ret != IOReturn.kIOReturnSuccess && ret != IOReturn.kIOReturnVMError) {
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
            if (ret == IOReturn.kIOReturnVMError) { // installed, but C found the region truncated
                memory.markRegionLost();
            }
            checkRegion(available ? "SetDataAvailableHandler" : "SetDataServicedHandler");
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
            return DataQueueNative.jd_dq_send_data_available(nativeQueue("SendDataAvailable"));
        }
    }

    /**
     * SendDataServiced: clears needServicedCallback in the region, then rings the DataServiced doorbell (the
     * producer's handler runs). Only this clears the flag; a dequeue only reports it.
     *
     * @return kIOReturnSuccess, or why the doorbell could not be rung
     */
    public int sendDataServiced() {
        synchronized (state) {
            return DataQueueNative.jd_dq_send_data_serviced(nativeQueue("SendDataServiced"));
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
            int r = DataQueueNative.jd_dq_peer_attached(nativeQueue("isPeerAttached"));
            if (r < 0) {
                throw new UncheckedIOException(new IOException(this + ": isPeerAttached failed: "
                        + JDispatchNative.jd_errno_text(-r)));
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
        nativeQueue("run handler");
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
            int ret = DataQueueNative.jd_dq_set_enable_with_completion(nativeQueue("SetEnableWithCompletion"), enable,
                    completion == null ? 0 : DataQueueNative.JAVA_HANDLER, id);
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
            DataQueueNative.jd_dq_cancel(nativeQueue("Cancel"), completion == null ? 0 : DataQueueNative.JAVA_HANDLER, id);
        }
    }

    /** The jd_dataqueue* for {@code call} (holding the state lock), refused once closed. */
    private long nativeQueue(String call) {
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
