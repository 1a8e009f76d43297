package dev.jlens.models.loading;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.DataType;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.engine.safetensors.SafetensorsFile;
import dev.jlens.models.Config;
import dev.jlens.models.Config.AttentionType;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.Tokens;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.components.Activation;
import dev.jlens.testkit.Shared;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gemma 2 as Hugging Face stores it and as TransformerLens holds it: the config field by field,
 * the stored-minus-one norms and the unscaled embedding turned into TransformerLens's weights and
 * back bit for bit, and each bad field refused in one sentence naming it.
 */
class Gemma2LoadingTest {
    private static final Path GOLDEN = Shared.path("golden/gemma2-micro");

    @TempDir
    Path dir;

    /** gemma2-micro with {@code from} replaced by {@code to} in its config.json (nothing, when from is null). */
    private Path withConfig(String name, String from, String to) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        String config = Files.readString(GOLDEN.resolve("config.json"));
        String edited = from == null ? config : config.replace(from, to);
        if (from != null && edited.equals(config)) throw new IllegalArgumentException("config.json has no " + from);
        Files.writeString(d.resolve("config.json"), edited);
        Files.copy(GOLDEN.resolve("model.safetensors"), d.resolve("model.safetensors"));
        return d;
    }

    @Test
    void theConfigIsReadFieldByField() throws IOException {
        Config c = ModelLoader.config(withConfig("gemma", null, null));
        assertEquals(ModelFamily.GEMMA2, c.family());
        assertEquals(32, c.dHead(), "head_dim, not d_model / n_heads (16)");
        assertEquals(2, c.nKeyValueHeads());
        assertEquals(Activation.GELU_NEW, c.actFn(), "gelu_pytorch_tanh");
        assertTrue(c.gatedMlp());
        assertTrue(c.useNormalizationBeforeAndAfter());
        assertEquals(Math.sqrt(32), c.attnScale(), "√query_pre_attn_scalar");
        assertEquals(5f, c.attnScoresSoftCap());
        assertEquals(3f, c.outputLogitsSoftCap());
        assertEquals(4, c.slidingWindow());
        assertEquals(List.of(AttentionType.LOCAL, AttentionType.GLOBAL), c.attnTypes());
        assertEquals(4, c.windowOf(0));
        assertEquals(0, c.windowOf(1));
        assertEquals(2, c.bosToken());
        assertEquals(1e-6f, c.eps());
    }

    @Test
    void withoutLayerTypesTheEvenLayersSlide() throws IOException {
        String config = Files.readString(GOLDEN.resolve("config.json"));
        int from = config.indexOf("\"layer_types\""), to = config.indexOf(']', from) + 1;
        Path d = withConfig("default-types", config.substring(from, to), "\"no_layer_types\": true");
        assertEquals(List.of(AttentionType.LOCAL, AttentionType.GLOBAL), ModelLoader.config(d).attnTypes());
    }

    /** TransformerLens holds W_E = √d_model·embed_tokens, W_U = embed_tokensᵀ unscaled, and each norm's 1 + w. */
    @Test
    void weightsAreHeldAsTransformerLensHoldsThem() throws IOException {
        HookedTransformer model = ModelLoader.load(GOLDEN);
        try (SafetensorsFile file = SafetensorsFile.open(GOLDEN.resolve("model.safetensors"))) {
            Tensor embedding = file.read("model.embed_tokens.weight");
            Tensor wE = model.parameter("embed.W_E").value(), wU = model.parameter("unembed.W_U").value();
            for (int i = 0; i < embedding.size(); i += 97) {
                assertEquals(8 * embedding.data()[i], wE.data()[i], "W_E is √64 times embed_tokens");
                int token = i / 64, dim = i % 64;
                assertEquals(embedding.data()[i], wU.get(dim, token), "W_U is embed_tokensᵀ, unscaled");
            }
            String[][] norms = {{"model.layers.0.input_layernorm.weight", "blocks.0.ln1.w"},
                {"model.layers.0.post_attention_layernorm.weight", "blocks.0.ln1_post.w"},
                {"model.layers.1.pre_feedforward_layernorm.weight", "blocks.1.ln2.w"},
                {"model.layers.1.post_feedforward_layernorm.weight", "blocks.1.ln2_post.w"}, {"model.norm.weight", "ln_final.w"}};
            for (String[] n : norms) {
                float[] stored = file.read(n[0]).data(), held = model.parameter(n[1]).value().data();
                for (int i = 0; i < stored.length; i++) assertEquals(1 + stored[i], held[i], n[1] + " is 1 + " + n[0]);
            }
        }
    }

    /**
     * The stored embedding is held once: W_E and W_U stay derived from it through forward, backward
     * and export, and compute exactly what the two matrices would (in float32 and in bfloat16, where
     * W_E's rows are rounded as the matrix holds them: √12 is no power of two, as gemma-2-2b's √2304
     * is not); an optimizer's step makes them.
     */
    @Test
    void theEmbeddingIsHeldOnceUntilEitherMatrixsValuesAreAskedFor() throws IOException {
        Config twelveWide = dev.jlens.models.TestModels.gemma2Like().toBuilder().dModel(12).build();
        for (DataType type : new DataType[] {DataType.FLOAT32, DataType.BFLOAT16}) {
            actsAsItsTwoMatrices(ModelLoader.load(GOLDEN, WeightProcessing.Options.NONE, type), type + " gemma2-micro");
            actsAsItsTwoMatrices(HookedTransformer.fromStateDict(twelveWide, dev.jlens.models.RandomWeights.of(twelveWide, 7, 0.5, type)), type + " d_model 12");
        }
    }

    private void actsAsItsTwoMatrices(HookedTransformer model, String label) throws IOException {
        Tensor wE = model.parameter("embed.W_E").value(), wU = model.parameter("unembed.W_U").value();
        Tensor stored = wE.derivation().source();
        assertSame(stored, wU.derivation().source(), label + ": one embedding behind both");
        long all = 0;
        for (var p : model.parameters().values()) all += p.value().dtype().bytes() * p.value().elements();
        assertEquals(all - stored.dtype().bytes() * stored.elements(), model.heldParameterBytes(), label + ": held once");

        Map<String, Tensor> matrices = new java.util.LinkedHashMap<>();
        model.parameters().forEach((name, p) -> matrices.put(name, p.value()));
        matrices.put("embed.W_E", stored.times((float) Math.sqrt(model.cfg().dModel())));
        matrices.put("unembed.W_U", stored.transposeLastTwo());
        HookedTransformer made = HookedTransformer.fromStateDict(model.cfg(), matrices);

        int[] ids = dev.jlens.models.TestModels.randomTokens(model.cfg(), 8, 3);
        Tokens tokens = Tokens.of(ids);
        var cached = model.runWithCache(tokens, NameFilter.all());
        var expected = made.runWithCache(tokens, NameFilter.all());
        assertTrue(cached.cache().get("hook_embed").sameValues(expected.cache().get("hook_embed")), label + ": W_E's rows as the matrix holds them");
        assertTrue(cached.logits().sameValues(expected.logits()), label + ": logits bit for bit");
        assertEquals(model.lossAndBackward(tokens), made.lossAndBackward(tokens), label + ": loss");
        for (String name : List.of("embed.W_E", "unembed.W_U", "blocks.0.attn.W_Q")) {
            assertTrue(model.parameter(name).grad().sameValues(made.parameter(name).grad()), label + ": gradient of " + name);
        }
        assertTrue(wE.derivation() != null && wU.derivation() != null, label + ": still derived after forward and backward");

        Path out = dir.resolve("export-" + label.replace(' ', '-'));
        assertTrue(ModelExport.write(out, model.cfg(), stateOfHeld(model)).huggingFace(), label);
        assertTrue(wE.derivation() != null && wU.derivation() != null, label + ": still derived after export");
        try (SafetensorsFile written = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            Tensor embedTokens = written.read("model.embed_tokens.weight", stored.dtype(), java.lang.foreign.Arena.ofAuto());
            assertTrue(embedTokens.sameValues(stored), label + ": the stored embedding written as it is");
        }

        new dev.jlens.models.training.AdamW(List.copyOf(model.parameters().values()), 0.9f, 0.999f, 1e-8f, 0f).step(1e-3f);
        assertTrue(wE.derivation() == null && wU.derivation() == null, label + ": an update makes both, each of its own");
        assertTrue(stored.sameValues(made.parameter("unembed.W_U").value().transposeLastTwo()), label + ": the stored embedding untouched by the update");
    }

    /**
     * A W_E of its own beside a W_U still derived (W_E edited): export writes lm_head from the stored
     * embedding W_U reads, and the model computes as before afterwards (the export frees only copies it made).
     */
    @Test
    void exportLeavesTheEmbeddingADerivedUnembeddingReads() throws IOException {
        Config twelveWide = dev.jlens.models.TestModels.gemma2Like().toBuilder().dModel(12).build();
        HookedTransformer model = HookedTransformer.fromStateDict(twelveWide, dev.jlens.models.RandomWeights.of(twelveWide, 11, 0.5, DataType.BFLOAT16));
        model.parameter("embed.W_E").value().set(0.75f, 3, 4);
        Tensor wU = model.parameter("unembed.W_U").value(), stored = wU.derivation().source();
        Tokens tokens = Tokens.of(dev.jlens.models.TestModels.randomTokens(twelveWide, 8, 5));
        Tensor before = model.forward(tokens);
        Path out = dir.resolve("untied");
        assertTrue(ModelExport.write(out, twelveWide, stateOfHeld(model)).huggingFace());
        assertTrue(model.forward(tokens).sameValues(before), "the model as it was");
        assertSame(stored, wU.derivation().source(), "W_U still derived");
        try (SafetensorsFile written = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertTrue(written.read("lm_head.weight", DataType.BFLOAT16, java.lang.foreign.Arena.ofAuto()).sameValues(stored), "lm_head is the stored embedding");
        }
        assertTrue(ModelLoader.load(out).forward(tokens).sameValues(before), "and reads back to the same model");
    }

    /** Written back in Gemma2ForCausalLM's layout, every tensor is the file's own bit for bit, and the config reads back the same. */
    @Test
    void exportGivesBackTheCheckpointBitForBit() throws IOException {
        LoadedModel loaded = LoadedModel.load(GOLDEN);
        Path out = dir.resolve("export");
        ModelExport.Layout layout = ModelExport.write(out, loaded.model().cfg(), stateOf(loaded.model()));
        assertTrue(layout.huggingFace(), layout.describe());
        try (SafetensorsFile original = SafetensorsFile.open(GOLDEN.resolve("model.safetensors"));
             SafetensorsFile written = SafetensorsFile.open(out.resolve("model.safetensors"))) {
            assertEquals(new java.util.TreeSet<>(original.names()), new java.util.TreeSet<>(written.names()), "the class's tensors, tied");
            for (String name : original.names()) assertTrue(original.read(name).sameValues(written.read(name)), name);
        }
        assertEquals(loaded.model().cfg(), ModelLoader.config(out));
    }

    /** A norm weight that w − 1 + 1 would round (0.25 + 2⁻²⁵: w − 1 needs a bit more than float has) keeps the model out of Gemma's layout: written in TransformerLens's names, exact. */
    @Test
    void weightsGemmasStoredFormsWouldRoundAreWrittenInTransformerLensNames() throws IOException {
        HookedTransformer model = ModelLoader.load(GOLDEN);
        Map<String, Tensor> state = stateOf(model);
        float w = 0.25f + 0x1p-25f;
        state.get("blocks.0.ln2_post.w").data()[5] = w;
        Path out = dir.resolve("rounding");
        ModelExport.Layout layout = ModelExport.write(out, model.cfg(), state);
        assertEquals("TransformerLens's names and config (Gemma2ForCausalLM stores blocks.0.ln2_post.w less 1, which would round it)", layout.describe());
        HookedTransformer back = ModelLoader.load(out);
        assertEquals(w, back.parameter("blocks.0.ln2_post.w").value().data()[5]);
        assertEquals(model.cfg(), back.cfg(), "the TransformerLens config keeps every Gemma 2 field");
    }

    /** Processing folds ln1, ln2 and ln_final as TransformerLens does, keeps ln1_post and ln2_post, and skips center_unembed with a note. */
    @Test
    void weightProcessingKeepsThePostNormsAndLeavesTheCappedUnembeddingUncentred() {
        HookedTransformer plain = ModelLoader.load(GOLDEN);
        HookedTransformer processed = ModelLoader.load(GOLDEN, WeightProcessing.Options.DEFAULTS, null);
        Map<String, ?> params = processed.parameters();
        assertTrue(params.containsKey("blocks.0.ln1_post.w") && params.containsKey("blocks.1.ln2_post.w"), "the post norms keep their weights");
        assertTrue(!params.containsKey("blocks.0.ln1.w") && !params.containsKey("ln_final.w"), "the norms before are folded");
        assertEquals(List.of("center_writing_weights is skipped: the model's RMS norms keep the residual stream's mean, so centring would change its outputs.",
                "center_unembed is skipped: the logits' soft cap is not the same for logits shifted by a constant, so centring would change its outputs."),
                WeightProcessing.Options.DEFAULTS.skippedFor(plain.cfg()));
        Tokens tokens = Tokens.of(2, 17, 255, 100, 42, 7, 511, 64);
        float[] a = plain.forward(tokens).data(), b = processed.forward(tokens).data();
        for (int i = 0; i < a.length; i++) assertEquals(a[i], b[i], 2e-5, "logit " + i);
    }

    @Test
    void badFieldsAreNamedInOneSentence() throws IOException {
        refused(withConfig("act", "\"gelu_pytorch_tanh\"", "\"relu2\""),
                "hidden_activation 'relu2' is not an activation jlens computes (it knows gelu_pytorch_tanh, gelu_new, gelu_fast, gelu, silu, swish).");
        refused(withConfig("scores", "\"attn_logit_softcapping\": 5.0", "\"attn_logit_softcapping\": -5.0"),
                "attn_logit_softcapping is -5.0, but a soft cap must be a positive number (or null for none).");
        refused(withConfig("logits", "\"final_logit_softcapping\": 3.0", "\"final_logit_softcapping\": -1"),
                "final_logit_softcapping is -1, but a soft cap must be a positive number (or null for none).");
        refused(withConfig("window", "\"sliding_window\": 4", "\"sliding_window\": 0"),
                "sliding_window is 0, but a window must hold at least 1 position.");
        refused(withConfig("types", "\"full_attention\"", "\"chunked_attention\""),
                "layer_types holds 'chunked_attention', where jlens knows sliding_attention and full_attention.");
        refused(withConfig("scalar", "\"query_pre_attn_scalar\": 32", "\"query_pre_attn_scalar\": 0"),
                "query_pre_attn_scalar is 0, but it must be a positive number.");
    }

    /** Caps of null are no caps (as Hugging Face reads them): the model then computes uncapped scores and logits. */
    @Test
    void nullCapsAreNone() throws IOException {
        Path d = withConfig("uncapped", "\"attn_logit_softcapping\": 5.0", "\"attn_logit_softcapping\": null");
        HookedTransformer uncapped = ModelLoader.load(d);
        assertEquals(0f, uncapped.cfg().attnScoresSoftCap());
        Tokens tokens = Tokens.of(2, 17, 255, 100, 42, 7);
        float[] capped = ModelLoader.load(GOLDEN).runWithCache(tokens, NameFilter.exactly("blocks.0.attn.hook_attn_scores")).cache()
                .get("blocks.0.attn.hook_attn_scores").data();
        float[] raw = uncapped.runWithCache(tokens, NameFilter.exactly("blocks.0.attn.hook_attn_scores")).cache().get("blocks.0.attn.hook_attn_scores").data();
        for (int i = 0; i < raw.length; i++) {
            float expected = Float.isInfinite(raw[i]) ? raw[i] : (float) (5 * Math.tanh(raw[i] / 5.0));
            assertEquals(expected, capped[i], 1e-5, "score " + i + " is 5·tanh(raw / 5)");
        }
    }

    private static void refused(Path model, String ending) {
        JlensException e = assertThrows(JlensException.class, () -> ModelLoader.load(model));
        assertTrue(e.getMessage().endsWith(ending), e.getMessage());
    }

    /** The model's own tensors under their names, not copies. */
    private static Map<String, Tensor> stateOfHeld(HookedTransformer m) {
        Map<String, Tensor> s = new java.util.LinkedHashMap<>();
        m.parameters().forEach((name, p) -> s.put(name, p.value()));
        return s;
    }

    private static Map<String, Tensor> stateOf(HookedTransformer m) {
        Map<String, Tensor> s = new java.util.LinkedHashMap<>();
        m.parameters().forEach((name, p) -> s.put(name, p.value().copy()));
        return s;
    }
}
