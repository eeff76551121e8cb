package io.jdispatch.bench.http;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.BufferedReader;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP benchmark's servers answer alike, so that the benchmark compares transports and nothing else: every
 * request on a kept-alive connection gets exactly one response, in order, whether requests arrive one at a
 * time, pipelined beyond one write's batch, cut into single bytes, or from many connections at once. The
 * Java servers run in this JVM; the C floor (target/native/http_floor) as a child process.
 */
class HttpServersTest {
    private static final byte[] REQUEST = "GET / HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    private static final Path C_FLOOR = Path.of("target/native/http_floor");

    @ParameterizedTest
    @ValueSource(strings = {"jdispatch", "jdispatch-sources", "netty", "nio", "c-libdispatch"})
    void everyRequestGetsOneResponseInOrder(String kind) throws Exception {
        try (Running server = Running.start(kind)) {
            try (Socket s = connect(server.port)) {
                // Sequential keep-alive requests.
                for (int i = 0; i < 500; i++) {
                    s.getOutputStream().write(REQUEST);
                    expectResponses(s.getInputStream(), 1);
                }
                // Pipelined: more than one write's batch of responses (Http11.BATCH) in one read.
                int pipelined = Http11.BATCH * 3 + 5;
                byte[] many = new byte[REQUEST.length * pipelined];
                for (int i = 0; i < pipelined; i++) {
                    System.arraycopy(REQUEST, 0, many, i * REQUEST.length, REQUEST.length);
                }
                s.getOutputStream().write(many);
                expectResponses(s.getInputStream(), pipelined);
                // One request cut into single bytes: the framer keeps its place between reads.
                OutputStream out = s.getOutputStream();
                for (byte b : REQUEST) {
                    out.write(b);
                    out.flush();
                }
                expectResponses(s.getInputStream(), 1);
                // Nothing more than what was asked for.
                s.setSoTimeout(300);
                assertEquals(-1, readOrTimeout(s.getInputStream()), kind + " sent bytes nobody asked for");
            }
            // Many connections at once, each with its own keep-alive exchange.
            ExecutorService clients = Executors.newFixedThreadPool(16);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int c = 0; c < 64; c++) {
                    done.add(clients.submit(() -> {
                        try (Socket s = connect(server.port)) {
                            for (int i = 0; i < 50; i++) {
                                s.getOutputStream().write(REQUEST);
                                expectResponses(s.getInputStream(), 1);
                            }
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(60, TimeUnit.SECONDS);
                }
            } finally {
                clients.shutdownNow();
            }
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setTcpNoDelay(true);
        s.setSoTimeout(30_000);
        return s;
    }

    private static void expectResponses(InputStream in, int n) throws IOException {
        byte[] got = new byte[Http11.RESPONSE.length * n];
        new DataInputStream(in).readFully(got);
        for (int i = 0; i < n; i++) {
            assertArrayEquals(Http11.RESPONSE, Arrays.copyOfRange(got, i * Http11.RESPONSE.length,
                    (i + 1) * Http11.RESPONSE.length), "response " + i + " of " + n);
        }
    }

    /** -1 if nothing arrives within the socket's timeout, else the byte that did. */
    private static int readOrTimeout(InputStream in) throws IOException {
        try {
            return in.read();
        } catch (java.net.SocketTimeoutException e) {
            return -1;
        }
    }

    /** A server of one kind: in this JVM, or the C floor in a child process. */
    private record Running(AutoCloseable server, Process process, int port) implements AutoCloseable {
        static Running start(String kind) throws Exception {
            if (!kind.equals("c-libdispatch")) {
                HttpServerMain.Started s = HttpServerMain.start(kind, 0);
                return new Running(s.server(), null, s.port());
            }
            assertTrue(Files.isExecutable(C_FLOOR), C_FLOOR + " is built with the C tests; it is missing");
            Process p = new ProcessBuilder(C_FLOOR.toString(), "0").redirectErrorStream(true).start();
            String line = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII)).readLine();
            assertTrue(line != null && line.startsWith("LISTENING "), "http_floor printed " + line);
            return new Running(null, p, Integer.parseInt(line.substring(10).trim()));
        }

        @Override
        public void close() throws Exception {
            if (server != null) {
                server.close();
            }
            if (process != null) {
                process.getOutputStream().close(); // it serves until its standard input ends
                assertTrue(process.waitFor(30, TimeUnit.SECONDS), "http_floor did not exit");
                assertEquals(0, process.exitValue(), "http_floor's exit code");
            }
        }
    }
}
