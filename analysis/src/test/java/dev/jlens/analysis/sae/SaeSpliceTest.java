package dev.jlens.analysis.sae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.analysis.Metric;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** SAEs spliced into a model as HookedSAETransformer splices them: forward, hook points, cache, and gradients. */
class SaeSpliceTest {
    static final String HOOK = "blocks.1.hook_resid_pre";
    static final Tokens TOKENS = Tokens.padded(0, new int[] {3, 17, 5, 29, 11, 8, 40}, new int[] {12, 1, 33, 7, 19, 25, 2});
    static final Metric METRIC = Metric.logitDifference(new int[] {4, 9}, new int[] {13, 1});

    @ParameterizedTest
    @EnumSource(SaeArchitecture.class)
    void withTheErrorTermTheModelsLogitsAreUnchangedAndWithoutItTheyAreTheReconstructions(SaeArchitecture architecture) {
        HookedTransformer model = SaeFixtures.model(1);
        Sae sae = SaeFixtures.sae(architecture, 16, 40, HOOK, 2);
        Tensor clean = model.forward(TOKENS);
        try (SaeSplice ignored = SaeSplice.attach(model, sae, true)) {
            assertArrayEquals(clean.data(), model.forward(TOKENS).data(), 1e-5f);
        }
        Tensor spliced;
        try (SaeSplice ignored = SaeSplice.attach(model, sae, false)) {
            spliced = model.forward(TOKENS);
        }
        // The same replacement by hand: a forward hook that returns the SAE's reconstruction.
        Tensor byHand;
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(HOOK, (x, point) -> sae.decode(sae.encode(x)).reshape(x.shape()));
            byHand = model.forward(TOKENS);
        }
        assertArrayEquals(byHand.data(), spliced.data(), 1e-5f);
        assertFalse(maxDifference(clean, spliced) < 1e-3, "the reconstruction changes the logits");
        assertEquals(clean.data().length, model.forward(TOKENS).data().length);
        assertArrayEquals(clean.data(), model.forward(TOKENS).data(), 0f, "closing takes the SAE out");
    }

    @Test
    void runWithCacheRecordsEachSaesHookPointsUnderItsHookWithSeveralSpliced() {
        HookedTransformer model = SaeFixtures.model(3);
        Sae first = SaeFixtures.sae(SaeArchitecture.TOPK, 16, 40, "blocks.0.hook_resid_post", 4);
        Sae second = SaeFixtures.sae(SaeArchitecture.JUMPRELU, 16, 24, "blocks.1.hook_mlp_out", 5);
        try (SaeSplice a = SaeSplice.attach(model, first, true); SaeSplice b = SaeSplice.attach(model, second, true)) {
            ActivationCache cache = model.runWithCache(TOKENS, NameFilter.all()).cache();
            for (SaeSplice s : List.of(a, b)) {
                List<String> names = cache.names();
                int at = names.indexOf(s.hook());
                assertEquals(SaeSplice.HOOKS.stream().map(h -> s.hook() + "." + h).toList(), names.subList(at + 1, at + 1 + SaeSplice.HOOKS.size()),
                        "the SAE's points follow its hook, in the order its forward reaches them");
                Tensor x = cache.get(s.hook());
                Tensor acts = cache.get(s.hookName("hook_sae_acts_post"));
                assertArrayEquals(new int[] {2, 7, s.sae().cfg().dSae()}, acts.shape());
                assertArrayEquals(s.sae().encode(x).data(), acts.data(), 1e-6f);
                Tensor recons = cache.get(s.hookName("hook_sae_recons")), error = cache.get(s.hookName("hook_sae_error"));
                float[] sum = new float[x.data().length];
                for (int i = 0; i < sum.length; i++) sum[i] = recons.data()[i] + error.data()[i];
                assertArrayEquals(x.data(), sum, 1e-5f, "error = input − reconstruction");
                assertArrayEquals(x.data(), cache.get(s.hookName("hook_sae_output")).data(), 1e-5f);
            }
        }
        assertFalse(model.hookPoints().contains("blocks.0.hook_resid_post.hook_sae_input"), "closing removes the SAE's hook points");
    }

    /**
     * Attribution patching of SAE features: the gradient of the metric at hook_sae_acts_post, from
     * the hand-written backward through the model and the SAE, against activation patching of
     * single features (each feature moved by ±δ through a forward hook: the derivative the
     * gradient must be); and activation × gradient against zero-ablating each active feature.
     */
    @ParameterizedTest
    @EnumSource(value = SaeArchitecture.class, names = {"STANDARD", "TOPK"})
    void featureGradientsEqualSingleFeaturePatchingAndAttributionTracksAblation(SaeArchitecture architecture) {
        HookedTransformer model = SaeFixtures.model(6);
        model.setRequiresGrad(false);
        Sae sae = SaeFixtures.sae(architecture, 16, 40, HOOK, 7);
        sae.setRequiresGrad(false);
        try (SaeSplice spliced = SaeSplice.attach(model, sae, true); HookScope scope = model.hookPoints().scope()) {
            String actsName = spliced.hookName("hook_sae_acts_post");
            ActivationCache acts = ActivationCache.recordActivations(scope, NameFilter.exactly(actsName));
            ActivationCache grads = ActivationCache.recordGradients(scope, NameFilter.exactly(actsName));
            Tensor logits = model.forward(TOKENS, true);
            double clean = METRIC.value(logits, TOKENS);
            model.backward(METRIC.gradient(logits, TOKENS));
            float[] a = acts.get(actsName).data(), g = grads.get(actsName).data();
            double delta = 1e-2, worst = 0, scale = 0;
            double sumXY = 0, sumXX = 0, sumYY = 0;
            int checked = 0;
            for (int index = 0; index < a.length; index++) {
                if (a[index] <= 0) continue;
                double derivative = (patched(model, actsName, index, a[index] + delta) - patched(model, actsName, index, a[index] - delta)) / (2 * delta);
                worst = Math.max(worst, Math.abs(derivative - g[index]));
                scale = Math.max(scale, Math.abs(derivative));
                double attribution = -a[index] * g[index], ablation = patched(model, actsName, index, 0) - clean;
                sumXY += attribution * ablation;
                sumXX += attribution * attribution;
                sumYY += ablation * ablation;
                checked++;
            }
            assertTrue(checked >= 10, checked + " active features");
            assertTrue(worst <= 1e-3 * Math.max(1, scale), "gradient against patching, worst " + worst + " of " + scale);
            // Attribution is the first-order estimate of ablation; on this random model it tracks it with cosine 0.87-0.88.
            double cosine = sumXY / Math.sqrt(sumXX * sumYY);
            assertTrue(cosine > 0.8, "attribution against zero-ablation of each feature: cosine " + cosine);
        }
    }

    /** The metric with one feature activation (flat index into [batch, pos, d_sae]) set to {@code value}. */
    private static double patched(HookedTransformer model, String actsName, int index, double value) {
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(actsName, (x, point) -> {
                Tensor y = x.copy();
                y.data()[index] = (float) value;
                return y;
            });
            return METRIC.value(model.forward(TOKENS), TOKENS);
        }
    }

    @Test
    void backwardHooksAtTheSaesPointsSeeTheirGradientsAndTheInputGradientFlowsThroughTheSae() {
        HookedTransformer model = SaeFixtures.model(8);
        model.setRequiresGrad(false);
        Sae sae = SaeFixtures.sae(SaeArchitecture.STANDARD, 16, 40, HOOK, 9);
        sae.setRequiresGrad(false);
        try (SaeSplice spliced = SaeSplice.attach(model, sae, false); HookScope scope = model.hookPoints().scope()) {
            ActivationCache grads = ActivationCache.recordGradients(scope, NameFilter.regex(java.util.regex.Pattern.quote(HOOK) + ".*"));
            Tensor logits = model.forward(TOKENS, true);
            model.backward(METRIC.gradient(logits, TOKENS));
            for (String h : List.of("hook_sae_input", "hook_sae_acts_pre", "hook_sae_acts_post", "hook_sae_recons", "hook_sae_output")) {
                assertTrue(grads.contains(spliced.hookName(h)), h);
            }
            // Without the error term the gradient at the hook is the SAE's input gradient, not the output's.
            assertArrayEquals(grads.get(spliced.hookName("hook_sae_input")).data(), grads.get(HOOK).data(), 0f);
            assertFalse(java.util.Arrays.equals(grads.get(spliced.hookName("hook_sae_output")).data(), grads.get(HOOK).data()));
        }
    }

    @Test
    void aMismatchedWidthOrASecondSaeAtOneHookIsRefusedInOneSentence() {
        HookedTransformer model = SaeFixtures.model(10);
        JlensException wide = assertThrows(JlensException.class, () -> SaeSplice.attach(model, SaeFixtures.sae(SaeArchitecture.STANDARD, 12, 20, HOOK, 1), true));
        assertEquals("the SAE's d_in is 12, but blocks.1.hook_resid_pre carries 16 values per position in this model.", wide.getMessage());
        JlensException mlp = assertThrows(JlensException.class,
                () -> SaeSplice.attach(model, SaeFixtures.sae(SaeArchitecture.STANDARD, 16, 20, "blocks.0.mlp.hook_post", 1), true));
        assertEquals("the SAE's d_in is 16, but blocks.0.mlp.hook_post carries 32 values per position in this model.", mlp.getMessage());
        try (SaeSplice ignored = SaeSplice.attach(model, SaeFixtures.sae(SaeArchitecture.STANDARD, 16, 20, HOOK, 1), true)) {
            JlensException twice = assertThrows(JlensException.class, () -> SaeSplice.attach(model, SaeFixtures.sae(SaeArchitecture.TOPK, 16, 20, HOOK, 2), true));
            assertTrue(twice.getMessage().contains("exists already") || twice.getMessage().contains("already has"), twice.getMessage());
        }
        assertFalse(model.hookPoints().contains(HOOK + ".hook_sae_input"));
    }

    private static double maxDifference(Tensor a, Tensor b) {
        double worst = 0;
        for (int i = 0; i < a.data().length; i++) worst = Math.max(worst, Math.abs(a.data()[i] - b.data()[i]));
        return worst;
    }
}
