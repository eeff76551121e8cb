package io.jdispatch.demo;

import io.jdispatch.testutil.ChildJvm;

import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `java -jar jdispatch-demo.jar` with only its lib/ folder beside it runs every part of the demo. */
public class DemoJarIT {
    /** Lines (regular expressions) the demo prints on {@code platform}: one line per feature. */
    public static List<String> demoLines(String platform) {
        return List.of(
                "JDispatch on " + platform + ", .*",
                "queue: 5 async tasks on serial queue 'demo.serial' ran in order \\[0, 1, 2, 3, 4\\]",
                "queue: sync task ran on thread '[^']+'",
                "queue: global queue task ran on libdispatch worker '(?!null')[^']+'",
                "source: timer fired \\(data=\\d+\\) at \\+\\d+ ms",
                "source: SIGUSR1 received \\(count=1\\).*",
                "source: socket readable \\(estimate \\d+ bytes\\), read \"hello over TCP\"",
                "source: child \\d+ exited \\(data=0x80000000 = DISPATCH_PROC_EXIT, from a pidfd\\)",
                "source: .* changed: .*WRITE.*",
                "data queue: child JVM \\(pid \\d+\\) -> this JVM through .*: 1000000 entries of 64 B in .*");
    }

    /** Fails naming the first expected line the demo's output lacks. */
    public static void assertDemoRan(String platform, String out) {
        List<String> lines = out.lines().toList();
        for (String expected : demoLines(platform)) {
            assertTrue(lines.stream().anyMatch(l -> l.matches(expected)), "no line matching " + expected + " in:\n" + out);
        }
    }

    @Test
    void demoJarRunsWithOnlyItsLibFolder(@TempDir Path home) throws Exception {
        Path jar = ChildJvm.builtJar();
        assertTrue(Files.isDirectory(jar.resolveSibling("lib")), "lib/ beside " + jar);
        ChildJvm.Result r = ChildJvm.run(home, List.of("-Dorg.bytedeco.javacpp.cachedir=" + home.resolve("cache")),
                "-jar", jar.toString());
        assertEquals(0, r.exitCode(), r.output());
        assertDemoRan(Loader.getPlatform(), r.output());
    }
}
