package io.jdispatch;

import io.jdispatch.testutil.ChildJvm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The JAR alone is enough: its natives load in a child JVM that has nothing else. */
class BundledJarIT {
    private static final String NATIVES = "io/jdispatch/internal/" + org.bytedeco.javacpp.Loader.getPlatform() + "/";

    @Test
    void jarCarriesTheJniLibraryAndLibdispatch() throws Exception {
        try (ZipFile zip = new ZipFile(ChildJvm.builtJar().toFile())) {
            Set<String> names = zip.stream().map(e -> e.getName()).collect(Collectors.toSet());
            for (String lib : List.of("libjnijdispatch.so", "libdispatch.so", "libBlocksRuntime.so")) {
                assertTrue(names.contains(NATIVES + lib), NATIVES + lib + " missing from the JAR");
            }
            assertTrue(names.contains("org/bytedeco/javacpp/Loader.class"), "JavaCPP's Loader missing from the JAR");
        }
    }

    @Test
    void childJvmWithOnlyTheJarRunsATaskOnADispatchQueue(@TempDir Path home) throws Exception {
        Path cache = home.resolve("javacpp-cache");
        ChildJvm.Result r = ChildJvm.run(home,
                List.of("-Dorg.bytedeco.javacpp.cachedir=" + cache, "-Dorg.bytedeco.javacpp.logger.debug=true"),
                "-jar", ChildJvm.builtJar().toString());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("5 async tasks on serial queue 'demo.serial' ran in order [0, 1, 2, 3, 4]"), r.output());
        // libdispatch came out of the JAR, into the fresh cache, not from the build's install.
        assertTrue(Files.exists(cache), "JavaCPP cache was not used:\n" + r.output());
        try (var files = Files.walk(cache)) {
            Set<String> extracted = files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
            assertTrue(extracted.containsAll(Set.of("libjnijdispatch.so", "libdispatch.so", "libBlocksRuntime.so")),
                    "extracted: " + extracted + "\n" + r.output());
        }
        assertTrue(r.output().matches("(?s).*Loading .*javacpp-cache.*libdispatch\\.so.*"), r.output());
    }

    @Test
    void wrongPlatformGivesAnErrorNamingLibraryPlatformAndCause(@TempDir Path home) throws Exception {
        ChildJvm.Result r = ChildJvm.run(home, List.of("-Dorg.bytedeco.javacpp.platform=linux-sparc"),
                "-jar", ChildJvm.builtJar().toString());
        assertTrue(r.exitCode() != 0, r.output());
        String out = r.output();
        assertTrue(out.contains("UnsatisfiedLinkError"), out);
        assertTrue(out.contains("'jnijdispatch'"), out);
        assertTrue(out.contains("'linux-sparc'"), out);
        assertTrue(out.contains("io/jdispatch/internal/linux-sparc/libjnijdispatch.so"), out);
    }
}
