package io.jdispatch;

import io.jdispatch.testutil.DqPeer;

import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;

import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Who can reach a data queue: the region and FIFOs are owner-only and never reused; another user can neither
 * attach from C (dq_peer) nor through the Java API (a child JVM run as nobody), and is told why; one producer
 * and one consumer at a time. (A hostile peer's writes are covered by DataQueuePropertyTest and the libFuzzer
 * target tests/fuzz/fuzz_dataqueue.c; fds not leaking into children by tests/native/test_dataqueue_cloexec.c.)
 */
class DataQueueSecurityTest {
    private static final String NOBODY = "65534";

    @Test
    void regionAndFifosAreOwnerOnly() throws Exception {
        Path path = DqPeer.tempPath("modes");
        try (DispatchQueue queue = DispatchQueue.createSerial("security");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(4096, queue, path)) {
            for (String suffix : new String[] {"", ".avail", ".serviced"}) {
                Path p = Path.of(path + suffix);
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
            }
        }
    }

    @Test
    void createOverAnExistingPathFailsAndLeavesTheFileAlone() throws Exception {
        Path path = DqPeer.tempPath("exists");
        Files.writeString(path, "someone else's file");
        try (DispatchQueue queue = DispatchQueue.createSerial("security")) {
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> IODataQueueDispatchSource.create(4096, queue, path));
            assertTrue(e.getMessage().contains("EEXIST (File exists): the path exists"), e.getMessage());
            assertEquals("someone else's file", Files.readString(path));
            assertFalse(Files.exists(Path.of(path + ".avail")), "made no FIFO either");
            Files.delete(path);
            IODataQueueDispatchSource.create(4096, queue, path).close(); // the next valid call works
            assertFalse(Files.exists(path));
        } finally {
            DqPeer.deleteQueueFiles(path);
        }
    }

    @Test
    void oneProducerAndOneConsumerAtATime() throws Exception {
        Path path = DqPeer.tempPath("slots");
        try (DispatchQueue queue = DispatchQueue.createSerial("security");
             IODataQueueDispatchSource creator = IODataQueueDispatchSource.create(4096, queue, path)) {
            assertFalse(creator.isPeerAttached());
            try (IODataQueueDispatchSource peer = IODataQueueDispatchSource.attach(path, queue)) {
                assertTrue(creator.isPeerAttached());
                assertTrue(peer.isPeerAttached());
                UncheckedIOException e = assertThrows(UncheckedIOException.class,
                        () -> IODataQueueDispatchSource.attach(path, queue));
                assertTrue(e.getMessage().contains("EBUSY (Device or resource busy): a producer and a consumer are already attached"), e.getMessage());
            }
            // close() frees the slot once the cancellation completed (asynchronously)
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (creator.isPeerAttached()) {
                assertTrue(System.nanoTime() < deadline, "the closed peer still holds its slot");
                Thread.sleep(1);
            }
            try (IODataQueueDispatchSource again = IODataQueueDispatchSource.attach(path, queue)) {
                assertTrue(creator.isPeerAttached());
            }
        }
    }

    /** Another uid (nobody) tries to attach with the C peer: refused by the kernel, EACCES, said plainly. */
    @Test
    void anotherUserCannotAttachFromC() throws Exception {
        Path path = DqPeer.tempPath("other-uid-c");
        try (DispatchQueue queue = DispatchQueue.createSerial("security");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(4096, queue, path)) {
            ProcessBuilder pb = DqPeer.command("produce-seq", path.toString(), "0", "1");
            pb.command().addAll(0, asNobody());
            pb.environment().put("LD_LIBRARY_PATH", nativeDir().toString()); // libdispatch, readable by nobody
            Process p = pb.redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(30, TimeUnit.SECONDS));
            assertEquals(2, p.exitValue(), out);
            assertTrue(out.contains("errno 13 (Permission denied)"), out);
            assertFalse(q.isPeerAttached(), "nothing attached");
            assertFalse(q.isDataAvailable(), "nothing written");
        }
    }

    /** The same through the Java API, in a child JVM run as nobody: a clear exception naming the path and the rule. */
    @Test
    void anotherUserCannotAttachFromJava() throws Exception {
        Path path = DqPeer.tempPath("other-uid-java");
        Path home = Files.createTempDirectory("jd-nobody");
        try (DispatchQueue queue = DispatchQueue.createSerial("security");
             IODataQueueDispatchSource q = IODataQueueDispatchSource.create(4096, queue, path)) {
            // nobody cannot read the local Maven repository: give it a copy of JavaCPP in a home of its own
            Path javacpp = Path.of(Loader.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Files.copy(javacpp, home.resolve("javacpp.jar"), StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwxrwxrwx"));
            String cp = String.join(":", Path.of("target/classes").toAbsolutePath().toString(),
                    Path.of("target/test-classes").toAbsolutePath().toString(), home.resolve("javacpp.jar").toString());
            List<String> cmd = new java.util.ArrayList<>(asNobody());
            cmd.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Duser.home=" + home,
                    "-cp", cp, AttachProbe.class.getName(), path.toString()));
            Process p = new ProcessBuilder(cmd).directory(home.toFile()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            assertTrue(out.contains("REFUSED java.io.UncheckedIOException: java.io.IOException: IODataQueueDispatchSource.attach("
                    + path + ") failed: kIOReturnError: EACCES (Permission denied): the region and its FIFOs are owner-only (0600)"),
                    out);
            assertEquals(0, p.exitValue(), out);
            assertFalse(q.isPeerAttached());
        } finally {
            try (Stream<Path> files = Files.walk(home)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** Run as another user: attaches by path and prints what happened. */
    public static final class AttachProbe {
        public static void main(String[] args) {
            try (DispatchQueue queue = DispatchQueue.createSerial("probe");
                 IODataQueueDispatchSource q = IODataQueueDispatchSource.attach(Path.of(args[0]), queue)) {
                System.out.println("ATTACHED " + q);
            } catch (RuntimeException e) {
                System.out.println("REFUSED " + e);
            }
        }
    }

    private static List<String> asNobody() {
        assertTrue(Files.isExecutable(Path.of("/usr/bin/setpriv")), "setpriv (util-linux) is needed to run as another uid");
        assertEquals("root", System.getProperty("user.name"), "these tests switch to uid " + NOBODY + ": run them as root");
        return List.of("/usr/bin/setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups");
    }

    private static Path nativeDir() throws Exception {
        try (Stream<Path> dirs = Files.list(Path.of("target/classes/io/jdispatch/internal"))) {
            return dirs.filter(d -> Files.exists(d.resolve("libdispatch.so"))).findFirst().orElseThrow().toAbsolutePath();
        }
    }
}
