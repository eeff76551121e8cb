package io.jdispatch.bench.http;

import io.jdispatch.DispatchQueue;

import java.io.IOException;

/**
 * One benchmark server in its own JVM: {@code HttpServerMain jdispatch|netty|nio [port]}. It prints
 * {@code LISTENING <port>} once it accepts, and serves until its standard input ends (the driver closes it).
 */
public final class HttpServerMain {
    private HttpServerMain() {}

    /** The servers the benchmark compares, in the report's order. */
    static final String[] KINDS = {"jdispatch", "netty", "nio"};

    public static void main(String[] args) throws Exception {
        String kind = args.length > 0 ? args[0] : "jdispatch";
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 0;
        AutoCloseable server;
        int bound;
        switch (kind) {
            case "jdispatch" -> {
                JDispatchHttpServer s = new JDispatchHttpServer(port, DispatchQueue.global());
                server = s;
                bound = s.port();
            }
            case "netty" -> {
                NettyHttpServer s = new NettyHttpServer(port);
                server = s;
                bound = s.port();
            }
            case "nio" -> {
                NioHttpServer s = new NioHttpServer(port);
                server = s;
                bound = s.port();
            }
            default -> throw new IllegalArgumentException("HttpServerMain: server kind '" + kind
                    + "' is not one of jdispatch, netty, nio");
        }
        System.out.println("LISTENING " + bound);
        System.out.flush();
        try {
            while (System.in.read() >= 0) {
                // the driver never writes; this only waits for the end of the stream
            }
        } catch (IOException ignored) {
            // the driver went away: stop as if it closed the stream
        }
        server.close();
        System.exit(0);
    }
}
