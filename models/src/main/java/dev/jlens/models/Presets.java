package dev.jlens.models;

import dev.jlens.engine.JlensException;
import dev.jlens.kernels.Rotary;
import dev.jlens.models.components.Activation;
import dev.jlens.models.tokenizer.BpeTrainer;
import java.util.LinkedHashMap;
import java.util.Map;

/** Real model shapes by architecture and name, for random-weight models ({@code jlens init}). */
public final class Presets {
    private static final int GPT2_VOCAB = 50257, NEOX_VOCAB = 50304, SOLU_VOCAB = 48262, GEMMA_VOCAB = 256000;
    private static final Map<String, Map<String, Config>> BY_ARCH = new LinkedHashMap<>();

    static {
        Map<String, Config> gpt2 = new LinkedHashMap<>();
        gpt2.put("tiny", gpt2(2, 128, 4));
        gpt2.put("small", gpt2(12, 768, 12));
        gpt2.put("medium", gpt2(24, 1024, 16));
        gpt2.put("large", gpt2(36, 1280, 20));
        gpt2.put("xl", gpt2(48, 1600, 25));
        BY_ARCH.put("gpt2", gpt2);
        Map<String, Config> neox = new LinkedHashMap<>();
        neox.put("tiny", neox(2, 128, 4, 2048));
        neox.put("pythia-70m", neox(6, 512, 8, 2048));
        neox.put("pythia-160m", neox(12, 768, 12, 2048));
        BY_ARCH.put("gpt-neox", neox);
        Map<String, Config> solu = new LinkedHashMap<>();
        solu.put("tiny", solu(1, 128, 4, 512, 1024));
        solu.put("solu-1l", solu(1, 512, 8, 2048, SOLU_VOCAB));
        solu.put("solu-2l", solu(2, 512, 8, 2048, SOLU_VOCAB));
        BY_ARCH.put("solu", solu);

        // The Llama family at the shapes of their config.json files on the hub.
        Rotary.Llama3Scaling llama31 = new Rotary.Llama3Scaling(8, 1, 4, 8192), llama32 = new Rotary.Llama3Scaling(32, 1, 4, 8192);
        Map<String, Config> llama = new LinkedHashMap<>();
        llama.put("tiny", llama(ModelFamily.LLAMA, 2, 128, 4, 2, 32, 384, 512, 1024, 500000, 1e-5f).rotaryScaling(new Rotary.Llama3Scaling(32, 1, 4, 256))
                .bosToken(511).build());
        llama.put("llama-3.2-1b", llama(ModelFamily.LLAMA, 16, 2048, 32, 8, 64, 8192, 128256, 131072, 500000, 1e-5f).rotaryScaling(llama32)
                .bosToken(128000).build());
        llama.put("llama-3.2-3b", llama(ModelFamily.LLAMA, 28, 3072, 24, 8, 128, 8192, 128256, 131072, 500000, 1e-5f).rotaryScaling(llama32)
                .bosToken(128000).build());
        llama.put("llama-3.1-8b", llama(ModelFamily.LLAMA, 32, 4096, 32, 8, 128, 14336, 128256, 131072, 500000, 1e-5f).rotaryScaling(llama31)
                .bosToken(128000).build());
        BY_ARCH.put("llama", llama);
        Map<String, Config> qwen2 = new LinkedHashMap<>();
        qwen2.put("tiny", llama(ModelFamily.QWEN2, 2, 128, 4, 2, 32, 384, 512, 1024, 1000000, 1e-6f).bosToken(511).build());
        qwen2.put("qwen2.5-0.5b", llama(ModelFamily.QWEN2, 24, 896, 14, 2, 64, 4864, 151936, 32768, 1000000, 1e-6f).bosToken(151643).build());
        BY_ARCH.put("qwen2", qwen2);
        Map<String, Config> qwen3 = new LinkedHashMap<>();
        qwen3.put("tiny", llama(ModelFamily.QWEN3, 2, 128, 4, 2, 64, 384, 512, 1024, 1000000, 1e-6f).qkNorm(true).bosToken(511).build());
        qwen3.put("qwen3-0.6b", llama(ModelFamily.QWEN3, 28, 1024, 16, 8, 128, 3072, 151936, 40960, 1000000, 1e-6f).qkNorm(true)
                .bosToken(151643).build());
        BY_ARCH.put("qwen3", qwen3);
        Map<String, Config> mistral = new LinkedHashMap<>();
        mistral.put("tiny", llama(ModelFamily.MISTRAL, 2, 128, 4, 1, 32, 384, 512, 1024, 10000, 1e-5f).slidingWindow(64).bosToken(1).build());
        mistral.put("mistral-7b", llama(ModelFamily.MISTRAL, 32, 4096, 32, 8, 128, 14336, 32000, 32768, 10000, 1e-5f).slidingWindow(4096)
                .bosToken(1).build());
        BY_ARCH.put("mistral", mistral);
        Map<String, Config> gemma2 = new LinkedHashMap<>();
        gemma2.put("tiny", gemma2(2, 128, 4, 2, 64, 384, 512, 1024, 64, 16, 50, 30));
        gemma2.put("gemma-2-2b", gemma2(26, 2304, 8, 4, 256, 9216, GEMMA_VOCAB, 8192, 256, 4096, 50, 30));
        gemma2.put("gemma-2-9b", gemma2(42, 3584, 16, 8, 256, 14336, GEMMA_VOCAB, 8192, 256, 4096, 50, 30));
        BY_ARCH.put("gemma2", gemma2);
    }

    /**
     * Gemma 2 as its config.json files on the hub have it: norms after attention and the MLP, a
     * GELU-tanh gated MLP, scores over √query_pre_attn_scalar capped at {@code scoreCap}, logits
     * capped at {@code logitCap}, a sliding window on the even layers, and BOS 2.
     */
    private static Config gemma2(int layers, int d, int heads, int kvHeads, int dHead, int dMlp, int vocab, int nCtx,
                                 int queryPreAttnScalar, int window, float scoreCap, float logitCap) {
        java.util.List<Config.AttentionType> types = new java.util.ArrayList<>();
        for (int l = 0; l < layers; l++) types.add(l % 2 == 0 ? Config.AttentionType.LOCAL : Config.AttentionType.GLOBAL);
        return llama(ModelFamily.GEMMA2, layers, d, heads, kvHeads, dHead, dMlp, vocab, nCtx, 10000, 1e-6f).actFn(Activation.GELU_NEW)
                .useNormalizationBeforeAndAfter(true).attnScale(Math.sqrt(queryPreAttnScalar)).attnScoresSoftCap(scoreCap)
                .outputLogitsSoftCap(logitCap).slidingWindow(window).attnTypes(types).bosToken(vocab == GEMMA_VOCAB ? 2 : vocab - 1).build();
    }

    /** A Llama-family shape: RMS norms, gated SiLU MLP, grouped-query attention, rotary over the whole head. */
    private static Config.Builder llama(ModelFamily family, int layers, int d, int heads, int kvHeads, int dHead, int dMlp, int vocab, int nCtx,
                                        double ropeTheta, float eps) {
        return Config.builder().family(family).nLayers(layers).dModel(d).nHeads(heads).nKeyValueHeads(kvHeads).dHead(dHead).dMlp(dMlp)
                .dVocab(vocab).nCtx(nCtx).normalization(Config.Normalization.RMS).eps(eps).actFn(Activation.SILU).gatedMlp(true)
                .rotary(dHead).rotaryBase(ropeTheta);
    }

    private Presets() {}

    public static Config get(String arch, String preset) {
        Map<String, Config> presets = BY_ARCH.get(arch);
        if (presets == null) throw new JlensException("unknown architecture '" + arch + "' (jlens knows " + String.join(", ", BY_ARCH.keySet()) + ").");
        Config cfg = presets.get(preset);
        if (cfg == null) {
            throw new JlensException("unknown preset '" + preset + "' for " + arch + " (known: " + String.join(", ", presets.keySet()) + ").");
        }
        return cfg;
    }

    private static Config gpt2(int layers, int d, int heads) {
        return Config.builder().family(ModelFamily.GPT2).nLayers(layers).dModel(d).nHeads(heads).dVocab(GPT2_VOCAB).nCtx(1024)
                .actFn(Activation.GELU_NEW).bosToken(50256).build();
    }

    /** TransformerLens's SoLU models (solu-1l, solu-2l): learned positions, solu_ln, a context of 1024; BOS is the last token. */
    private static Config solu(int layers, int d, int heads, int dMlp, int vocab) {
        return Config.builder().family(ModelFamily.HOOKED_TRANSFORMER).nLayers(layers).dModel(d).nHeads(heads).dMlp(dMlp)
                .dVocab(vocab).nCtx(1024).actFn(Activation.SOLU_LN).bosToken(vocab - 1).build();
    }

    /**
     * The tokenizer to write beside a preset's model, or null where jlens ships its family's (GPT-2's,
     * GPT-NeoX's). A TransformerLens-format model names none, so it gets GPT-2's byte-level BPE cut to
     * its vocabulary (SoLU's own 48,262-token tokenizer is not shipped): its first d_vocab − 257
     * merges, then {@code <|endoftext|>}. Random weights read any tokenizer of the right size alike.
     * So does a Llama-family model small enough; the real shapes' vocabularies (128,256, 151,936) are
     * larger than GPT-2's, and get none: their own tokenizer.json goes beside them.
     */
    public static BpeTrainer.Vocabulary tokenizer(Config cfg) {
        boolean noneShipped = cfg.family() == ModelFamily.HOOKED_TRANSFORMER || cfg.family().llamaLayout();
        return noneShipped && cfg.dVocab() <= GPT2_VOCAB ? BpeTrainer.Vocabulary.gpt2Merges(cfg.dVocab()) : null;
    }

    /** Pythia: rotary on a quarter of each head, parallel residual, exact GELU. */
    private static Config neox(int layers, int d, int heads, int nCtx) {
        return Config.builder().family(ModelFamily.GPT_NEOX).nLayers(layers).dModel(d).nHeads(heads).dVocab(NEOX_VOCAB).nCtx(nCtx)
                .actFn(Activation.GELU).rotary(d / heads / 4).parallelAttnMlp(true).build();
    }
}
