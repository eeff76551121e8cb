package io.jdispatch.testutil;

import io.jdispatch.Dispatch;
import io.jdispatch.DispatchChannel;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;
import io.jdispatch.DispatchWorkItem;
import io.jdispatch.DispatchWorkloop;
import io.jdispatch.FileDescriptors;
import io.jdispatch.IODataQueueDispatchSource;

import java.io.DataInputStream;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Child-JVM program for the fd-limit tests (run under a low {@code ulimit -n}: running out of fds used to kill
 * the JVM). Prints one line per result; the test reads them once the child has exited. Modes:
 * <ul>
 * <li>{@code exhaust}: first use of the library with no fd free (a timer must fire, creates must throw), then
 *     every kind of source and data queue until a create fails, then close all and create 10 of each again;
 * <li>{@code drop N}: N small data queues dropped without close();
 * <li>{@code reopen N}: data queues until the limit, then close N and create N again at once;
 * <li>{@code monitor}: a global-queue backlog with the fd table full;
 * <li>{@code issue17}: workloops, work items, a finalized queue, asyncAndWait and the main queue with no fd free;
 * <li>{@code channel}: the first DispatchChannel on a loop with no fd free (the loop needs two), then again
 *     once fds are free.
 * </ul>
 */
public final class FdLimitProbe {
    private FdLimitProbe() {}

    public static void main(String[] args) throws Exception {
        Dispatch.ensureAvailable(); // loads the library while fds are free
        switch (args[0]) {
            case "exhaust" -> exhaust();
            case "drop" -> drop(Integer.parseInt(args[1]));
            case "reopen" -> reopen(Integer.parseInt(args[1]));
            case "monitor" -> monitor();
            case "issue17" -> issue17();
            case "channel" -> channel();
            default -> throw new IllegalArgumentException(args[0]);
        }
    }

    // ---- channel ----------------------------------------------------------------------------------------------

    private static void channel() throws Exception {
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (Socket client = new Socket()) {
                client.setSoTimeout(30_000);
                client.connect(server.getLocalAddress());
                SocketChannel accepted = server.accept();
                List<FileInputStream> filler = new ArrayList<>();
                fillFds(filler);
                String outcome;
                try {
                    outcome = "created " + DispatchChannel.create(accepted, null);
                } catch (RuntimeException e) {
                    outcome = "threw " + e;
                }
                System.out.println("channel with no fd free: " + outcome);
                System.out.println("refused channel: " + (accepted.isOpen() ? "open" : "closed"));
                for (FileInputStream f : filler) {
                    f.close();
                }
                DispatchChannel c = DispatchChannel.create(accepted, null);
                c.setReadHandler(DispatchChannel::write);
                c.activate();
                client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                byte[] echo = new DataInputStream(client.getInputStream()).readNBytes(4);
                System.out.println("channel once fds are free: " + new String(echo, StandardCharsets.US_ASCII));
                c.close();
            }
        }
    }

    // ---- exhaust ----------------------------------------------------------------------------------------------

    private static void exhaust() throws Exception {
        Path file = Files.createTempFile("fd-limit", ".txt");
        try (RandomAccessFile watched = new RandomAccessFile(file.toFile(), "rw");
             DispatchQueue queue = DispatchQueue.createSerial("fd-limit")) {
            int fd = FileDescriptors.of(watched.getFD());
            Map<String, Supplier<AutoCloseable>> kinds = kinds(queue, fd);

            // The first source of the process, and with no fd free: libdispatch used to create its epoll fd now.
            List<FileInputStream> filler = new ArrayList<>();
            fillFds(filler);
            System.out.println("no fd free: " + filler.size() + " fds taken");
            System.out.println("timer with no fd free: " + (timerFires(queue) ? "fired" : "did not fire"));
            for (String kind : List.of("dataqueue", "proc", "vnode")) {
                fillFds(filler); // what the previous create's retries gave back
                System.out.println(kind + " with no fd free: " + outcome(kinds.get(kind)));
            }
            for (FileInputStream f : filler) {
                f.close();
            }
            addMemoryPressure(kinds, queue);

            List<AutoCloseable> open = new ArrayList<>();
            RuntimeException failure = null;
            while (failure == null) {
                for (Map.Entry<String, Supplier<AutoCloseable>> kind : kinds.entrySet()) {
                    try {
                        open.add(kind.getValue().get());
                    } catch (RuntimeException e) {
                        failure = e;
                        System.out.println("limit reached after " + open.size() + " objects, at " + kind.getKey()
                                + ": " + e);
                        break;
                    }
                }
            }
            System.out.println("timer at the limit: " + (timerFires(queue) ? "fired" : "did not fire"));
            for (AutoCloseable c : open) {
                c.close();
            }

            for (Map.Entry<String, Supplier<AutoCloseable>> kind : kinds.entrySet()) {
                List<AutoCloseable> again = new ArrayList<>();
                int ok = 0;
                for (int i = 0; i < 10; i++) {
                    try {
                        again.add(kind.getValue().get());
                        ok++;
                    } catch (RuntimeException e) {
                        System.out.println("again " + kind.getKey() + ": " + e);
                    }
                }
                System.out.println("created again: " + kind.getKey() + " " + ok + " of 10");
                for (AutoCloseable c : again) {
                    c.close();
                }
            }
        } finally {
            Files.delete(file);
        }
    }

    /**
     * Every kind of object that holds fds (or makes libdispatch open one), in the order the loop creates them
     * (MEMORYPRESSURE is added later: finding out whether this kernel has it creates one).
     */
    private static Map<String, Supplier<AutoCloseable>> kinds(DispatchQueue queue, int fd) {
        long pid = ProcessHandle.current().pid();
        Map<String, Supplier<AutoCloseable>> kinds = new LinkedHashMap<>();
        kinds.put("dataqueue", () -> IODataQueueDispatchSource.create(64, queue));
        kinds.put("proc", () -> DispatchSource.proc(pid, DispatchSource.PROC_EXIT, queue));
        kinds.put("vnode", () -> DispatchSource.vnode(fd, DispatchSource.VNODE_WRITE, queue));
        kinds.put("signal", () -> resumed(DispatchSource.signal(10, queue)));
        kinds.put("read-file", () -> resumed(DispatchSource.read(fd, queue)));
        kinds.put("timer", () -> {
            DispatchSource t = DispatchSource.timer(false, queue);
            t.setTimer(DispatchTime.FOREVER, 0, 0);
            return resumed(t);
        });
        return kinds;
    }

    /** MEMORYPRESSURE where the kernel has PSI triggers for this process. */
    private static void addMemoryPressure(Map<String, Supplier<AutoCloseable>> kinds, DispatchQueue queue) {
        try (DispatchSource probe = DispatchSource.memoryPressure(DispatchSource.MEMORYPRESSURE_WARN, queue)) {
            kinds.put("memorypressure", () -> DispatchSource.memoryPressure(DispatchSource.MEMORYPRESSURE_WARN, queue));
        } catch (UnsupportedOperationException noPsi) {
            System.out.println("no memorypressure here: " + noPsi.getMessage());
        }
    }

    private static DispatchSource resumed(DispatchSource s) {
        s.setEventHandler(() -> { });
        s.resume();
        return s;
    }

    private static String outcome(Supplier<AutoCloseable> create) throws Exception {
        try (AutoCloseable c = create.get()) {
            return "created " + c;
        } catch (RuntimeException e) {
            return "threw " + e;
        }
    }

    /**
     * A backlog on the global queue while no fd is free: libdispatch's worker-pool monitor reads
     * /proc/<tid>/stat of every worker about once a second, and crashed the process when that open failed.
     */
    private static void monitor() throws Exception {
        int tasks = 200;
        CountDownLatch ran = new CountDownLatch(tasks);
        List<FileInputStream> filler = new ArrayList<>();
        fillFds(filler);
        try {
            for (int i = 0; i < tasks; i++) {
                DispatchQueue.global().async(() -> {
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    ran.countDown();
                });
            }
            Thread.sleep(3500); // three rounds of the monitor or more, all with the fd table full
        } finally {
            for (FileInputStream f : filler) {
                f.close();
            }
        }
        System.out.println("backlog with no fd free: " + (ran.await(60, TimeUnit.SECONDS) ? "all ran" : ran.getCount() + " never ran"));
    }

    /**
     * The issue-17 objects need no fd of their own: with the fd table full, 5,000 workloops and 5,000 work items
     * (each run and waited for), a queue's finalizer, asyncAndWait, a work item after a deadline (a timer) and a
     * main-queue task all work. Prints what each did, or what it threw.
     */
    private static void issue17() throws Exception {
        int n = 5_000;
        List<FileInputStream> filler = new ArrayList<>();
        fillFds(filler);
        try {
            System.out.println("issue-17 no fd free: " + filler.size() + " fds taken");
            report("workloops", () -> {
                CountDownLatch ran = new CountDownLatch(n);
                for (int i = 0; i < n; i++) {
                    DispatchWorkloop w = DispatchWorkloop.create("fd-limit.wl");
                    w.async(ran::countDown);
                    if (i % 2 == 0) {
                        w.close(); // the others are dropped for the Cleaner
                    }
                }
                return ran.await(60, TimeUnit.SECONDS) ? n + " ran" : ran.getCount() + " never ran";
            });
            report("work items", () -> {
                int completed = 0;
                try (DispatchQueue q = DispatchQueue.createConcurrent("fd-limit.items")) {
                    for (int i = 0; i < n; i++) {
                        try (DispatchWorkItem item = DispatchWorkItem.create(() -> { })) {
                            q.async(item);
                            completed += item.wait(60, TimeUnit.SECONDS) ? 1 : 0;
                        }
                    }
                }
                return completed + " ran";
            });
            report("finalizer", () -> {
                CountDownLatch finalized = new CountDownLatch(1);
                DispatchQueue q = DispatchQueue.createSerial("fd-limit.finalized");
                q.setContext("context");
                q.setFinalizer(finalized::countDown);
                q.close();
                return finalized.await(60, TimeUnit.SECONDS) ? "ran" : "never ran";
            });
            report("asyncAndWait", () -> {
                try (DispatchQueue q = DispatchQueue.createSerial("fd-limit.aaw")) {
                    return String.valueOf(q.asyncAndWait(() -> 42));
                }
            });
            report("work item after", () -> {
                try (DispatchWorkItem item = DispatchWorkItem.create(() -> { })) {
                    DispatchQueue.global().after(DispatchTime.fromNow(10, TimeUnit.MILLISECONDS), item);
                    return item.wait(60, TimeUnit.SECONDS) ? "ran" : "never ran";
                }
            });
            report("main queue", () -> {
                int[] ran = {0};
                DispatchQueue.main().async(() -> ran[0]++);
                Dispatch.drainMainQueue(); // this thread loaded JDispatch
                return ran[0] == 1 ? "ran" : "never ran";
            });
        } finally {
            for (FileInputStream f : filler) {
                f.close();
            }
        }
    }

    private static void report(String what, java.util.concurrent.Callable<String> step) {
        String outcome;
        try {
            outcome = step.call();
        } catch (Throwable t) {
            outcome = "threw " + t;
        }
        System.out.println("issue-17 " + what + " with no fd free: " + outcome);
    }

    /** Opens /dev/null until the fd table is full. */
    private static void fillFds(List<FileInputStream> filler) {
        try {
            while (true) {
                filler.add(new FileInputStream("/dev/null"));
            }
        } catch (IOException full) {
            // full
        }
    }

    private static boolean timerFires(DispatchQueue queue) throws InterruptedException {
        CountDownLatch fired = new CountDownLatch(1);
        try (DispatchSource t = DispatchSource.timer(false, queue)) {
            t.setEventHandler(fired::countDown);
            t.setTimer(DispatchTime.fromNow(10, TimeUnit.MILLISECONDS), 0, 0);
            t.resume();
            return fired.await(20, TimeUnit.SECONDS);
        }
    }

    // ---- drop and reopen -------------------------------------------------------------------------------------

    private static void drop(int n) {
        int failures = 0;
        String first = null;
        try (DispatchQueue queue = DispatchQueue.createSerial("fd-limit")) {
            for (int i = 0; i < n; i++) {
                try {
                    IODataQueueDispatchSource.create(64, queue); // dropped: only the Cleaner can release it
                } catch (RuntimeException e) {
                    failures++;
                    first = first != null ? first : e.toString();
                }
            }
        }
        System.out.println("dropped " + n + ", create failures: " + failures + (first != null ? ", first: " + first : ""));
    }

    private static void reopen(int n) {
        List<IODataQueueDispatchSource> open = new ArrayList<>();
        try (DispatchQueue queue = DispatchQueue.createSerial("fd-limit")) {
            try {
                while (true) {
                    open.add(IODataQueueDispatchSource.create(64, queue));
                }
            } catch (RuntimeException full) {
                System.out.println("limit reached after " + open.size() + " queues: " + full);
            }
            for (int i = 0; i < n; i++) {
                open.remove(open.size() - 1).close();
            }
            int ok = 0;
            for (int i = 0; i < n; i++) {
                try {
                    open.add(IODataQueueDispatchSource.create(64, queue));
                    ok++;
                } catch (RuntimeException e) {
                    System.out.println("again: " + e);
                }
            }
            System.out.println("closed " + n + ", created again: " + ok + " of " + n);
            for (IODataQueueDispatchSource q : open) {
                q.close();
            }
        }
    }
}
