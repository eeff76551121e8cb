package io.jdispatch.testutil;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a Java program in a child JVM with a clean environment (only PATH and HOME, and a sanitizer runtime if one is preloaded). */
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
        // Under scripts/sanitize the JNI library is ASan-built: the child needs the same preloaded runtime.
        for (String keep : List.of("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")) {
            String value = System.getenv(keep);
            if (value != null && !value.isEmpty()) {
                env.put(keep, value);
            }
        }
        // Output goes to a file, read once the child has exited: a child that hangs is killed after the timeout
        // and its output so far is in the failure (reading a pipe to its end would wait for the hang).
        Path log = Files.createTempFile("child-jvm", ".log");
        try {
            Process p = pb.redirectOutput(log.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor();
                throw new IllegalStateException("child JVM did not finish in 120 s: " + cmd + "\n"
                        + Files.readString(log, StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
