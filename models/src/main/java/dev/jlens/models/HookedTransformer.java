package dev.jlens.models;

import dev.jlens.engine.Backend;
import dev.jlens.engine.DataType;
import dev.jlens.engine.Decoding;
import dev.jlens.engine.Device;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.models.components.Embed;
import dev.jlens.models.components.KeyValueCache;
import dev.jlens.models.components.Norm;
import dev.jlens.models.components.Positions;
import dev.jlens.models.components.Span;
import dev.jlens.models.components.TransformerBlock;
import dev.jlens.models.components.Unembed;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A decoder-only transformer with TransformerLens's parameters and hook points: embed (+ pos_embed),
 * blocks, ln_final, unembed. {@link #forward} computes logits; with {@code keepForBackward} each
 * component saves what its backward needs, and {@link #backward} then accumulates every parameter's
 * gradient (and runs backward hooks). One pass at a time: saved activations live on the components.
 */
public final class HookedTransformer {
    private final Config cfg;
    private final HookPoints hooks = new HookPoints();
    private final Map<String, Parameter> params;
    public final Embed embed;
    public final HookPoint hookEmbed;
    public final Positions positions;
    public final List<TransformerBlock> blocks;
    public final Norm lnFinal;
    public final Unembed unembed;

    private Tokens savedTokens;
    private Span savedSpan;
    private Device device = Device.CPU;
    private long forwardPasses, backwardPasses;

    private HookedTransformer(Config cfg, Map<String, Parameter> params) {
        this.cfg = cfg;
        this.params = Collections.unmodifiableMap(params);
        Architecture parts = new Architecture(cfg, params);
        embed = new Embed(params.get("embed.W_E"));
        hookEmbed = hooks.register("hook_embed");
        positions = parts.positions(hooks);
        List<TransformerBlock> list = new ArrayList<>();
        for (int l = 0; l < cfg.nLayers(); l++) list.add(new TransformerBlock(hooks, l, cfg.parallelAttnMlp(), parts.block(l)));
        blocks = Collections.unmodifiableList(list);
        lnFinal = parts.norm(hooks, "ln_final", cfg.dModel());
        unembed = params.containsKey("unembed.W_U") ? Unembed.of(params.get("unembed.W_U"), params.get("unembed.b_U"))
                : Unembed.tiedTo(params.get("embed.W_E"), params.get("unembed.b_U"));
        unembed.softCapped(cfg.outputLogitsSoftCap());
    }

    /**
     * A model from TransformerLens-named weights. Every parameter the config implies must be there
     * with its shape, except that layer-norm weights may be absent (a model with folded layer norms)
     * and unembed.W_U may be absent when the checkpoint ties it to the embedding.
     */
    public static HookedTransformer fromStateDict(Config cfg, Map<String, Tensor> state) {
        Map<String, Parameter> params = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> expected : ParameterShapes.of(cfg).entrySet()) {
            String name = expected.getKey();
            Tensor value = state.get(name);
            if (value == null) {
                if (ParameterShapes.isLayerNormParameter(name) || name.equals("unembed.W_U")) continue;
                throw new JlensException("the weights have no tensor " + name + " (expected shape "
                        + Arrays.toString(expected.getValue()) + ").");
            }
            if (!value.hasShape(expected.getValue())) {
                throw new JlensException("tensor " + name + " has shape " + value.shapeString() + " but this model needs "
                        + Arrays.toString(expected.getValue()) + ".");
            }
            requireFinite(name, value);
            params.put(name, Parameter.of(name, value));
        }
        for (String name : state.keySet()) {
            // TransformerLens saves its attention masks as buffers: jlens computes them itself.
            if (!params.containsKey(name) && !name.matches("blocks\\.\\d+\\.attn\\.(mask|IGNORE|rotary_sin|rotary_cos)")) {
                throw new JlensException("the weights hold " + name + ", which a model of this config (" + cfg.nLayers() + " layers, d_model "
                        + cfg.dModel() + ") does not have; the config and the weights disagree.");
            }
        }
        return new HookedTransformer(cfg, params);
    }

    /** A NaN or infinite weight makes every table NaN: refused when the model is made, naming the tensor. */
    private static void requireFinite(String name, Tensor value) {
        switch (value.derivation()) {
            case null -> {}
            case Tensor.Transposed transposed -> {
                requireFinite(name, transposed.source());
                return;
            }
            case Tensor.Scaled scaled -> {
                requireFiniteScaled(name, scaled, value.dtype());
                return;
            }
        }
        if (value.isOnDevice()) return; // moved there after a check on the host
        if (value.dtype().isHalf()) {
            long at = value.dtype().half().firstNonFinite(value.segment(), value.elements());
            if (at >= 0) throw new JlensException("tensor " + name + " holds " + value.dtype().half().get(value.segment(), at) + "; the model would compute NaN from it.");
            return;
        }
        for (float v : value.data()) {
            if (!Float.isFinite(v)) throw new JlensException("tensor " + name + " holds " + v + "; the model would compute NaN from it.");
        }
    }

    /** As {@link #requireFinite} for source × factor, read a block at a time (scaling may overflow what the source holds). */
    private static void requireFiniteScaled(String name, Tensor.Scaled scaled, DataType type) {
        Tensor source = scaled.source();
        float[] block = new float[(int) Math.min(source.elements(), 1 << 16)];
        for (long at = 0; at < source.elements(); at += block.length) {
            int n = (int) Math.min(block.length, source.elements() - at);
            source.read(at, block, 0, n);
            for (int i = 0; i < n; i++) {
                float v = type.round(block[i] * scaled.factor());
                if (!Float.isFinite(v)) throw new JlensException("tensor " + name + " holds " + v + "; the model would compute NaN from it.");
            }
        }
    }

    public Config cfg() {
        return cfg;
    }

    public HookPoints hookPoints() {
        return hooks;
    }

    /** Parameters by TransformerLens name, in model order (a tied unembedding becomes its own W_U here). */
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> all = new LinkedHashMap<>();
        params.forEach((name, p) -> {
            if (name.equals("unembed.b_U")) all.put("unembed.W_U", unembed.W_U());
            all.put(name, p);
        });
        return Collections.unmodifiableMap(all);
    }

    /**
     * Bytes of every weight the model holds now, each in its type (a tied unembedding holds none of
     * its own; weights derived from one tensor, as Gemma's W_E and W_U, hold it once between them).
     */
    public long heldParameterBytes() {
        Set<Tensor> held = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Parameter p : heldParameters()) {
            Tensor.Derivation derivation = p.value().derivation();
            held.add(derivation == null ? p.value() : derivation.source());
        }
        long n = 0;
        for (Tensor t : held) n += bytes(t);
        return n;
    }

    private static long bytes(Tensor t) {
        return t.dtype().bytes() * t.elements();
    }

    public Parameter parameter(String name) {
        Parameter p = name.equals("unembed.W_U") ? unembed.W_U() : params.get(name);
        if (p == null) throw new JlensException("the model has no parameter " + name + ".");
        return p;
    }

    /** As TransformerLens's set_use_attn_result: compute per-head outputs at hook_result. */
    public void setUseAttnResult(boolean on) {
        for (TransformerBlock block : blocks) block.attn.setUseAttnResult(on);
    }

    /** Logits [batch, pos, d_vocab]. With keepForBackward, activations are saved for {@link #backward}. */
    public Tensor forward(Tokens tokens, boolean keepForBackward) {
        tokens.check(cfg);
        release();
        Span span = spanOf(tokens);
        Tensor logits;
        // Modules spliced in at hook points (sparse autoencoders) keep for backward when the blocks do.
        hooks.keepForBackward(keepForBackward);
        try {
            Positions.Embedded embedded = embed(tokens, span);
            Tensor resid = runBlocks(embedded.resid(), 0, blocks.size(), keepForBackward, embedded.queryKeyPositions(), span);
            logits = unembed.forward(lnFinal.forward(resid, keepForBackward), keepForBackward);
        } finally {
            hooks.keepForBackward(false);
        }
        savedTokens = keepForBackward ? tokens : null;
        savedSpan = keepForBackward ? span : null;
        return logits;
    }

    /**
     * One step of generation: runs {@code next} (every sequence's next positions, [batch, n]) after
     * the positions the KV cache holds, with every hook firing on these positions only, and
     * appends their keys and values to the cache. The left padding is the cache's. Returns the
     * logits of the last position of each sequence, [batch, 1, d_vocab]; with {@code allPositions},
     * those of every new position, [batch, n, d_vocab].
     */
    public Tensor forward(Tokens next, KeyValueCache cache, boolean allPositions) {
        if (next.batch() != cache.batch()) {
            throw new IllegalArgumentException(next.batch() + " sequences cannot extend a KV cache of " + cache.batch());
        }
        cache.requireRoom(next.pos());
        next.check(cfg);
        release();
        try (Decoding decoding = Decoding.begin()) {
            Span span = new Span(next.batch(), next.pos(), cache.length(), cache.starts(), cache);
            Positions.Embedded embedded = embed(next, span);
            Tensor normalized = lnFinal.forward(runBlocks(embedded.resid(), 0, blocks.size(), false, embedded.queryKeyPositions(), span), false);
            cache.advance(next.pos());
            if (allPositions || next.pos() == 1) return unembed.forward(normalized, false);
            return unembed.forward(lastPositions(normalized, next.batch(), next.pos(), null), false);
        }
    }

    /**
     * An empty KV cache for {@code batch} sequences of up to {@code capacity} positions, left-padded
     * to start at {@code starts} (null: at 0): per layer, the key/value heads' keys and values.
     */
    public KeyValueCache newKeyValueCache(int batch, int capacity, int[] starts) {
        if (capacity > cfg.nCtx()) {
            throw new JlensException(capacity + " positions do not fit the model's context (n_ctx) of " + cfg.nCtx() + " tokens.");
        }
        return KeyValueCache.of(cfg.nLayers(), cfg.nKeyValueHeads(), cfg.dHead(), batch, capacity, starts);
    }

    /** The plain span of a batch, or its left padding. */
    private static Span spanOf(Tokens tokens) {
        return new Span(tokens.batch(), tokens.pos(), 0, tokens.leftPadded() ? tokens.starts() : null, null);
    }

    /** Rows [b, at(b)] of x [batch, pos, d_model] (the last position when {@code at} is null), as [batch, 1, d_model]. */
    private Tensor lastPositions(Tensor x, int batch, int pos, Tokens tokens) {
        int d = cfg.dModel();
        Backend ops = Backend.of(x);
        Tensor last = ops.empty(batch, 1, d);
        for (int b = 0; b < batch; b++) {
            int at = tokens == null ? pos - 1 : tokens.end(b) - 1;
            ops.copyRows(Matrix.of(x, (b * pos + at) * d, 1, d, 0), Matrix.of(last, b * d, 1, d, 0));
        }
        return last;
    }

    /**
     * TransformerLens's {@code return_type="loss"}: the mean next-token loss, equal to
     * {@code CrossEntropy.mean(forward(tokens), tokens)} to the last bit, without holding the whole
     * [batch, pos, d_vocab] logits (for a batch of 32 × 128 tokens of a 50k-token model, 0.8 GB).
     */
    public double loss(Tokens tokens) {
        return loss(tokens, SLAB_FLOATS);
    }

    /** {@link #loss} with slabs of at most {@code slabFloats} logits (at least one sequence each). */
    double loss(Tokens tokens, long slabFloats) {
        CrossEntropy.requirePredictions(tokens);
        double[] sum = {0};
        unembedBySlabs(tokens, slabFloats, (logits, first) -> sum[0] = CrossEntropy.accumulate(sum[0], logits, tokens, first));
        return sum[0] / CrossEntropy.count(tokens);
    }

    /** {@code loss_per_token=True}: as {@link CrossEntropy#perToken} of the logits, [batch, pos − 1], by slabs as {@link #loss}. */
    public Tensor lossPerToken(Tokens tokens) {
        return lossPerToken(tokens, SLAB_FLOATS);
    }

    Tensor lossPerToken(Tokens tokens, long slabFloats) {
        int predicting = Math.max(0, tokens.pos() - 1);
        float[] out = new float[tokens.batch() * predicting];
        unembedBySlabs(tokens, slabFloats, (logits, first) -> CrossEntropy.perToken(logits, tokens, first, out));
        return Tensor.of(out, tokens.batch(), predicting);
    }

    /** Logits of sequences first .. first + n − 1, [n, pos, d_vocab]. */
    private interface SlabConsumer {
        void accept(Tensor logits, int first);
    }

    /** Floats of logits one slab may hold: 64 MB, however long the sequences or large the vocabulary. */
    private static final long SLAB_FLOATS = 16L << 20;

    /**
     * The forward pass through ln_final on the whole batch (every hook sees what {@link #forward}
     * shows it), then the unembedding a few sequences at a time. A row's logits do not depend on
     * the other rows of its matmul, so each slab's are those {@link #forward} computes.
     */
    private void unembedBySlabs(Tokens tokens, long slabFloats, SlabConsumer consumer) {
        tokens.check(cfg);
        release();
        Span span = spanOf(tokens);
        Positions.Embedded embedded = embed(tokens, span);
        Tensor normalized = lnFinal.forward(runBlocks(embedded.resid(), 0, blocks.size(), false, embedded.queryKeyPositions(), span), false);
        int pos = tokens.pos(), d = cfg.dModel();
        Backend ops = Backend.of(normalized);
        int perSlab = (int) Math.max(1, Math.min(tokens.batch(), slabFloats / ((long) pos * cfg.dVocab())));
        for (int first = 0; first < tokens.batch(); first += perSlab) {
            int n = Math.min(perSlab, tokens.batch() - first);
            Tensor slab = ops.empty(n, pos, d);
            ops.copyRows(Matrix.of(normalized, first * pos * d, 1, n * pos * d, 0), Matrix.of(slab, 0, 1, n * pos * d, 0));
            consumer.accept(unembed.forward(slab, false), first);
        }
    }

    /**
     * TransformerLens's {@code stop_at_layer}: the residual stream entering block {@code layer}
     * (its resid_pre before that block's hook), [batch, pos, d_model]; {@code layer = n_layers}
     * gives the residual entering ln_final.
     */
    public Tensor residualAt(Tokens tokens, int layer) {
        checkLayer(layer);
        tokens.check(cfg);
        release();
        Span span = spanOf(tokens);
        Positions.Embedded embedded = embed(tokens, span);
        return runBlocks(embedded.resid(), 0, layer, false, embedded.queryKeyPositions(), span);
    }

    /**
     * TransformerLens's {@code start_at_layer}: logits from a residual stream entering block
     * {@code layer} (it passes that block's hook_resid_pre), running only the layers from there on.
     * The tokens give the batch's shape and, for shortformer models, the positions.
     */
    public Tensor logitsFrom(Tensor residual, int layer, Tokens tokens) {
        Tensor resid = resume(residual, layer, tokens);
        return unembed.forward(lnFinal.forward(resid, false), false);
    }

    /**
     * As {@link #logitsFrom}, but ln_final and the unembedding run only on each sequence's last real
     * position: [batch, 1, d_vocab]. For metrics that read nothing else, this skips almost all of the
     * unembedding's work.
     */
    public Tensor lastLogitsFrom(Tensor residual, int layer, Tokens tokens) {
        Tensor resid = resume(residual, layer, tokens);
        return unembed.forward(lnFinal.forward(lastPositions(resid, tokens.batch(), tokens.pos(), tokens), false), false);
    }

    /** The hooked token embedding with the positions added where the model adds them. */
    private Positions.Embedded embed(Tokens tokens, Span span) {
        Tensor tokenEmbedding = hookEmbed.forward(embed.forward(tokens.ids(), tokens.batch(), tokens.pos()));
        return positions.embed(tokenEmbedding, span);
    }

    /** The residual leaving the last block, from {@code residual} entering block {@code layer}. */
    private Tensor resume(Tensor residual, int layer, Tokens tokens) {
        checkLayer(layer);
        if (residual.rank() != 3 || residual.dim(0) != tokens.batch() || residual.dim(1) != tokens.pos() || residual.dim(2) != cfg.dModel()) {
            throw new JlensException("a residual stream of shape " + residual.shapeString() + " cannot enter block " + layer
                    + " for a batch of " + tokens.batch() + " x " + tokens.pos() + " tokens and d_model " + cfg.dModel() + ".");
        }
        release();
        Span span = spanOf(tokens);
        return runBlocks(residual, layer, blocks.size(), false, positions.queryKeyPositions(span), span);
    }

    private Tensor runBlocks(Tensor resid, int from, int to, boolean keep, Tensor qkPositions, Span span) {
        forwardPasses++;
        for (int l = from; l < to; l++) resid = blocks.get(l).forward(resid, keep, qkPositions, span);
        return resid;
    }

    private void checkLayer(int layer) {
        if (layer < 0 || layer > cfg.nLayers()) {
            throw new JlensException("layer " + layer + " is outside the model's 0.." + cfg.nLayers() + ".");
        }
    }

    /** Logits without keeping anything for backward. */
    public Tensor forward(Tokens tokens) {
        return forward(tokens, false);
    }

    /** Accumulates dL/dparam for every parameter from dL/dlogits, after a forward that kept activations. */
    public void backward(Tensor dLogits) {
        if (savedTokens == null) throw new IllegalStateException("backward needs a forward(tokens, true) first");
        backwardPasses++;
        Tensor d = lnFinal.backward(unembed.backward(dLogits));
        Backend ops = Backend.of(d);
        Tensor dQueryKeyPositions = null; // summed over the layers whose attention read positions
        unembed.release();
        lnFinal.release();
        for (int l = blocks.size() - 1; l >= 0; l--) {
            d = blocks.get(l).backward(d);
            Tensor fromLayer = blocks.get(l).attn.positionGradient();
            // What this block saved for backward is spent: free it before the next block's backward.
            blocks.get(l).release();
            if (fromLayer == null) continue;
            if (dQueryKeyPositions == null) dQueryKeyPositions = ops.zeros(fromLayer.shape());
            ops.add(fromLayer, 0, dQueryKeyPositions, 0, fromLayer.size());
        }
        positions.backward(d, dQueryKeyPositions, savedSpan);
        embed.backward(hookEmbed.backward(d), savedTokens.ids());
        release();
    }

    /** One forward and backward of the mean next-token cross-entropy; returns the loss. */
    public float lossAndBackward(Tokens tokens) {
        CrossEntropy.LossAndGradient result = CrossEntropy.lossAndGradient(forward(tokens, true), tokens);
        backward(result.gradient());
        return (float) result.loss();
    }

    /** TransformerLens's run_with_cache: logits, and the activations at every hook point the filter selects. */
    public CachedRun runWithCache(Tokens tokens, NameFilter filter) {
        try (HookScope scope = hooks.scope()) {
            ActivationCache cache = ActivationCache.recordActivations(scope, filter);
            return new CachedRun(forward(tokens), cache);
        }
    }

    /** Logits and the activation cache of one run. */
    public record CachedRun(Tensor logits, ActivationCache cache) {}

    /**
     * Moves every weight the model holds (and its gradient) to the device; the model computes there
     * from now on. A tied unembedding stays W_Eᵀ, with no copy of its own.
     */
    public HookedTransformer to(Device device) {
        if (device == Device.CUDA) Backend.of(device); // fails here, in one sentence, without a GPU
        for (Parameter p : params.values()) p.moveTo(device);
        if (!unembed.tied()) unembed.W_U().moveTo(device);
        this.device = device;
        return this;
    }

    /** Where the model's weights were last moved ({@link #to}); the CPU for a new model. */
    public Device device() {
        return device;
    }

    /**
     * How many passes this model has run: forwards through blocks (whole, or from or up to a layer,
     * however large the batch) and backwards. What an analysis costs is counted here.
     */
    public record Passes(long forward, long backward) {}

    public Passes passes() {
        return new Passes(forwardPasses, backwardPasses);
    }

    /** Clears every gradient held (a tied unembedding is not made a matrix of its own for it). */
    public void zeroGrad() {
        for (Parameter p : heldParameters()) p.zeroGrad();
    }

    /** As PyTorch's requires_grad_: whether backward passes compute every parameter's gradient. */
    public void setRequiresGrad(boolean on) {
        for (Parameter p : params.values()) p.setRequiresGrad(on);
        unembed.setRequiresGrad(on);
    }

    /**
     * Until closed, only the parameters {@code wanted} names take gradients (none, for analyses that
     * want gradients at hook points only): the others get no gradient memory, and forward keeps no
     * activation that only their gradients would read. Closing restores each parameter's flag.
     */
    public GradientScope requiresGradOnly(java.util.function.Predicate<String> wanted) {
        boolean unembedBefore = unembed.requiresGrad();
        Map<Parameter, Boolean> before = new LinkedHashMap<>();
        for (Parameter p : params.values()) {
            before.put(p, p.requiresGrad());
            p.setRequiresGrad(p.requiresGrad() && wanted.test(p.name()));
        }
        unembed.setRequiresGrad(unembedBefore && wanted.test("unembed.W_U"));
        return () -> {
            before.forEach(Parameter::setRequiresGrad);
            unembed.setRequiresGrad(unembedBefore);
        };
    }

    /** Restores the parameters' requires_grad flags when closed. */
    public interface GradientScope extends AutoCloseable {
        @Override
        void close();
    }

    /** The parameters the model holds now: those of the state dict, and W_U once it is a matrix of its own. */
    private List<Parameter> heldParameters() {
        List<Parameter> held = new ArrayList<>(params.values());
        if (!unembed.tied() && !params.containsKey("unembed.W_U")) held.add(unembed.W_U());
        return held;
    }

    private void release() {
        savedTokens = null;
        savedSpan = null;
        for (TransformerBlock block : blocks) block.release();
        lnFinal.release();
        unembed.release();
    }
}
