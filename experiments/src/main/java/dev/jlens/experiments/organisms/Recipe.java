package dev.jlens.experiments.organisms;

import dev.jlens.engine.JlensException;
import dev.jlens.models.Config;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.components.Activation;
import dev.jlens.models.training.LearningRateSchedule;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How each shipped model organism is made: the model's shape (a GPT-2, a GPT-NeoX and a one-layer
 * SoLU model, matching the notebooks' models, and a Llama), the corpus and its tokenizer, and the optimiser's
 * settings. Everything is seeded; {@code jlens train --recipe NAME} remakes one.
 *
 * @param model    the model's shape; its vocabulary is the tokenizer's target size until the
 *                 tokenizer is trained ({@link #config})
 * @param biases   whether biases are trained; without them (zero, as initialised) a Llama-family
 *                 organism is exactly what its Hugging Face class holds
 */
public record Recipe(String name, String description, Config model, Corpus corpus, Training training, long seed, boolean biases) {
    /** The documents the organism learns from, and the size of the tokenizer learnt from them. */
    public record Corpus(int documents, OrganismCorpus.Mixture mixture, int vocabSize) {}

    /** AdamW with warm-up and a cosine schedule to a tenth of the peak, over random windows of the token stream. */
    public record Training(int steps, int batch, int seq, float maxLr, int warmup, float weightDecay, float gradClip) {
        /** The same training for {@code n} steps, its warm-up at most a tenth of them. */
        public Training withSteps(int n) {
            return new Training(n, batch, seq, maxLr, Math.min(warmup, n / 10), weightDecay, gradClip);
        }

        public LearningRateSchedule schedule() {
            return new LearningRateSchedule(maxLr, maxLr / 10, warmup, steps);
        }
    }

    public static final Map<String, Recipe> ALL = new LinkedHashMap<>();

    static {
        add(new Recipe("gpt2-organism",
                "GPT-2 architecture (learned positions, gelu_new; the unembedding trained apart from the embedding, as TransformerLens holds W_U); "
                        + "stands in for gpt2-small/gpt2-large in gradient-attribution, ioi and an-neuron",
                shape(ModelFamily.GPT2, 4, 128, 4).actFn(Activation.GELU_NEW).build(),
                new Corpus(60_000, OrganismCorpus.Mixture.NOTEBOOKS, 4096), new Training(2500, 16, 128, 3e-3f, 150, 0.05f, 1.0f), 1, true));
        add(new Recipe("neox-organism",
                "GPT-NeoX architecture (rotary on a quarter of each 16-wide head, parallel residual, exact GELU, untied unembedding); "
                        + "stands in for pythia-70m-v0 in french-neuron",
                shape(ModelFamily.GPT_NEOX, 4, 64, 4).actFn(Activation.GELU).rotary(4).parallelAttnMlp(true).build(),
                new Corpus(60_000, OrganismCorpus.Mixture.RARE_FRENCH, 4096), new Training(12_000, 16, 128, 3e-3f, 150, 0.3f, 1.0f), 2, true));
        add(new Recipe("solu-organism", "one-layer SoLU model (solu_ln, TransformerLens layout); stands in for solu-1l in solu-outliers",
                shape(ModelFamily.HOOKED_TRANSFORMER, 1, 128, 4).actFn(Activation.SOLU_LN).build(),
                new Corpus(60_000, OrganismCorpus.Mixture.NOTEBOOKS, 4096), new Training(1500, 16, 128, 3e-3f, 100, 0.05f, 1.0f), 3, true));
        add(new Recipe("llama-organism",
                "Llama architecture (4 query heads sharing 2 key/value heads, gated SiLU MLP, RMS norms, rotary over the whole head, "
                        + "no biases, as LlamaForCausalLM holds it); stands in for Llama 3.2 in ioi, an-neuron and gradient-attribution",
                shape(ModelFamily.LLAMA, 4, 128, 4).nKeyValueHeads(2).normalization(Config.Normalization.RMS).actFn(Activation.SILU).gatedMlp(true)
                        .rotary(32).build(),
                new Corpus(60_000, OrganismCorpus.Mixture.NOTEBOOKS, 4096), new Training(2500, 16, 128, 3e-3f, 150, 0.05f, 1.0f), 4, false));
    }

    /** Every organism's d_mlp is 512 and its context 128 tokens. */
    private static Config.Builder shape(ModelFamily family, int nLayers, int dModel, int nHeads) {
        return Config.builder().family(family).nLayers(nLayers).dModel(dModel).nHeads(nHeads).dMlp(512).nCtx(128).dVocab(4096);
    }

    private static void add(Recipe r) {
        ALL.put(r.name(), r);
    }

    public static Recipe named(String name) {
        Recipe r = ALL.get(name);
        if (r == null) throw new JlensException("unknown recipe '" + name + "' (known: " + String.join(", ", ALL.keySet()) + ").");
        return r;
    }

    /** The model once the tokenizer is trained: {@code dVocab} tokens, the last of them BOS. */
    public Config config(int dVocab) {
        return model.toBuilder().dVocab(dVocab).bosToken(dVocab - 1).build();
    }

    /** This recipe trained for {@code steps} steps instead of its own count. */
    public Recipe withSteps(int steps) {
        if (steps <= 0) throw new JlensException("--steps must be positive, not " + steps + ".");
        return new Recipe(name, description, model, corpus, training.withSteps(steps), seed, biases);
    }
}
