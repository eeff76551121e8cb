package io.jdispatch.bench.http;

import io.jdispatch.DispatchQueue;

import java.io.IOException;

/**
 * One benchmark server in its own JVM: {@code HttpServerMain jdispatch|jdispatch-sources|netty|nio [port]}
 * ({@code jdispatch}: connections made without a queue, the default, served by DispatchChannel's loops, one
 * edge-triggered epoll set per core; {@code jdispatch-sources}: each connection has a READ and a WRITE source
 * on a serial queue of its own that targets the default global queue). It prints
 * {@code LISTENING <port>} once it accepts, and serves until its standard input ends (the driver closes it).
 */
public final class HttpServerMain {
    private HttpServerMain() {}

    /** A running server and the port it listens on. */
    public record Started(AutoCloseable server, int port) {}

    /**
     * Starts one of the Java servers on 127.0.0.1.
     *
     * @param kind jdispatch, jdispatch-sources, netty or nio
     * @param port the port, or 0 for any free one
     * @return the server, serving
     * @throws Exception if it cannot bind
     */
    public static Started start(String kind, int port) throws Exception {
        switch (kind) {
            case "jdispatch" -> {
                JDispatchHttpServer s = new JDispatchHttpServer(port); // the default: the loops
                return new Started(s, s.port());
            }
            case "jdispatch-sources" -> {
                JDispatchHttpServer s = new JDispatchHttpServer(port, DispatchQueue.global());
                return new Started(s, s.port());
            }
            case "netty" -> {
                NettyHttpServer s = new NettyHttpServer(port);
                return new Started(s, s.port());
            }
            case "nio" -> {
                NioHttpServer s = new NioHttpServer(port);
                return new Started(s, s.port());
            }
            default -> throw new IllegalArgumentException("HttpServerMain: server kind '" + kind
                    + "' is not one of jdispatch, jdispatch-sources, netty, nio");
        }
    }

    public static void main(String[] args) throws Exception {
        Started s = start(args.length > 0 ? args[0] : "jdispatch", args.length > 1 ? Integer.parseInt(args[1]) : 0);
        System.out.println("LISTENING " + s.port());
        System.out.flush();
        try {
            while (System.in.read() >= 0) {
                // the driver never writes; this only waits for the end of the stream
            }
        } catch (IOException ignored) {
            // the driver went away: stop as if it closed the stream
        }
        s.server().close();
        System.exit(0);
    }
}
