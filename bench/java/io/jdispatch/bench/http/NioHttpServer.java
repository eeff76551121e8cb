package io.jdispatch.bench.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The other baseline: the same server ({@link Http11}) on java.nio, one Selector thread per core; the first
 * also accepts and deals connections out round-robin.
 */
final class NioHttpServer implements AutoCloseable {
    private final ServerSocketChannel server;
    private final Loop[] loops;

    NioHttpServer(int port) throws IOException {
        server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress("127.0.0.1", port), 4096);
        server.configureBlocking(false);
        loops = new Loop[Runtime.getRuntime().availableProcessors()];
        for (int i = 0; i < loops.length; i++) {
            loops[i] = new Loop(i);
        }
        server.register(loops[0].selector, SelectionKey.OP_ACCEPT);
        for (Loop l : loops) {
            l.start();
        }
    }

    int port() throws IOException {
        return ((InetSocketAddress) server.getLocalAddress()).getPort();
    }

    /** Stops every loop; each closes its connections and its selector (the listener with the first). */
    @Override
    public void close() throws IOException {
        for (Loop l : loops) {
            l.interrupt();
            l.selector.wakeup();
        }
        try {
            for (Loop l : loops) {
                l.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.close();
    }

    /** One connection's state. */
    private static final class Conn {
        final Http11.Framer framer = new Http11.Framer();
        ByteBuffer pending;   // what a write could not send yet, or null
    }

    private final class Loop extends Thread {
        final Selector selector;
        final Queue<SocketChannel> handedOver = new ConcurrentLinkedQueue<>();
        final ByteBuffer in = ByteBuffer.allocateDirect(16 * 1024);
        int next;

        Loop(int i) throws IOException {
            super("nio-loop-" + i);
            setDaemon(true);
            selector = Selector.open();
        }

        @Override
        public void run() {
            try {
                while (!isInterrupted()) {
                    selector.select();
                    for (SocketChannel c; (c = handedOver.poll()) != null; ) {
                        c.register(selector, SelectionKey.OP_READ, new Conn());
                    }
                    for (SelectionKey k : selector.selectedKeys()) {
                        if (!k.isValid()) {
                            continue;
                        }
                        if (k.isAcceptable()) {
                            accept();
                        } else {
                            serve(k);
                        }
                    }
                    selector.selectedKeys().clear();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                for (SelectionKey k : selector.keys()) {
                    closeQuietly(k.channel());
                }
                for (SocketChannel c; (c = handedOver.poll()) != null; ) {
                    closeQuietly(c);
                }
                closeQuietly(selector);
            }
        }

        private static void closeQuietly(java.io.Closeable c) {
            try {
                c.close();
            } catch (IOException ignored) {
                // stopping: nothing more to do with it
            }
        }

        private void accept() throws IOException {
            for (SocketChannel c; (c = server.accept()) != null; ) {
                c.configureBlocking(false);
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                Loop to = loops[next++ % loops.length];
                to.handedOver.add(c);
                to.selector.wakeup();
            }
        }

        private void serve(SelectionKey k) {
            SocketChannel c = (SocketChannel) k.channel();
            Conn conn = (Conn) k.attachment();
            try {
                if (k.isWritable()) {
                    c.write(conn.pending);
                    if (!conn.pending.hasRemaining()) {
                        conn.pending = null;
                        k.interestOps(SelectionKey.OP_READ);
                    }
                }
                if (k.isReadable()) {
                    int n;
                    while ((n = c.read(in.clear())) > 0) {
                        answer(k, c, conn, conn.framer.requests(in.flip()));
                    }
                    if (n < 0) {
                        c.close();
                    }
                }
            } catch (IOException e) {
                closeQuietly(c); // the key goes with the channel
            }
        }

        private void answer(SelectionKey k, SocketChannel c, Conn conn, int requests) throws IOException {
            for (; requests > 0; requests -= Http11.BATCH) {
                ByteBuffer out = Http11.responses(Math.min(requests, Http11.BATCH));
                if (conn.pending == null) {
                    c.write(out);
                    if (!out.hasRemaining()) {
                        continue;
                    }
                    conn.pending = ByteBuffer.allocate(0);
                    k.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                }
                ByteBuffer grown = ByteBuffer.allocate(conn.pending.remaining() + out.remaining());
                conn.pending = grown.put(conn.pending).put(out).flip();
            }
        }
    }
}
