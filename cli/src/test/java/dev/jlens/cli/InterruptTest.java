package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run stopped by SIGTERM (as Ctrl-C stops one) leaves no temporary file or folder behind, and nothing at --out. */
class InterruptTest {
    @TempDir
    Path dir;

    @Test
    void sigtermDuringAnExperimentRemovesItsUnfinishedReport() throws Exception {
        Path out = dir.resolve("report");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-Djlens.home=" + System.getProperty("jlens.home"), "-cp", System.getProperty("java.class.path"), Jlens.class.getName(),
                "experiment", "french-neuron", "--out", out.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("log.txt").toFile()).start();
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (hidden().isEmpty() && p.isAlive() && System.nanoTime() < deadline) Thread.sleep(50);
        assertTrue(p.isAlive() && !hidden().isEmpty(), "the experiment is running with its report in a hidden folder: " + Files.readString(dir.resolve("log.txt")));
        p.destroy(); // SIGTERM
        p.waitFor();
        assertTrue(hidden().isEmpty(), "left behind: " + hidden());
        assertFalse(Files.exists(out), "no report appeared");
    }

    private List<Path> hidden() throws Exception {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(e -> e.getFileName().toString().startsWith(".")).toList();
        }
    }
}
