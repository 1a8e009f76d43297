package dev.jlens.models;

import dev.jlens.engine.DataType;
import dev.jlens.engine.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Random TransformerLens-named weights for a config, initialised as GPT-2 is: normal(0, std) for
 * embeddings and input projections, std/√(2·n_layers) for the projections that write to the
 * residual stream, zero biases, unit layer-norm weights, and W_U = W_Eᵀ (for Gemma, W_U is the
 * drawn embedding's transpose and W_E √d_model times it, as a tied Gemma checkpoint loads).
 */
public final class RandomWeights {
    private RandomWeights() {}

    public static Map<String, Tensor> of(Config cfg, long seed, double std) {
        return of(cfg, seed, std, DataType.FLOAT32);
    }

    /**
     * As {@link #of(Config, long, double)}, the matrices held as {@code type} (see {@link HeldTypes}):
     * each is drawn in float32 and rounded at once, so a model of 16-bit weights never needs its
     * float32 size in memory.
     */
    public static Map<String, Tensor> of(Config cfg, long seed, double std, DataType type) {
        SplittableRandom rng = new SplittableRandom(seed);
        double writeStd = std / Math.sqrt(2.0 * cfg.nLayers());
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> entry : ParameterShapes.of(cfg).entrySet()) {
            String name = entry.getKey();
            Tensor t = Tensor.zeros(entry.getValue());
            boolean bias = ParameterShapes.isBias(name);
            if (name.endsWith(".w")) java.util.Arrays.fill(t.data(), 1f);
            else if (name.equals("unembed.W_U")) continue; // tied below
            else if (name.endsWith("W_O") || name.endsWith("W_out")) fill(t, rng, writeStd);
            else if (!bias) fill(t, rng, std);
            t.convertTo(HeldTypes.isMatrix(name) ? type : DataType.FLOAT32);
            state.put(name, t);
        }
        Tensor embedding = state.get("embed.W_E");
        if (cfg.family().scalesEmbedding()) {
            // Gemma's checkpoint ties lm_head to the embedding it stores, which W_E is √d_model times:
            // both derived from it, as the loader derives them.
            state.put("embed.W_E", Tensor.derived(new Tensor.Scaled(embedding, (float) Math.sqrt(cfg.dModel()))));
            state.put("unembed.W_U", Tensor.derived(new Tensor.Transposed(embedding)));
        } else {
            state.put("unembed.W_U", embedding.transposeLastTwo());
        }
        return reorder(cfg, state);
    }

    private static void fill(Tensor t, SplittableRandom rng, double std) {
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) d[i] = (float) (gaussian(rng) * std);
    }

    private static double gaussian(SplittableRandom rng) {
        // Box-Muller; SplittableRandom has no nextGaussian of its own.
        double u = 1.0 - rng.nextDouble(), v = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    private static Map<String, Tensor> reorder(Config cfg, Map<String, Tensor> state) {
        Map<String, Tensor> ordered = new LinkedHashMap<>();
        for (String name : ParameterShapes.of(cfg).keySet()) ordered.put(name, state.get(name));
        return ordered;
    }
}
