package com.example.consumer;

import io.jdispatch.Dispatch;
import io.jdispatch.DispatchQueue;
import io.jdispatch.DispatchSource;
import io.jdispatch.DispatchTime;
import io.jdispatch.IODataQueueDispatchSource;
import io.jdispatch.IOReturn;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * What a service would do with JDispatch, built against its published artifacts only: a serial queue, a
 * timer, and a data queue fed by a second process (this program again, started with its own command line).
 * Prints one line per part and exits 0, or throws.
 */
public final class ConsumerApp {
    private static final int ENTRIES = 20_000;

    private ConsumerApp() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 2 && args[0].equals("produce")) {
            produce(Path.of(args[1]));
            return;
        }
        Dispatch.ensureAvailable();
        System.out.println("consumer: JDispatch on " + Dispatch.platform() + ", " + Dispatch.libdispatchVersion()
                + ", Java " + Runtime.version() + ", "
                + (ConsumerApp.class.getModule().isNamed() ? "module " + ConsumerApp.class.getModule().getName() : "class path")
                + ", JavaCPP from " + ClassLoader.getSystemResource("org/bytedeco/javacpp/Loader.class"));
        Module lib = Dispatch.class.getModule();
        if (lib.isNamed()) {   // on the module path: what io.jdispatch lets other modules see
            System.out.println("consumer: module " + lib.getName() + " exports "
                    + lib.getDescriptor().exports().stream().map(Object::toString).sorted().toList() + ", opens "
                    + lib.getDescriptor().opens().stream().map(Object::toString).sorted().toList());
        }
        queue();
        timer();
        dataQueue(args);
    }

    static void await(CountDownLatch latch, String what) throws InterruptedException {
        if (!latch.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException(what + " did not happen in 30 s");
        }
    }

    static void queue() throws InterruptedException {
        try (DispatchQueue q = DispatchQueue.createSerial("com.example.consumer")) {
            List<Integer> order = new ArrayList<>();
            CountDownLatch done = new CountDownLatch(3);
            for (int i = 0; i < 3; i++) {
                int n = i;
                q.async(() -> {
                    order.add(n);
                    done.countDown();
                });
            }
            await(done, "3 async tasks");
            String thread = q.sync(() -> Thread.currentThread().getName());
            System.out.println("consumer: queue '" + q.getLabel() + "' ran " + order + ", then sync on '" + thread + "'");
        }
    }

    static void timer() throws InterruptedException {
        CountDownLatch fired = new CountDownLatch(3);
        try (DispatchQueue q = DispatchQueue.createSerial("com.example.timer");
             DispatchSource t = DispatchSource.timer(false, q)) {
            t.setEventHandler(fired::countDown);
            t.setTimer(DispatchTime.NOW, TimeUnit.MILLISECONDS.toNanos(10), 0);
            t.resume();
            await(fired, "3 timer fires");
        }
        System.out.println("consumer: timer fired 3 times");
    }

    /** Consumer side: creates the queue by path, starts the producer process, takes ENTRIES entries in order. */
    static void dataQueue(String[] ownArgs) throws Exception {
        Path path = Path.of("/dev/shm", "jdispatch-consumer-" + ProcessHandle.current().pid());
        long[] next = {0};
        String[] error = {null};
        CountDownLatch all = new CountDownLatch(1);
        try (DispatchQueue q = DispatchQueue.createSerial("com.example.dataqueue");
             IODataQueueDispatchSource dq = IODataQueueDispatchSource.create(1 << 16, q, path)) {
            dq.setDataAvailableHandler(() -> {
                while (dq.dequeue(b -> {
                    long seq = b.getLong(b.position());
                    if (seq != next[0] && error[0] == null) {
                        error[0] = "entry " + next[0] + " carried " + seq;
                    }
                    next[0]++;
                }) == IOReturn.kIOReturnSuccess) {
                    if (next[0] == ENTRIES) {
                        all.countDown();
                    }
                }
            });
            Process producer = new ProcessBuilder(producerCommand(ownArgs, path)).inheritIO().start();
            await(all, ENTRIES + " entries from the producer");
            if (!producer.waitFor(30, TimeUnit.SECONDS) || producer.exitValue() != 0) {
                throw new IllegalStateException("producer " + producer.pid() + " did not exit with 0");
            }
            q.sync(() -> { });   // the handler has returned
            if (error[0] != null) {
                throw new IllegalStateException("data queue: " + error[0]);
            }
            System.out.println("consumer: data queue " + path + ": " + next[0] + " entries in order from process "
                    + producer.pid());
        }
    }

    /** This process's own command line (same JVM, same class or module path, same flags), as the producer. */
    static List<String> producerCommand(String[] ownArgs, Path path) {
        ProcessHandle.Info self = ProcessHandle.current().info();
        String[] all = self.arguments().orElseThrow(() -> new IllegalStateException("no command line for this process"));
        List<String> cmd = new ArrayList<>();
        cmd.add(self.command().orElseThrow());
        cmd.addAll(List.of(all).subList(0, all.length - ownArgs.length));
        cmd.addAll(List.of("produce", path.toString()));
        return cmd;
    }

    static void produce(Path path) throws Exception {
        try (DispatchQueue q = DispatchQueue.createSerial("com.example.producer");
             IODataQueueDispatchSource dq = IODataQueueDispatchSource.attach(path, q)) {
            Semaphore room = new Semaphore(0);
            dq.setDataServicedHandler(room::release);
            for (long n = 0; n < ENTRIES; ) {
                long seq = n;
                int ret = dq.enqueue(8, b -> b.putLong(b.position(), seq));
                if (ret == IOReturn.kIOReturnSuccess) {
                    n++;
                } else if (ret != IOReturn.kIOReturnOverrun || !room.tryAcquire(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("producer: " + IOReturn.name(ret) + " at entry " + n);
                }
            }
        }
    }
}
