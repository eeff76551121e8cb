package io.jdispatch.bench.http;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * What the three benchmark servers share, so that only the transport differs between them: a request
 * framer and the one response. Requests are GETs without a body (what wrk sends); a request ends at its
 * blank line. HTTP/1.1 keeps the connection open by default, and pipelined requests are answered in order.
 */
final class Http11 {
    private Http11() {}

    /** The response to every request: keep-alive (HTTP/1.1's default), with a length so it needs no close. */
    static final byte[] RESPONSE = ("HTTP/1.1 200 OK\r\n"
            + "Content-Type: text/plain\r\n"
            + "Content-Length: 13\r\n"
            + "\r\n"
            + "Hello, World!").getBytes(StandardCharsets.US_ASCII);

    /** The most responses one read answers with a single write; a longer pipeline takes several. */
    static final int BATCH = 64;

    /** BATCH responses back to back, read-only: a write of n responses is a slice of it. */
    static final ByteBuffer RESPONSES = responses();

    private static ByteBuffer responses() {
        ByteBuffer b = ByteBuffer.allocateDirect(RESPONSE.length * BATCH);
        for (int i = 0; i < BATCH; i++) {
            b.put(RESPONSE);
        }
        return b.flip().asReadOnlyBuffer();
    }

    /** n responses (n at most BATCH) as a fresh view: position 0, limit n responses. */
    static ByteBuffer responses(int n) {
        return RESPONSES.duplicate().limit(n * RESPONSE.length);
    }

    /** Finds request ends ("\r\n\r\n") in a byte stream that arrives in pieces; one per connection. */
    static final class Framer {
        // How much of "\r\n\r\n" the bytes seen so far end with (0-3).
        private int matched;

        /** Feeds one byte; true when it ends a request. */
        boolean end(byte c) {
            if (c == '\r') {
                matched = matched == 2 ? 3 : 1;
            } else if (c == '\n' && (matched == 1 || matched == 3)) {
                if (matched == 3) {
                    matched = 0;
                    return true;
                }
                matched = 2;
            } else {
                matched = 0;
            }
            return false;
        }

        /** Feeds the bytes between position and limit (the position is left alone); returns the requests ended. */
        int requests(ByteBuffer bytes) {
            int n = 0;
            for (int i = bytes.position(), end = bytes.limit(); i < end; i++) {
                if (end(bytes.get(i))) {
                    n++;
                }
            }
            return n;
        }
    }
}
