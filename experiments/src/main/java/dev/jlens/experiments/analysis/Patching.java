package dev.jlens.experiments.analysis;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;

/**
 * Activation patching from a clean run into a corrupted one, and its first-order estimate,
 * attribution patching. A patched run starts at the block that holds the patched site, from the
 * corrupted run's cached residual there (TransformerLens's start_at_layer): the layers below are
 * never recomputed. Sweeps put many patched variants of the corrupted batch through one batched
 * forward. Sites are hook points over [batch, pos, d] (residual stream, attention and MLP outputs).
 */
public final class Patching {
    /** The layer × position sites of the notebooks' residual-stream sweeps. */
    public enum Site {
        RESID_PRE("resid_pre"), RESID_MID("resid_mid"), RESID_POST("resid_post"), ATTN_OUT("attn_out"), MLP_OUT("mlp_out");

        final String actName;

        Site(String actName) {
            this.actName = actName;
        }
    }

    private final HookedTransformer model;
    private final Tokens corrupted;
    private final ActivationCache clean, corruptedCache;
    private final Metric metric;

    /** @param clean and corrupted caches of full runs (they must hold every residual and patched site) */
    public Patching(HookedTransformer model, Tokens corrupted, ActivationCache clean, ActivationCache corruptedCache, Metric metric) {
        this.model = model;
        this.corrupted = corrupted;
        this.clean = clean;
        this.corruptedCache = corruptedCache;
        this.metric = metric;
    }

    /**
     * The corrupted run's logits with {@code hookName}'s activation taken from the clean run at the
     * given positions; [batch, 1, vocab] at the last positions when the metric reads only those.
     */
    public Tensor patchedLogits(String hookName, int layer, int... positions) {
        return patchedBatch(hookName, layer, 1, atPositions(new int[][] {positions}));
    }

    /** The metric of {@link #patchedLogits}. */
    public double patchedMetric(String hookName, int layer, int... positions) {
        return metric.value(patchedLogits(hookName, layer, positions), readTokens(layer));
    }

    /**
     * How variant v of a batched run patches the activation: {@code act} holds every variant's copy
     * of the corrupted prompts ([variants · batch, pos, width]), {@code clean} the clean run's.
     */
    @FunctionalInterface
    interface VariantPatch {
        void apply(float[] act, float[] clean, int v, int batch, int pos, int width);
    }

    private static VariantPatch atPositions(int[][] variants) {
        return (act, clean, v, batch, pos, width) -> {
            for (int p : variants[v]) {
                for (int b = 0; b < batch; b++) System.arraycopy(clean, (b * pos + p) * width, act, ((v * batch + b) * pos + p) * width, width);
            }
        };
    }

    /**
     * Notebook 003's neuron sweep: for each neuron, the metric with that neuron of {@code hook_post} at
     * {@code layer} taken from the clean run at every position. The runs start at {@code layer}, many
     * neurons to a batched forward.
     */
    public double[] neurons(int layer, int[] neurons, int maxBatch) {
        String hookName = ActNames.of("post", layer);
        int perForward = Math.max(1, maxBatch / corrupted.batch());
        double[] out = new double[neurons.length];
        for (int first = 0; first < neurons.length; first += perForward) {
            int count = Math.min(perForward, neurons.length - first), offset = first;
            Tensor logits = patchedBatch(hookName, layer, count, (act, clean, v, batch, pos, width) -> {
                int neuron = neurons[offset + v];
                for (int row = 0; row < batch * pos; row++) act[(v * batch * pos + row) * width + neuron] = clean[row * width + neuron];
            });
            for (int v = 0; v < count; v++) out[first + v] = metric.value(variant(logits, v), readTokens(layer));
        }
        return out;
    }

    /**
     * The metric for every (layer, position) of a site: [n_layers, pos]. {@code maxBatch} bounds how
     * many prompts (variants × corrupted prompts) one forward carries.
     */
    public Tensor layerByPosition(Site site, int maxBatch) {
        int layers = model.cfg().nLayers(), pos = corrupted.pos();
        float[] out = new float[layers * pos];
        for (int l = 0; l < layers; l++) {
            double[] row = byPosition(ActNames.of(site.actName, l), l, maxBatch);
            for (int p = 0; p < pos; p++) out[l * pos + p] = (float) row[p];
        }
        return Tensor.of(out, layers, pos);
    }

    /** The metric with {@code hookName} patched at each single position, [pos]; the run starts at block {@code layer}. */
    public double[] byPosition(String hookName, int layer, int maxBatch) {
        int pos = corrupted.pos(), perForward = Math.max(1, maxBatch / corrupted.batch());
        double[] out = new double[pos];
        for (int first = 0; first < pos; first += perForward) {
            int count = Math.min(perForward, pos - first);
            int[][] variants = new int[count][];
            for (int v = 0; v < count; v++) variants[v] = new int[] {first + v};
            Tensor logits = patchedBatch(hookName, layer, count, atPositions(variants));
            for (int v = 0; v < count; v++) out[first + v] = metric.value(variant(logits, v), readTokens(layer));
        }
        return out;
    }

    /**
     * Attribution patching for the same sweep: with g the gradient of the metric at the site in the
     * corrupted run, the first-order estimate of patching (layer, position) is Σ g·(clean − corrupted)
     * over prompts and d, plus the corrupted metric, so it reads like the activation-patching result.
     * One forward and one backward, whatever the number of sites.
     */
    public Tensor attributionLayerByPosition(Site site) {
        int layers = model.cfg().nLayers(), pos = corrupted.pos();
        ActivationCache grads;
        double base;
        try (HookScope scope = model.hookPoints().scope()) {
            grads = ActivationCache.recordGradients(scope, NameFilter.endingWith("hook_" + site.actName));
            Tensor logits = model.forward(corrupted, true);
            base = metric.value(logits, corrupted);
            model.backward(metric.gradient(logits, corrupted));
        }
        model.zeroGrad();
        float[] out = new float[layers * pos];
        for (int l = 0; l < layers; l++) {
            String name = ActNames.of(site.actName, l);
            double[] row = attribution(grads.get(name), clean.get(name), corruptedCache.get(name));
            for (int p = 0; p < pos; p++) out[l * pos + p] = (float) (base + row[p]);
        }
        return Tensor.of(out, layers, pos);
    }

    /** Σ over prompts and d of gradient·(clean − corrupted), per position. */
    static double[] attribution(Tensor gradient, Tensor cleanAct, Tensor corruptAct) {
        int batch = gradient.dim(0), pos = gradient.dim(1), d = gradient.size() / (batch * pos);
        double[] out = new double[pos];
        for (int b = 0; b < batch; b++) {
            for (int p = 0; p < pos; p++) {
                int at = (b * pos + p) * d;
                for (int i = 0; i < d; i++) out[p] += (double) gradient.data()[at + i] * (cleanAct.data()[at + i] - corruptAct.data()[at + i]);
            }
        }
        return out;
    }

    /** One forward of k variants × corrupted prompts, starting at block {@code layer}; variant v patched by {@code patch}. */
    private Tensor patchedBatch(String hookName, int layer, int k, VariantPatch patch) {
        int batch = corrupted.batch(), pos = corrupted.pos();
        int layers = model.cfg().nLayers();
        // The residual entering block `layer`; past the last block, the one entering ln_final.
        Tensor start = corruptedCache.get(layer == layers ? ActNames.of("resid_post", layers - 1) : ActNames.of("resid_pre", layer));
        Tensor cleanAct = clean.get(hookName);
        if (cleanAct.dim(0) != batch || cleanAct.dim(1) != pos) {
            throw new JlensException("the clean and corrupted runs must have the same shape to patch " + hookName + ": "
                    + cleanAct.shapeString() + " against " + batch + " x " + pos + ".");
        }
        int d = start.dim(2), width = cleanAct.size() / (batch * pos);
        float[] resid = new float[k * start.size()];
        int[] ids = new int[k * corrupted.ids().length], lengths = new int[k * batch];
        for (int v = 0; v < k; v++) {
            System.arraycopy(start.data(), 0, resid, v * start.size(), start.size());
            System.arraycopy(corrupted.ids(), 0, ids, v * corrupted.ids().length, corrupted.ids().length);
            System.arraycopy(corrupted.lengths(), 0, lengths, v * batch, batch);
        }
        Tokens tokens = new Tokens(ids, k * batch, pos, lengths);
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(hookName, (act, point) -> {
                float[] patched = act.data().clone();
                for (int v = 0; v < k; v++) patch.apply(patched, cleanAct.data(), v, batch, pos, width);
                return Tensor.of(patched, act.shape());
            });
            Tensor residual = Tensor.of(resid, k * batch, pos, d);
            return readsLastPositions(layer) ? model.lastLogitsFrom(residual, layer, tokens) : model.logitsFrom(residual, layer, tokens);
        }
    }

    /** Sites inside the blocks may skip all but the last positions' unembedding; sites in ln_final see every position. */
    private boolean readsLastPositions(int layer) {
        return metric.lastPositionOnly() && layer < model.cfg().nLayers();
    }

    /** The tokens a sweep's logits line up with: the corrupted batch, or its last positions alone. */
    private Tokens readTokens(int layer) {
        if (!readsLastPositions(layer)) return corrupted;
        int[] ones = new int[corrupted.batch()];
        java.util.Arrays.fill(ones, 1);
        return new Tokens(new int[corrupted.batch()], corrupted.batch(), 1, ones);
    }

    private Tensor variant(Tensor logits, int v) {
        int each = logits.size() / (logits.dim(0) / corrupted.batch());
        float[] out = java.util.Arrays.copyOfRange(logits.data(), v * each, (v + 1) * each);
        return Tensor.of(out, corrupted.batch(), logits.dim(1), logits.dim(2));
    }
}
