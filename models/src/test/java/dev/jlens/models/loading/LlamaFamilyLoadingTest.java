package dev.jlens.models.loading;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.engine.safetensors.SafetensorsWriter;
import dev.jlens.kernels.Rotary;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.TestModels;
import dev.jlens.models.Tokens;
import dev.jlens.testkit.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hugging Face Llama-family configs and checkpoints: what is read, and what is refused in one sentence. */
class LlamaFamilyLoadingTest {
    @TempDir
    Path dir;

    /** llama-micro's golden model with {@code from} replaced by {@code to} in its config.json (nothing, when from is null). */
    private Path withConfig(String name, String from, String to) throws IOException {
        Path golden = Shared.path("golden/llama-micro");
        Path d = Files.createDirectories(dir.resolve(name));
        String config = Files.readString(golden.resolve("config.json"));
        Files.writeString(d.resolve("config.json"), from == null ? config : config.replace(from, to));
        Files.copy(golden.resolve("model.safetensors"), d.resolve("model.safetensors"));
        return d;
    }

    @Test
    void theLlama3ConfigIsReadFieldByField() throws IOException {
        Config c = ModelLoader.config(withConfig("llama", null, null));
        assertEquals(64, c.dModel());
        assertEquals(4, c.nHeads());
        assertEquals(2, c.nKeyValueHeads());
        assertEquals(16, c.dHead());
        assertEquals(192, c.dMlp());
        assertEquals(500000, c.rotaryBase());
        assertEquals(new Rotary.Llama3Scaling(32, 1, 4, 32), c.rotaryScaling());
        assertEquals(1e-5f, c.eps());
        assertEquals(1, c.bosToken());
    }

    @Test
    void badConfigsAndCheckpointsAreNamedInOneSentence() throws IOException {
        refused(withConfig("yarn", "\"rope_type\": \"llama3\"", "\"rope_type\": \"yarn\""),
                "rope_scaling of type 'yarn' is not supported (jlens computes linear and llama3).");
        refused(withConfig("phi", "\"model_type\": \"llama\"", "\"model_type\": \"phi3\""),
                "model_type 'phi3' is not supported (jlens reads gpt2, gpt_neox, llama, qwen2, qwen3, mistral and gemma2).");
        refused(withConfig("heads", "\"num_key_value_heads\": 2", "\"num_key_value_heads\": 3"),
                "num_attention_heads 4 is not a multiple of num_key_value_heads 3.");
        refused(withConfig("mlpbias", "\"mlp_bias\": false", "\"mlp_bias\": true"),
                "mlp_bias is true, but TransformerLens's gated MLP has no biases on gate_proj and up_proj.");

        Path missing = withConfig("missing", null, null);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        try (SafetensorsFile f = SafetensorsFile.open(missing.resolve("model.safetensors"))) {
            for (String n : f.names()) tensors.put(n, f.read(n));
        }
        tensors.remove("model.layers.1.self_attn.k_proj.weight");
        tensors.put("model.layers.0.mlp.up_proj.weight", Tensor.zeros(191, 64));
        SafetensorsWriter.write(missing.resolve("model.safetensors"), tensors, Map.of(), true);
        JlensException e = assertThrows(JlensException.class, () -> ModelLoader.load(missing));
        assertTrue(e.getMessage().contains("tensor 'model.layers.0.mlp.up_proj.weight' has shape [191, 64] but the config needs [192, 64]"), e.getMessage());
    }

    private static void refused(Path model, String ending) {
        JlensException e = assertThrows(JlensException.class, () -> ModelLoader.load(model));
        assertTrue(e.getMessage().endsWith(ending), e.getMessage());
    }

    /** A Llama of a real shape has no tokenizer jlens ships: the model still loads for token ids, and asking for text says what is missing. */
    @Test
    void aModelWithoutATokenizerLoadsAndSaysWhatIsMissingWhenTextIsAsked() throws IOException {
        LoadedModel loaded = LoadedModel.load(withConfig("no-tokenizer", null, null));
        assertEquals(512, loaded.model().forward(Tokens.of(1, 2, 3)).dim(2));
        JlensException e = assertThrows(JlensException.class, () -> loaded.toTokens("hello", true));
        assertTrue(e.getMessage().endsWith("jlens bundles no llama tokenizer; give token ids (--tokens) or put the model's tokenizer.json beside it."),
                e.getMessage());
    }

    /** Keys window or more positions back are masked: the first window positions are as without it, later ones differ. */
    @Test
    void mistralsSlidingWindowMasksOnlyBeyondTheWindow() {
        Config windowed = TestModels.mistralLike(), full = windowed.toBuilder().slidingWindow(0).build();
        HookedTransformer a = TestModels.random(windowed, 5);
        HookedTransformer b = HookedTransformer.fromStateDict(full, stateOf(a));
        Tokens tokens = Tokens.of(TestModels.randomTokens(windowed, 12, 6));
        float[] la = a.forward(tokens).data(), lb = b.forward(tokens).data();
        int v = windowed.dVocab(), w = windowed.slidingWindow();
        float[] firstA = java.util.Arrays.copyOf(la, w * v), firstB = java.util.Arrays.copyOf(lb, w * v);
        assertArrayEquals(firstB, firstA, "positions within the window see everything either way");
        double diff = 0;
        for (int i = w * v; i < la.length; i++) diff = Math.max(diff, Math.abs(la[i] - lb[i]));
        assertTrue(diff > 1e-3, "later positions lose their oldest keys: " + diff);
    }

    private static Map<String, Tensor> stateOf(HookedTransformer m) {
        Map<String, Tensor> s = new LinkedHashMap<>();
        m.parameters().forEach((name, p) -> s.put(name, p.value().copy()));
        return s;
    }
}
