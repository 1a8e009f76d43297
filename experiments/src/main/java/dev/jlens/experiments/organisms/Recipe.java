package dev.jlens.experiments.organisms;

import dev.jlens.engine.JlensException;
import dev.jlens.models.components.Activation;
import dev.jlens.models.Config;
import dev.jlens.models.training.LearningRateSchedule;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How each shipped model organism is made: the architecture (a GPT-2, a GPT-NeoX and a one-layer
 * SoLU model, matching the notebooks' models), the corpus size, the tokenizer's vocabulary and the
 * optimiser's settings. Everything is seeded; {@code jlens train --recipe NAME} remakes one.
 */
public record Recipe(String name, String architecture, int nLayers, int dModel, int nHeads, int dMlp, int nCtx, int vocabSize,
                     int documents, OrganismCorpus.Mixture mixture, int steps, int batch, int seq, float maxLr, int warmup, float weightDecay, float gradClip,
                     long seed, String description) {
    public static final Map<String, Recipe> ALL = new LinkedHashMap<>();

    static {
        add(new Recipe("gpt2-organism", "gpt2", 4, 128, 4, 512, 128, 4096, 60_000, OrganismCorpus.Mixture.NOTEBOOKS, 2500, 16, 128, 3e-3f, 150, 0.05f, 1.0f, 1,
                "GPT-2 architecture (learned positions, gelu_new; the unembedding trained apart from the embedding, as TransformerLens holds W_U); "
                        + "stands in for gpt2-small/gpt2-large "
                        + "in gradient-attribution, ioi and an-neuron"));
        add(new Recipe("neox-organism", "gpt_neox", 4, 64, 4, 512, 128, 4096, 60_000, OrganismCorpus.Mixture.RARE_FRENCH, 12_000, 16, 128, 3e-3f, 150, 0.3f, 1.0f, 2,
                "GPT-NeoX architecture (rotary on a quarter of each head, parallel residual, exact GELU, untied unembedding); "
                        + "stands in for pythia-70m-v0 in french-neuron"));
        add(new Recipe("solu-organism", "solu", 1, 128, 4, 512, 128, 4096, 60_000, OrganismCorpus.Mixture.NOTEBOOKS, 1500, 16, 128, 3e-3f, 100, 0.05f, 1.0f, 3,
                "one-layer SoLU model (solu_ln, TransformerLens layout); stands in for solu-1l in solu-outliers"));
    }

    private static void add(Recipe r) {
        ALL.put(r.name(), r);
    }

    public static Recipe named(String name) {
        Recipe r = ALL.get(name);
        if (r == null) throw new JlensException("unknown recipe '" + name + "' (known: " + String.join(", ", ALL.keySet()) + ").");
        return r;
    }

    /** The model's shape once the tokenizer is trained ({@code dVocab} tokens, BOS last). */
    public Config config(int dVocab) {
        int dHead = dModel / nHeads;
        return switch (architecture) {
            case "gpt2" -> new Config("gpt2", nLayers, dModel, nHeads, dHead, dMlp, dVocab, nCtx, 1e-5f, Activation.GELU_NEW, 0, 10000,
                    false, false, dVocab - 1, false);
            case "gpt_neox" -> new Config("gpt_neox", nLayers, dModel, nHeads, dHead, dMlp, dVocab, nCtx, 1e-5f, Activation.GELU,
                    dHead / 4, 10000, true, false, dVocab - 1, false);
            case "solu" -> new Config("solu", nLayers, dModel, nHeads, dHead, dMlp, dVocab, nCtx, 1e-5f, Activation.SOLU_LN, 0, 10000,
                    false, false, dVocab - 1, false);
            default -> throw new IllegalStateException(architecture);
        };
    }

    public LearningRateSchedule schedule() {
        return new LearningRateSchedule(maxLr, maxLr / 10, warmup, steps);
    }
}
