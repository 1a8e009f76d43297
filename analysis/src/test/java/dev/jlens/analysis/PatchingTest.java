package dev.jlens.analysis;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class PatchingTest {
    static Stream<Config> configs() {
        return CacheAnalysisTest.configs();
    }

    record Setup(HookedTransformer model, Tokens clean, Tokens corrupted, HookedTransformer.CachedRun cleanRun,
                 HookedTransformer.CachedRun corruptedRun, Metric metric) {
        Patching patching() {
            return new Patching(model, corrupted, cleanRun.cache(), corruptedRun.cache(), metric);
        }
    }

    static Setup setup(Config cfg) {
        HookedTransformer model = CacheAnalysisTest.model(cfg, 9);
        SplittableRandom rng = new SplittableRandom(10);
        int[][] a = new int[2][7], b = new int[2][7];
        for (int p = 0; p < 2; p++) {
            for (int i = 0; i < 7; i++) {
                a[p][i] = rng.nextInt(cfg.dVocab());
                b[p][i] = i == 3 ? rng.nextInt(cfg.dVocab()) : a[p][i]; // corrupted: one token changed
            }
        }
        Tokens clean = Tokens.padded(0, a), corrupted = Tokens.padded(0, b);
        Metric metric = Metric.logitDifference(new int[] {4, 9}, new int[] {13, 1});
        return new Setup(model, clean, corrupted, model.runWithCache(clean, NameFilter.all()), model.runWithCache(corrupted, NameFilter.all()), metric);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void patchingEveryPositionOfTheFirstResidualGivesOneAndPatchingNothingZero(Config cfg) {
        Setup s = setup(cfg);
        double cleanValue = s.metric.value(s.cleanRun.logits(), s.clean), corruptedValue = s.metric.value(s.corruptedRun.logits(), s.corrupted);
        Patching patching = s.patching();
        double all = patching.patchedMetric("blocks.0.hook_resid_pre", 0, 0, 1, 2, 3, 4, 5, 6);
        assertEquals(1.0, Metric.normalised(all, cleanValue, corruptedValue), 1e-6);
        double none = patching.patchedMetric("blocks.0.hook_resid_pre", 0);
        assertEquals(0.0, Metric.normalised(none, cleanValue, corruptedValue), 1e-6);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void aBatchedSweepEqualsTheOneAtATimeSweepAndAHandRunPatchedForward(Config cfg) {
        Setup s = setup(cfg);
        Patching patching = s.patching();
        for (Patching.Site site : Patching.Site.values()) {
            if (site == Patching.Site.RESID_MID && cfg.parallelAttnMlp()) continue;
            Tensor batched = patching.layerByPosition(site, 64), single = patching.layerByPosition(site, 1);
            assertArrayEquals(single.data(), batched.data(), site + ": batched = one at a time");
            // One cell by hand: the full corrupted run with the site patched at that position.
            int layer = cfg.nLayers() - 1, position = 3;
            String name = ActNames.of(site.name().toLowerCase(), layer);
            Tensor cleanAct = s.cleanRun.cache().get(name);
            Tensor handRun;
            try (HookScope scope = s.model.hookPoints().scope()) {
                scope.forward(name, (act, point) -> {
                    float[] out = act.data().clone();
                    int width = act.size() / (act.dim(0) * act.dim(1));
                    for (int b = 0; b < act.dim(0); b++) {
                        System.arraycopy(cleanAct.data(), (b * act.dim(1) + position) * width, out, (b * act.dim(1) + position) * width, width);
                    }
                    return Tensor.of(out, act.shape());
                });
                handRun = s.model.forward(s.corrupted);
            }
            assertEquals(s.metric.value(handRun, s.corrupted), batched.get(layer, position), 1e-5, site + " cell by hand");
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void eachNeuronPatchedFromTheCleanRunMatchesAHandRunAndBatchingChangesNothing(Config cfg) {
        Setup s = setup(cfg);
        int layer = cfg.nLayers() - 1, dMlp = cfg.dMlp();
        int[] neurons = java.util.stream.IntStream.range(0, dMlp).toArray();
        double[] batched = s.patching().neurons(layer, neurons, 1000), single = s.patching().neurons(layer, neurons, 1);
        assertArrayEquals(single, batched, "batched = one at a time");
        String name = ActNames.of("post", layer);
        Tensor cleanPost = s.cleanRun.cache().get(name);
        for (int neuron : new int[] {0, 7, dMlp - 1}) {
            Tensor handRun;
            try (HookScope scope = s.model.hookPoints().scope()) {
                scope.forward(name, (act, point) -> {
                    float[] out = act.data().clone();
                    for (int row = 0; row < act.size() / dMlp; row++) out[row * dMlp + neuron] = cleanPost.data()[row * dMlp + neuron];
                    return Tensor.of(out, act.shape());
                });
                handRun = s.model.forward(s.corrupted);
            }
            assertEquals(s.metric.value(handRun, s.corrupted), batched[neuron], 1e-5, "neuron " + neuron);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void headSweepsMatchHandRunPatchedForwardsAndBatchingChangesNothing(Config cfg) {
        Setup s = setup(cfg);
        int heads = cfg.nHeads(), dHead = cfg.dHead(), layer = cfg.nLayers() - 1, head = heads - 1, pos = s.corrupted.pos();
        for (Patching.HeadSite site : Patching.HeadSite.values()) {
            Tensor batched = s.patching().layerByHead(site, 1000), single = s.patching().layerByHead(site, 1);
            assertArrayEquals(single.data(), batched.data(), site + ": batched = one at a time");
            String name = ActNames.of(site.name().toLowerCase(), layer);
            Tensor clean = s.cleanRun.cache().get(name);
            double hand = handRun(s, name, (act, out) -> {
                for (int b = 0; b < act.dim(0); b++) {
                    if (site == Patching.HeadSite.PATTERN) {
                        System.arraycopy(clean.data(), (b * heads + head) * pos * pos, out, (b * heads + head) * pos * pos, pos * pos);
                    } else {
                        for (int t = 0; t < pos; t++) {
                            System.arraycopy(clean.data(), ((b * pos + t) * heads + head) * dHead, out, ((b * pos + t) * heads + head) * dHead, dHead);
                        }
                    }
                }
            });
            assertEquals(hand, batched.get(layer, head), 1e-5, site + " head by hand");
        }
        Tensor byPos = s.patching().layerByPositionByHead(Patching.HeadSite.Z, 64);
        Tensor cleanZ = s.cleanRun.cache().get(ActNames.of("z", layer));
        double hand = handRun(s, ActNames.of("z", layer), (act, out) -> {
            for (int b = 0; b < act.dim(0); b++) {
                System.arraycopy(cleanZ.data(), ((b * pos + 3) * heads + head) * dHead, out, ((b * pos + 3) * heads + head) * dHead, dHead);
            }
        });
        assertEquals(hand, byPos.get(layer, 3, head), 1e-5, "z of one head at one position by hand");

        Tensor patternRows = s.patching().layerByPositionByHead(Patching.HeadSite.PATTERN, 64);
        Tensor cleanPattern = s.cleanRun.cache().get(ActNames.of("pattern", layer));
        double handRow = handRun(s, ActNames.of("pattern", layer), (act, out) -> {
            for (int b = 0; b < act.dim(0); b++) {
                System.arraycopy(cleanPattern.data(), ((b * heads + head) * pos + 4) * pos, out, ((b * heads + head) * pos + 4) * pos, pos);
            }
        });
        assertEquals(handRow, patternRows.get(layer, 4, head), 1e-5, "one head's attention row at one destination by hand");
    }

    private static double handRun(Setup s, String name, java.util.function.BiConsumer<Tensor, float[]> patch) {
        try (HookScope scope = s.model.hookPoints().scope()) {
            scope.forward(name, (act, point) -> {
                float[] out = act.data().clone();
                patch.accept(act, out);
                return Tensor.of(out, act.shape());
            });
            return s.metric.value(s.model.forward(s.corrupted), s.corrupted);
        }
    }

    @ParameterizedTest
    @MethodSource("configs")
    void whereTheMetricIsLinearInTheSiteAttributionPatchingEqualsActivationPatching(Config cfg) {
        // The logits are affine in ln_final's output, so the first-order estimate is exact there.
        Setup s = setup(cfg);
        String site = "ln_final.hook_normalized";
        double[] activation = s.patching().byPosition(site, cfg.nLayers(), 64);
        ActivationCache grads;
        try (HookScope scope = s.model.hookPoints().scope()) {
            grads = ActivationCache.recordGradients(scope, NameFilter.exactly(site));
            Tensor logits = s.model.forward(s.corrupted, true);
            s.model.backward(s.metric.gradient(logits, s.corrupted));
        }
        double base = s.metric.value(s.corruptedRun.logits(), s.corrupted);
        double[] attribution = Patching.attribution(grads.get(site), s.cleanRun.cache().get(site), s.corruptedRun.cache().get(site));
        for (int p = 0; p < activation.length; p++) assertEquals(activation[p], base + attribution[p], 1e-4, "position " + p);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void headAndNeuronAttributionsAreTheFirstOrderEstimatesOfTheirPatches(Config cfg) {
        // Each estimate is the corrupted metric plus Σ g·(clean − corrupted) over its head or neuron: nothing
        // to patch gives the corrupted value, and the heads of a layer add up to the estimate for the site.
        Setup s = setup(cfg);
        Tensor heads = s.patching().attributionLayerByHead(Patching.HeadSite.Z);
        double[] neurons = s.patching().attributionNeurons(cfg.nLayers() - 1);
        for (var p : s.model.parameters().values()) assertFalse(p.hasGrad(), "attribution patching made a gradient for " + p.name());
        double corruptedValue = s.metric.value(s.corruptedRun.logits(), s.corrupted);
        assertEquals(cfg.nLayers(), heads.dim(0));
        assertEquals(cfg.dMlp(), neurons.length);
        // A head or neuron whose clean and corrupted activations agree gets exactly the corrupted value.
        ActivationCache same = s.corruptedRun.cache();
        Patching selfPatch = new Patching(s.model, s.corrupted, same, same, s.metric);
        for (float v : selfPatch.attributionLayerByHead(Patching.HeadSite.PATTERN).data()) assertEquals(corruptedValue, v, 1e-6);
        for (double v : selfPatch.attributionNeurons(0)) assertEquals(corruptedValue, v, 1e-6);
        // The estimates of all heads of a layer together: Σ_h (estimate_h − base) = Σ g·Δ over the whole site.
        String z = ActNames.of("z", 0);
        double total = 0;
        for (int h = 0; h < cfg.nHeads(); h++) total += heads.get(0, h) - corruptedValue;
        ActivationCache grads;
        try (HookScope scope = s.model.hookPoints().scope()) {
            grads = ActivationCache.recordGradients(scope, NameFilter.exactly(z));
            Tensor logits = s.model.forward(s.corrupted, true);
            s.model.backward(s.metric.gradient(logits, s.corrupted));
        }
        double direct = 0;
        for (double v : Patching.attribution(grads.get(z), s.cleanRun.cache().get(z), s.corruptedRun.cache().get(z))) direct += v;
        assertEquals(direct, total, 1e-4);
        // By position and head, the cells of a layer add up to the same total.
        Tensor cells = s.patching().attributionLayerByPositionByHead(Patching.HeadSite.Z);
        double cellTotal = 0;
        for (int p = 0; p < s.corrupted.pos(); p++) for (int h = 0; h < cfg.nHeads(); h++) cellTotal += cells.get(0, p, h) - corruptedValue;
        assertEquals(direct, cellTotal, 1e-4);
    }

    @ParameterizedTest
    @MethodSource("configs")
    void attributionSweepsReadLikeActivationSweeps(Config cfg) {
        Setup s = setup(cfg);
        Patching.SideBySide both = s.patching().compareLayerByPosition(Patching.Site.RESID_PRE, 64);
        assertArrayEquals(s.patching().layerByPosition(Patching.Site.RESID_PRE, 1).data(), both.activation().data());
        Tensor attribution = both.attribution();
        assertArrayEquals(s.patching().attributionLayerByPosition(Patching.Site.RESID_PRE).data(), attribution.data());
        double gap = 0;
        for (int i = 0; i < attribution.size(); i++) gap = Math.max(gap, Math.abs(both.activation().data()[i] - attribution.data()[i]));
        assertEquals(gap, both.largestGap(), 0);
        double corruptedValue = s.metric.value(s.corruptedRun.logits(), s.corrupted);
        // Positions where clean and corrupted agree have nothing to patch: the estimate is the corrupted value.
        for (int l = 0; l < cfg.nLayers(); l++) assertEquals(corruptedValue, attribution.get(l, 0), 1e-6, "layer " + l);
        assertEquals(cfg.nLayers(), attribution.dim(0));
    }
}
