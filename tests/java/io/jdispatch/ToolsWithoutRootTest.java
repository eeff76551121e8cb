package io.jdispatch;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * native/deps/tools.sh (run by the scripts and by CMake) as a user who is not root, on a machine that lacks a
 * build tool: it installs nothing and says what to install and how, whether sudo is absent or would ask for a
 * password. Run in a PATH of its own: the real tools it reads, minus ninja, and stubs for id, sudo and apt-get.
 */
class ToolsWithoutRootTest {
    private static final Path TOOLS = Path.of("native/deps/tools.sh").toAbsolutePath();

    private static void link(Path bin, String... tools) throws IOException {
        for (String tool : tools) {
            Path real = Path.of("/usr/bin", tool);
            assertTrue(Files.isExecutable(real), real + " is needed by this test");
            Files.createSymbolicLink(bin.resolve(tool), real);
        }
    }

    private static void stub(Path bin, String name, String body) throws IOException {
        Path f = bin.resolve(name);
        Files.writeString(f, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** A PATH with everything tools.sh needs but ninja; `id -u` says 65534; apt-get leaves a mark if called. */
    private static Path machineWithoutNinja(Path dir) throws IOException {
        Path bin = Files.createDirectory(dir.resolve("bin"));
        link(bin, "uname", "sed", "cut", "sort", "gcc", "clang", "clang++", "cmake", "xz", "unzip", "patch");
        stub(bin, "id", "echo 65534");
        stub(bin, "apt-get", "/usr/bin/touch " + dir.resolve("apt-get-ran"));
        return bin;
    }

    private record Result(int exitCode, String output) {}

    /** tools.sh with only {@code bin} on the PATH; its output is read once it has exited. */
    private static Result runTools(Path bin, Path dir) throws Exception {
        Path out = dir.resolve("out");
        ProcessBuilder pb = new ProcessBuilder("/bin/bash", TOOLS.toString()).redirectErrorStream(true)
                .redirectOutput(out.toFile()).directory(dir.toFile());
        pb.environment().clear();
        pb.environment().put("PATH", bin.toString());
        Process p = pb.start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            throw new AssertionError("tools.sh did not finish in 60 s:\n" + Files.readString(out, StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
    }

    private static void assertNamesWhatToInstall(Result r, Path dir) {
        String out = r.output();
        assertEquals(1, r.exitCode(), "tools.sh must fail when a tool is missing and cannot be installed:\n" + out);
        assertTrue(out.contains("tools: missing ninja-build; not root and no password-less sudo, so nothing was installed."), out);
        assertTrue(out.contains("tools: as root, run: apt-get update && apt-get install -y --no-install-recommends ninja-build"), out);
        assertFalse(out.contains("command not found"), out);
        assertFalse(Files.exists(dir.resolve("apt-get-ran")), "apt-get was run without root:\n" + out);
    }

    @Test
    void withoutSudoItNamesThePackageAndTheCommand(@TempDir Path dir) throws Exception {
        Path bin = machineWithoutNinja(dir);
        assertNamesWhatToInstall(runTools(bin, dir), dir);
    }

    @Test
    void withASudoThatWantsAPasswordItNamesThePackageAndTheCommand(@TempDir Path dir) throws Exception {
        Path bin = machineWithoutNinja(dir);
        stub(bin, "sudo", "echo 'sudo: a password is required' >&2; exit 1");
        assertNamesWhatToInstall(runTools(bin, dir), dir);
    }

    @Test
    void withEveryToolPresentItDoesNothing(@TempDir Path dir) throws Exception {
        Path bin = machineWithoutNinja(dir);
        link(bin, "ninja");
        assertEquals(new Result(0, ""), runTools(bin, dir), "nothing to install, nothing to say");
    }
}
