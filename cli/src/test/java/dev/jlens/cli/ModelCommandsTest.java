package dev.jlens.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** init, predict, cache and grads on a real random model directory, checked against direct computation. */
class ModelCommandsTest {
    @TempDir
    static Path dir;
    static Path gpt2, neox;

    @BeforeAll
    static void initModels() {
        gpt2 = dir.resolve("gpt2-tiny");
        neox = dir.resolve("neox-tiny");
        assertEquals(0, CommandLineRun.of("init", "--arch", "gpt2", "--preset", "tiny", "--seed", "3", "--out", gpt2.toString()).exitCode());
        assertEquals(0, CommandLineRun.of("init", "--arch", "gpt-neox", "--preset", "tiny", "--out", neox.toString()).exitCode());
    }

    @Test
    void initWritesAHuggingFaceDirectoryThatLoadsWithTheRealShape() {
        LoadedModel loaded = LoadedModel.load(gpt2);
        assertEquals(50257, loaded.model().cfg().dVocab());
        assertEquals(2, loaded.model().cfg().nLayers());
        assertTrue(Files.exists(gpt2.resolve("config.json")));
        CommandLineRun again = CommandLineRun.of("init", "--arch", "gpt2", "--preset", "tiny", "--out", gpt2.toString());
        assertEquals(1, again.exitCode());
        assertTrue(again.err().contains("already holds config.json; pass --overwrite"), again.err());
    }

    @Test
    void initMakesASoluModelInTransformerLensLayoutWithATokenizerOfItsSize() {
        Path solu = dir.resolve("solu-tiny");
        CommandLineRun run = CommandLineRun.of("init", "--arch", "solu", "--preset", "tiny", "--out", solu.toString());
        assertEquals(0, run.exitCode(), run.err());
        LoadedModel loaded = LoadedModel.load(solu);
        assertEquals(dev.jlens.models.components.Activation.SOLU_LN, loaded.model().cfg().actFn());
        assertEquals(1024, loaded.model().cfg().dVocab());
        assertEquals(1023, loaded.tokenizer().bosToken(), "<|endoftext|> is the last of the model's tokens");
        int[] ids = loaded.tokenizer().toTokens("The Eiffel Tower is in Paris", true);
        for (int id : ids) assertTrue(id >= 0 && id < 1024, "every token fits the vocabulary: " + id);
        assertEquals(0, CommandLineRun.of("experiment", "solu-outliers", "--model", solu.toString(), "--out", dir.resolve("solu-report").toString())
                .exitCode());
    }

    @Test
    void cacheWritesTheLogitsAndActivationsOfOneForwardPass() throws Exception {
        Path out = dir.resolve("cache.safetensors");
        CommandLineRun run = CommandLineRun.of("cache", "--model", gpt2.toString(), "--prompt", "The cat sat", "--names",
                "blocks\\.1\\.(hook_resid_post|attn\\.hook_pattern)", "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        // By default commands process weights as TransformerLens's from_pretrained does.
        LoadedModel processed = LoadedModel.load(gpt2, WeightProcessing.Options.DEFAULTS);
        HookedTransformer model = processed.model();
        Tokens tokens = processed.toTokens("The cat sat", true);
        HookedTransformer.CachedRun direct = model.runWithCache(tokens, NameFilter.all());
        try (SafetensorsFile file = SafetensorsFile.open(out)) {
            assertEquals(List.of("logits", "blocks.1.attn.hook_pattern", "blocks.1.hook_resid_post"), file.names());
            assertArrayEquals(direct.logits().data(), file.read("logits").data());
            assertArrayEquals(direct.cache().get("blocks.1.hook_resid_post").data(), file.read("blocks.1.hook_resid_post").data());
            assertArrayEquals(new int[] {1, 4, 4, 4}, file.read("blocks.1.attn.hook_pattern").shape());
        }
    }

    @Test
    void withoutModelTheShippedDefaultIsCachedAndNamedInTheFile() throws Exception {
        Path out = dir.resolve("default.safetensors"), grads = dir.resolve("default-grads.safetensors");
        CommandLineRun run = CommandLineRun.of("cache", "--prompt", "The cat sat", "--names", "blocks\\.0\\.hook_resid_pre", "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        try (SafetensorsFile file = SafetensorsFile.open(out)) {
            assertEquals(ShippedModels.DEFAULT, file.metadata().get("model"));
            assertEquals(List.of("logits", "blocks.0.hook_resid_pre"), file.names());
        }
        CommandLineRun gradsRun = CommandLineRun.of("grads", "--prompt", "The cat sat", "--out", grads.toString());
        assertEquals(0, gradsRun.exitCode(), gradsRun.err());
        try (SafetensorsFile file = SafetensorsFile.open(grads)) {
            assertEquals(ShippedModels.DEFAULT, file.metadata().get("model"));
        }
    }

    @Test
    void gradsWritesTheLossAndEveryParameterGradient() throws Exception {
        Path out = dir.resolve("grads.safetensors");
        CommandLineRun run = CommandLineRun.of("grads", "--model", neox.toString(), "--process", "none", "--tokens", "5,17,300,9",
                "--out", out.toString());
        assertEquals(0, run.exitCode(), run.err());
        HookedTransformer model = LoadedModel.load(neox).model();
        float loss = model.lossAndBackward(Tokens.of(5, 17, 300, 9));
        try (SafetensorsFile file = SafetensorsFile.open(out)) {
            assertEquals(loss, file.read("loss").data()[0]);
            for (Parameter p : model.parameters().values()) assertArrayEquals(p.grad().data(), file.read(p.name()).data(), p.name());
        }
    }

    @Test
    void predictPrintsTestPromptsReport() {
        CommandLineRun run = CommandLineRun.of("predict", "--model", gpt2.toString(), "--prompt", "I climbed the apple tree and picked",
                "--answer", " an", "--top-k", "3");
        assertEquals(0, run.exitCode(), run.err());
        assertTrue(run.out().startsWith("Tokenized prompt: ['<|endoftext|>', 'I', ' climbed', ' the', ' apple', ' tree', ' and', ' picked']\n"
                + "Tokenized answer: [' an']\nPerformance on answer token:\nRank: "), run.out());
        assertEquals(3, run.out().lines().filter(l -> l.startsWith("Top ")).count());
        // The top-1 row agrees with the (processed) model's own argmax.
        LoadedModel loaded = LoadedModel.load(gpt2, WeightProcessing.Options.DEFAULTS);
        Tokens tokens = Tokens.of(loaded.tokenizer().toTokens("I climbed the apple tree and picked an", true));
        Tensor logits = loaded.model().forward(tokens);
        int v = logits.dim(2), at = (tokens.pos() - 2) * v, best = 0;
        for (int i = 1; i < v; i++) if (logits.data()[at + i] > logits.data()[at + best]) best = i;
        assertTrue(run.out().contains("Top 0th token. Logit: " + String.format("%5.2f", logits.data()[at + best])), run.out());
    }

    @Test
    void mistakesAreOneSentenceAndANonZeroExit() {
        assertOneLineError(CommandLineRun.of("predict", "--model", dir.resolve("nope").toString(), "--prompt", "x"), "no such model directory");
        assertOneLineError(CommandLineRun.of("predict", "--model", gpt2.toString(), "--prompt", "x", "--top-k", "0"), "--top-k must be positive, not 0.");
        assertOneLineError(CommandLineRun.of("cache", "--model", gpt2.toString(), "--prompt", "x", "--names", "(", "--out",
                dir.resolve("x.safetensors").toString()), "is not a valid regular expression");
        assertOneLineError(CommandLineRun.of("cache", "--model", gpt2.toString(), "--prompt", "x", "--names", "blocks.0.nope", "--out",
                dir.resolve("x.safetensors").toString()), "--names 'blocks.0.nope' matches none of " + gpt2 + "'s hook points");
        assertOneLineError(CommandLineRun.of("grads", "--model", gpt2.toString(), "--tokens", "1,99999", "--out",
                dir.resolve("y.safetensors").toString()), "token id 99999 at position 1 is outside the vocabulary");
        assertOneLineError(CommandLineRun.of("cache", "--model", gpt2.toString(), "--prompt", "word ".repeat(1100), "--out",
                dir.resolve("z.safetensors").toString()), "but the model's context (n_ctx) is 1024 tokens");
        assertOneLineError(CommandLineRun.of("predict", "--model", neox.toString(), "--process", "default,refactor_factored_attn_matrices",
                "--prompt", "x"), "cannot be applied to");
        assertOneLineError(CommandLineRun.of("predict", "--model", gpt2.toString(), "--process", "fold", "--prompt", "x"),
                "unknown step 'fold'");
        assertOneLineError(CommandLineRun.of("init", "--arch", "gpt3", "--preset", "tiny", "--out", dir.resolve("g3").toString()),
                "unknown architecture 'gpt3'");
        assertFalse(Files.exists(dir.resolve("x.safetensors")) || Files.exists(dir.resolve("z.safetensors")), "nothing written");
        CommandLineRun missing = CommandLineRun.of("cache", "--model", gpt2.toString(), "--out", "f");
        assertEquals(2, missing.exitCode());
        assertTrue(missing.err().contains("--prompt") && missing.err().contains("--tokens"), missing.err());
    }

    private static void assertOneLineError(CommandLineRun run, String expected) {
        assertEquals(1, run.exitCode(), run.out() + run.err());
        assertTrue(run.err().contains(expected), run.err());
        assertEquals(1, run.err().lines().count(), "one line: " + run.err());
    }
}
