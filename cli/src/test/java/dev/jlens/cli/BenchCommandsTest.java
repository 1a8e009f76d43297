package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every bench command's last line is RESULT <name> <value> <unit>, as scripts and CI read it. */
class BenchCommandsTest {
    private static final Pattern RESULT = Pattern.compile("RESULT (\\w+) ([0-9.]+) (\\S+)");

    @TempDir
    static Path dir;
    static Path model;

    @BeforeAll
    static void initModel() {
        model = dir.resolve("tiny");
        assertEquals(0, CommandLineRun.of("init", "--arch", "gpt-neox", "--preset", "tiny", "--out", model.toString()).exitCode());
    }

    @Test
    void matmul() {
        assertResult(CommandLineRun.of("bench", "matmul", "--m", "37", "--k", "65", "--n", "50", "--form", "NT",
                "--repeats", "3", "--warmup-seconds", "0"), "matmul", "GFLOP/s");
        CommandLineRun bf16 = CommandLineRun.of("bench", "matmul", "--m", "3", "--k", "65", "--n", "50", "--dtype", "bfloat16",
                "--repeats", "3", "--warmup-seconds", "0");
        assertResult(bf16, "matmul", "GFLOP/s");
        org.junit.jupiter.api.Assertions.assertTrue(bf16.out().contains("float32 B median") && bf16.out().contains("bfloat16 / float32"),
                "both dtypes in one run: " + bf16.out());
    }

    @Test
    void stepWithAdamwAndForwardOnly() {
        assertResult(CommandLineRun.of("bench", "step", "--model", model.toString(), "--batch", "2", "--seq", "8", "--steps", "2",
                "--warmup", "0", "--update", "adamw"), "step", "GFLOP/s");
        assertResult(CommandLineRun.of("bench", "step", "--model", model.toString(), "--batch", "2", "--seq", "8", "--steps", "2",
                "--warmup", "0", "--forward-only"), "step", "GFLOP/s");
    }

    @Test
    void load() {
        double ratio = assertResult(CommandLineRun.of("bench", "load", "--model", model.toString(), "--process", "none"),
                "load_peak_rss", "x");
        assertTrue(ratio > 0, "peak memory is a positive multiple of the weights: " + ratio);
    }

    @Test
    void generate() {
        CommandLineRun run = CommandLineRun.of("bench", "generate", "--model", model.toString(), "--prompt-tokens", "5", "--new-tokens", "4",
                "--repeats", "2", "--bandwidth-mb", "64");
        assertTrue(assertResult(run, "generate", "tokens/s") > 0);
        assertTrue(run.out().contains("x the limit measured before each run") && run.out().contains("prefill of 5 tokens"), run.out());
    }

    @Test
    void neuronSweepAgreesWithWholeForwards() {
        CommandLineRun run = CommandLineRun.of("bench", "neurons", "--model", model.toString(), "--naive", "3", "--batch", "16");
        assertTrue(run.out().contains("largest difference 0.0e+00"), run.out());
        assertTrue(assertResult(run, "neuron_sweep_speedup", "x") > 0);
    }

    @Test
    void badArgumentsAreOneSentence() {
        CommandLineRun run = CommandLineRun.of("bench", "step", "--model", model.toString(), "--update", "sgd");
        assertEquals(1, run.exitCode());
        assertTrue(run.err().contains("--update knows only adamw, not 'sgd'"), run.err());
        CommandLineRun form = CommandLineRun.of("bench", "matmul", "--m", "2", "--k", "2", "--n", "2", "--form", "TT");
        assertEquals(1, form.exitCode());
        assertTrue(form.err().contains("--form must be NN, NT or TN"), form.err());
    }

    private static double assertResult(CommandLineRun run, String name, String unit) {
        assertEquals(0, run.exitCode(), run.err());
        List<String> lines = run.out().lines().toList();
        Matcher m = RESULT.matcher(lines.get(lines.size() - 1));
        assertTrue(m.matches(), "last line: " + lines.get(lines.size() - 1));
        assertEquals(name, m.group(1));
        assertEquals(unit, m.group(3));
        return Double.parseDouble(m.group(2));
    }
}
