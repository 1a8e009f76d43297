package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every table the five experiments write on the shipped organisms, pinned by its SHA-256: a change
 * that moves any figure of any CSV, in any digit, fails here. The digests are {@code sha256sum}'s
 * lines for {@code ./NAME/TABLE.csv}; regenerate them only on purpose, after checking the new
 * figures: {@code for e in gradient-attribution french-neuron ioi an-neuron solu-outliers; do
 * ./jlens experiment $e --out d/$e; done; (cd d && find . -name '*.csv' | sort | xargs sha256sum)}.
 */
class ExperimentTablesTest {
    private static final String[] EXPERIMENTS = {"gradient-attribution", "french-neuron", "ioi", "an-neuron", "solu-outliers"};

    @TempDir
    Path dir;

    @Test
    void everyTableOfEveryExperimentIsByteIdenticalToItsPinnedDigest() throws Exception {
        for (String experiment : EXPERIMENTS) {
            CommandLineRun run = CommandLineRun.of("experiment", experiment, "--out", dir.resolve(experiment).toString());
            assertEquals(0, run.exitCode(), experiment + ": " + run.err());
        }
        assertEquals(pinned(), written(), "table digests (file, SHA-256)");
    }

    private static Map<String, String> pinned() throws IOException {
        Map<String, String> digests = new TreeMap<>();
        try (InputStream in = ExperimentTablesTest.class.getResourceAsStream("/experiment-table-digests.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank()) continue;
                String[] parts = line.trim().split("\\s+", 2);
                digests.put(parts[1], parts[0]);
            }
        }
        return digests;
    }

    private Map<String, String> written() throws IOException, NoSuchAlgorithmException {
        Map<String, String> digests = new TreeMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path csv : files.filter(p -> p.toString().endsWith(".csv")).toList()) {
                byte[] hash = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(csv));
                digests.put("./" + dir.relativize(csv).toString().replace('\\', '/'), HexFormat.of().formatHex(hash));
            }
        }
        return digests;
    }
}
