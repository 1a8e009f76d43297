package dev.jlens.models.loading;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.TestModels;
import dev.jlens.models.Tokens;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.hub.ShippedModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A checkpoint written in a Hugging Face class's layout holds exactly the tensors that class
 * defines, so {@code transformers} loads the model jlens wrote; a model the class cannot hold is
 * written in TransformerLens's names instead, and reads back as the same model.
 */
class HuggingFaceLayoutTest {
    @TempDir
    Path dir;

    static Stream<Config> huggingFaceFamilies() {
        return Stream.of(TestModels.gpt2(), TestModels.neox(), TestModels.llamaLike(), TestModels.qwen2Like(), TestModels.qwen3Like(),
                TestModels.mistralLike(), TestModels.gemma2Like());
    }

    @ParameterizedTest
    @MethodSource("huggingFaceFamilies")
    void aModelItsClassCanHoldIsWrittenAsExactlyTheClassParameters(Config cfg) throws IOException {
        Map<String, Tensor> state = state(TestModels.random(cfg, 51));
        withoutBiasesTheClassLacks(cfg, state);
        Path out = dir.resolve("hf");
        ModelExport.Layout layout = ModelExport.write(out, cfg, state);
        assertTrue(layout.huggingFace(), layout.describe());
        assertMatchesItsClass(out);
        assertSameModel(cfg, state, out);
    }

    @ParameterizedTest
    @MethodSource("huggingFaceFamilies")
    void anUnembeddingBiasSendsTheModelToTransformerLensNames(Config cfg) throws IOException {
        Map<String, Tensor> state = state(TestModels.random(cfg, 52));
        Path out = dir.resolve("tl");
        ModelExport.Layout layout = ModelExport.write(out, cfg, state);
        assertFalse(layout.huggingFace());
        assertTrue(layout.describe().contains(cfg.family().huggingFaceClass() + " has no unembedding bias"), layout.describe());
        JsonNode config = new ObjectMapper().readTree(out.resolve("config.json").toFile());
        assertFalse(config.has("architectures"), "transformers must not take it for its class");
        assertEquals(cfg.family().huggingFaceClass(), config.get("original_architecture").asText());
        try (SafetensorsFile file = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertTrue(file.contains("unembed.b_U"));
        }
        assertEquals(cfg, ModelLoader.config(out), "the config reads back whole, family included");
        assertSameModel(cfg, state, out);
    }

    @Test
    void foldedLayerNormsAreWrittenInTransformerLensNames() {
        Config cfg = TestModels.gpt2();
        Map<String, Tensor> folded = WeightProcessing.apply(cfg, state(TestModels.random(cfg, 53)), WeightProcessing.Options.DEFAULTS);
        Path out = dir.resolve("folded");
        assertFalse(ModelExport.write(out, cfg, folded).huggingFace());
        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 9, 54));
        float[] expected = HookedTransformer.fromStateDict(cfg, folded).forward(tokens).data();
        assertArrayEquals(expected, ModelLoader.load(out).forward(tokens).data());
    }

    @Test
    void everyShippedModelInHuggingFaceLayoutMatchesItsClass() throws IOException {
        for (String name : ShippedModels.NAMES) {
            Path model = ShippedModels.resolve(name);
            JsonNode config = new ObjectMapper().readTree(model.resolve("config.json").toFile());
            if (config.has("architectures")) {
                assertMatchesItsClass(model);
            } else {
                assertTrue(Files.readString(model.resolve("README.md")).contains("TransformerLens's names"),
                        name + "'s model card says it is not in Hugging Face layout");
            }
        }
    }

    /** The directory's tensors, names and shapes, are its config's class's parameters. */
    private static void assertMatchesItsClass(Path model) throws IOException {
        JsonNode config = new ObjectMapper().readTree(model.resolve("config.json").toFile());
        String hfClass = config.get("architectures").get(0).asText();
        Config cfg = ModelLoader.config(model);
        assertEquals(hfClass, cfg.family().huggingFaceClass());
        boolean tied = config.path("tie_word_embeddings").asBoolean(true), attentionBias = config.path("attention_bias").asBoolean(false);
        Map<String, List<Integer>> found = new TreeMap<>();
        try (SafetensorsFile file = SafetensorsFile.open(model.resolve("model.safetensors"))) {
            for (String name : file.names()) found.put(name, Arrays.stream(file.info(name).shape()).mapToObj(Math::toIntExact).toList());
        }
        assertEquals(HuggingFaceClasses.of(hfClass, cfg, tied, attentionBias).asCheckpointNames(found.keySet()), found, model + " as " + hfClass);
    }

    /**
     * Zeroes what the family's class has no place for: the unembedding bias everywhere; the MLP
     * biases and, but for Qwen2's q/k/v and Llama's attention_bias, the attention biases of the Llama family.
     */
    private static void withoutBiasesTheClassLacks(Config cfg, Map<String, Tensor> state) {
        Arrays.fill(state.get("unembed.b_U").data(), 0f);
        if (!cfg.family().llamaLayout()) return;
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            String name = e.getKey();
            boolean mlp = name.endsWith("mlp.b_in") || name.endsWith("mlp.b_out");
            boolean qkv = name.matches(".*attn\\._?b_[QKV]"), out = name.endsWith("attn.b_O");
            boolean kept = switch (cfg.family()) {
                case LLAMA -> qkv || out;
                case QWEN2 -> qkv;
                default -> false;
            };
            if (mlp || ((qkv || out) && !kept)) Arrays.fill(e.getValue().data(), 0f);
        }
    }

    private static void assertSameModel(Config cfg, Map<String, Tensor> state, Path out) {
        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 11, 55));
        assertArrayEquals(HookedTransformer.fromStateDict(cfg, state).forward(tokens).data(), ModelLoader.load(out).forward(tokens).data());
    }

    private static Map<String, Tensor> state(HookedTransformer model) {
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (Parameter p : model.parameters().values()) state.put(p.name(), p.value().copy());
        return state;
    }
}
