package dev.jlens.fuzz;

import dev.jlens.engine.JlensException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What a parser may do with a hostile file: read it, or refuse it with a {@link JlensException}
 * whose message is one sentence naming no Java class. Anything else it throws (a null pointer, an
 * index out of bounds, a stack overflow, running out of memory) is a finding.
 */
public final class Refusals {
    private Refusals() {}

    public interface Parse {
        void run() throws IOException;
    }

    public static void readOrRefuse(Parse parse) {
        try {
            parse.run();
        } catch (JlensException e) {
            String m = e.getMessage();
            // What the file itself said ('...'-quoted, and paths) may hold any word; jlens's own words may not name Java.
            String own = m == null ? "" : m.replaceAll("'[^']*'", "''").replaceAll("\\S*jlens-fuzz\\S*", "FILE");
            if (m == null || m.isBlank() || m.lines().count() != 1 || !m.strip().endsWith(".")
                    || own.matches(".*(Exception|java\\.|\\.java|Error:|at dev\\.).*")) {
                throw new AssertionError("a refusal that is not one plain sentence: " + m, e);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A scratch directory for this JVM's inputs, reused by every execution. */
    public static Path scratch(String name) {
        try {
            Path dir = Path.of(System.getProperty("java.io.tmpdir"), "jlens-fuzz-" + ProcessHandle.current().pid(), name);
            Files.createDirectories(dir);
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
