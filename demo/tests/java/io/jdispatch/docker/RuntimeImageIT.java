package io.jdispatch.docker;

import io.jdispatch.demo.DemoJarIT;

import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The runtime image (a bare JRE, the demo JAR and its lib/) runs the demo on the natives JAR's libraries. */
class RuntimeImageIT {
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
        DemoJarIT.assertDemoRan(Loader.getPlatform(), run());
    }

    @Test
    void theOnlyLibdispatchIsTheOneTheJarExtracts() {
        String out = run(
                "for tool in cc gcc clang javac; do command -v $tool && echo \"unexpected $tool\"; done",
                FIND_LIBDISPATCH,
                "echo '-- demo'",
                "java -jar /opt/jdispatch/jdispatch-demo.jar > /dev/null",
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
