package io.jdispatch;

import io.jdispatch.testutil.ChildJvm;

import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged artifacts: the library JAR holds io.jdispatch only, each natives JAR its platform's three
 * libraries for the right machine, every JAR its LICENSE and NOTICE; and the library JAR, this machine's
 * natives JAR and JavaCPP's JAR are enough for a child JVM that has nothing else.
 */
class BundledJarIT {
    private static final List<String> LIBS = List.of("libjnijdispatch.so", "libdispatch.so", "libBlocksRuntime.so");
    private static final Set<String> META = Set.of("META-INF/", "META-INF/MANIFEST.MF", "META-INF/LICENSE", "META-INF/NOTICE");
    /** ELF e_machine of each platform's libraries. */
    private static final Map<String, Integer> MACHINE = Map.of("linux-x86_64", 62, "linux-arm64", 183);

    private static Path nativesJar(String property) {
        String jar = System.getProperty(property);
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "natives JAR missing: " + property + "=" + jar);
        return Path.of(jar);
    }

    private static Set<String> entries(Path jar) throws IOException {
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            return zip.stream().map(ZipEntry::getName).collect(Collectors.toCollection(TreeSet::new));
        }
    }

    @Test
    void libraryJarHoldsTheModuleIoJdispatchAndNothingElse() throws Exception {
        Set<String> names = entries(ChildJvm.builtJar());
        Set<String> foreign = names.stream()
                .filter(n -> !META.contains(n) && !n.equals("module-info.class"))
                .filter(n -> !n.matches("io/(jdispatch/((internal/)?([A-Za-z0-9_$]+\\.class)?)?)?"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of(), foreign, "entries other than io.jdispatch's classes (no JavaCPP, no natives, no demo, no build POM)");
        assertTrue(names.containsAll(META), "LICENSE and NOTICE: " + names);
        assertTrue(names.contains("module-info.class"), "module descriptor missing");
    }

    @Test
    void nativesJarsHoldTheirPlatformsLibrariesBuiltForItsMachine() throws Exception {
        checkNatives(nativesJar("jdispatch.natives.jar"), Loader.getPlatform());
        if (System.getProperty("jdispatch.cross.natives.jar") != null) {   // set where the build cross-compiles
            checkNatives(nativesJar("jdispatch.cross.natives.jar"), "linux-arm64");
        }
    }

    private static void checkNatives(Path jar, String platform) throws IOException {
        String dir = "io/jdispatch/internal/" + platform + "/";
        Set<String> expected = new TreeSet<>(META);
        List.of("io/", "io/jdispatch/", "io/jdispatch/internal/", dir).forEach(expected::add);
        LIBS.forEach(lib -> expected.add(dir + lib));
        assertEquals(expected, entries(jar), jar.toString());
        try (JarFile zip = new JarFile(jar.toFile())) {
            assertEquals("io.jdispatch." + platform.replace('-', '.'),
                    zip.getManifest().getMainAttributes().getValue("Automatic-Module-Name"), jar + ": module name");
            for (String lib : LIBS) {
                try (InputStream in = zip.getInputStream(zip.getEntry(dir + lib))) {
                    byte[] elf = in.readNBytes(20);
                    assertEquals("\u007fELF", new String(elf, 0, 4, StandardCharsets.ISO_8859_1), dir + lib);
                    assertEquals(MACHINE.get(platform), (elf[18] & 0xff) | (elf[19] & 0xff) << 8, dir + lib + ": ELF e_machine");
                }
            }
        }
    }

    /** The class path of a child JVM: the library JAR, this machine's natives JAR, JavaCPP, and {@link Probe} alone. */
    private static String artifactsOnly(Path home) throws Exception {
        Path probe = home.resolve("probe");
        String file = Probe.class.getName().replace('.', '/') + ".class";
        Files.createDirectories(probe.resolve(file).getParent());
        try (InputStream in = BundledJarIT.class.getClassLoader().getResourceAsStream(file)) {
            Files.copy(in, probe.resolve(file));
        }
        Path javacpp = Path.of(Loader.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        return String.join(":", ChildJvm.builtJar().toString(), nativesJar("jdispatch.natives.jar").toString(),
                javacpp.toString(), probe.toString());
    }

    @Test
    void childJvmWithOnlyTheArtifactsRunsATaskOnADispatchQueue(@TempDir Path home) throws Exception {
        Path cache = home.resolve("javacpp-cache");
        ChildJvm.Result r = ChildJvm.run(home,
                List.of("-cp", artifactsOnly(home), "-Dorg.bytedeco.javacpp.cachedir=" + cache,
                        "-Dorg.bytedeco.javacpp.logger.debug=true"),
                Probe.class.getName());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("task ran on serial queue 'probe.serial'"), r.output());
        // libdispatch came out of the natives JAR, into the fresh cache, not from the build's install.
        try (var files = Files.walk(cache)) {
            Set<String> extracted = files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
            assertTrue(extracted.containsAll(LIBS), "extracted: " + extracted + "\n" + r.output());
        }
        assertTrue(r.output().matches("(?s).*Loading .*javacpp-cache.*libdispatch\\.so.*"), r.output());
    }

    @Test
    void wrongPlatformGivesAnErrorNamingLibraryPlatformAndCause(@TempDir Path home) throws Exception {
        ChildJvm.Result r = ChildJvm.run(home,
                List.of("-cp", artifactsOnly(home), "-Dorg.bytedeco.javacpp.platform=linux-sparc"),
                Probe.class.getName());
        assertTrue(r.exitCode() != 0, r.output());
        String out = r.output();
        assertTrue(out.contains("UnsatisfiedLinkError"), out);
        assertTrue(out.contains("'jnijdispatch'"), out);
        assertTrue(out.contains("'linux-sparc'"), out);
        assertTrue(out.contains("io/jdispatch/internal/linux-sparc/libjnijdispatch.so"), out);
    }

    /** Run in the child JVM: one task on a serial queue. */
    public static final class Probe {
        public static void main(String[] args) throws Exception {
            Dispatch.ensureAvailable();
            try (DispatchQueue q = DispatchQueue.createSerial("probe.serial")) {
                CountDownLatch ran = new CountDownLatch(1);
                q.async(ran::countDown);
                if (!ran.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the task did not run in 30 s");
                }
                System.out.println("task ran on serial queue '" + q.getLabel() + "'");
            }
        }
    }
}
