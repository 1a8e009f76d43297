package dev.jlens.models;

import dev.jlens.models.components.Activation;
import dev.jlens.engine.Tensor;
import java.util.Map;
import java.util.SplittableRandom;

/** Micro configs of each architecture, with weights large enough (std 0.2) that every part matters. */
final class TestModels {
    private TestModels() {}

    static Config gpt2() {
        return new Config("gpt2", 2, 16, 2, 8, 32, 37, 24, 1e-5f, Activation.GELU_NEW, 0, 10000, false, false, 36, false);
    }

    static Config neox() {
        return new Config("gpt_neox", 2, 16, 2, 8, 32, 37, 24, 1e-5f, Activation.GELU, 4, 10000, true, false, 0, false);
    }

    static Config solu() {
        return new Config("solu", 1, 16, 2, 8, 32, 37, 24, 1e-5f, Activation.SOLU_LN, 0, 10000, false, false, 0, false);
    }

    /** TransformerLens's shortformer positions (added to queries and keys only), with a SoLU MLP. */
    static Config shortformer() {
        return new Config("solu", 2, 16, 2, 8, 32, 37, 24, 1e-5f, Activation.SOLU_LN, 0, 10000, false, false, 0, true);
    }

    /** Every architecture the micro configs cover. */
    static java.util.stream.Stream<Config> all() {
        return java.util.stream.Stream.of(gpt2(), neox(), solu(), shortformer());
    }

    static HookedTransformer random(Config cfg, long seed) {
        Map<String, Tensor> state = RandomWeights.of(cfg, seed, 0.2);
        SplittableRandom rng = new SplittableRandom(seed + 1);
        // Non-trivial layer norms, biases and an untied unembedding, so that every gradient is exercised.
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            String name = e.getKey();
            float[] d = e.getValue().data();
            boolean perturb = name.contains(".b") || name.endsWith(".w") || name.equals("unembed.W_U");
            if (perturb) for (int i = 0; i < d.length; i++) d[i] += (float) ((rng.nextDouble() - 0.5) * 0.4);
        }
        return HookedTransformer.fromStateDict(cfg, state);
    }

    static int[] randomTokens(Config cfg, int length, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) ids[i] = rng.nextInt(cfg.dVocab());
        return ids;
    }
}
