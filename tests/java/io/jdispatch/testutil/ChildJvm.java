package io.jdispatch.testutil;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a Java program in a child JVM with a clean environment (no LD_LIBRARY_PATH, only PATH and HOME; plus the sanitizer runtime under scripts/sanitize). */
public final class ChildJvm {
    private ChildJvm() {}

    public record Result(int exitCode, String output) {}

    /** The JAR built by `mvn package` (set by failsafe), checked to exist. */
    public static Path builtJar() {
        String jar = System.getProperty("jdispatch.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("the built JAR is missing (system property jdispatch.jar=" + jar
                    + "); run these tests with `mvn verify`, after `package`");
        }
        return Path.of(jar);
    }

    public static Result run(Path home, List<String> jvmArgs, String... programArgs) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Duser.home=" + home);
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of(programArgs));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).directory(home.toFile());
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", "/usr/bin:/bin");
        env.put("HOME", home.toString());
        // scripts/sanitize preloads the sanitizer runtime: a child loading the instrumented library needs it too.
        for (String sanitizer : new String[]{"LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
            String value = System.getenv(sanitizer);
            if (value != null && !value.isEmpty()) {
                env.put(sanitizer, value);
            }
        }
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("child JVM did not finish in 120 s: " + cmd);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
