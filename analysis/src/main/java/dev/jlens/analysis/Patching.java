package dev.jlens.analysis;

import dev.jlens.engine.Backend;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Matrix;
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
        return patchedBatch(hookName, layer, 1, 0, atPositions(new int[][] {positions}));
    }

    /** The metric of {@link #patchedLogits}. */
    public double patchedMetric(String hookName, int layer, int... positions) {
        return metric.value(patchedLogits(hookName, layer, positions), readTokens(layer));
    }

    /**
     * How one variant of a batched run patches the activation: {@code act} holds every variant's copy
     * of the corrupted prompts, variant {@code slot} at [slot · batch, ...); {@code index} says which
     * patch of the sweep it is (a position, a neuron, a head); {@code clean} is the clean run's.
     * Patches are block copies on {@code ops}, so that a model on the GPU patches there.
     */
    @FunctionalInterface
    interface VariantPatch {
        void apply(Backend ops, Tensor act, Tensor clean, int slot, int index, int batch, int pos, int width);
    }

    /** Variant {@code index} patches the positions {@code positions[index]} over the whole width. */
    private static VariantPatch atPositions(int[][] positions) {
        return (ops, act, clean, slot, index, batch, pos, width) -> {
            for (int p : positions[index]) {
                ops.copyRows(Matrix.of(clean, p * width, batch, width, pos * width), Matrix.of(act, (slot * batch * pos + p) * width, batch, width, pos * width));
            }
        };
    }

    /**
     * Notebook 003's neuron sweep: for each neuron, the metric with that neuron of {@code hook_post} at
     * {@code layer} taken from the clean run at every position. The runs start at {@code layer}, many
     * neurons to a batched forward.
     */
    public double[] neurons(int layer, int[] neurons, int maxBatch) {
        return sweep(ActNames.of("post", layer), layer, neurons.length, maxBatch, (ops, act, clean, slot, index, batch, pos, width) ->
                ops.copyRows(Matrix.of(clean, neurons[index], batch * pos, 1, width), Matrix.of(act, slot * batch * pos * width + neurons[index], batch * pos, 1, width)));
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
        int pos = corrupted.pos();
        int[][] single = new int[pos][];
        for (int p = 0; p < pos; p++) single[p] = new int[] {p};
        return sweep(hookName, layer, pos, maxBatch, atPositions(single));
    }

    /**
     * Attribution patching for the same sweep: with g the gradient of the metric at the site in the
     * corrupted run, the first-order estimate of patching (layer, position) is Σ g·(clean − corrupted)
     * over prompts and d, plus the corrupted metric, so it reads like the activation-patching result.
     * One forward and one backward, whatever the number of sites.
     */
    public Tensor attributionLayerByPosition(Site site) {
        int layers = model.cfg().nLayers(), pos = corrupted.pos();
        Gradients g = gradients(NameFilter.endingWith("hook_" + site.actName));
        float[] out = new float[layers * pos];
        for (int l = 0; l < layers; l++) {
            String name = ActNames.of(site.actName, l);
            double[] row = attribution(g.cache.get(name), clean.get(name), corruptedCache.get(name));
            for (int p = 0; p < pos; p++) out[l * pos + p] = (float) (g.base + row[p]);
        }
        return Tensor.of(out, layers, pos);
    }

    /** An activation-patching result beside its attribution-patching estimate, cell for cell. */
    public record SideBySide(Tensor activation, Tensor attribution) {
        /** The largest |activation − attribution| over the cells. */
        public double largestGap() {
            double worst = 0;
            for (int i = 0; i < activation.size(); i++) worst = Math.max(worst, Math.abs(activation.data()[i] - attribution.data()[i]));
            return worst;
        }
    }

    /** {@link #layerByPosition} and {@link #attributionLayerByPosition} for one site. */
    public SideBySide compareLayerByPosition(Site site, int maxBatch) {
        return new SideBySide(layerByPosition(site, maxBatch), attributionLayerByPosition(site));
    }

    /** {@link #layerByHead} and {@link #attributionLayerByHead} for one site. */
    public SideBySide compareLayerByHead(HeadSite site, int maxBatch) {
        return new SideBySide(layerByHead(site, maxBatch), attributionLayerByHead(site));
    }

    /** Attribution patching of each head (z, v over all positions; patterns whole): [n_layers, n_heads]. */
    public Tensor attributionLayerByHead(HeadSite site) {
        int layers = model.cfg().nLayers(), heads = model.cfg().nHeads(), pos = corrupted.pos(), batch = corrupted.batch();
        Gradients g = gradients(NameFilter.endingWith("hook_" + site.name().toLowerCase()));
        float[] out = new float[layers * heads];
        for (int l = 0; l < layers; l++) {
            String name = ActNames.of(site.name().toLowerCase(), l);
            float[] grad = g.cache.get(name).data(), c = clean.get(name).data(), x = corruptedCache.get(name).data();
            double[] perHead = new double[heads];
            int block = site == HeadSite.PATTERN ? pos * pos : model.cfg().dHead();
            for (int i = 0; i < grad.length; i++) {
                // z, v: [b, t, h, e] → h = (i / d_head) % heads; pattern: [b, h, q, k] → h = (i / pos²) % heads
                perHead[(i / block) % heads] += (double) grad[i] * (c[i] - x[i]);
            }
            for (int h = 0; h < heads; h++) out[l * heads + h] = (float) (g.base + perHead[h]);
        }
        return Tensor.of(out, layers, heads);
    }

    /** Attribution patching of each head at each position (for patterns: each destination row): [n_layers, pos, n_heads]. */
    public Tensor attributionLayerByPositionByHead(HeadSite site) {
        int layers = model.cfg().nLayers(), heads = model.cfg().nHeads(), pos = corrupted.pos();
        Gradients g = gradients(NameFilter.endingWith("hook_" + site.name().toLowerCase()));
        float[] out = new float[layers * pos * heads];
        for (int l = 0; l < layers; l++) {
            String name = ActNames.of(site.name().toLowerCase(), l);
            float[] grad = g.cache.get(name).data(), c = clean.get(name).data(), x = corruptedCache.get(name).data();
            double[] cells = new double[pos * heads];
            for (int i = 0; i < grad.length; i++) {
                int t, h;
                if (site == HeadSite.PATTERN) { // [b, h, q, k]
                    t = (i / pos) % pos;
                    h = (i / (pos * pos)) % heads;
                } else { // [b, t, h, e]
                    int dHead = model.cfg().dHead();
                    h = (i / dHead) % heads;
                    t = (i / (dHead * heads)) % pos;
                }
                cells[t * heads + h] += (double) grad[i] * (c[i] - x[i]);
            }
            for (int i = 0; i < pos * heads; i++) out[l * pos * heads + i] = (float) (g.base + cells[i]);
        }
        return Tensor.of(out, layers, pos, heads);
    }

    /** Attribution patching of each neuron of {@code hook_post} at {@code layer}, over all positions. */
    public double[] attributionNeurons(int layer) {
        String name = ActNames.of("post", layer);
        Gradients g = gradients(NameFilter.exactly(name));
        int dMlp = model.cfg().dMlp();
        float[] grad = g.cache.get(name).data(), c = clean.get(name).data(), x = corruptedCache.get(name).data();
        double[] out = new double[dMlp];
        java.util.Arrays.fill(out, g.base);
        for (int i = 0; i < grad.length; i++) out[i % dMlp] += (double) grad[i] * (c[i] - x[i]);
        return out;
    }

    /** The corrupted run's metric and its gradient at the selected hook points: one forward, one backward. */
    private record Gradients(double base, ActivationCache cache) {}

    private Gradients gradients(NameFilter sites) {
        ActivationCache grads;
        double base;
        // Gradients at hook points only: no parameter takes one, so none is made.
        try (HookScope scope = model.hookPoints().scope(); var noParameters = model.requiresGradOnly(name -> false)) {
            grads = ActivationCache.recordGradients(scope, sites);
            Tensor logits = model.forward(corrupted, true);
            base = metric.value(logits, corrupted);
            model.backward(metric.gradient(logits, corrupted));
        }
        return new Gradients(base, grads);
    }

    /** The per-head sites: each head's z or v [batch, pos, head, d_head], or its pattern [batch, head, q, k]. */
    public enum HeadSite { Z, V, PATTERN }

    /** Every head of every layer patched at every position: [n_layers, n_heads]. */
    public Tensor layerByHead(HeadSite site, int maxBatch) {
        int layers = model.cfg().nLayers(), heads = model.cfg().nHeads();
        float[] out = new float[layers * heads];
        for (int l = 0; l < layers; l++) {
            String name = ActNames.of(site.name().toLowerCase(), l);
            double[] row = sweep(name, l, heads, maxBatch, (ops, act, clean, slot, h, batch, pos, width) -> copyHead(ops, site, act, clean, slot, h, -1, batch, pos));
            for (int h = 0; h < heads; h++) out[l * heads + h] = (float) row[h];
        }
        return Tensor.of(out, layers, heads);
    }

    /**
     * Every head of every layer patched at each single position: [n_layers, pos, n_heads]. For z and
     * v the position is the token's; for patterns it is the destination (query) position, whose row of
     * attention weights is taken from the clean run.
     */
    public Tensor layerByPositionByHead(HeadSite site, int maxBatch) {
        int layers = model.cfg().nLayers(), heads = model.cfg().nHeads(), pos = corrupted.pos();
        float[] out = new float[layers * pos * heads];
        for (int l = 0; l < layers; l++) {
            String name = ActNames.of(site.name().toLowerCase(), l);
            double[] cells = sweep(name, l, pos * heads, maxBatch,
                    (ops, act, clean, slot, cell, batch, p, width) -> copyHead(ops, site, act, clean, slot, cell % heads, cell / heads, batch, p));
            for (int i = 0; i < pos * heads; i++) out[l * pos * heads + i] = (float) cells[i];
        }
        return Tensor.of(out, layers, pos, heads);
    }

    /** The variant in {@code slot} takes head h from the clean run, at one position or (position < 0) all. */
    private void copyHead(Backend ops, HeadSite site, Tensor act, Tensor clean, int slot, int h, int position, int batch, int pos) {
        int heads = model.cfg().nHeads();
        if (site == HeadSite.PATTERN) {
            int square = pos * pos, rowStart = position < 0 ? 0 : position * pos, length = position < 0 ? square : pos;
            ops.copyRows(Matrix.of(clean, h * square + rowStart, batch, length, heads * square), Matrix.of(act, (slot * batch * heads + h) * square + rowStart, batch, length, heads * square));
            return;
        }
        // z or v [batch, pos, heads, dHead]: the rows are (prompt, position), all of them or one position's.
        int dHead = model.cfg().dHead(), row = heads * dHead, slotStart = slot * batch * pos * row + h * dHead;
        if (position < 0) ops.copyRows(Matrix.of(clean, h * dHead, batch * pos, dHead, row), Matrix.of(act, slotStart, batch * pos, dHead, row));
        else ops.copyRows(Matrix.of(clean, position * row + h * dHead, batch, dHead, pos * row), Matrix.of(act, slotStart + position * row, batch, dHead, pos * row));
    }

    /** {@code count} variants of one site, as many to a forward as {@code maxBatch} allows. */
    private double[] sweep(String hookName, int layer, int count, int maxBatch, VariantPatch patch) {
        int perForward = Math.max(1, maxBatch / corrupted.batch());
        double[] out = new double[count];
        for (int first = 0; first < count; first += perForward) {
            int n = Math.min(perForward, count - first);
            Tensor logits = patchedBatch(hookName, layer, n, first, patch);
            for (int v = 0; v < n; v++) out[first + v] = metric.value(variant(logits, v), readTokens(layer));
        }
        return out;
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

    /**
     * One forward of k variants × corrupted prompts, starting at block {@code layer}; the variant in
     * slot v applies the sweep's patch number {@code firstIndex + v}.
     */
    private Tensor patchedBatch(String hookName, int layer, int k, int firstIndex, VariantPatch patch) {
        int batch = corrupted.batch(), pos = corrupted.pos();
        int layers = model.cfg().nLayers();
        // The residual entering block `layer`; past the last block, the one entering ln_final.
        Tensor start = corruptedCache.get(layer == layers ? ActNames.of("resid_post", layers - 1) : ActNames.of("resid_pre", layer));
        Tensor cleanAct = clean.get(hookName);
        if (cleanAct.dim(0) != batch || cleanAct.size() % (batch * pos) != 0) {
            throw new JlensException("the clean and corrupted runs must have the same shape to patch " + hookName + ": "
                    + cleanAct.shapeString() + " against " + batch + " x " + pos + ".");
        }
        int d = start.dim(2), width = cleanAct.size() / (batch * pos);
        Backend ops = Backend.of(start);
        Tensor residual = ops.empty(k * batch, pos, d);
        int[] ids = new int[k * corrupted.ids().length], starts = new int[k * batch], lengths = new int[k * batch];
        for (int v = 0; v < k; v++) {
            ops.copyRows(Matrix.of(start, 0, 1, start.size(), 0), Matrix.of(residual, v * start.size(), 1, start.size(), 0));
            System.arraycopy(corrupted.ids(), 0, ids, v * corrupted.ids().length, corrupted.ids().length);
            System.arraycopy(corrupted.starts(), 0, starts, v * batch, batch);
            System.arraycopy(corrupted.lengths(), 0, lengths, v * batch, batch);
        }
        Tokens tokens = new Tokens(ids, k * batch, pos, starts, lengths);
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(hookName, (act, point) -> {
                Backend where = Backend.of(act);
                Tensor patched = where.copy(act);
                for (int v = 0; v < k; v++) patch.apply(where, patched, cleanAct, v, firstIndex + v, batch, pos, width);
                return patched;
            });
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
