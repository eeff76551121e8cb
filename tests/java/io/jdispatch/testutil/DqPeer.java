package io.jdispatch.testutil;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The C data queue peer target/native/dq_peer (bench/native/dq_peer.c) in its fault-test modes, and the Java
 * side of its self-describing entries: entry n has 16 + (splitmix64(n) >>> 40) % 200 bytes: u64 n,
 * u64 splitmix64(n) (little endian), then byte i = (byte) (n * 131 + i * 7). A reader can tell where it
 * starts, and any torn, lost, duplicated or reordered entry fails {@link #check}.
 */
public final class DqPeer {
    public static final Path BINARY = Path.of("target/native/dq_peer").toAbsolutePath();

    private DqPeer() {}

    public static ProcessBuilder command(String... args) {
        if (!Files.isExecutable(BINARY)) {
            throw new IllegalStateException(BINARY + " missing: built by CMake from bench/native/dq_peer.c");
        }
        List<String> cmd = new ArrayList<>(List.of(BINARY.toString()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd);
    }

    /** A fresh path under /dev/shm for a region (and its FIFOs). */
    public static Path tempPath(String what) {
        return Path.of("/dev/shm", "jd-" + what + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
    }

    public static void deleteQueueFiles(Path path) throws IOException {
        for (String suffix : new String[] {"", ".avail", ".serviced"}) {
            Files.deleteIfExists(Path.of(path + suffix));
        }
    }

    public static long splitmix64(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static int sizeOf(long n) {
        return 16 + (int) Long.remainderUnsigned(splitmix64(n) >>> 40, 200);
    }

    public static void fill(ByteBuffer b, long n) {
        ByteBuffer le = b.slice().order(ByteOrder.LITTLE_ENDIAN);
        le.putLong(0, n).putLong(8, splitmix64(n));
        for (int i = 16; i < le.limit(); i++) {
            le.put(i, (byte) (n * 131 + i * 7));
        }
    }

    /** The entry's sequence number if it is entry `expected`, complete and intact; otherwise an AssertionError. */
    public static long check(ByteBuffer b, long expected) {
        ByteBuffer le = b.slice().order(ByteOrder.LITTLE_ENDIAN);
        long seq = le.limit() >= 16 ? le.getLong(0) : -1;
        if (seq != expected || le.limit() != sizeOf(expected) || le.getLong(8) != splitmix64(expected)) {
            throw new AssertionError("expected entry " + expected + " (" + sizeOf(expected) + " bytes), got " + le.limit()
                    + " bytes with sequence number " + seq);
        }
        for (int i = 16; i < le.limit(); i++) {
            if (le.get(i) != (byte) (expected * 131 + i * 7)) {
                throw new AssertionError("entry " + expected + " byte " + i + " is wrong: a torn entry");
            }
        }
        return seq;
    }
}
