package io.jdispatch.testutil;

import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Child-JVM program for the SIGNAL source tests (a signal test must not risk the test JVM). Prints one line
 * per step; the test reads them. Modes: {@code count N} sends SIGUSR1 N times, each after the previous one
 * was counted, then N more while the source is suspended; {@code raw} sends SIGUSR1 with no source at all.
 */
public final class SignalProbe {
    private SignalProbe() {}

    static int signo = 10; // SIGUSR1 unless given

    public static void main(String[] args) throws Exception {
        long pid = ProcessHandle.current().pid();
        if (args[0].equals("raw")) {
            signo = Integer.parseInt(args[1]);
            kill(pid);
            Thread.sleep(500);
            System.out.println("survived raw signal " + signo);
            return;
        }
        int n = Integer.parseInt(args[1]);
        if (args.length > 2) {
            signo = Integer.parseInt(args[2]);
        }
        AtomicLong total = new AtomicLong();
        AtomicLong calls = new AtomicLong();
        try (DispatchQueue q = DispatchQueue.createSerial("probe");
             DispatchSource s = DispatchSource.signal(signo, q)) {
            s.setEventHandler(() -> {
                calls.incrementAndGet();
                total.addAndGet(s.getData());
            });
            CountDownLatch registered = new CountDownLatch(1);
            s.setRegistrationHandler(registered::countDown);
            s.resume();
            // libdispatch installs its signal handler when it registers the source: signal only after that.
            if (!registered.await(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("signal source not registered in 10 s");
            }
            for (int i = 1; i <= n; i++) {
                kill(pid);
                waitFor(total, i);
            }
            System.out.println("one by one: total=" + total.get() + " calls=" + calls.get());
            s.suspend();
            long callsBefore = calls.get();
            for (int i = 0; i < n; i++) {
                kill(pid);
                Thread.sleep(100); // lets libdispatch read each one from its signalfd while the source is suspended
            }
            long callsWhileSuspended = calls.get() - callsBefore;
            s.resume();
            waitFor(total, n + 1L);
            Thread.sleep(200);
            System.out.println("suspended: calls while suspended=" + callsWhileSuspended + " total=" + total.get()
                    + " calls after resume=" + (calls.get() - callsBefore));
        }
    }

    static void kill(long pid) throws Exception {
        int rc = io.jdispatch.internal.SourceNative.jd_signal_send(pid, signo);
        if (rc != 0) {
            throw new IllegalStateException("kill(" + pid + ", " + signo + ") failed: errno " + -rc);
        }
    }

    static void waitFor(AtomicLong total, long atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (total.get() < atLeast && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
    }
}
