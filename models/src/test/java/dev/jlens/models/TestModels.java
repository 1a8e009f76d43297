package dev.jlens.models;

import dev.jlens.engine.Tensor;
import dev.jlens.models.components.Activation;
import java.util.Map;
import java.util.SplittableRandom;

/** Micro configs of each architecture, with weights large enough (std 0.2) that every part matters. */
public final class TestModels {
    private TestModels() {}

    public static Config gpt2() {
        return Config.builder().family(ModelFamily.GPT2).nLayers(2).dModel(16).nHeads(2).dHead(8).dMlp(32).dVocab(37).nCtx(24).actFn(Activation.GELU_NEW).bosToken(36).build();
    }

    public static Config neox() {
        return Config.builder().family(ModelFamily.GPT_NEOX).nLayers(2).dModel(16).nHeads(2).dHead(8).dMlp(32).dVocab(37).nCtx(24).actFn(Activation.GELU).rotary(4).parallelAttnMlp(true).build();
    }

    public static Config solu() {
        return Config.builder().family(ModelFamily.HOOKED_TRANSFORMER).nLayers(1).dModel(16).nHeads(2).dHead(8).dMlp(32).dVocab(37).nCtx(24).actFn(Activation.SOLU_LN).build();
    }

    /** TransformerLens's shortformer positions (added to queries and keys only), with a SoLU MLP. */
    public static Config shortformer() {
        return Config.builder().family(ModelFamily.HOOKED_TRANSFORMER).nLayers(2).dModel(16).nHeads(2).dHead(8).dMlp(32).dVocab(37).nCtx(24).actFn(Activation.SOLU_LN).positions(Config.PositionalEmbedding.SHORTFORMER).build();
    }

    /** Four query heads sharing two key/value heads, with rotary positions over the whole head. */
    public static Config groupedQuery() {
        return Config.builder().family(ModelFamily.HOOKED_TRANSFORMER).nLayers(2).dModel(16).nHeads(4).nKeyValueHeads(2).dHead(4).dMlp(32)
                .dVocab(37).nCtx(24).actFn(Activation.GELU).rotary(4).build();
    }

    /**
     * The Llama family's parts: RMS norms, a gated SiLU MLP, four query heads sharing two key/value
     * heads, rotary over the whole head with Llama 3's frequency scaling (an original context of 8,
     * so the scaling matters within 24 positions).
     */
    public static Config llamaLike() {
        return Config.builder().family(ModelFamily.LLAMA).nLayers(2).dModel(16).nHeads(4).nKeyValueHeads(2).dHead(4).dMlp(24)
                .dVocab(37).nCtx(24).normalization(Config.Normalization.RMS).eps(1e-6f).actFn(Activation.SILU).gatedMlp(true)
                .rotary(4).rotaryBase(500000).rotaryScaling(new dev.jlens.kernels.Rotary.Llama3Scaling(8, 1, 4, 8)).build();
    }

    /** Qwen2: as Llama without frequency scaling, with biases on q, k and v. */
    public static Config qwen2Like() {
        return llamaLike().toBuilder().family(ModelFamily.QWEN2).rotaryScaling(null).rotaryBase(1000000).build();
    }

    /** Qwen3: per-head RMS norms of q and k, and d_head 6, so that n_heads·d_head (24) is not d_model (16). */
    public static Config qwen3Like() {
        return llamaLike().toBuilder().family(ModelFamily.QWEN3).dHead(6).rotary(6).rotaryScaling(null).qkNorm(true).build();
    }

    /** Mistral: one key/value head for four query heads, and a sliding window of 5 positions (shorter than the tests' sequences). */
    public static Config mistralLike() {
        return llamaLike().toBuilder().family(ModelFamily.MISTRAL).nKeyValueHeads(1).rotaryScaling(new dev.jlens.kernels.Rotary.LinearScaling(2))
                .slidingWindow(5).build();
    }

    /**
     * Gemma 2: norms after attention and the MLP, a GELU-tanh gated MLP, d_head 8 (n_heads·d_head 32,
     * not d_model), scores over √6 capped at 2 and logits capped at 3 (low enough that both caps bend
     * them), and a window of 3 positions on the even layers only.
     */
    public static Config gemma2Like() {
        return llamaLike().toBuilder().family(ModelFamily.GEMMA2).dHead(8).rotary(8).rotaryScaling(null).rotaryBase(10000)
                .actFn(Activation.GELU_NEW).useNormalizationBeforeAndAfter(true).attnScale(Math.sqrt(6)).attnScoresSoftCap(2)
                .outputLogitsSoftCap(3).slidingWindow(3).attnTypes(java.util.List.of(Config.AttentionType.LOCAL, Config.AttentionType.GLOBAL))
                .bosToken(2).build();
    }

    /** Every architecture the micro configs cover. */
    public static java.util.stream.Stream<Config> all() {
        return java.util.stream.Stream.of(gpt2(), neox(), solu(), shortformer(), groupedQuery(), llamaLike(), qwen3Like(), mistralLike(), gemma2Like());
    }

    public static HookedTransformer random(Config cfg, long seed) {
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

    public static int[] randomTokens(Config cfg, int length, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[] ids = new int[length];
        for (int i = 0; i < length; i++) ids[i] = rng.nextInt(cfg.dVocab());
        return ids;
    }
}
