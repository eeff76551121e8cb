package io.jdispatch;

import io.jdispatch.internal.LoopNative;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A JDK {@link SelectableChannel} the adapter owns (made non-blocking) and serves. A connected
 * {@link SocketChannel} created without a queue (the default) is served by one of the library's loops: one
 * edge-triggered epoll set per core, watched by a libdispatch READ source on the loop's serial queue. Any
 * other channel, and a connection created with a queue, gets a READ and a WRITE {@link DispatchSource} on a
 * serial queue of its own targeting the queue given to {@link #create}. Set the handlers, then
 * {@link #activate()}.
 *
 * <p>The rules it keeps, which a hand-written source handler easily breaks:
 * <ul>
 * <li>On every READ event it reads (or accepts) until the channel has nothing more (EAGAIN), end of stream or
 * an error, whatever {@link DispatchSource#getData()} estimates. Linux libdispatch delivers one last READ event
 * when a peer resets a connection and then drops the fd from epoll: a handler that leaves bytes unread in
 * that call never hears from the source again, and the connection stays open. On a loop (edge-triggered) it
 * reads until a read does not fill its buffer, and to the end after a hangup and at {@link #activate()}.</li>
 * <li>{@link #write(ByteBuffer)} writes what the channel takes now and queues the rest; the WRITE source is
 * resumed only while bytes remain queued and suspended when they are written (then the write handler runs:
 * write more). {@link #close()} writes the queued bytes first.</li>
 * <li>The channel is closed only after the cancel handlers of all its sources ran (dispatch_source_cancel(3):
 * the fd must not be closed before; on a loop, after it left the epoll set), exactly once, in whatever order
 * close, cancel, end of stream and errors come; then the error handler (if a failure closed it) and the close handler run.</li>
 * <li>A handler that throws (an {@link IOException}, any {@link RuntimeException} or {@link Error}, e.g.
 * {@link OutOfMemoryError} or {@link StackOverflowError}) closes the connection at once and is reported to
 * the error handler; the queue and the other connections keep running.</li>
 * </ul>
 *
 * <p>All handlers run on the adapter's serial queue (a loop's is shared by its connections: a handler that
 * blocks stalls them all), never concurrently with each other. {@link #write}, {@link #close()} and
 * {@link #cancel()} may be called from any thread.
 */
public final class DispatchChannel implements AutoCloseable {
    /** Receives each connection a listening channel accepted. */
    @FunctionalInterface
    public interface AcceptHandler {
        /**
         * Takes over an accepted connection, typically with {@link DispatchChannel#create}.
         *
         * @param connection the accepted connection, blocking as the JDK returns it; if this throws, the
         *                   adapter closes it (or cancels the {@code DispatchChannel} that already owns it)
         * @throws IOException to refuse the connection (reported to the error handler)
         */
        void accept(SocketChannel connection) throws IOException;
    }

    /** Receives the bytes read. */
    @FunctionalInterface
    public interface ReadHandler {
        /**
         * Called for each successful read of one event's read loop.
         *
         * @param channel the adapter (to {@link #write} a reply or {@link #close()})
         * @param bytes the bytes just read, between position and limit; the buffer is reused after the call
         * @throws IOException to close the connection (reported to the error handler)
         */
        void read(DispatchChannel channel, ByteBuffer bytes) throws IOException;
    }

    /** Called with the adapter: when queued bytes were all written (write handler), or once closed (close handler). */
    @FunctionalInterface
    public interface ChannelHandler {
        /**
         * Runs on the adapter's queue.
         *
         * @param channel the adapter
         * @throws IOException reported to the error handler (the write handler's also closes the connection)
         */
        void handle(DispatchChannel channel) throws IOException;
    }

    /** Receives what went wrong: the failure that closed a connection, or one the listener survived. */
    @FunctionalInterface
    public interface ErrorHandler {
        /**
         * Runs on the adapter's queue; what it throws goes to {@link Dispatch#reportException}.
         *
         * @param channel the adapter
         * @param cause the IOException of a read, write or accept, or what a handler threw
         */
        void error(DispatchChannel channel, Throwable cause);
    }

    /** The size of the buffer one adapter reads into (allocated at its first read; a loop's is shared). */
    public static final int READ_BUFFER_SIZE = 16 * 1024;

    // Full reads a loop's connection gets before the loop serves the others (as Netty's maxMessagesPerRead).
    private static final int LOOP_READS_PER_TURN = 16;

    // Which adapter owns a channel (BUILDING while create runs): refuses a second owner, and lets a failed
    // accept cancel the adapter its handler already created.
    private static final Map<SelectableChannel, Object> OWNERS = new ConcurrentHashMap<>();
    private static final Object BUILDING = new Object();

    private enum WriteState { INACTIVE, RUNNING, SUSPENDED, CANCELLED }

    private final SelectableChannel channel;
    private final int fd;
    private final boolean readable; // false for a pipe's sink
    private final boolean writable; // false for a listener or a pipe's source
    // Served by a loop (a connection made without a queue: see ChannelLoop), or by sources of its own:
    private final ChannelLoop loop; // null: served by the two sources below
    private final DispatchQueue queue; // the loop's, or our own serial queue: handlers never overlap
    private final DispatchSource readSource; // null on a loop, or for a channel that cannot be read
    private final DispatchSource writeSource; // null on a loop, or for a listener or a pipe's source
    private final AtomicInteger sourcesLeft; // cancel handlers (a loop: its deregistration) still to run
    private long loopId; // the loop's registration, set by create
    DispatchChannel nextTurn; // ChannelLoop's list of channels waiting for a turn
    private final AtomicInteger turnClaimed = new AtomicInteger(); // 1 while on that list
    private volatile boolean activated; // a loop's channel: read on its events only once activated
    private boolean deregistered; // a loop's channel, on the loop's queue only

    // Guarded by lock (write, close and cancel come from any thread, the write handler from the queue).
    private final Object lock = new Object();
    private final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();
    private long pendingBytes;
    private WriteState writeState = WriteState.INACTIVE;
    private boolean readCancelled;
    private boolean closeRequested; // graceful close: cancel the WRITE source once pending is written
    private Throwable failure; // the first failure that closed the connection, reported once it is closed

    private volatile boolean closing; // no more reads, no more writes accepted
    private volatile AcceptHandler acceptHandler;
    private volatile ReadHandler readHandler;
    private volatile ChannelHandler writeHandler;
    private volatile ChannelHandler closeHandler;
    private volatile ErrorHandler errorHandler;
    private ByteBuffer readBuffer; // only used on the queue

    // A listener's back-off after failed accepts (see backOffAccepts); used on the queue only, but
    // acceptsSuspended is guarded by lock, as the source's cancel is.
    private static final long ACCEPT_BACK_OFF_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final long ACCEPT_BACK_OFF_MAX_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long ACCEPT_REPORT_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
    private long acceptBackOffNanos;
    private long acceptFailureReportedAt;
    private boolean acceptsSuspended;

    // Instrumentation for tests: how often the channel was closed, and how many cancel handlers had run then.
    private final AtomicInteger cancelHandlersRun = new AtomicInteger();
    private final AtomicInteger channelCloses = new AtomicInteger();
    private volatile int cancelHandlersRunAtChannelClose = -1;
    private final AtomicInteger writeEventsWithNothingPending = new AtomicInteger();

    private DispatchChannel(SelectableChannel channel, DispatchQueue target, ChannelLoop loop) {
        this.channel = channel;
        this.fd = FileDescriptors.of(channel);
        int ops = channel.validOps();
        this.readable = (ops & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT)) != 0;
        this.writable = (ops & SelectionKey.OP_WRITE) != 0;
        this.loop = loop;
        if (loop != null) {
            this.queue = loop.queue;
            this.readSource = null;
            this.writeSource = null;
            this.sourcesLeft = new AtomicInteger(1); // the loop's registration
            return;
        }
        DispatchQueue q = DispatchQueue.createSerial("io.jdispatch.channel");
        DispatchSource r = null;
        DispatchSource w = null;
        try {
            q.setTargetQueue(target);
            r = readable ? DispatchSource.read(fd, q) : null;
            w = writable ? DispatchSource.write(fd, q) : null;
        } catch (RuntimeException | Error e) {
            closeQuietly(w);
            closeQuietly(r);
            q.close();
            throw e;
        }
        this.queue = q;
        this.readSource = r;
        this.writeSource = w;
        this.sourcesLeft = new AtomicInteger((r != null ? 1 : 0) + (w != null ? 1 : 0));
        if (r != null) {
            r.setEventHandler(channel instanceof ServerSocketChannel ? this::acceptAll : this::readAll);
            r.setCancelHandler(this::sourceCancelled);
        }
        if (w != null) {
            w.setEventHandler(this::flush);
            w.setCancelHandler(this::sourceCancelled);
        }
    }

    private static void closeQuietly(DispatchSource s) {
        if (s != null) {
            s.close();
        }
    }

    /**
     * Takes ownership of {@code channel}: makes it non-blocking and, for a connected {@link SocketChannel} and a
     * null {@code queue}, registers it with the next loop; else creates its READ source (a readable channel or
     * a listener) and WRITE source (a writable channel), inactive, on a new serial queue targeting
     * {@code queue} (null: the default global queue). Until the adapter is closed the channel belongs to it: do
     * not close it, read it or write it directly. If this throws, the caller still owns the channel.
     *
     * @param channel an open {@link ServerSocketChannel}, a connected {@link SocketChannel}, a connected
     *                DatagramChannel or a Pipe channel
     * @param queue null for the default (a connection: a loop; see the README's queue topology), or what the
     *              adapter's own queue targets: a shared concurrent or global queue
     * @return the adapter, inactive: set its handlers, then {@link #activate()}
     * @throws IllegalArgumentException for a closed channel, an unconnected socket, or a channel another
     *         adapter already owns
     * @throws UncheckedIOException if the channel cannot be made non-blocking, or the process is out of fds
     */
    public static DispatchChannel create(SelectableChannel channel, DispatchQueue queue) {
        Objects.requireNonNull(channel, "DispatchChannel.create: channel is null");
        if (!channel.isOpen()) {
            throw new IllegalArgumentException("DispatchChannel.create: " + channel + " is closed");
        }
        if (channel instanceof SocketChannel s && !s.isConnected()) {
            throw new IllegalArgumentException("DispatchChannel.create: " + channel
                    + " is not connected (connect it before handing it over: the adapter does not watch OP_CONNECT)");
        }
        if (channel instanceof DatagramChannel d && !d.isConnected()) {
            throw new IllegalArgumentException("DispatchChannel.create: " + channel
                    + " is not connected (the adapter reads and writes one peer: connect the DatagramChannel first)");
        }
        if (OWNERS.putIfAbsent(channel, BUILDING) != null) {
            throw new IllegalArgumentException("DispatchChannel.create: " + channel
                    + " already belongs to a DispatchChannel (a channel has one owner)");
        }
        try {
            channel.configureBlocking(false);
            // The default topology, measured fastest (README): a connection without a queue goes to a loop.
            ChannelLoop loop = queue == null && channel instanceof SocketChannel ? ChannelLoop.next() : null;
            DispatchChannel c = new DispatchChannel(channel, queue, loop);
            if (loop != null) {
                c.loopId = loop.register(c, c.fd);
            }
            OWNERS.put(channel, c);
            return c;
        } catch (IOException e) {
            OWNERS.remove(channel);
            throw new UncheckedIOException("DispatchChannel.create: configureBlocking(false) of " + channel, e);
        } catch (RuntimeException | Error e) {
            OWNERS.remove(channel);
            throw e;
        }
    }

    // ---- handlers -----------------------------------------------------------------------------------------

    /**
     * Sets what a listener does with each accepted connection (a {@link ServerSocketChannel} only). Without
     * one, accepted connections are closed at once.
     *
     * @param handler the accept handler, or null
     */
    public void setAcceptHandler(AcceptHandler handler) {
        if (!(channel instanceof ServerSocketChannel)) {
            throw new IllegalStateException("DispatchChannel.setAcceptHandler: " + channel + " is not a ServerSocketChannel");
        }
        acceptHandler = handler;
    }

    /**
     * Sets what is done with the bytes read. Without one, bytes read are dropped (the channel is still read,
     * so that end of stream and errors are seen).
     *
     * @param handler the read handler, or null
     */
    public void setReadHandler(ReadHandler handler) {
        if (!readable || channel instanceof ServerSocketChannel) {
            throw new IllegalStateException("DispatchChannel.setReadHandler: " + channel + " cannot be read");
        }
        readHandler = handler;
    }

    /**
     * Sets what runs each time the bytes {@link #write} had to queue were all written (the channel can take
     * more): where a producer that respects backpressure writes its next part.
     *
     * @param handler the write handler, or null
     */
    public void setWriteHandler(ChannelHandler handler) {
        if (!writable) {
            throw new IllegalStateException("DispatchChannel.setWriteHandler: " + channel + " cannot be written");
        }
        writeHandler = handler;
    }

    /**
     * Sets what runs once, after the channel was closed (after the error handler, if a failure closed it).
     *
     * @param handler the close handler, or null
     */
    public void setCloseHandler(ChannelHandler handler) {
        closeHandler = handler;
    }

    /**
     * Sets where failures go; without one they go to {@link Dispatch#reportException}.
     *
     * @param handler the error handler, or null
     */
    public void setErrorHandler(ErrorHandler handler) {
        errorHandler = handler;
    }

    // ---- state --------------------------------------------------------------------------------------------

    /**
     * Starts reading (or accepting): activates the READ source, or on a loop reads what came before and every
     * later event (idempotent; nothing once closing).
     */
    public void activate() {
        synchronized (lock) {
            if (loop != null) {
                if (!readCancelled && !activated) {
                    activated = true;
                    loop.turn(this); // reads what came before: its edge was not read, and is not reported again
                }
            } else if (readSource != null && !readCancelled) {
                readSource.activate();
            }
        }
    }

    /**
     * Closes gracefully: stops reading, writes what is queued, then cancels the sources; the channel is
     * closed once both cancel handlers ran. Idempotent; {@link #cancel()} still aborts the flush.
     */
    @Override
    public void close() {
        synchronized (lock) {
            closing = true;
            closeRequested = true;
            cancelReadLocked();
            if (pending.isEmpty()) {
                cancelWriteLocked();
            }
        }
    }

    /** Closes at once: drops queued bytes and cancels both sources (dispatch_source_cancel). Idempotent. */
    public void cancel() {
        synchronized (lock) {
            closing = true;
            pending.clear();
            pendingBytes = 0;
            cancelReadLocked();
            cancelWriteLocked();
        }
    }

    /** {@return true once {@link #close()}, {@link #cancel()}, end of stream or a failure started closing} */
    public boolean isClosing() {
        return closing;
    }

    /** {@return the channel this adapter owns} (do not read, write or close it while the adapter is open) */
    public SelectableChannel getChannel() {
        return channel;
    }

    /** {@return how many bytes {@link #write} queued that are not written yet} */
    public long getPendingByteCount() {
        synchronized (lock) {
            return pendingBytes;
        }
    }

    // ---- writing ------------------------------------------------------------------------------------------

    /**
     * Writes what the channel takes now and queues a copy of the rest, which the WRITE source writes as room
     * appears (the write handler runs once it is all written). A write error closes the connection and goes
     * to the error handler; this call then returns 0.
     *
     * @param bytes the bytes between position and limit; the position moves past all of them
     * @return how many bytes are queued now, this call's and earlier ones' (0: all written)
     * @throws ClosedChannelException once the adapter is closing: the bytes were not taken
     */
    public long write(ByteBuffer bytes) throws ClosedChannelException {
        Objects.requireNonNull(bytes, "DispatchChannel.write: bytes is null");
        if (!writable) {
            throw new IllegalStateException("DispatchChannel.write: " + channel + " cannot be written");
        }
        synchronized (lock) {
            if (closing) {
                throw new ClosedChannelException();
            }
            if (pending.isEmpty()) {
                try {
                    while (bytes.hasRemaining() && ((WritableByteChannel) channel).write(bytes) > 0) {
                        // the channel took some: offer it the rest until it takes nothing (EAGAIN)
                    }
                } catch (IOException | RuntimeException e) {
                    failLocked(e);
                    return 0;
                }
            }
            if (bytes.hasRemaining()) {
                ByteBuffer copy = ByteBuffer.allocate(bytes.remaining()).put(bytes).flip();
                pending.add(copy);
                pendingBytes += copy.remaining();
                resumeWriteLocked();
            }
            return pendingBytes;
        }
    }

    /** WRITE event: writes queued bytes until the channel takes no more; suspends the source once all are written. */
    private void flush() {
        boolean drained = false;
        synchronized (lock) {
            if (writeState != WriteState.RUNNING) {
                return;
            }
            if (pending.isEmpty()) {
                writeEventsWithNothingPending.incrementAndGet();
            }
            try {
                WritableByteChannel out = (WritableByteChannel) channel;
                while (!pending.isEmpty()) {
                    ByteBuffer head = pending.peek();
                    int n = out.write(head);
                    pendingBytes -= n;
                    if (head.hasRemaining()) {
                        return; // EAGAIN: the source fires again when there is room
                    }
                    pending.poll();
                }
            } catch (IOException | RuntimeException e) {
                failLocked(e);
                return;
            }
            if (closeRequested) {
                cancelWriteLocked();
            } else {
                if (writeSource != null) {
                    writeSource.suspend(); // a loop's channel hears of room only after a write that found none
                }
                writeState = WriteState.SUSPENDED;
                drained = true;
            }
        }
        ChannelHandler h = writeHandler;
        if (drained && h != null) {
            try {
                h.handle(this);
            } catch (Throwable t) {
                fail(t);
            }
        }
    }

    private void resumeWriteLocked() {
        if (loop != null) {
            // Registered for writing from the start: the write that left bytes queued found the socket full, so
            // the edge of its room comes.
        } else if (writeState == WriteState.INACTIVE) {
            writeSource.activate();
        } else if (writeState == WriteState.SUSPENDED) {
            writeSource.resume();
        }
        writeState = WriteState.RUNNING;
    }

    // ---- reading ------------------------------------------------------------------------------------------

    /**
     * READ event of a connection: reads what the event announced, and after a hangup until EAGAIN, end of
     * stream or an error. The estimate is libdispatch's FIONREAD at the event, and 0 after a hangup (its EOF
     * marker; the fd is then out of epoll, so whatever is left unread now is never announced again). Bytes
     * that arrive after the estimate are announced by the next event: libdispatch re-arms the fd when this
     * handler returns, and epoll reports an fd that is still readable at once. Stopping at the estimate
     * saves the read that would only return EAGAIN.
     */
    private void readAll() {
        if (readBuffer == null) {
            readBuffer = ByteBuffer.allocate(READ_BUFFER_SIZE);
        }
        readAll(readBuffer, readSource.getData());
    }

    /**
     * Reads until EAGAIN, end of stream or an error, or until {@code announced} (if positive) bytes were read
     * by reads that did not fill the buffer. On a loop, a peer that keeps the buffer full gets
     * {@link #LOOP_READS_PER_TURN} reads, then a later turn: the loop's other connections are served between.
     */
    private void readAll(ByteBuffer buf, long announced) {
        try {
            ReadableByteChannel in = (ReadableByteChannel) channel;
            long read = 0;
            int reads = 0;
            while (!closing) {
                if (loop != null && reads++ == LOOP_READS_PER_TURN) {
                    loop.turn(this); // its turn reads to the end (or to the next cap): no edge is lost
                    return;
                }
                buf.clear();
                int n = in.read(buf);
                if (n == 0) {
                    return; // EAGAIN: the source fires again when bytes arrive
                }
                if (n < 0) {
                    close(); // end of stream: write what is queued, then close
                    return;
                }
                read += n;
                boolean filled = !buf.hasRemaining();
                buf.flip();
                ReadHandler h = readHandler;
                if (h != null) {
                    h.read(this, buf);
                }
                if (announced > 0 && read >= announced && !filled) {
                    return;
                }
            }
        } catch (Throwable t) {
            fail(t);
        }
    }

    /**
     * An event of a loop's channel, on the loop's queue (edge-triggered: each is reported once). A read that
     * does not fill the buffer has emptied the socket, and bytes that come after it bring a new edge, so the
     * read loop stops there (Netty's epoll transport does the same); after a hangup it reads to the end.
     */
    void loopEvent(int events) {
        try {
            if ((events & LoopNative.OUT) != 0) {
                flush();
            }
            if ((events & (LoopNative.IN | LoopNative.HANGUP)) != 0 && activated) {
                readAll(loop.readBuffer, (events & LoopNative.HANGUP) != 0 ? 0 : 1);
            }
        } catch (Throwable t) {
            fail(t); // e.g. an OutOfMemoryError in flush: this connection closes, the loop's others go on
        }
    }

    /** Claims the channel's place on its loop's list of turns: false if it is there already. */
    boolean claimTurn() {
        return turnClaimed.compareAndSet(0, 1);
    }

    /**
     * A loop's channel's turn (see {@link ChannelLoop#turn}), on the loop's queue: once closing is done with
     * both directions, leaves the loop and closes (what the last cancel handler does for sources); else, once
     * activated, reads to the end.
     */
    void loopTurn() {
        turnClaimed.set(0);
        boolean done;
        synchronized (lock) {
            done = readCancelled && writeState == WriteState.CANCELLED;
        }
        if (done) {
            if (!deregistered) {
                deregistered = true;
                loop.deregister(loopId, fd);
                sourceCancelled();
            }
        } else if (activated) {
            readAll(loop.readBuffer, 0);
        }
    }

    /** READ event of a listener: accepts until EAGAIN; the listener survives failed accepts. */
    private void acceptAll() {
        ServerSocketChannel server = (ServerSocketChannel) channel;
        while (!closing) {
            SocketChannel accepted;
            try {
                accepted = server.accept();
            } catch (Throwable t) {
                backOffAccepts(t);
                return;
            }
            if (accepted == null) {
                return; // EAGAIN
            }
            acceptBackOffNanos = 0;
            AcceptHandler h = acceptHandler;
            try {
                if (h == null) {
                    accepted.close();
                } else {
                    h.accept(accepted);
                }
            } catch (Throwable t) {
                discard(accepted);
                report(t);
            }
        }
    }

    /**
     * A failed accept (EMFILE, ENFILE, ENOBUFS...): the connection stays in the backlog, so the READ source
     * would fire again at once and spin a core, reporting the same failure thousands of times a second. So the
     * source is suspended for a back-off (1 ms, doubling up to 1 s while accepts keep failing) and the failure
     * is reported at most once a second. Runs on the queue.
     */
    private void backOffAccepts(Throwable t) {
        long now = System.nanoTime();
        if (acceptFailureReportedAt == 0 || now - acceptFailureReportedAt >= ACCEPT_REPORT_INTERVAL_NANOS) {
            acceptFailureReportedAt = now == 0 ? 1 : now;
            report(t);
        }
        synchronized (lock) {
            if (readCancelled) {
                return;
            }
            readSource.suspend();
            acceptsSuspended = true;
        }
        acceptBackOffNanos = Math.min(Math.max(2 * acceptBackOffNanos, ACCEPT_BACK_OFF_MIN_NANOS), ACCEPT_BACK_OFF_MAX_NANOS);
        try {
            queue.after(acceptBackOffNanos, TimeUnit.NANOSECONDS, this::resumeAccepts);
        } catch (Throwable noTimer) {
            resumeAccepts(); // spinning beats never accepting again
        }
    }

    private void resumeAccepts() {
        synchronized (lock) {
            if (acceptsSuspended && !readCancelled) {
                readSource.resume();
            }
            acceptsSuspended = false; // once cancelled, close() balanced the suspend itself
        }
    }

    /** Closes a connection whose accept handler failed: through its adapter if it already has one. */
    private static void discard(SocketChannel accepted) {
        if (OWNERS.get(accepted) instanceof DispatchChannel owner) {
            owner.cancel();
            return;
        }
        try {
            accepted.close();
        } catch (Throwable ignored) {
            // Closing a socket that was never registered anywhere fails only if it is closed already.
        }
    }

    // ---- closing ------------------------------------------------------------------------------------------

    private void fail(Throwable t) {
        synchronized (lock) {
            failLocked(t);
        }
    }

    private void failLocked(Throwable t) {
        if (failure == null) {
            failure = t;
        }
        closing = true;
        pending.clear();
        pendingBytes = 0;
        cancelReadLocked();
        cancelWriteLocked();
    }

    private void cancelReadLocked() {
        if (loop != null) {
            if (!readCancelled) {
                readCancelled = true;
                leaveLoopIfDoneLocked();
            }
        } else if (readSource != null && !readCancelled) {
            readCancelled = true;
            readSource.close(); // cancels (activating it first if need be); its cancel handler runs on our queue
        }
    }

    private void cancelWriteLocked() {
        if (loop != null) {
            if (writeState != WriteState.CANCELLED) {
                writeState = WriteState.CANCELLED;
                leaveLoopIfDoneLocked();
            }
        } else if (writeSource != null && writeState != WriteState.CANCELLED) {
            writeState = WriteState.CANCELLED;
            writeSource.close(); // cancels, resuming or activating it first so that the cancel handler runs
        }
    }

    /** A loop's channel done with both directions: its turn deregisters and closes it. */
    private void leaveLoopIfDoneLocked() {
        if (readCancelled && writeState == WriteState.CANCELLED) {
            loop.turn(this);
        }
    }

    /** A cancel handler: the last one closes the channel (the fd is then in no source). */
    private void sourceCancelled() {
        cancelHandlersRun.incrementAndGet();
        if (sourcesLeft.decrementAndGet() == 0) {
            closeChannel();
        }
    }

    private void closeChannel() {
        closing = true;
        try {
            cancelHandlersRunAtChannelClose = cancelHandlersRun.get();
            channelCloses.incrementAndGet();
            channel.close();
        } catch (Throwable t) {
            synchronized (lock) {
                if (failure == null) {
                    failure = t;
                }
            }
        } finally {
            OWNERS.remove(channel, this);
        }
        Throwable f;
        synchronized (lock) {
            f = failure;
        }
        if (f != null) {
            report(f);
        }
        ChannelHandler h = closeHandler;
        if (h != null) {
            try {
                h.handle(this);
            } catch (Throwable t) {
                report(t);
            }
        }
        if (loop == null) {
            queue.close(); // libdispatch keeps it until this cancel handler returned
        }
    }

    /** To the error handler, else {@link Dispatch#reportException}; never throws. */
    private void report(Throwable t) {
        ErrorHandler h = errorHandler;
        if (h == null) {
            Dispatch.reportException(t);
            return;
        }
        try {
            h.error(this, t);
        } catch (Throwable inHandler) {
            Dispatch.reportException(inHandler);
        }
    }

    // ---- test instrumentation ------------------------------------------------------------------------------

    /** How many times the channel was closed (exactly once when all went well). */
    int getChannelCloseCount() {
        return channelCloses.get();
    }

    /** How many cancel handlers had run when the channel was closed (-1: not closed yet). */
    int getCancelHandlersRunAtChannelClose() {
        return cancelHandlersRunAtChannelClose;
    }

    /** How many times the WRITE source fired with nothing queued (0 when it is suspended once drained). */
    int getWriteEventsWithNothingPending() {
        return writeEventsWithNothingPending.get();
    }

    @Override
    public String toString() {
        return "DispatchChannel[" + channel + (closing ? ", closing" : "") + "]";
    }
}
