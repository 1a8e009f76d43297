package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.experiments.organisms.Shipped;
import dev.jlens.models.hub.ShippedModels;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code jlens experiment}: a report written whole, and bad input refused in one sentence with nothing written. */
class ExperimentCommandTest {
    @TempDir
    Path dir;

    @Test
    void theCommandWritesItsReportAndRefusesBadInputInOneSentence() throws Exception {
        Path out = dir.resolve("cli");
        CommandLineRun run = CommandLineRun.of("experiment", "solu-outliers", "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().contains("Positions with the highest score"), run.out());
        Shipped.assertIndexShowsEveryFigure(out, 2);
        assertTrue(Files.isRegularFile(out.resolve("top_scores.csv")) && Files.isRegularFile(out.resolve("top_scores.json")));

        CommandLineRun notSolu = CommandLineRun.of("experiment", "solu-outliers", "--model", ShippedModels.GPT2, "--out", dir.resolve("x").toString());
        assertEquals(1, notSolu.exitCode());
        assertTrue(notSolu.err().startsWith("jlens: solu-outliers needs a SoLU model"), notSolu.err());
        CommandLineRun unknown = CommandLineRun.of("experiment", "logit-lens", "--out", dir.resolve("y").toString());
        assertEquals(2, unknown.exitCode());
        CommandLineRun noBook = CommandLineRun.of("experiment", "an-neuron", "--book", dir.resolve("missing.txt").toString(), "--out", dir.resolve("z").toString());
        assertEquals(1, noBook.exitCode());
        assertTrue(noBook.err().contains("missing.txt: no such file"), noBook.err());
        CommandLineRun noModel = CommandLineRun.of("experiment", "ioi", "--model", "gpt2-nowhere", "--out", dir.resolve("w").toString());
        assertEquals(1, noModel.exitCode());
        assertTrue(noModel.err().contains("'gpt2-nowhere' is neither a model directory"), noModel.err());
        assertTrue(Files.notExists(dir.resolve("x")) && Files.notExists(dir.resolve("z")) && Files.notExists(dir.resolve("w")), "nothing written");
    }

    @Test
    void aFrenchSamplesFileThatIsNotAListOfStringsIsOneSentence() throws Exception {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "[\"Le chat dort.\", 3]");
        CommandLineRun run = CommandLineRun.of("experiment", "french-neuron", "--french", bad.toString(), "--out", dir.resolve("o").toString());
        assertEquals(1, run.exitCode());
        assertTrue(run.err().startsWith("jlens: --french " + bad + ": the JSON list holds a NUMBER"), run.err());
        assertTrue(Files.notExists(dir.resolve("o")));
    }
}
