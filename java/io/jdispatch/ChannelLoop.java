package io.jdispatch;

import io.jdispatch.internal.Handles;
import io.jdispatch.internal.JDispatchNative;
import io.jdispatch.internal.LoopNative;
import org.bytedeco.javacpp.Pointer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One of the loops that serve {@link DispatchChannel}s made without a queue of the caller's: an edge-triggered
 * epoll set ({@code jd_loop.h}) watched by one libdispatch READ source, on a serial queue that targets the
 * default global queue. Each connection is registered once, for reading and writing; the source's handler
 * takes the ready events in batches and serves each connection inline. Per request this spares what a READ
 * and a WRITE source per connection cost: libdispatch re-arming the fd in epoll after every event
 * (EPOLLONESHOT), its SIOCINQ estimate, and a work item per event. There is one loop per core, made at first
 * use and kept for the life of the process (two fds each, an epoll set and its wake-up eventfd).
 *
 * <p>Handlers run on the loop: one that blocks stalls every connection of its loop, as on Netty's event loops.
 */
final class ChannelLoop {
    private static final Object LOCK = new Object();
    // One loop per core, each made at its first use: a failure (out of fds) leaves nothing half made behind.
    private static final AtomicReferenceArray<ChannelLoop> LOOPS =
            new AtomicReferenceArray<>(Runtime.getRuntime().availableProcessors());
    private static volatile boolean unavailable; // no epoll here (macOS): channels keep their own sources
    private static final AtomicInteger NEXT = new AtomicInteger();

    private final int epfd;
    private final int wakefd;
    final DispatchQueue queue; // serial: the loop's connections are served one at a time
    private final DispatchSource source;
    private final ByteBuffer events; // JD_LOOP_BATCH pairs of int64: id, JD_LOOP_* bits
    private final long eventsAddress;
    /** The loop's read buffer, shared by its connections: they are served one at a time. */
    final ByteBuffer readBuffer = ByteBuffer.allocateDirect(DispatchChannel.READ_BUFFER_SIZE);
    // Channels waiting for a turn, pushed from any thread (linked through DispatchChannel.nextTurn: a turn
    // allocates nothing, so a close under a full heap is not lost).
    private final AtomicReference<DispatchChannel> turns = new AtomicReference<>();
    private volatile Thread polling; // the thread in poll(), which drains `turns` itself: no wake-up needed

    private ChannelLoop(int index, int epfd, int wakefd) {
        this.epfd = epfd;
        this.wakefd = wakefd;
        events = ByteBuffer.allocateDirect(16 * LoopNative.BATCH).order(ByteOrder.nativeOrder());
        eventsAddress = new Pointer(events).address();
        queue = DispatchQueue.createSerial("io.jdispatch.channel-loop-" + index);
        try {
            queue.setTargetQueue(DispatchQueue.global());
            source = DispatchSource.read(epfd, queue);
        } catch (RuntimeException | Error e) {
            queue.close();
            throw e;
        }
        source.setEventHandler(this::poll);
        turns.compareAndSet(null, null); // links the access now, not first under a full heap
        source.activate();
    }

    /**
     * {@return the next loop, round-robin, or null where there are none (no epoll: macOS)}
     *
     * @throws UncheckedIOException if that loop cannot be made (out of fds), naming the call and errno; the
     *         next call tries again
     */
    static ChannelLoop next() {
        if (unavailable) {
            return null;
        }
        int i = Math.floorMod(NEXT.getAndIncrement(), LOOPS.length());
        ChannelLoop loop = LOOPS.get(i);
        return loop != null ? loop : create(i);
    }

    private static ChannelLoop create(int i) {
        synchronized (LOCK) {
            ChannelLoop loop = LOOPS.get(i);
            if (loop != null || unavailable) {
                return loop;
            }
            int[] fds = new int[2];
            int rc = LoopNative.jd_loop_create(fds);
            if (rc < 0) {
                if (JDispatchNative.jd_errno_is_exhaustion(-rc) == 0) {
                    unavailable = true;
                    return null;
                }
                throw new UncheckedIOException(new IOException("DispatchChannel: jd_loop_create (epoll_create1, "
                        + "eventfd) for loop " + i + ": " + JDispatchNative.jd_errno_text(-rc)));
            }
            try {
                loop = new ChannelLoop(i, fds[0], fds[1]);
            } catch (RuntimeException | Error e) {
                LoopNative.jd_loop_close(fds[0], fds[1]);
                throw e;
            }
            LOOPS.set(i, loop);
            return loop;
        }
    }

    /**
     * Registers a connection for every later event (edge-triggered: the first event reports what is ready now)
     * under a {@link Handles} id, which epoll hands back with each event (never {@code JD_LOOP_WAKE_ID}: ids
     * start at 2^26), so an event finds its channel without allocating, and a stale one finds nothing.
     *
     * @return the registration's id, for {@link #deregister}
     * @throws UncheckedIOException if epoll refuses the fd (the channel is then in no set)
     */
    long register(DispatchChannel channel, int fd) {
        long id = Handles.register(channel);
        int rc = LoopNative.jd_loop_add(epfd, fd, id);
        if (rc < 0) {
            Handles.remove(id);
            throw new UncheckedIOException(new IOException("DispatchChannel: jd_loop_add (epoll_ctl EPOLL_CTL_ADD) of fd "
                    + fd + ": " + JDispatchNative.jd_errno_text(-rc)));
        }
        return id;
    }

    /**
     * Gives a channel a turn on the loop's queue, from any thread, allocating nothing: there {@code
     * DispatchChannel.loopTurn} runs (its first read after {@code activate}: edges that came before it were not
     * read, and an edge is reported once; or its deregistration and close). A channel already waiting for a
     * turn is not added twice.
     */
    void turn(DispatchChannel channel) {
        if (!channel.claimTurn()) {
            return;
        }
        DispatchChannel head;
        do {
            head = turns.get();
            channel.nextTurn = head;
        } while (!turns.compareAndSet(head, channel));
        if (polling != Thread.currentThread()) {
            LoopNative.jd_loop_wake(wakefd); // cannot fail on a live eventfd: the count cannot overflow here
        }
    }

    /** Removes a connection from the set; on the loop's queue only, before its channel is closed. */
    void deregister(long id, int fd) {
        LoopNative.jd_loop_del(epfd, fd); // ENOENT if it was never added: nothing to remove
        Handles.remove(id);
    }

    /** The READ source's handler: serves every ready connection, a batch at a time, until none is ready. */
    private void poll() {
        polling = Thread.currentThread();
        try {
            int n;
            do {
                n = LoopNative.jd_loop_wait(epfd, wakefd, eventsAddress, LoopNative.BATCH);
                for (int i = 0; i < n; i++) {
                    long id = events.getLong(16 * i);
                    if (id != LoopNative.WAKE_ID && Handles.get(id) instanceof DispatchChannel c) {
                        c.loopEvent((int) events.getLong(16 * i + 8));
                    }
                }
                drainTurns();
                if (n < 0) {
                    Dispatch.reportException(new IOException("DispatchChannel: jd_loop_wait (epoll_wait) on loop "
                            + queue.getLabel() + ": " + JDispatchNative.jd_errno_text(-n)));
                }
            } while (n == LoopNative.BATCH);
        } finally {
            polling = null;
        }
        drainTurns(); // what was handed over between the last drain and clearing `polling` (no wake-up came)
    }

    private void drainTurns() {
        DispatchChannel c = turns.getAndSet(null);
        while (c != null) {
            DispatchChannel next = c.nextTurn;
            c.nextTurn = null;
            try {
                c.loopTurn(); // releases its claim first: a turn asked during this one is another turn
            } catch (Throwable t) {
                Dispatch.reportException(t); // the other channels of the list still get their turn
            }
            c = next;
        }
    }
}
