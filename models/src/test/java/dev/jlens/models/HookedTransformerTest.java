package dev.jlens.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.components.Activation;
import dev.jlens.testkit.FiniteDifferences;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class HookedTransformerTest {
    static Stream<Config> configs() {
        return TestModels.all();
    }

    @ParameterizedTest
    @MethodSource("configs")
    void identityHooksOnEveryPointLeaveLogitsAndGradientsBitIdentical(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 1);
        model.setUseAttnResult(true);
        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 9, 2));
        Tensor plainLogits = model.forward(tokens);
        Map<String, float[]> plainGrads = gradients(model, tokens);
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(NameFilter.all(), (a, p) -> a.copy());
            scope.backward(NameFilter.all(), (g, p) -> g.copy());
            assertArrayEquals(plainLogits.data(), model.forward(tokens).data());
            Map<String, float[]> hookedGrads = gradients(model, tokens);
            for (String name : plainGrads.keySet()) assertArrayEquals(plainGrads.get(name), hookedGrads.get(name), name);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void everyHookPointFiresWithTransformerLensShapes(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 1);
        model.setUseAttnResult(true);
        int b = 1, t = 6, d = cfg.dModel(), h = cfg.nHeads(), g = cfg.nKeyValueHeads(), dh = cfg.dHead(), m = cfg.dMlp();
        ActivationCache cache = model.runWithCache(Tokens.of(TestModels.randomTokens(cfg, t, 3)), NameFilter.all()).cache();
        assertEquals(model.hookPoints().names(), cache.names(), "every hook point fired, in registration order");
        Map<String, int[]> expected = new LinkedHashMap<>();
        expected.put("hook_embed", new int[] {b, t, d});
        expected.put("blocks.0.hook_resid_pre", new int[] {b, t, d});
        expected.put("blocks.0.ln1.hook_scale", new int[] {b, t, 1});
        expected.put("blocks.0.ln1.hook_normalized", new int[] {b, t, d});
        expected.put("blocks.0.attn.hook_q", new int[] {b, t, h, dh});
        expected.put("blocks.0.attn.hook_k", new int[] {b, t, g, dh});
        expected.put("blocks.0.attn.hook_v", new int[] {b, t, g, dh});
        expected.put("blocks.0.attn.hook_attn_scores", new int[] {b, h, t, t});
        expected.put("blocks.0.attn.hook_pattern", new int[] {b, h, t, t});
        expected.put("blocks.0.attn.hook_z", new int[] {b, t, h, dh});
        expected.put("blocks.0.attn.hook_result", new int[] {b, t, h, d});
        expected.put("blocks.0.hook_attn_out", new int[] {b, t, d});
        expected.put("blocks.0.mlp.hook_pre", new int[] {b, t, m});
        expected.put("blocks.0.mlp.hook_post", new int[] {b, t, m});
        expected.put("blocks.0.hook_mlp_out", new int[] {b, t, d});
        expected.put("blocks.0.hook_resid_post", new int[] {b, t, d});
        expected.put("ln_final.hook_scale", new int[] {b, t, 1});
        expected.put("ln_final.hook_normalized", new int[] {b, t, d});
        if (cfg.rotary()) {
            expected.put("blocks.0.attn.hook_rot_q", new int[] {b, t, h, dh});
            expected.put("blocks.0.attn.hook_rot_k", new int[] {b, t, g, dh});
        }
        else expected.put("hook_pos_embed", new int[] {b, t, d});
        if (!cfg.parallelAttnMlp()) expected.put("blocks.0.hook_resid_mid", new int[] {b, t, d});
        if (cfg.gatedMlp()) expected.put("blocks.0.mlp.hook_pre_linear", new int[] {b, t, m});
        if (cfg.actFn() == Activation.SOLU_LN) {
            expected.put("blocks.0.mlp.hook_mid", new int[] {b, t, m});
            expected.put("blocks.0.mlp.ln.hook_normalized", new int[] {b, t, m});
        }
        expected.forEach((name, shape) -> assertArrayEquals(shape, cache.get(name).shape(), name));
    }

    @ParameterizedTest
    @MethodSource("configs")
    void aPaddedBatchGivesEachPromptsOwnLogitsAndLosses(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 4);
        int[][] prompts = {TestModels.randomTokens(cfg, 12, 5), TestModels.randomTokens(cfg, 5, 6), TestModels.randomTokens(cfg, 9, 7)};
        Tokens batch = Tokens.padded(cfg.dVocab() - 1, prompts);
        Tensor batchLogits = model.forward(batch), batchLoss = CrossEntropy.perToken(batchLogits, batch);
        int v = cfg.dVocab();
        double total = 0;
        for (int b = 0; b < prompts.length; b++) {
            Tokens alone = Tokens.of(prompts[b]);
            Tensor logits = model.forward(alone), loss = CrossEntropy.perToken(logits, alone);
            for (int i = 0; i < prompts[b].length * v; i++) {
                assertEquals(logits.data()[i], batchLogits.data()[b * batch.pos() * v + i], 1e-5, "prompt " + b + " logit " + i);
            }
            for (int t = 0; t + 1 < prompts[b].length; t++) {
                assertEquals(loss.data()[t], batchLoss.data()[b * (batch.pos() - 1) + t], 1e-5, "prompt " + b + " loss " + t);
                total += loss.data()[t];
            }
        }
        assertEquals(total / (11 + 4 + 8), CrossEntropy.mean(batchLogits, batch), 1e-5, "mean over real positions only");
    }

    @ParameterizedTest
    @MethodSource("configs")
    void theLossUnembeddedBySlabsIsTheLossOfTheWholeLogitsToTheLastBit(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 10);
        Tokens batch = Tokens.padded(cfg.dVocab() - 1, TestModels.randomTokens(cfg, 12, 11), TestModels.randomTokens(cfg, 5, 12),
                TestModels.randomTokens(cfg, 9, 13));
        Tensor logits = model.forward(batch);
        double mean = CrossEntropy.mean(logits, batch);
        float[] perToken = CrossEntropy.perToken(logits, batch).data();
        long oneSequence = (long) batch.pos() * cfg.dVocab();
        // One sequence per slab, two (the last slab short), and the whole batch at once.
        for (long slab : new long[] {1, 2 * oneSequence, Long.MAX_VALUE}) {
            assertEquals(mean, model.loss(batch, slab), 0, "slabs of " + slab + " logits");
            assertArrayEquals(perToken, model.lossPerToken(batch, slab).data(), "slabs of " + slab + " logits");
        }
        assertEquals(mean, model.loss(batch), 0);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void theGradientAtAHookPointIsTheDerivativeOfTheLossThere(Config cfg) {
        HookedTransformer model = TestModels.random(cfg, 8);
        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 7, 9));
        String site = "blocks.0.hook_attn_out";
        Tensor grad;
        try (HookScope scope = model.hookPoints().scope()) {
            ActivationCache grads = ActivationCache.recordGradients(scope, NameFilter.exactly(site));
            model.lossAndBackward(tokens);
            grad = grads.get(site);
        }
        float[] delta = new float[grad.size()];
        Tensor finalGrad = grad;
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(site, (a, p) -> {
                float[] out = a.data().clone();
                for (int i = 0; i < out.length; i++) out[i] += delta[i];
                return Tensor.of(out, a.shape());
            });
            FiniteDifferences.check(site, delta, finalGrad.data(), FiniteDifferences.all(delta.length), 4e-2f,
                    () -> CrossEntropy.mean(model.forward(tokens), tokens), 3e-3, 1e-5);
        }
    }

    @Test
    void patchingTheFirstResidualFromAnotherRunReproducesThatRun() {
        Config cfg = TestModels.gpt2();
        HookedTransformer model = TestModels.random(cfg, 2);
        Tokens clean = Tokens.of(TestModels.randomTokens(cfg, 8, 10)), corrupt = Tokens.of(TestModels.randomTokens(cfg, 8, 11));
        HookedTransformer.CachedRun cleanRun = model.runWithCache(clean, NameFilter.exactly("blocks.0.hook_resid_pre"));
        Tensor cleanResid = cleanRun.cache().get("blocks.0.hook_resid_pre");
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward("blocks.0.hook_resid_pre", (a, p) -> cleanResid);
            assertArrayEquals(cleanRun.logits().data(), model.forward(corrupt).data());
        }
        assertTrue(model.forward(corrupt).data()[0] != cleanRun.logits().data()[0], "the hook was removed with its scope");
    }

    @Test
    void zeroGradClearsAndBackwardAccumulates() {
        Config cfg = TestModels.gpt2();
        HookedTransformer model = TestModels.random(cfg, 3);
        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 6, 12));
        Map<String, float[]> once = gradients(model, tokens);
        model.lossAndBackward(tokens); // without zeroGrad: twice the gradient
        for (Parameter p : model.parameters().values()) {
            float[] g = once.get(p.name());
            for (int i = 0; i < g.length; i++) assertEquals(2 * g[i], p.grad().data()[i], 1e-6 + 1e-5 * Math.abs(g[i]), p.name());
        }
        model.zeroGrad();
        for (Parameter p : model.parameters().values()) for (float v : p.grad().data()) assertEquals(0f, v, p.name());
    }

    @ParameterizedTest
    @MethodSource("configs")
    void gradientsAtHookPointsAreBitIdenticalWithoutParameterGradientsAndNoneAreMade(Config cfg) {
        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 10, 31));
        Map<String, Tensor> all = hookGradients(TestModels.random(cfg, 32), tokens);
        HookedTransformer model = TestModels.random(cfg, 32);
        Map<String, Tensor> withoutParameters;
        try (HookedTransformer.GradientScope none = model.requiresGradOnly(name -> false)) {
            withoutParameters = hookGradients(model, tokens);
            for (Parameter p : model.parameters().values()) assertTrue(!p.requiresGrad() && !p.hasGrad(), p.name() + " holds a gradient");
        }
        assertEquals(all.keySet(), withoutParameters.keySet());
        for (String name : all.keySet()) assertArrayEquals(all.get(name).data(), withoutParameters.get(name).data(), name);
        for (Parameter p : model.parameters().values()) assertTrue(p.requiresGrad(), p.name() + " takes gradients again once the scope closes");
        model.lossAndBackward(tokens);
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (Parameter p : TestModels.random(cfg, 32).parameters().values()) state.put(p.name(), p.value());
        HookedTransformer fresh = HookedTransformer.fromStateDict(cfg, state);
        fresh.lossAndBackward(tokens);
        for (Parameter p : model.parameters().values()) assertArrayEquals(fresh.parameter(p.name()).grad().data(), p.grad().data(), p.name());
    }

    @Test
    void aTiedUnembeddingWhoseGradientNobodyWantsStaysTiedThroughABackward() {
        Config cfg = TestModels.gpt2();
        Map<String, Tensor> state = RandomWeights.of(cfg, 6, 0.2);
        state.remove("unembed.W_U");
        HookedTransformer model = HookedTransformer.fromStateDict(cfg, state);
        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 9, 7));
        Map<String, Tensor> tied;
        try (HookedTransformer.GradientScope none = model.requiresGradOnly(name -> false)) {
            tied = hookGradients(model, tokens);
        }
        assertTrue(model.unembed.tied(), "no W_U of its own was made for the backward");
        model.unembed.W_U(); // now a matrix of its own, as TransformerLens holds it
        try (HookedTransformer.GradientScope none = model.requiresGradOnly(name -> false)) {
            Map<String, Tensor> untied = hookGradients(model, tokens);
            for (String name : tied.keySet()) assertArrayEquals(untied.get(name).data(), tied.get(name).data(), name);
        }
    }

    /** The gradient of the mean next-token loss at every hook point. */
    private static Map<String, Tensor> hookGradients(HookedTransformer model, Tokens tokens) {
        try (HookScope scope = model.hookPoints().scope()) {
            ActivationCache grads = ActivationCache.recordGradients(scope, NameFilter.all());
            model.backward(CrossEntropy.lossAndGradient(model.forward(tokens, true), tokens).gradient());
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String name : grads.names()) out.put(name, grads.get(name));
            return out;
        }
    }

    @Test
    void movingToTheCpuChangesNothingAndKeepsATiedUnembeddingTied() {
        Config cfg = TestModels.gpt2();
        Map<String, Tensor> state = RandomWeights.of(cfg, 4, 0.2);
        state.remove("unembed.W_U");
        HookedTransformer model = HookedTransformer.fromStateDict(cfg, state);
        Tokens tokens = Tokens.of(TestModels.randomTokens(cfg, 9, 5));
        float[] before = model.forward(tokens).data();
        long held = model.heldParameterBytes();
        assertEquals(dev.jlens.engine.Device.CPU, model.to(dev.jlens.engine.Device.CPU).device());
        assertTrue(model.unembed.tied(), "no W_U of its own was made");
        assertEquals(held, model.heldParameterBytes());
        assertArrayEquals(before, model.forward(tokens).data());
    }

    @Test
    void aPromptLongerThanTheContextIsRefused() {
        Config cfg = TestModels.gpt2();
        HookedTransformer model = TestModels.random(cfg, 3);
        JlensException e = assertThrows(JlensException.class, () -> model.forward(Tokens.of(new int[cfg.nCtx() + 1])));
        assertEquals("the input is 25 tokens long but the model's context (n_ctx) is 24 tokens.", e.getMessage());
    }

    @Test
    void anUnknownHookNameListsTheClosest() {
        HookedTransformer model = TestModels.random(TestModels.gpt2(), 3);
        JlensException e = assertThrows(JlensException.class, () -> model.hookPoints().scope().forward("blocks.1.mlp.hook_pots", (a, p) -> null));
        assertTrue(e.getMessage().startsWith("unknown hook point 'blocks.1.mlp.hook_pots'; the closest are blocks.1.mlp.hook_post"), e.getMessage());
    }

    @Test
    void backwardKeepsNothingAfterItRunsAndInferenceKeepsNothingAtAll() {
        HookedTransformer model = TestModels.random(TestModels.gpt2(), 3);
        Tokens tokens = Tokens.of(1, 2, 3);
        model.forward(tokens);
        assertThrows(IllegalStateException.class, () -> model.backward(Tensor.zeros(1, 3, 37)));
    }

    private static Map<String, float[]> gradients(HookedTransformer model, Tokens tokens) {
        model.zeroGrad();
        model.lossAndBackward(tokens);
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Parameter p : model.parameters().values()) out.put(p.name(), p.grad().data().clone());
        return out;
    }

    @Test
    void listsTheHookPointsTransformerLensHasForGpt2() {
        HookedTransformer model = TestModels.random(TestModels.gpt2(), 3);
        List<String> names = model.hookPoints().names();
        assertEquals(List.of("hook_embed", "hook_pos_embed", "blocks.0.hook_resid_pre", "blocks.0.ln1.hook_scale",
                "blocks.0.ln1.hook_normalized", "blocks.0.attn.hook_q", "blocks.0.attn.hook_k", "blocks.0.attn.hook_v",
                "blocks.0.attn.hook_attn_scores", "blocks.0.attn.hook_pattern", "blocks.0.attn.hook_z", "blocks.0.attn.hook_result",
                "blocks.0.hook_attn_out", "blocks.0.hook_resid_mid", "blocks.0.ln2.hook_scale", "blocks.0.ln2.hook_normalized",
                "blocks.0.mlp.hook_pre", "blocks.0.mlp.hook_post", "blocks.0.hook_mlp_out", "blocks.0.hook_resid_post"),
                names.subList(0, 20));
        assertEquals(List.of("ln_final.hook_scale", "ln_final.hook_normalized"), names.subList(names.size() - 2, names.size()));
    }

    @org.junit.jupiter.api.Test
    void groupedKeysAndValuesComputeWhatRepeatingThemForEveryQueryHeadComputes() {
        Config grouped = TestModels.groupedQuery();
        Config repeated = grouped.toBuilder().nKeyValueHeads(grouped.nHeads()).build();
        HookedTransformer model = TestModels.random(grouped, 21);
        int perGroup = grouped.nHeads() / grouped.nKeyValueHeads();
        Map<String, Tensor> state = new LinkedHashMap<>();
        model.parameters().forEach((name, p) -> {
            if (!name.contains("attn._")) {
                state.put(name, p.value().copy());
                return;
            }
            // repeat_interleave over heads: query head h reads key/value head h / perGroup.
            int span = p.value().size() / grouped.nKeyValueHeads();
            float[] out = new float[span * grouped.nHeads()];
            for (int h = 0; h < grouped.nHeads(); h++) System.arraycopy(p.value().data(), h / perGroup * span, out, h * span, span);
            int[] shape = p.value().shape();
            shape[0] = grouped.nHeads();
            state.put(name.replace("attn._", "attn."), Tensor.of(out, shape));
        });
        HookedTransformer full = HookedTransformer.fromStateDict(repeated, state);
        Tokens tokens = Tokens.of(TestModels.randomTokens(grouped, 11, 22));
        Tensor a = model.forward(tokens), b = full.forward(tokens);
        for (int i = 0; i < a.size(); i++) assertEquals(b.data()[i], a.data()[i], 1e-5, "logit " + i);

        model.zeroGrad();
        full.zeroGrad();
        assertEquals(full.lossAndBackward(tokens), model.lossAndBackward(tokens), 1e-6);
        for (String weight : List.of("W_K", "W_V", "b_K", "b_V")) {
            String name = "blocks.1.attn._" + weight;
            float[] sharedGrad = model.parameter(name).grad().data(), perHead = full.parameter(name.replace("attn._", "attn.")).grad().data();
            int span = sharedGrad.length / grouped.nKeyValueHeads();
            for (int i = 0; i < sharedGrad.length; i++) {
                int group = i / span, at = i % span;
                double sum = 0;
                for (int h = group * perGroup; h < (group + 1) * perGroup; h++) sum += perHead[h * span + at];
                assertEquals(sum, sharedGrad[i], 1e-5, name + " gradient " + i + " is the sum over the query heads sharing it");
            }
        }
    }
}
