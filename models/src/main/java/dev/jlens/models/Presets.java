package dev.jlens.models;

import dev.jlens.engine.JlensException;
import dev.jlens.models.components.Activation;
import dev.jlens.models.tokenizer.BpeTrainer;
import java.util.LinkedHashMap;
import java.util.Map;

/** Real model shapes by architecture and name, for random-weight models ({@code jlens init}). */
public final class Presets {
    private static final int GPT2_VOCAB = 50257, NEOX_VOCAB = 50304, SOLU_VOCAB = 48262;
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
     */
    public static BpeTrainer.Vocabulary tokenizer(Config cfg) {
        return cfg.family() == ModelFamily.HOOKED_TRANSFORMER ? BpeTrainer.Vocabulary.gpt2Merges(cfg.dVocab()) : null;
    }

    /** Pythia: rotary on a quarter of each head, parallel residual, exact GELU. */
    private static Config neox(int layers, int d, int heads, int nCtx) {
        return Config.builder().family(ModelFamily.GPT_NEOX).nLayers(layers).dModel(d).nHeads(heads).dVocab(NEOX_VOCAB).nCtx(nCtx)
                .actFn(Activation.GELU).rotary(d / heads / 4).parallelAttnMlp(true).build();
    }
}
