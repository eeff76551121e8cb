package io.jdispatch.testutil;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Runs a Java program in a child JVM with a clean environment (only PATH and HOME, and a sanitizer runtime if one is preloaded). */
public final class ChildJvm {
    private ChildJvm() {}

    /**
     * Seconds a child JVM may run before it counts as hung (a hang detector: a child that works returns as soon as
     * it exits). 600 under scripts/sanitize, whose preloaded ASan/LSan runtime slows the child several times (and
     * far more beside a CPU hog); 120 otherwise.
     */
    public static final long TIMEOUT_S = underSanitizer() ? 600 : 120;

    private static boolean underSanitizer() {
        String preload = String.valueOf(System.getenv("LD_PRELOAD"));
        return preload.contains("asan") || preload.contains("lsan");
    }

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
        return launch(home, javaCommand(home, jvmArgs, programArgs));
    }

    /** {@link #run} with another {@code java} binary than this JVM's (e.g. {@link #javaAtLeast}). */
    public static Result runWith(Path java, Path home, List<String> jvmArgs, String... programArgs)
            throws IOException, InterruptedException {
        List<String> cmd = javaCommand(home, jvmArgs, programArgs);
        cmd.set(0, java.toString());
        return launch(home, cmd);
    }

    /**
     * A {@code java} binary of at least this feature release: this JVM's, else the newest JDK under
     * /usr/lib/jvm (scripts/test's Java 25), read from each JDK's {@code release} file; empty if none.
     */
    public static Optional<Path> javaAtLeast(int feature) throws IOException {
        Path own = Path.of(System.getProperty("java.home"), "bin", "java");
        if (Runtime.version().feature() >= feature) {
            return Optional.of(own);
        }
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        Pattern version = Pattern.compile("(?m)^JAVA_VERSION=\"(\\d+)");
        Path best = null;
        int bestFeature = 0;
        try (Stream<Path> homes = Files.list(jvms)) {
            for (Path jdk : (Iterable<Path>) homes::iterator) {
                Path release = jdk.resolve("release");
                Path java = jdk.resolve("bin").resolve("java");
                if (!Files.isRegularFile(release) || !Files.isExecutable(java)) {
                    continue;
                }
                Matcher m = version.matcher(Files.readString(release, StandardCharsets.UTF_8));
                int f = m.find() ? Integer.parseInt(m.group(1)) : 0;
                if (f >= feature && f > bestFeature) {
                    best = java;
                    bestFeature = f;
                }
            }
        }
        return Optional.ofNullable(best);
    }

    /**
     * {@link #run}, with RLIMIT_NOFILE lowered to {@code fdLimit} (a shell runs {@code ulimit -n}, then execs the
     * JVM, so the JVM itself starts under the limit).
     */
    public static Result runWithFdLimit(int fdLimit, Path home, List<String> jvmArgs, String... programArgs)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", "-c", "ulimit -n " + fdLimit + " && exec \"$0\" \"$@\""));
        cmd.addAll(javaCommand(home, jvmArgs, programArgs));
        return launch(home, cmd);
    }

    /**
     * A class path for a child JVM with the test class path's directories packed into one JAR under {@code home}
     * (its other entries kept): a child that runs out of fds still loads classes, from the JAR it already has
     * open, where a directory class path needs an fd per class file.
     */
    public static String classPathAsJar(Path home) throws IOException {
        Path jar = home.resolve("classes.jar");
        List<String> entries = new ArrayList<>(List.of(jar.toString()));
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            Set<String> added = new HashSet<>();
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                Path root = Path.of(entry);
                if (!Files.isDirectory(root)) {
                    entries.add(entry);
                    continue;
                }
                try (Stream<Path> files = Files.walk(root)) {
                    for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                        String name = root.relativize(f).toString().replace(File.separatorChar, '/');
                        if (added.add(name)) {
                            out.putNextEntry(new JarEntry(name));
                            Files.copy(f, out);
                            out.closeEntry();
                        }
                    }
                }
            }
        }
        return String.join(File.pathSeparator, entries);
    }

    private static List<String> javaCommand(Path home, List<String> jvmArgs, String... programArgs) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Duser.home=" + home);
        cmd.addAll(jvmArgs);
        cmd.addAll(List.of(programArgs));
        return cmd;
    }

    /** jstack of a hung child, so that its failure says where it hung (or why no dump could be taken). */
    private static String threadDump(Path java, long pid) {
        Path jstack = java.resolveSibling("jstack");
        if (!Files.isExecutable(jstack)) {
            return "(no thread dump: " + jstack + " is not there)";
        }
        try {
            Path out = Files.createTempFile("child-jvm", ".jstack");
            try {
                Process j = new ProcessBuilder(jstack.toString(), Long.toString(pid)).redirectErrorStream(true)
                        .redirectOutput(out.toFile()).start();
                if (!j.waitFor(30, TimeUnit.SECONDS)) {
                    j.destroyForcibly().waitFor();
                }
                return "thread dump of the hung child:\n" + Files.readString(out, StandardCharsets.UTF_8);
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException | InterruptedException e) {
            return "(no thread dump: " + e + ")";
        }
    }

    private static Result launch(Path home, List<String> cmd) throws IOException, InterruptedException {
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
            if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                String dump = threadDump(Path.of(cmd.get(0)), p.pid());
                p.destroyForcibly().waitFor();
                throw new IllegalStateException("child JVM did not finish in " + TIMEOUT_S + " s: " + cmd + "\n"
                        + Files.readString(log, StandardCharsets.UTF_8) + "\n" + dump);
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(log);
        }
    }
}
