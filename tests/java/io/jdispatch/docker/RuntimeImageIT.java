package io.jdispatch.docker;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runtime image (a bare JRE and the JAR) runs the demo on the JAR's own natives. */
class RuntimeImageIT {
    /** Lines (regular expressions) the demo must print inside the image: one line per feature. */
    private static final List<String> DEMO_LINES = List.of(
            "JDispatch on linux-x86_64, .*",
            "queue: 5 async tasks on serial queue 'demo.serial' ran in order \\[0, 1, 2, 3, 4\\]",
            "queue: sync task ran on thread '[^']+'",
            "queue: global queue task ran on libdispatch worker '(?!null')[^']+'",
            "source: timer fired \\(data=\\d+\\) at \\+\\d+ ms",
            "source: SIGUSR1 received \\(count=1\\).*",
            "source: socket readable \\(estimate \\d+ bytes\\), read \"hello over TCP\"",
            "source: child \\d+ exited \\(data=0x80000000 = DISPATCH_PROC_EXIT, from a pidfd\\)",
            "source: .* changed: .*WRITE.*",
            "data queue: child JVM \\(pid \\d+\\) -> this JVM through .*: 1000000 entries of 64 B in .*");

    private static final String FIND_LIBDISPATCH =
            "find / \\( -path /proc -o -path /sys \\) -prune -o -name 'libdispatch*' -print";

    @BeforeEach   // per test, not per class: each skipped test is then counted as skipped
    void engine() {
        RuntimeImage.requireEngine();
    }

    /** Runs the image (its CMD, or the given shell command) to completion and returns its output. */
    private static String run(String... shellCommand) {
        try (GenericContainer<?> c = new GenericContainer<>(RuntimeImage.name())
                .withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofMinutes(2)))) {
            if (shellCommand.length > 0) {
                c.withCommand("sh", "-c", String.join("\n", shellCommand));
            }
            c.start();   // fails unless the command exits with 0
            return c.getLogs();
        }
    }

    @Test
    void demoRunsInTheImage() {
        String out = run();
        List<String> lines = out.lines().toList();
        for (String expected : DEMO_LINES) {
            assertTrue(lines.stream().anyMatch(l -> l.matches(expected)), "no line matching " + expected + " in:\n" + out);
        }
    }

    @Test
    void theOnlyLibdispatchIsTheOneTheJarExtracts() {
        String out = run(
                "for tool in cc gcc clang javac; do command -v $tool && echo \"unexpected $tool\"; done",
                FIND_LIBDISPATCH,
                "echo '-- demo'",
                "java -jar /opt/jdispatch/jdispatch.jar > /dev/null",
                FIND_LIBDISPATCH);
        String[] parts = out.split("-- demo\n", -1);
        assertEquals(2, parts.length, out);
        assertEquals("", parts[0].strip(), "the image must hold no compiler and no libdispatch before the JAR runs");
        List<String> found = Arrays.asList(parts[1].strip().split("\n"));
        assertTrue(found.stream().anyMatch(p -> p.endsWith("/libdispatch.so")), out);
        assertTrue(found.stream().allMatch(p -> p.startsWith("/root/.javacpp/cache/")),
                "libdispatch outside JavaCPP's cache:\n" + out);
    }
}
