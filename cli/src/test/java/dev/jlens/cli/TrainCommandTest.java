package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
    @TempDir
    Path dir;

    @Test
    void aRecipeTrainsAndWritesAModelItsTokenizerAndACardThatEveryCommandLoads() throws Exception {
        Path out = dir.resolve("solu");
        CommandLineRun run = CommandLineRun.of("train", "--recipe", "solu-organism", "--steps", "4", "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().startsWith("trained solu-organism for 4 steps"), run.out());
        for (String f : new String[] {"config.json", "model.safetensors", "tokenizer.json", "README.md"}) assertTrue(Files.isRegularFile(out.resolve(f)), f);
        String card = Files.readString(out.resolve("README.md"));
        assertTrue(card.contains("./jlens train --recipe solu-organism") && card.contains("| training | 4 steps of 16 × 128 tokens"), card);
        LoadedModel loaded = LoadedModel.load(out);
        assertEquals(loaded.tokenizer().bosToken() + 1, loaded.model().cfg().dVocab(), "the model's vocabulary is the trained tokenizer's, BOS last");
        assertEquals(0, CommandLineRun.of("predict", "--model", out.toString(), "--prompt", "The capital of France is").exitCode());

        CommandLineRun again = CommandLineRun.of("train", "--recipe", "solu-organism", "--steps", "4", "--out", out.toString());
        assertEquals(1, again.exitCode());
        assertTrue(again.err().contains("already holds config.json; pass --overwrite"), again.err());
        Files.writeString(out.resolve("notes.txt"), "the user's");
        assertEquals(0, CommandLineRun.of("train", "--recipe", "solu-organism", "--steps", "2", "--out", out.toString(), "--overwrite").exitCode());
        assertEquals("the user's", Files.readString(out.resolve("notes.txt")), "--overwrite replaces jlens's files only");
        assertTrue(Files.readString(out.resolve("README.md")).contains("| training | 2 steps"));
        CommandLineRun unknown = CommandLineRun.of("train", "--recipe", "llama", "--out", dir.resolve("x").toString());
        assertEquals("jlens: unknown recipe 'llama' (known: gpt2-organism, neox-organism, solu-organism, llama-organism).", unknown.err().trim());
    }

    @Test
    void deviceCudaWithoutAUsableGpuIsOneSentenceAndNothingRuns() {
        dev.jlens.kernels.cuda.CudaDriver.Probe probe = dev.jlens.kernels.cuda.CudaDriver.probe();
        CommandLineRun run = CommandLineRun.of("predict", "--device", "cuda", "--prompt", "The capital of France is");
        assertEquals(1, run.exitCode());
        assertEquals("", run.out());
        if (!probe.available()) {
            assertEquals("jlens: --device cuda: " + probe.problem() + "; run on the CPU (--device cpu).", run.err().trim());
        }
        assertEquals(0, CommandLineRun.of("predict", "--device", "cpu", "--prompt", "The capital of France is").exitCode());
        assertEquals(1, CommandLineRun.of("bench", "matmul", "--device", "cuda", "--m", "4", "--k", "4", "--n", "4").exitCode());
    }
}
