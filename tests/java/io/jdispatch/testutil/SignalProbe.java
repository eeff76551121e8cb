package io.jdispatch.testutil;

import static io.jdispatch.testutil.Latches.await;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.internal.SourceNative;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Child-JVM program for the SIGNAL source tests (a signal test must not risk the test JVM). Prints one line
 * per step; the test reads them once the child has exited. A signal is a number or {@code RTMIN+k}.
 * <ul>
 * <li>{@code raw SIG}: sends SIG with no source at all.
 * <li>{@code count N [TOTAL] SIG}: sends SIG N times, each after the previous one was counted; then N times in a
 *     burst while the source is suspended, resumes it, and waits until the total reaches TOTAL (default N + 1,
 *     the least a burst can add).
 * <li>{@code busy N SIG}: sends SIG once, and while that event's handler runs N-1 more, each only once the
 *     previous one has left the kernel's pending set (so the kernel coalesces none); prints each data, and
 *     the sum a second, never blocked, source of SIG counted.
 * <li>{@code burst N SIG}: two sources on SIG; sends SIG N times while the first source's handler blocks.
 * <li>{@code restore SIG}: counts one SIG, cancels and closes the only source, then sends SIG again.
 * <li>{@code restore-java SIG}: as restore, with a Java (sun.misc.Signal) handler installed before the source.
 * </ul>
 */
public final class SignalProbe {
    private SignalProbe() {}

    /** Hang detector for each wait of the child (it exits by itself long before). */
    static final long WAIT_S = 30;

    public static void main(String[] args) throws Exception {
        int signo = parse(args[args.length - 1]);
        switch (args[0]) {
            case "raw" -> {
                send(signo);
                Thread.sleep(500);
                System.out.println("survived raw signal " + signo);
            }
            case "count" -> count(Integer.parseInt(args[1]), signo,
                    args.length > 3 ? Long.parseLong(args[2]) : Integer.parseInt(args[1]) + 1L);
            case "busy" -> busy(Integer.parseInt(args[1]), signo);
            case "burst" -> burst(Integer.parseInt(args[1]), signo);
            case "restore" -> restore(signo, false);
            case "restore-java" -> restore(signo, true);
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    /** A signal number, or RTMIN+k (SIGRTMIN is decided by glibc at run time). */
    static int parse(String s) {
        return s.startsWith("RTMIN+") ? SourceNative.jd_signal_rtmin() + Integer.parseInt(s.substring(6))
                : Integer.parseInt(s);
    }

    static void count(int n, int signo, long expectedTotal) throws Exception {
        AtomicLong total = new AtomicLong();
        AtomicLong calls = new AtomicLong();
        try (DispatchQueue q = DispatchQueue.createSerial("probe");
             DispatchSource s = DispatchSource.signal(signo, q)) {
            s.setEventHandler(() -> {
                calls.incrementAndGet();
                total.addAndGet(s.getData());
            });
            activate(s);
            for (int i = 1; i <= n; i++) {
                send(signo);
                waitFor(total, i);
            }
            System.out.println("one by one: total=" + total.get() + " calls=" + calls.get());
            s.suspend();
            long callsBefore = calls.get();
            for (int i = 0; i < n; i++) {
                send(signo);
            }
            awaitNotPending(signo); // every signal the kernel kept has reached the source
            long callsWhileSuspended = calls.get() - callsBefore;
            s.resume();
            // The burst may reach the handler in several events, each merged asynchronously: wait for all of it.
            waitFor(total, expectedTotal);
            Thread.sleep(200); // lets a wrongly doubled count show
            System.out.println("suspended: calls while suspended=" + callsWhileSuspended + " total=" + total.get());
        }
    }

    static void busy(int n, int signo) throws Exception {
        List<Long> data = new CopyOnWriteArrayList<>();
        AtomicLong total = new AtomicLong();
        AtomicLong observed = new AtomicLong();
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (DispatchQueue q = DispatchQueue.createSerial("probe");
             DispatchQueue oq = DispatchQueue.createSerial("observer");
             DispatchSource s = DispatchSource.signal(signo, q);
             DispatchSource observer = DispatchSource.signal(signo, oq)) {
            s.setEventHandler(() -> {
                long d = s.getData();
                data.add(d);
                total.addAndGet(d);
                entered.countDown();
                await(release, "the test's release");
            });
            observer.setEventHandler(() -> observed.addAndGet(observer.getData()));
            activate(s);
            activate(observer);
            send(signo);
            await(entered, "the first event's handler");
            for (int i = 1; i < n; i++) {
                send(signo);
                awaitNotPending(signo);
            }
            waitFor(observed, n); // a second source of the signal, never blocked, has counted them all
            release.countDown();
            waitFor(total, n);
            Thread.sleep(200);
            System.out.println("busy: data=" + data + " sum=" + total.get() + " observer=" + observed.get());
        }
    }

    static void burst(int n, int signo) throws Exception {
        AtomicLong a = new AtomicLong();
        AtomicLong b = new AtomicLong();
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        try (DispatchQueue qa = DispatchQueue.createSerial("probe-a");
             DispatchQueue qb = DispatchQueue.createSerial("probe-b");
             DispatchSource sa = DispatchSource.signal(signo, qa);
             DispatchSource sb = DispatchSource.signal(signo, qb)) {
            sa.setEventHandler(() -> {
                a.addAndGet(sa.getData());
                entered.countDown();
                await(release, "the test's release");
            });
            sb.setEventHandler(() -> b.addAndGet(sb.getData()));
            activate(sa);
            activate(sb);
            send(signo);
            await(entered, "the first event's handler");
            for (int i = 1; i < n; i++) {
                send(signo);
            }
            awaitNotPending(signo);
            release.countDown();
            waitFor(a, n);
            waitFor(b, n);
            Thread.sleep(200);
            System.out.println("burst: sent=" + n + " a=" + a.get() + " b=" + b.get());
        }
    }

    static void restore(int signo, boolean javaHandler) throws Exception {
        CountDownLatch javaHandled = new CountDownLatch(1);
        if (javaHandler) {
            sun.misc.Signal.handle(new sun.misc.Signal(signalName(signo)), sig -> javaHandled.countDown());
        }
        String maskBefore = blockedMask();
        AtomicLong total = new AtomicLong();
        CountDownLatch cancelled = new CountDownLatch(1);
        try (DispatchQueue q = DispatchQueue.createSerial("probe")) {
            DispatchSource s = DispatchSource.signal(signo, q);
            s.setEventHandler(() -> total.addAndGet(s.getData()));
            s.setCancelHandler(cancelled::countDown);
            activate(s);
            send(signo);
            waitFor(total, 1);
            System.out.println("counted=" + total.get());
            s.cancel();
            await(cancelled, "the cancel handler");
            s.close();
            q.sync(() -> { });
        }
        System.out.println("cancelled and closed; blocked mask unchanged=" + maskBefore.equals(blockedMask()));
        System.out.flush();
        send(signo);
        if (javaHandler) {
            await(javaHandled, "the Java signal handler");
            System.out.println("the Java handler ran again");
            return;
        }
        Thread.sleep(TimeUnit.SECONDS.toMillis(WAIT_S)); // the default action ends the JVM long before
        System.out.println("survived signal " + signo + " after the last source was cancelled");
    }

    /** The creating thread's activation: the registration handler has run, so the source is armed. */
    static void activate(DispatchSource s) throws InterruptedException {
        CountDownLatch registered = new CountDownLatch(1);
        s.setRegistrationHandler(registered::countDown);
        s.resume();
        await(registered, "the registration handler");
    }

    static void send(int signo) {
        long pid = ProcessHandle.current().pid();
        int rc = SourceNative.jd_signal_send(pid, signo);
        if (rc != 0) {
            throw new IllegalStateException("kill(" + pid + ", " + signo + "): " + SourceNative.jd_strerror(-rc));
        }
    }

    /** Waits until signo is not pending for the process: the kernel has handed every instance over. */
    static void awaitNotPending(int signo) throws Exception {
        long bit = 1L << (signo - 1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while ((statusMask("ShdPnd") & bit) != 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("signal " + signo + " still pending after " + WAIT_S + " s");
            }
            Thread.sleep(1);
        }
    }

    static long statusMask(String field) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseUnsignedLong(line.substring(field.length() + 1).trim(), 16);
            }
        }
        throw new IllegalStateException("/proc/self/status has no " + field);
    }

    /** The calling thread's blocked-signal mask. */
    static String blockedMask() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/thread-self/status"))) {
            if (line.startsWith("SigBlk:")) {
                return line;
            }
        }
        throw new IllegalStateException("/proc/thread-self/status has no SigBlk");
    }

    static String signalName(int signo) {
        return switch (signo) {
            case 10 -> "USR1";
            case 14 -> "ALRM";
            default -> throw new IllegalArgumentException("no name known for signal " + signo);
        };
    }

    static void waitFor(AtomicLong total, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_S);
        while (total.get() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
    }
}
