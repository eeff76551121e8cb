package io.jdispatch;

import io.jdispatch.testutil.ChildJvm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link DispatchChannel}: connections that end in any way (a reset with a request half read, an ordinary
 * close, a handler that throws, a close from another thread) leave no fd open, the channel is closed once and
 * only after both sources' cancel handlers, and backpressure keeps what is queued bounded. Judged by counts:
 * fd counts are retried until they are back at the baseline (up to 60 s), never read once.
 */
class DispatchChannelTest {
    private static final long WAIT_S = 60;

    /**
     * What the server's connections are created with: here a queue, so each has a READ and a WRITE source of
     * its own; {@link DispatchChannelLoopTest} runs every test again with null, the default: the loops.
     */
    DispatchQueue connectionQueue() {
        return DispatchQueue.global();
    }

    /** What a closed connection counted as run before it closed: its two cancel handlers, or a loop's one turn. */
    private int cancelsBeforeClose() {
        return connectionQueue() == null ? 1 : 2;
    }

    /** A request cut short: the first 7 bytes of an HTTP request line (the bug report's 7 unread bytes). */
    private static final byte[] PARTIAL_REQUEST = "GET / H".getBytes(StandardCharsets.US_ASCII);

    @Test
    void connectionsResetMidRequestLeaveNoSocketOpen() throws Exception {
        int connections = 2_000;
        // The handler waits for a whole request that never comes: only the adapter's own reads see the reset.
        try (Server server = Server.start(connectionQueue(),
                c -> c.setReadHandler((ch, bytes) -> bytes.position(bytes.limit())))) {
            long baseline = openSockets();
            resetMidRequest(server, connections);
            awaitSocketsAtMost(baseline, () -> "after " + connections + " resets, closed " + server.closed);
            assertEquals(connections, server.closed.get(), "close handlers");
            server.errors.forEach(e -> assertTrue(e instanceof IOException, "a reset is an IOException: " + e));
        }
    }

    /** Opens {@code connections} connections that each send a partial request and reset; waits for their accepts. */
    private static void resetMidRequest(Server server, int connections) throws Exception {
        for (int i = 0; i < connections; i++) {
            try (Socket s = new Socket()) {
                s.connect(server.address);
                s.getOutputStream().write(PARTIAL_REQUEST);
                s.setSoLinger(true, 0); // close sends RST
            }
        }
        await(() -> server.accepted.get() == connections, () -> "accepted " + server.accepted);
    }

    @Test
    void tenThousandConnectCloseCyclesLeaveNoSocketOpen() throws Exception {
        int cycles = 10_000;
        try (Server server = Server.start(connectionQueue(), Server::echo)) {
            long baseline = openSockets();
            for (int i = 0; i < cycles; i++) {
                new Socket(server.address.getAddress(), server.address.getPort()).close();
            }
            await(() -> server.accepted.get() == cycles, () -> "accepted " + server.accepted);
            awaitSocketsAtMost(baseline, () -> "after " + cycles + " cycles, closed " + server.closed);
            assertEquals(cycles, server.closed.get(), "close handlers");
            assertTrue(server.errors.isEmpty(), "an ordinary close is no error: " + server.errors.peek());
        }
    }

    @Test
    void aSlowReaderIsServedInOrderWithBoundedQueuedBytes() throws Exception {
        long total = 8L << 20;
        int chunk = 64 << 10;
        AtomicReference<DispatchChannel> conn = new AtomicReference<>();
        AtomicLong maxQueued = new AtomicLong();
        AtomicInteger writeHandlerCalls = new AtomicInteger();
        try (Server server = Server.start(connectionQueue(), c -> {
            conn.set(c);
            Producer producer = new Producer(total, chunk, maxQueued);
            c.setWriteHandler(ch -> {
                writeHandlerCalls.incrementAndGet();
                producer.produce(ch);
            });
            try {
                producer.produce(c); // write() may be called from any thread; the producer serializes itself
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        })) {
            try (Socket client = new Socket()) {
                client.setReceiveBufferSize(8192); // before connect: a small window
                client.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_S)); // lost bytes fail, they do not hang
                client.connect(server.address);
                InputStream in = client.getInputStream();
                byte[] buf = new byte[4096];
                long received = 0;
                int n;
                while (received < total && (n = in.read(buf)) >= 0) {
                    for (int i = 0; i < n; i++, received++) {
                        if (buf[i] != Producer.patternAt(received)) {
                            throw new AssertionError("byte " + received + " out of order");
                        }
                    }
                    Thread.sleep(1); // the slow reader
                }
                assertEquals(total, received, "bytes received");
                // All written, nothing queued: an idle connection whose WRITE source must stay suspended.
                Thread.sleep(100);
                conn.get().close();
                assertEquals(-1, in.read(buf), "end of stream after close()");
            }
            await(() -> server.closed.get() == 1, () -> "closed " + server.closed);
        }
        assertTrue(writeHandlerCalls.get() > 0, "backpressure never engaged: the slow reader was not slow");
        assertTrue(maxQueued.get() <= chunk, "queued bytes peaked at " + maxQueued + ", more than one chunk of " + chunk);
        assertEquals(0, conn.get().getWriteEventsWithNothingPending(),
                "the WRITE source fired with nothing queued: it was not suspended once drained");
    }

    /**
     * Writes a pattern in chunks, the next chunk only once the previous one is written (the write handler),
     * and leaves the connection open.
     */
    private static final class Producer {
        private final long total;
        private final int chunk;
        private final AtomicLong maxQueued;
        private long next;

        Producer(long total, int chunk, AtomicLong maxQueued) {
            this.total = total;
            this.chunk = chunk;
            this.maxQueued = maxQueued;
        }

        static byte patternAt(long i) {
            return (byte) (i % 251);
        }

        synchronized void produce(DispatchChannel c) throws IOException {
            while (next < total) {
                ByteBuffer b = ByteBuffer.allocate((int) Math.min(chunk, total - next));
                while (b.hasRemaining()) {
                    b.put(patternAt(next++));
                }
                long queued = c.write(b.flip());
                maxQueued.accumulateAndGet(queued, Math::max);
                if (queued > 0) {
                    return; // the write handler calls again once it is written
                }
            }
        }
    }

    @Test
    void closeAndCancelFromOtherThreadsWhileEventsAreInFlightCloseTheChannelOnceAfterBothCancelHandlers()
            throws Exception {
        int connections = 200;
        Map<DispatchChannel, AtomicInteger> closeHandlerRuns = new ConcurrentHashMap<>();
        AtomicInteger openInCloseHandler = new AtomicInteger();
        try (Server server = Server.start(connectionQueue(), c -> {
            closeHandlerRuns.put(c, new AtomicInteger());
            Server.echo(c);
        }, c -> {
            closeHandlerRuns.get(c).incrementAndGet();
            if (c.getChannel().isOpen()) {
                openInCloseHandler.incrementAndGet();
            }
        })) {
            long baseline = openSockets();
            List<SocketChannel> clients = new ArrayList<>();
            byte[] flood = new byte[64 << 10];
            for (int i = 0; i < connections; i++) {
                SocketChannel client = SocketChannel.open(server.address);
                client.configureBlocking(false);
                client.write(ByteBuffer.wrap(flood)); // the echo is not read: the server's writes queue up
                clients.add(client);
            }
            await(() -> server.connections.size() == connections, () -> "accepted " + server.connections.size());
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            threads.add(new Thread(() -> each(start, server.connections, DispatchChannel::close)));
            threads.add(new Thread(() -> each(start, server.connections, DispatchChannel::cancel)));
            threads.add(new Thread(() -> each(start, server.connections, c -> {
                try {
                    c.write(ByteBuffer.wrap(flood));
                } catch (ClosedChannelException expected) {
                    // the other threads got there first
                }
            })));
            threads.add(new Thread(() -> {
                awaitQuietly(start);
                for (SocketChannel client : clients) { // more events in flight: bytes and hangups
                    try {
                        client.write(ByteBuffer.wrap(flood));
                    } catch (IOException ignored) {
                        // the server closed it already
                    }
                }
            }));
            threads.forEach(Thread::start);
            start.countDown();
            for (Thread t : threads) {
                t.join();
            }
            await(() -> server.closed.get() == connections, () -> "closed " + server.closed);
            assertEquals(0, openInCloseHandler.get(), "close handlers that ran with the channel still open");
            for (DispatchChannel c : server.connections) {
                assertEquals(1, c.getChannelCloseCount(), c + ": channel closes");
                assertEquals(cancelsBeforeClose(), c.getCancelHandlersRunAtChannelClose(),
                        c + ": cancel handlers run before the close");
                assertEquals(1, closeHandlerRuns.get(c).get(), c + ": close handler runs");
                assertThrows(ClosedChannelException.class, () -> c.write(ByteBuffer.allocate(1)));
            }
            for (SocketChannel client : clients) {
                client.close();
            }
            awaitSocketsAtMost(baseline, () -> "after closing " + connections);
        }
    }

    private static void each(CountDownLatch start, Queue<DispatchChannel> connections,
                             ThrowingConsumer<DispatchChannel> action) {
        awaitQuietly(start);
        for (DispatchChannel c : connections) {
            try {
                action.accept(c);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private interface ThrowingConsumer<T> {
        void accept(T t) throws IOException;
    }

    @Test
    void adaptersClosedBeforeActivationOrActivatedAfterTheResetLeaveNoSocketOpen() throws Exception {
        int connections = 200;
        try (Server server = Server.startInactive(connectionQueue(),
                c -> c.setReadHandler((ch, bytes) -> bytes.position(bytes.limit())))) {
            long baseline = openSockets();
            resetMidRequest(server, connections);
            // Every reset came before its adapter was activated: an edge-triggered event that was not read then
            // is never reported again, so activate() itself must read to the end.
            int i = 0;
            for (DispatchChannel c : server.connections) {
                if (i++ % 2 == 0) {
                    c.close();
                } else {
                    c.activate();
                }
            }
            awaitSocketsAtMost(baseline, () -> "after " + connections + " resets, closed " + server.closed);
            assertEquals(connections, server.closed.get(), "close handlers");
        }
    }

    @Test
    void aPeerThatKeepsItsConnectionFullDoesNotStarveTheOthers() throws Exception {
        // A slow read handler on the flooded connection keeps its socket full, so each of its reads fills the
        // buffer. On a loop, the other connections are served in between only if its turn is capped: enough
        // other connections share the flooder's loop whatever the core count.
        int others = 2 * Runtime.getRuntime().availableProcessors();
        int roundTrips = 50;
        try (Server server = Server.start(connectionQueue(), c -> c.setReadHandler((ch, bytes) -> {
            if (bytes.get(bytes.position()) == 'F') {
                for (long end = System.nanoTime() + 50_000; System.nanoTime() < end; ) {
                    Thread.onSpinWait(); // 50 us of work per read: slower than the flooder writes
                }
                bytes.position(bytes.limit());
            } else {
                ch.write(bytes);
            }
        }));
             Socket flooder = new Socket()) {
            flooder.connect(server.address);
            Thread flood = new Thread(() -> {
                byte[] f = new byte[64 << 10];
                java.util.Arrays.fill(f, (byte) 'F');
                try {
                    OutputStream out = flooder.getOutputStream();
                    while (true) {
                        out.write(f);
                    }
                } catch (IOException closed) {
                    // the test closed the flooder
                }
            });
            flood.start();
            await(() -> server.accepted.get() == 1, () -> "accepted " + server.accepted);
            List<Socket> clients = new ArrayList<>();
            try {
                for (int i = 0; i < others; i++) {
                    Socket s = new Socket();
                    clients.add(s);
                    s.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_S)); // a starved connection fails here
                    s.connect(server.address);
                }
                byte[] request = new byte[100];
                java.util.Arrays.fill(request, (byte) 'E');
                byte[] reply = new byte[request.length];
                for (int r = 0; r < roundTrips; r++) {
                    for (Socket s : clients) {
                        s.getOutputStream().write(request);
                        new java.io.DataInputStream(s.getInputStream()).readFully(reply);
                        assertArrayEquals(request, reply, "echo");
                    }
                }
            } finally {
                flooder.close();
                for (Socket s : clients) {
                    s.close();
                }
                flood.join();
            }
            await(() -> server.closed.get() == others + 1, () -> "closed " + server.closed);
        }
    }

    @Test
    void badInputIsRefusedNamingTheCallAndTheRule() throws Exception {
        try (SocketChannel unconnected = SocketChannel.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DispatchChannel.create(unconnected, null));
            assertTrue(e.getMessage().startsWith("DispatchChannel.create: ") && e.getMessage().contains("not connected"),
                    e.getMessage());
        }
        try (DatagramChannel unconnected = DatagramChannel.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DispatchChannel.create(unconnected, null));
            assertTrue(e.getMessage().startsWith("DispatchChannel.create: ") && e.getMessage().contains("not connected"),
                    e.getMessage());
            assertTrue(unconnected.isOpen() && unconnected.isBlocking(), "a refused channel is left as it was");
        }
        try (ServerSocketChannel listener = ServerSocketChannel.open()) {
            listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            DispatchChannel owner = DispatchChannel.create(listener, null);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> DispatchChannel.create(listener, null));
            assertTrue(e.getMessage().contains("already belongs to a DispatchChannel"), e.getMessage());
            IllegalStateException w = assertThrows(IllegalStateException.class, () -> owner.write(ByteBuffer.allocate(1)));
            assertTrue(w.getMessage().startsWith("DispatchChannel.write: "), w.getMessage());
            CountDownLatch closed = new CountDownLatch(1);
            owner.setCloseHandler(c -> closed.countDown());
            owner.close(); // never activated: the cancel handler still runs, then the channel closes
            assertTrue(closed.await(WAIT_S, TimeUnit.SECONDS), "close handler of an inactive adapter");
            assertFalse(listener.isOpen());
            assertEquals(1, owner.getCancelHandlersRunAtChannelClose());
        }
    }

    // ---- callbacks that throw, in a child JVM (a crash fails the test) ------------------------------------

    enum Failure { RUNTIME, OOM, SOE }

    @ParameterizedTest
    @EnumSource(Failure.class)
    void aThrowingCallbackClosesItsConnectionAndTheServerKeepsServing(Failure failure, @TempDir Path home)
            throws Exception {
        ChildJvm.Result r = ChildJvm.run(home, List.of("-cp", System.getProperty("java.class.path")),
                ThrowingCallbacks.class.getName(), failure.name(), connectionQueue() == null ? "loops" : "global");
        assertEquals(0, r.exitCode(), r.output());
        for (String kind : ThrowingCallbacks.KINDS) {
            assertTrue(r.output().contains("ok " + kind + "\n"), kind + " did not pass: " + r.output());
        }
    }

    /**
     * The child JVM: for each callback kind, a server whose callback throws the given failure on the first
     * connection; that connection must end (the client sees EOF or a reset), the throwable must be reported,
     * and a second connection must still get its echo. Prints "ok KIND" or "FAIL KIND: why".
     */
    public static final class ThrowingCallbacks {
        static final List<String> KINDS = List.of("accept", "read", "write", "close", "error");
        private static final AtomicReference<Throwable> UNCAUGHT = new AtomicReference<>();
        private static final Queue<DispatchChannel> SERVER_SIDE = new ConcurrentLinkedQueue<>();
        private static DispatchQueue connectionQueue; // null: the loops

        private ThrowingCallbacks() {}

        public static void main(String[] args) throws Exception {
            Failure failure = Failure.valueOf(args[0]);
            connectionQueue = args[1].equals("loops") ? null : DispatchQueue.global();
            Dispatch.setUncaughtExceptionHandler((thread, e) -> UNCAUGHT.compareAndSet(null, e));
            int failed = 0;
            for (String kind : KINDS) {
                UNCAUGHT.set(null);
                try {
                    run(kind, failure);
                    System.out.println("ok " + kind);
                } catch (Throwable t) {
                    failed++;
                    System.out.println("FAIL " + kind + ": " + t);
                    t.printStackTrace(System.out);
                }
            }
            System.exit(failed == 0 ? 0 : 1);
        }

        private static void fail(Failure failure) {
            switch (failure) {
                case RUNTIME -> throw new IllegalStateException("thrown by the callback");
                case OOM -> throw new OutOfMemoryError("thrown by the callback");
                case SOE -> recurse(0);
            }
        }

        private static long recurse(long depth) {
            return recurse(depth + 1) + 1;
        }

        private static boolean isTheFailure(Throwable t, Failure failure) {
            return switch (failure) {
                case RUNTIME -> t instanceof IllegalStateException;
                case OOM -> t instanceof OutOfMemoryError;
                case SOE -> t instanceof StackOverflowError;
            };
        }

        private static void run(String kind, Failure failure) throws Exception {
            AtomicInteger accepts = new AtomicInteger();
            Queue<Throwable> reported = new ConcurrentLinkedQueue<>();
            // The listener's adapter owns ssc and closes it: closing it here, while its READ source may still
            // be registered, would let the next run's sockets reuse the fd number under that registration.
            ServerSocketChannel ssc = ServerSocketChannel.open();
            {
                ssc.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                InetSocketAddress address = (InetSocketAddress) ssc.getLocalAddress();
                DispatchChannel listener = DispatchChannel.create(ssc, null);
                CountDownLatch listenerClosed = new CountDownLatch(1);
                listener.setCloseHandler(c -> listenerClosed.countDown());
                listener.setErrorHandler((c, e) -> reported.add(e));
                listener.setAcceptHandler(accepted -> {
                    boolean first = accepts.incrementAndGet() == 1;
                    DispatchChannel c = DispatchChannel.create(accepted, connectionQueue);
                    SERVER_SIDE.add(c);
                    c.setErrorHandler((ch, e) -> {
                        if (kind.equals("error") && first) {
                            fail(failure);
                        }
                        reported.add(e);
                    });
                    c.setReadHandler((ch, bytes) -> {
                        String text = StandardCharsets.US_ASCII.decode(bytes.duplicate()).toString();
                        if (first && (kind.equals("read") || kind.equals("error"))) {
                            if (kind.equals("read")) {
                                fail(failure);
                            }
                            throw new IOException("the read handler refuses " + text);
                        }
                        if (first && kind.equals("write")) {
                            // Until some bytes are queued: the client drains meanwhile, so even 32 MiB can go out
                            // within this call, and then the write handler (it runs once queued bytes are written)
                            // would never be called (seen: 1 run in 6).
                            while (ch.write(ByteBuffer.allocate(1 << 20)) == 0) {
                                // all of it went out at once
                            }
                            return;
                        }
                        if (first && kind.equals("close")) {
                            ch.close();
                            return;
                        }
                        ch.write(bytes);
                    });
                    c.setWriteHandler(ch -> {
                        if (kind.equals("write") && first) {
                            fail(failure);
                        }
                    });
                    c.setCloseHandler(ch -> {
                        if (kind.equals("close") && first) {
                            fail(failure);
                        }
                    });
                    c.activate();
                    if (kind.equals("accept") && first) {
                        fail(failure); // after the adapter took the connection: the listener cancels it
                    }
                });
                listener.activate();

                try (Socket first = new Socket(address.getAddress(), address.getPort())) {
                    first.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_S));
                    first.getOutputStream().write("boom".getBytes(StandardCharsets.US_ASCII));
                    drainUntilClosed(first.getInputStream());
                }
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
                while (System.nanoTime() < end && !reportedIn(kind, failure, reported)) {
                    Thread.sleep(1);
                }
                if (!reportedIn(kind, failure, reported)) {
                    System.out.println("server connections: " + SERVER_SIDE);
                    throw new AssertionError("not reported: handler saw " + reported + ", uncaught " + UNCAUGHT.get());
                }
                try (Socket second = new Socket(address.getAddress(), address.getPort())) {
                    second.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_S));
                    OutputStream out = second.getOutputStream();
                    out.write("ping".getBytes(StandardCharsets.US_ASCII));
                    byte[] echo = second.getInputStream().readNBytes(4);
                    assertArrayEquals("ping".getBytes(StandardCharsets.US_ASCII), echo, "the echo of the next connection");
                }
                listener.close();
                if (!listenerClosed.await(WAIT_S, TimeUnit.SECONDS) || ssc.isOpen()) {
                    throw new AssertionError("the listener was not closed after " + WAIT_S + " s");
                }
            }
        }

        private static boolean reportedIn(String kind, Failure failure, Queue<Throwable> reported) {
            if (kind.equals("error")) { // the error handler itself threw: Dispatch.reportException has it
                Throwable u = UNCAUGHT.get();
                return u != null && isTheFailure(u, failure);
            }
            return reported.stream().anyMatch(t -> isTheFailure(t, failure));
        }

        /** Reads until EOF or a reset; a read timeout means the server kept the connection open. */
        private static void drainUntilClosed(InputStream in) throws IOException {
            byte[] buf = new byte[64 << 10];
            try {
                while (in.read(buf) >= 0) {
                    // the write kind sends MiBs before it closes
                }
            } catch (SocketTimeoutException leak) {
                throw new AssertionError("the connection stayed open for " + WAIT_S + " s: " + SERVER_SIDE.stream()
                        .map(c -> c + " closes=" + c.getChannelCloseCount() + " cancels=" + c.getCancelHandlersRunAtChannelClose())
                        .toList());
            } catch (IOException reset) {
                // a reset closes it too
            }
        }
    }

    // ---- the server and the counts ------------------------------------------------------------------------

    /** A listener on 127.0.0.1 whose connections are created with {@code queue}, each set up by {@code setup}. */
    private static final class Server implements AutoCloseable {
        final ServerSocketChannel ssc;
        final DispatchChannel listener;
        final InetSocketAddress address;
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicInteger closed = new AtomicInteger();
        final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        final Queue<DispatchChannel> connections = new ConcurrentLinkedQueue<>();
        private final CountDownLatch listenerClosed = new CountDownLatch(1);

        private Server(DispatchQueue queue, Consumer<DispatchChannel> setup, Consumer<DispatchChannel> onClosed,
                       boolean activate) throws IOException {
            ssc = ServerSocketChannel.open();
            ssc.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
            address = (InetSocketAddress) ssc.getLocalAddress();
            listener = DispatchChannel.create(ssc, null);
            listener.setErrorHandler((c, e) -> errors.add(e));
            listener.setCloseHandler(c -> listenerClosed.countDown());
            listener.setAcceptHandler(accepted -> {
                DispatchChannel c = DispatchChannel.create(accepted, queue);
                c.setErrorHandler((ch, e) -> errors.add(e));
                c.setCloseHandler(ch -> {
                    onClosed.accept(ch);
                    closed.incrementAndGet();
                });
                setup.accept(c);
                connections.add(c);
                this.accepted.incrementAndGet();
                if (activate) {
                    c.activate();
                }
            });
            listener.activate();
        }

        static Server start(DispatchQueue queue, Consumer<DispatchChannel> setup) throws IOException {
            return new Server(queue, setup, c -> {}, true);
        }

        /** {@link #start(DispatchQueue, Consumer)} whose connections are left for the test to activate. */
        static Server startInactive(DispatchQueue queue, Consumer<DispatchChannel> setup) throws IOException {
            return new Server(queue, setup, c -> {}, false);
        }

        /** {@link #start(DispatchQueue, Consumer)}, also running {@code onClosed} in each connection's close handler. */
        static Server start(DispatchQueue queue, Consumer<DispatchChannel> setup, Consumer<DispatchChannel> onClosed)
                throws IOException {
            return new Server(queue, setup, onClosed, true);
        }

        /** An echo: writes back what it reads. */
        static void echo(DispatchChannel c) {
            c.setReadHandler(DispatchChannel::write);
        }

        @Override
        public void close() throws InterruptedException {
            listener.close();
            assertTrue(listenerClosed.await(WAIT_S, TimeUnit.SECONDS), "the listener's close handler");
        }
    }

    /**
     * This process's open sockets that are not Unix sockets: /proc/self/fd links "socket:[inode]" whose inode
     * is not in /proc/net/unix (the JVM opens a Unix datagram socket of its own at some point). Not "the inodes
     * in /proc/net/tcp": a reset connection leaves that table while its fd is still open.
     */
    static long openSockets() {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            java.util.Set<String> unix = new java.util.HashSet<>();
            for (String line : Files.readAllLines(Path.of("/proc/net/unix"))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 6) {
                    unix.add(f[6]); // the inode column
                }
            }
            return fds.filter(fd -> {
                try {
                    String link = Files.readSymbolicLink(fd).toString();
                    return link.startsWith("socket:[") && !unix.contains(link.substring(8, link.length() - 1));
                } catch (IOException closedSinceListed) {
                    return false;
                }
            }).count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void awaitSocketsAtMost(long max, java.util.function.Supplier<String> what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        long open;
        while ((open = openSockets()) > max && System.nanoTime() < end) {
            Thread.sleep(10);
        }
        assertTrue(open <= max, what.get() + ": " + open + " sockets open after " + WAIT_S + " s, baseline " + max
                + "; open now: " + describeSockets());
    }

    /** The open sockets with what /proc/net/tcp says of them (for the failure message). */
    private static String describeSockets() {
        StringBuilder sb = new StringBuilder();
        int shown = 0; // the first 20
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                String link;
                try {
                    link = Files.readSymbolicLink(fd).toString();
                } catch (IOException closedSinceListed) {
                    continue;
                }
                if (link.startsWith("socket:[") && shown++ < 20) {
                    String inode = link.substring(8, link.length() - 1);
                    sb.append("\n  fd ").append(fd.getFileName()).append(' ').append(link);
                    for (String table : List.of("tcp", "tcp6", "unix")) {
                        for (String line : Files.readAllLines(Path.of("/proc/net/" + table))) {
                            if (List.of(line.trim().split("\\s+")).contains(inode)) {
                                sb.append(" ").append(table).append(": ").append(line.trim());
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            sb.append(e);
        }
        return sb.toString();
    }

    private static void await(BooleanSupplier done, java.util.function.Supplier<String> what) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (!done.getAsBoolean() && System.nanoTime() < end) {
            Thread.sleep(1);
        }
        assertTrue(done.getAsBoolean(), what.get() + " after " + WAIT_S + " s");
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
