package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.RandomWeights;
import dev.jlens.models.Tokens;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.components.Activation;
import dev.jlens.testkit.Close;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class CacheAnalysisTest {
    static Stream<Config> configs() {
        return Stream.of(
                Config.builder().family(ModelFamily.GPT2).nLayers(3).dModel(16).nHeads(2).dHead(8).dMlp(32).dVocab(41).nCtx(24).actFn(Activation.GELU_NEW).build(),
                Config.builder().family(ModelFamily.GPT_NEOX).nLayers(2).dModel(16).nHeads(2).dHead(8).dMlp(32).dVocab(41).nCtx(24).actFn(Activation.GELU).rotary(4).parallelAttnMlp(true).build(),
                Config.builder().family(ModelFamily.HOOKED_TRANSFORMER).nLayers(2).dModel(16).nHeads(2).dHead(8).dMlp(32).dVocab(41).nCtx(24).actFn(Activation.SOLU_LN).positions(Config.PositionalEmbedding.SHORTFORMER).build());
    }

    /** A random model with non-trivial norms and biases, processed as from_pretrained does. */
    static HookedTransformer model(Config cfg, long seed) {
        Map<String, Tensor> state = RandomWeights.of(cfg, seed, 0.3);
        SplittableRandom rng = new SplittableRandom(seed);
        state.forEach((name, t) -> {
            if (name.contains(".b") || name.endsWith(".w")) for (int i = 0; i < t.size(); i++) t.data()[i] += (float) (rng.nextDouble() - 0.5);
        });
        return HookedTransformer.fromStateDict(cfg, WeightProcessing.applyInPlace(cfg, state, WeightProcessing.Options.DEFAULTS));
    }

    static Tokens tokens(Config cfg) {
        SplittableRandom rng = new SplittableRandom(3);
        int[][] prompts = {new int[9], new int[9]};
        for (int[] p : prompts) for (int i = 0; i < p.length; i++) p[i] = rng.nextInt(cfg.dVocab());
        return Tokens.padded(0, prompts);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void decomposeResidSumsToTheResidualAtEveryLayer(Config cfg) {
        HookedTransformer model = model(cfg, 1);
        ActivationCache cache = model.runWithCache(tokens(cfg), NameFilter.all()).cache();
        CacheAnalysis analysis = new CacheAnalysis(model, cache);
        for (int layer = 0; layer <= cfg.nLayers(); layer++) {
            if (layer == 0 && !cfg.rotary() && !cfg.shortformer()) continue; // embeds only: checked below
            ResidualStack stack = analysis.decomposeResid(layer, CacheAnalysis.Mode.ALL, true, PosSlice.all());
            Tensor expected = layer == cfg.nLayers() ? cache.get(ActNames.of("resid_post", layer - 1)) : cache.get(ActNames.of("resid_pre", layer));
            assertClose(expected, stack.sum(), 1e-5, "layer " + layer + " " + stack.labels());
        }
        List<String> labels = analysis.decomposeResid(1, CacheAnalysis.Mode.ALL, true, PosSlice.all()).labels();
        assertEquals(cfg.rotary() || cfg.shortformer() ? List.of("embed", "0_attn_out", "0_mlp_out")
                : List.of("embed", "pos_embed", "0_attn_out", "0_mlp_out"), labels);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void headResultsSumToTheAttentionOutputAndAccumulatedResidIsTheCachedResiduals(Config cfg) {
        HookedTransformer model = model(cfg, 2);
        ActivationCache cache = model.runWithCache(tokens(cfg), NameFilter.all()).cache();
        CacheAnalysis analysis = new CacheAnalysis(model, cache);
        ResidualStack heads = analysis.stackHeadResults(1, PosSlice.all());
        assertEquals(List.of("L0H0", "L0H1"), heads.labels());
        Tensor sum = heads.sum();
        float[] bO = model.parameter("blocks.0.attn.b_O").value().data();
        for (int i = 0; i < sum.size(); i++) sum.data()[i] += bO[i % cfg.dModel()];
        assertClose(cache.get("blocks.0.hook_attn_out"), sum, 1e-5, "Σ heads + b_O");

        ResidualStack acc = analysis.accumulatedResid(cfg.nLayers(), false, PosSlice.at(-1));
        assertEquals(cfg.nLayers() + 1, acc.labels().size());
        assertEquals("final_post", acc.labels().get(cfg.nLayers()));
        assertEquals(cache.get("blocks.1.hook_resid_pre").get(1, 8, 3), acc.values().get(1, 1, 0, 3));
    }

    /**
     * apply_ln_to_stack leaves out ln_final's w and b, as TransformerLens's does: the identity needs
     * them folded into W_U, which fold_ln does for every model but shortformer ones.
     */
    static Stream<Config> foldedConfigs() {
        return configs().filter(cfg -> !cfg.shortformer());
    }

    @ParameterizedTest
    @MethodSource("foldedConfigs")
    void directLogitAttributionSumsToTheLogitDifference(Config cfg) {
        HookedTransformer model = model(cfg, 4);
        Tokens tokens = tokens(cfg);
        HookedTransformer.CachedRun run = model.runWithCache(tokens, NameFilter.all());
        CacheAnalysis analysis = new CacheAnalysis(model, run.cache());
        int[] correct = {5, 7}, wrong = {11, 2};
        ResidualStack stack = analysis.decomposeResid(cfg.nLayers(), CacheAnalysis.Mode.ALL, true, PosSlice.at(-1));
        Tensor attrs = analysis.logitAttrs(stack, correct, wrong, PosSlice.at(-1));
        float[] bU = model.parameter("unembed.b_U").value().data();
        for (int b = 0; b < 2; b++) {
            double total = 0;
            for (int c = 0; c < stack.labels().size(); c++) total += attrs.get(c, b, 0);
            float diff = run.logits().get(b, 8, correct[b]) - run.logits().get(b, 8, wrong[b]);
            assertEquals(diff, Metric.logitDifferences(run.logits(), tokens, correct, wrong)[b], 0, "per-prompt logit difference");
            assertEquals(diff, total + bU[correct[b]] - bU[wrong[b]], 1e-4, "prompt " + b);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void resumingAtAnyLayerEqualsTheFullRunBitForBit(Config cfg) {
        HookedTransformer model = model(cfg, 5);
        Tokens tokens = tokens(cfg);
        float[] full = model.forward(tokens).data();
        for (int layer = 0; layer <= cfg.nLayers(); layer++) {
            Tensor resid = model.residualAt(tokens, layer);
            assertArrayEquals(full, model.logitsFrom(resid, layer, tokens).data(), "start_at_layer " + layer);
        }
        JlensException e = assertThrows(JlensException.class, () -> model.logitsFrom(Tensor.zeros(1, 9, 16), 1, tokens));
        assertTrue(e.getMessage().contains("cannot enter block 1"), e.getMessage());
        assertThrows(JlensException.class, () -> model.residualAt(tokens, cfg.nLayers() + 1));
    }

    @Test
    void actNamesFollowTransformerLens() {
        assertEquals("blocks.3.mlp.hook_post", ActNames.of("post", 3));
        assertEquals("blocks.0.attn.hook_pattern", ActNames.of("pattern", 0));
        assertEquals("blocks.0.attn.hook_pattern", ActNames.of("attn", 0));
        assertEquals("blocks.5.hook_resid_pre", ActNames.of("resid_pre", 5));
        assertEquals("blocks.2.ln2.hook_scale", ActNames.of("scale", 2, "ln2"));
        assertEquals("ln_final.hook_scale", ActNames.of("scale"));
        assertEquals("hook_embed", ActNames.of("embed"));
        assertTrue(assertThrows(JlensException.class, () -> ActNames.of("posts", 1)).getMessage().contains("unknown activation name 'posts'"));
    }

    @Test
    void positionSlicesCountFromTheEndLikePython() {
        assertArrayEquals(new int[] {8}, PosSlice.at(-1).positions(9));
        assertArrayEquals(new int[] {2, 3, 4}, PosSlice.range(2, 5).positions(9));
        assertEquals(9, PosSlice.all().positions(9).length);
        assertThrows(JlensException.class, () -> PosSlice.at(9).positions(9));
    }

    private static void assertClose(Tensor expected, Tensor actual, double rtol, String what) {
        assertArrayEquals(expected.shape(), actual.shape(), what);
        Close.assertCloseToScale(expected.data(), actual.data(), rtol, what);
    }
}
