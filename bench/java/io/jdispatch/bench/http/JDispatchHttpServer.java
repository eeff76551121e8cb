package io.jdispatch.bench.http;

import io.jdispatch.DispatchChannel;
import io.jdispatch.DispatchQueue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;

/**
 * The example: an HTTP/1.1 keep-alive server on {@link DispatchChannel}. Its connections are created without
 * a queue (the default: DispatchChannel's loops), or each with a serial queue of its own targeting one of
 * {@code targets} in turn.
 * Everything a socket server must get right (reading to EAGAIN, backpressure, closing after the cancel
 * handlers) is the adapter's; this class only frames requests and answers them.
 */
public final class JDispatchHttpServer implements AutoCloseable {
    private final DispatchChannel listener;
    private final int port;

    /**
     * Starts serving.
     *
     * @param port the TCP port on 127.0.0.1, or 0 for any free one
     * @param targets the queues the connections are created with, dealt out round-robin; none: the default
     *                (DispatchChannel's loops)
     * @throws IOException if the port cannot be bound
     */
    public JDispatchHttpServer(int port, DispatchQueue... targets) throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress("127.0.0.1", port), 4096);
        this.port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        listener = DispatchChannel.create(server, null);
        int[] next = {0}; // the accept handler runs on the listener's serial queue only
        listener.setAcceptHandler(connection -> {
            connection.setOption(StandardSocketOptions.TCP_NODELAY, true);
            DispatchChannel c = DispatchChannel.create(connection,
                    targets.length == 0 ? null : targets[next[0]++ % targets.length]);
            Http11.Framer framer = new Http11.Framer();
            c.setReadHandler((ch, bytes) -> {
                for (int n = framer.requests(bytes); n > 0; n -= Http11.BATCH) {
                    ch.write(Http11.responses(Math.min(n, Http11.BATCH)));
                }
            });
            c.setErrorHandler((ch, e) -> { });   // a client that resets is ordinary here; the adapter closes it
            c.activate();
        });
        listener.activate();
    }

    /** @return the port it listens on */
    public int port() {
        return port;
    }

    /** Stops accepting; the listener's channel is closed once its source is cancelled. */
    @Override
    public void close() {
        listener.close();
    }
}
