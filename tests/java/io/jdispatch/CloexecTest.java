package io.jdispatch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static io.jdispatch.testutil.Latches.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * No fd of ours leaks into child processes: every fd the fd-owning sources open (pidfd, inotify and its copy
 * of the user's fd, PSI triggers and their epoll, a SIGNAL source's eventfd, libdispatch's timerfd) is
 * close-on-exec. (libdispatch has an eventfd of its own, so which eventfd is the SIGNAL source's is checked in
 * C, by tests/native/test_source.c, where nothing else opens or closes eventfds meanwhile.)
 *
 * <p>Checked on the fd's own flags (/proc/self/fdinfo), not by starting a child: the JDK's ProcessBuilder
 * closes every fd above 2 in the child before exec, so a child would see none of ours even without
 * O_CLOEXEC and that test could not fail. A fork/exec from native code (e.g. a JNI library, or libdispatch
 * users) would inherit them: that is what the flag protects against.
 */
class CloexecTest {
    private static final int O_CLOEXEC = 02000000; // the "flags:" field of fdinfo is octal

    /** fd number -> "target (flags)" of this process's open fds. */
    static TreeMap<Integer, String> openFds() throws IOException {
        TreeMap<Integer, String> fds = new TreeMap<>();
        try (Stream<Path> list = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : list.collect(Collectors.toList())) {
                int fd = Integer.parseInt(p.getFileName().toString());
                try {
                    String flags = Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd)).stream()
                            .filter(l -> l.startsWith("flags:")).findFirst().orElseThrow().split("\\s+")[1];
                    fds.put(fd, Files.readSymbolicLink(p) + " (flags " + flags + ")");
                } catch (IOException closedMeanwhile) {
                    // the fd of the directory listing itself, or one another thread closed
                }
            }
        }
        return fds;
    }

    static boolean cloexec(String description) {
        String octal = description.substring(description.lastIndexOf("flags ") + 6, description.length() - 1);
        return (Integer.parseInt(octal, 8) & O_CLOEXEC) != 0;
    }

    @Test
    void everyFdOurSourcesOpenIsCloseOnExec(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("watched"), "x");
        List<DispatchSource> sources = new ArrayList<>();
        try (FileChannel watched = FileChannel.open(file); DispatchQueue queue = DispatchQueue.createSerial("cloexec")) {
            sources.add(DispatchSource.proc(ProcessHandle.current().pid(), DispatchSource.PROC_EXIT, queue));
            sources.add(DispatchSource.vnode(FileDescriptors.of(watched), DispatchSource.VNODE_WRITE, queue));
            boolean psi;
            try {
                sources.add(DispatchSource.memoryPressure(DispatchSource.MEMORYPRESSURE_WARN, queue));
                psi = true;
            } catch (UnsupportedOperationException noPsiHere) {
                psi = false;
            }
            sources.add(DispatchSource.signal(28 /* SIGWINCH: ignored by default, never sent here */, queue));
            DispatchSource timer = DispatchSource.timer(false, queue);
            timer.setTimer(io.jdispatch.DispatchTime.fromNow(1, TimeUnit.HOURS), 1_000_000, 0);
            sources.add(timer);
            CountDownLatch registered = new CountDownLatch(sources.size());
            for (DispatchSource s : sources) {
                s.setRegistrationHandler(registered::countDown); // the timerfd exists once registered
                s.resume();
            }
            await(registered, "registration of the sources");

            TreeMap<Integer, String> now = openFds();
            String path = file.toRealPath().toString();
            String report = "open fds: " + now;
            // Fd numbers are reused (other tests' fds close asynchronously), so a before/after diff cannot
            // attribute fds: check every fd of the kinds the sources open. Only libdispatch, the JDK's selectors
            // (close-on-exec) and our sources open anon-inode fds (pidfd, inotify, epoll, eventfd,
            // timerfd) or PSI files here.
            assertTrue(now.values().stream().anyMatch(d -> d.startsWith("anon_inode:[pidfd]")), "PROC: no pidfd; " + report);
            assertTrue(now.values().stream().anyMatch(d -> d.startsWith("anon_inode:inotify")), "VNODE: no inotify fd; " + report);
            if (psi) {
                assertTrue(now.values().stream().filter(d -> d.startsWith("/proc/pressure/memory")).count() >= 2,
                        "MEMORYPRESSURE: two PSI triggers; " + report);
            }
            assertTrue(now.values().stream().anyMatch(d -> d.startsWith("anon_inode:[eventfd]")), "SIGNAL: no eventfd; " + report);
            assertTrue(now.values().stream().anyMatch(d -> d.startsWith("anon_inode:[timerfd]")), "TIMER: no timerfd; " + report);
            Set<String> missing = now.entrySet().stream()
                    .filter(e -> e.getValue().startsWith("anon_inode:") || e.getValue().startsWith("/proc/pressure/"))
                    .filter(e -> !cloexec(e.getValue()))
                    .map(e -> e.getKey() + " -> " + e.getValue()).collect(Collectors.toSet());
            assertTrue(missing.isEmpty(), "fds without O_CLOEXEC (would leak into a fork/exec child): " + missing
                    + "; " + report);
            // VNODE's copy of the user's fd: the channel's own fd (the JDK opens files without O_CLOEXEC) and ours.
            List<String> watchedFds = now.values().stream().filter(d -> d.startsWith(path)).collect(Collectors.toList());
            assertTrue(watchedFds.size() >= 2 && watchedFds.stream().anyMatch(CloexecTest::cloexec),
                    "VNODE: no close-on-exec copy of the watched fd: " + watchedFds);

            CountDownLatch cancelled = new CountDownLatch(sources.size());
            for (DispatchSource s : sources) {
                s.setCancelHandler(cancelled::countDown);
                s.cancel();
            }
            await(cancelled, "cancel handlers");
        } finally {
            for (DispatchSource s : sources) {
                s.close();
            }
        }
    }
}
