package io.jdispatch.docker;

import io.jdispatch.testutil.ChildJvm;

import org.junit.jupiter.api.Assumptions;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.images.builder.ImageFromDockerfile;

import java.nio.file.Path;
import java.util.Objects;

import static org.junit.jupiter.api.Assertions.fail;

/** The Docker engine the tests need, and the runtime image (docker/Dockerfile.runtime) over the built demo JAR. */
final class RuntimeImage {
    private RuntimeImage() {}

    private static String name;

    /**
     * Skips the calling test where no Docker engine answers (inside a container, or without root to start one);
     * in CI (CI=true) that is a failure instead, since CI starts one with docker/engine.sh.
     */
    static void requireEngine() {
        if (DockerClientFactory.instance().isDockerAvailable()) {
            return;
        }
        String why = "no Docker engine answers (DOCKER_HOST=" + Objects.requireNonNullElse(System.getenv("DOCKER_HOST"), "unset")
                + "); scripts/test starts one with docker/engine.sh (needs root; impossible inside a container"
                + " such as the docker/Dockerfile.build build)";
        if ("true".equals(System.getenv("CI"))) {
            fail(why + ". CI=true: the Docker tests must run here, not skip");
        }
        System.err.println("Docker test skipped: " + why);
        Assumptions.abort(why);
    }

    /**
     * Builds the image once per JVM from a context holding only the Dockerfile, the demo JAR and its lib/ at
     * the paths the Dockerfile expects (it also builds from the project root). Kept under a fixed tag so the
     * engine's cache reuses the JRE layer; only the JAR layers change between builds.
     */
    static synchronized String name() {
        if (name == null) {
            Path root = Path.of(System.getProperty("jdispatch.root", ".."));
            Path jar = ChildJvm.builtJar();
            name = new ImageFromDockerfile("jdispatch-runtime:it", false)
                    .withFileFromPath("Dockerfile", root.resolve("docker/Dockerfile.runtime"))
                    .withFileFromPath("demo/target/" + jar.getFileName(), jar)
                    .withFileFromPath("demo/target/lib", jar.resolveSibling("lib"))
                    // apt-get inside the build reaches the Debian mirror through the host's network.
                    .withBuildImageCmdModifier(cmd -> cmd.withNetworkMode("host"))
                    .get();
        }
        return name;
    }
}
