package dev.jlens.analysis.sae;

import dev.jlens.engine.Tensor;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.RandomWeights;
import dev.jlens.models.WeightProcessing;
import dev.jlens.models.components.Activation;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Small random SAEs of every architecture, and a small model to splice them into. */
final class SaeFixtures {
    private SaeFixtures() {}

    static final Config GPT2 = Config.builder().family(ModelFamily.GPT2).nLayers(2).dModel(16).nHeads(2).dHead(8).dMlp(32).dVocab(41).nCtx(24)
            .actFn(Activation.GELU_NEW).build();

    static HookedTransformer model(long seed) {
        Map<String, Tensor> state = RandomWeights.of(GPT2, seed, 0.3);
        return HookedTransformer.fromStateDict(GPT2, WeightProcessing.applyInPlace(GPT2, state, WeightProcessing.Options.DEFAULTS));
    }

    static SaeConfig config(SaeArchitecture architecture, int dIn, int dSae, String hook) {
        return new SaeConfig(architecture, dIn, dSae, architecture == SaeArchitecture.TOPK ? Math.max(1, dSae / 4) : 0, true,
                SaeConfig.Normalization.NONE, hook, "test-model", false);
    }

    /** Random weights under SAELens's names: biases and thresholds of either sign, so every branch of every activation is taken. */
    static Map<String, Tensor> weights(SaeConfig cfg, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int in = cfg.dIn(), f = cfg.dSae();
        Map<String, Tensor> state = new LinkedHashMap<>();
        state.put("W_enc", random(rng, 0.5, in, f));
        state.put("W_dec", random(rng, 0.5, f, in));
        state.put("b_dec", random(rng, 0.3, in));
        switch (cfg.architecture()) {
            case STANDARD, TOPK -> state.put("b_enc", random(rng, 0.3, f));
            case JUMPRELU -> {
                state.put("b_enc", random(rng, 0.3, f));
                Tensor threshold = random(rng, 0.2, f);
                for (int i = 0; i < f; i++) threshold.data()[i] += 0.1f;
                state.put("threshold", threshold);
            }
            case GATED -> {
                state.put("b_gate", random(rng, 0.3, f));
                state.put("r_mag", random(rng, 0.3, f));
                state.put("b_mag", random(rng, 0.3, f));
            }
        }
        return state;
    }

    static Sae sae(SaeArchitecture architecture, int dIn, int dSae, String hook, long seed) {
        SaeConfig cfg = config(architecture, dIn, dSae, hook);
        return Sae.of(cfg, weights(cfg, seed), "test");
    }

    static Tensor random(SplittableRandom rng, double scale, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) ((rng.nextDouble() * 2 - 1) * scale);
        return Tensor.of(v, shape);
    }
}
