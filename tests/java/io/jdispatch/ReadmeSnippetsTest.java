package io.jdispatch;

import org.junit.jupiter.api.Test;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every ```java block of README.md compiles against the library as it is: a block's {@code import} lines become
 * the class's imports, the rest the body of a method that may throw anything. Blocks that declare types are
 * compiled as they are (top-level {@code public} dropped, so that the file's name does not matter).
 */
class ReadmeSnippetsTest {
    private static final Pattern BLOCK = Pattern.compile("(?s)```java\\n(.*?)```");
    private static final String IMPORTS = String.join("\n",
            "import io.jdispatch.*;", "import java.nio.*;", "import java.nio.channels.*;", "import java.nio.file.*;",
            "import java.time.*;", "import java.util.*;", "import java.util.concurrent.*;", "");

    @Test
    void everyJavaBlockOfTheReadmeCompiles() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        List<JavaFileObject> units = new ArrayList<>();
        Matcher m = BLOCK.matcher(readme);
        while (m.find()) {
            int line = readme.substring(0, m.start()).split("\n", -1).length;
            units.add(unit(line, m.group(1)));
        }
        assertFalse(units.isEmpty(), "README.md has no ```java block");

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertNotNull(javac, "no system Java compiler: run the tests on a JDK");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        Path out = Files.createTempDirectory("readme-snippets");
        boolean ok = javac.getTask(null, null, diagnostics,
                List.of("-classpath", System.getProperty("java.class.path"), "-d", out.toString(), "-proc:none"),
                null, units).call();
        StringBuilder errors = new StringBuilder();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) {
                errors.append(d.getSource().getName()).append(": ").append(d.getMessage(null)).append('\n');
            }
        }
        assertTrue(ok, "README blocks that do not compile (named by the README line of their ```java):\n" + errors);
        assertEquals(units.size(), units.stream().distinct().count());
    }

    /** The block at README line {@code line} as a compilation unit named after that line. */
    private static JavaFileObject unit(int line, String block) {
        String name = "ReadmeLine" + line;
        StringBuilder imports = new StringBuilder(IMPORTS);
        StringBuilder body = new StringBuilder();
        for (String l : block.split("\n")) {
            (l.startsWith("import ") ? imports : body).append(l).append('\n');
        }
        boolean declaresTypes = body.toString().matches("(?s)\\s*(public\\s+)?(final\\s+)?(class|record|interface|enum)\\s.*");
        String source = declaresTypes
                ? imports + body.toString().replaceAll("(?m)^public\\s+", "") // any file name will do then
                : imports + "class " + name + " {\n    static void snippet() throws Throwable {\n" + body + "    }\n}\n";
        return new SimpleJavaFileObject(URI.create("string:///" + name + ".java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return source;
            }
        };
    }
}
