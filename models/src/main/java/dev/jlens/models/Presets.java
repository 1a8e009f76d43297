package dev.jlens.models;

import dev.jlens.engine.JlensException;
import dev.jlens.models.components.Activation;
import java.util.LinkedHashMap;
import java.util.Map;

/** Real model shapes by architecture and name, for random-weight models ({@code jlens init}). */
public final class Presets {
    private static final int GPT2_VOCAB = 50257, NEOX_VOCAB = 50304;
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

    /** Pythia: rotary on a quarter of each head, parallel residual, exact GELU. */
    private static Config neox(int layers, int d, int heads, int nCtx) {
        return Config.builder().family(ModelFamily.GPT_NEOX).nLayers(layers).dModel(d).nHeads(heads).dVocab(NEOX_VOCAB).nCtx(nCtx)
                .actFn(Activation.GELU).rotary(d / heads / 4).parallelAttnMlp(true).build();
    }
}
