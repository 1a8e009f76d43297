package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ExperimentFlagsTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource({
            "ioi, --held-out, -5, from 1 to 100000",
            "ioi, --held-out, 100000000, from 1 to 100000",
            "an-neuron, --layer, -2, 0 or more",
            "an-neuron, --neuron, -3, 0 or more",
            "solu-outliers, --top-k, 0, positive",
            "french-neuron, --samples, -1, from 1 to 100000",
            "french-neuron, --samples, 1000000000, from 1 to 100000",
            "french-neuron, --layer, -1, 0 or more",
            "french-neuron, --neuron, -5, 0 or more"})
    void aNumberOutOfRangeIsOneSentenceAndWritesNothing(String experiment, String flag, String value, String range) {
        Path out = dir.resolve("report");
        CommandLineRun run = CommandLineRun.of("experiment", experiment, flag, value, "--out", out.toString());
        assertEquals(1, run.exitCode());
        assertEquals("jlens: " + flag + " must be " + range + ", not " + value + ".", run.err().strip());
        assertTrue(Files.notExists(out));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "experiment|jlens experiment|gradient-attribution, french-neuron, ioi, an-neuron, solu-outliers, sae-features, sweep",
            "bench|jlens bench|matmul, step, load, neurons, generate, sae"})
    void anUnknownSubcommandIsOneSentenceNamingTheKnownOnes(String command, String qualified, String known) {
        Path out = dir.resolve("report");
        CommandLineRun run = CommandLineRun.of(command, "nosuch", "--out", out.toString());
        assertEquals(2, run.exitCode());
        assertEquals("jlens: 'nosuch' is not a command of '" + qualified + "' (it has " + known + ").", run.err().strip());
        assertTrue(Files.notExists(out));
    }
}
