package io.jdispatch.testutil;

import io.jdispatch.DispatchQueue;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Child-JVM program: a task on the serial queue "report.serial" and one on the concurrent queue
 * "report.concurrent" throw, with the JVM's own default report (no handler set anywhere), which prints
 * {@code Exception in thread "<thread name>"} to System.err. Exits 0 once both reports were printed, 1 if
 * they were not within 30 s.
 */
public final class ExceptionReportProbe {
    private ExceptionReportProbe() {}

    public static void main(String[] args) throws Exception {
        PrintStream err = System.err;
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        System.setErr(new PrintStream(new OutputStream() { // a tee: the reports still reach the real stderr
            @Override
            public synchronized void write(int b) {
                err.write(b);
                seen.write(b);
            }

            @Override
            public synchronized void write(byte[] b, int off, int len) {
                err.write(b, off, len);
                seen.write(b, off, len);
            }
        }, true, StandardCharsets.UTF_8));
        DispatchQueue serial = DispatchQueue.createSerial("report.serial");
        DispatchQueue concurrent = DispatchQueue.createConcurrent("report.concurrent");
        serial.async(() -> {
            throw new IllegalStateException("from a serial task");
        });
        // The next serial task starts after the first one's report was printed: the two reports never interleave.
        serial.async(() -> concurrent.async(() -> {
            throw new IllegalStateException("from a concurrent task");
        }));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        boolean done = false;
        while (!done && System.nanoTime() < deadline) {
            String text = seen.toString(StandardCharsets.UTF_8); // ByteArrayOutputStream is synchronized
            done = text.contains("from a serial task") && text.contains("from a concurrent task");
            Thread.sleep(10);
        }
        System.err.flush();
        Runtime.getRuntime().halt(done ? 0 : 1);
    }
}
