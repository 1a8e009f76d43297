package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;
import dev.jlens.kernels.CausalMask;
import dev.jlens.kernels.Rotary;

/**
 * Causal multi-head attention in TransformerLens's parameterisation: per head h,
 * q = x·W_Q[h] + b_Q[h] (likewise k, v), rotary on q and k when the model has it,
 * scores = q·kᵀ/√d_head with the future masked to −∞, pattern = softmax(scores),
 * z = pattern·v, and out = Σ_h z[h]·W_O[h] + b_O.
 *
 * <p>With grouped-query attention the keys and values have G = n_key_value_heads heads, fewer than
 * the H query heads: query head h reads key/value head h / (H/G) (TransformerLens's
 * repeat_interleave), and the gradients of the H/G query heads sharing one key/value head add up.
 *
 * <p>Qwen3 normalizes each head's q and k (RMS over d_head, {@code attn.q_norm}, {@code attn.k_norm})
 * after {@code hook_q}/{@code hook_k} and before rotary. Mistral's sliding window masks, as the
 * future is masked, every key {@code window} or more positions before the query. Gemma 2 divides
 * q·kᵀ by √query_pre_attn_scalar rather than √d_head and soft-caps the scores,
 * cap·tanh(scores / cap), before the mask; {@code hook_attn_scores} sees them capped.
 *
 * <p>Which keys a query sees is the {@link Span}'s: none in the future, none in a sequence's left
 * padding, and with a KV cache the cached positions' too. Shapes: x, out [B, T, D]; q, z
 * [B, T, H, Dh]; k, v [B, T, G, Dh]; scores, pattern [B, H, T, K] (K = T, or the cached positions
 * and these); result [B, T, H, D]. W_Q [H, D, Dh], W_K, W_V [G, D, Dh]; b_Q [H, Dh], b_K, b_V [G, Dh];
 * W_O [H, Dh, D]; b_O [D].
 */
public final class Attention {
    public final Parameter W_Q, W_K, W_V, b_Q, b_K, b_V, W_O, b_O;
    public final HookPoint hookQ, hookK, hookV, hookRotQ, hookRotK, hookAttnScores, hookPattern, hookZ, hookResult;
    /** Qwen3's per-head norms of q and k, or null. */
    public final RmsNorm qNorm, kNorm;
    private final int dModel, nHeads, nKeyValueHeads, dHead;
    private final Scoring scoring;
    private final Rotary.Table rotary;
    private boolean useAttnResult;

    // saved for backward: what each step consumed, and the fused projection forward used
    private Tensor x, v, rotQ, rotK, cappedScores, pattern, z, qkPositions, positionGradient;
    private CausalMask mask;
    private int[] positionIds;
    /** Shared by every layer of a model, which run one at a time: the fused [D, (H + 2G)·Dh] projection. */
    private final FusedQkvBuffer fused;

    /**
     * @param qkNorm        null, or the weights of q_norm and k_norm (each [d_head]) with their eps
     * @param scoring       how q·kᵀ becomes the scores, and which keys each query sees
     */
    public Attention(HookPoints hooks, String prefix, Parameter[] qkv, Parameter[] qkvBias, Parameter wO, Parameter bO,
                     Rotary.Table rotary, QkNorm qkNorm, Scoring scoring, boolean useAttnResult, FusedQkvBuffer fused) {
        this.W_Q = qkv[0];
        this.W_K = qkv[1];
        this.W_V = qkv[2];
        this.b_Q = qkvBias[0];
        this.b_K = qkvBias[1];
        this.b_V = qkvBias[2];
        this.W_O = wO;
        this.b_O = bO;
        this.nHeads = W_Q.value().dim(0);
        this.nKeyValueHeads = W_K.value().dim(0);
        this.dModel = W_Q.value().dim(1);
        this.dHead = W_Q.value().dim(2);
        this.rotary = rotary;
        this.scoring = scoring;
        this.useAttnResult = useAttnResult;
        this.fused = fused;
        hookQ = hooks.register(prefix + ".hook_q");
        hookK = hooks.register(prefix + ".hook_k");
        hookV = hooks.register(prefix + ".hook_v");
        qNorm = qkNorm == null ? null : new RmsNorm(hooks, prefix + ".q_norm", qkNorm.q(), dHead, qkNorm.eps());
        kNorm = qkNorm == null ? null : new RmsNorm(hooks, prefix + ".k_norm", qkNorm.k(), dHead, qkNorm.eps());
        hookRotQ = rotary == null ? null : hooks.register(prefix + ".hook_rot_q");
        hookRotK = rotary == null ? null : hooks.register(prefix + ".hook_rot_k");
        hookAttnScores = hooks.register(prefix + ".hook_attn_scores");
        hookPattern = hooks.register(prefix + ".hook_pattern");
        hookZ = hooks.register(prefix + ".hook_z");
        hookResult = hooks.register(prefix + ".hook_result");
    }

    /** Qwen3's q_norm and k_norm weights, and the eps of their RMS. */
    public record QkNorm(Parameter q, Parameter k, float eps) {}

    /**
     * How scores are made: q·kᵀ / {@code divisor}, then soft-capped at {@code softCap} (0: not), with
     * keys {@code window} or more positions back masked (0: no window).
     */
    public record Scoring(double divisor, float softCap, int window) {
        /** TransformerLens's default: q·kᵀ/√d_head, uncapped, no window. */
        public static Scoring standard(int dHead) {
            return new Scoring(Math.sqrt(dHead), 0, 0);
        }
    }

    /** Whether {@code hook_result} (per-head outputs) is computed, as TransformerLens's use_attn_result. */
    public void setUseAttnResult(boolean on) {
        this.useAttnResult = on;
    }

    public Tensor forward(Tensor x, boolean keep) {
        return forward(x, keep, null, Span.of(x.dim(0), x.dim(1)), null);
    }

    /**
     * @param qkPositions null, or shortformer positions [B, T, D] added to the query and key inputs
     *                    (not the value input): q = (x + pos)·W_Q + b_Q
     * @param span        where these positions sit in their sequences (left padding, a KV cache)
     * @param cached      null, or this layer's KV cache entry: it holds the keys and values of the
     *                    span's first {@code past} positions and takes these positions' after them
     */
    public Tensor forward(Tensor x, boolean keep, Tensor qkPositions, Span span, KeyValueCache.Entry cached) {
        if (keep && cached != null) throw new IllegalArgumentException("a forward through a KV cache keeps nothing for backward");
        Backend ops = Backend.of(W_Q.value());
        int batch = x.dim(0), pos = x.dim(1), n = batch * pos, hd = nHeads * dHead, width = fusedWidth();
        Tensor qkv = ops.streamsWeights(n) ? projectEachHead(ops, x, qkPositions, n) : projectFused(ops, x, qkPositions, n);
        Tensor q = hookQ.forward(columns(ops, qkv, 0, nHeads, batch, pos));
        Tensor k = hookK.forward(columns(ops, qkv, hd, nKeyValueHeads, batch, pos));
        Tensor v = hookV.forward(columns(ops, qkv, hd + keyValueWidth(), nKeyValueHeads, batch, pos));
        if (qNorm != null) {
            q = qNorm.forward(q, keep);
            k = kNorm.forward(k, keep);
        }
        int[] positionIds = span.positionIds();
        Tensor rotQ = q, rotK = k;
        if (rotary != null) {
            rotQ = hookRotQ.forward(rotate(ops, q, positionIds));
            rotK = hookRotK.forward(rotate(ops, k, positionIds));
        }
        // Through a cache, attention reads the keys and values where the cache holds them, one per key/value head.
        Tensor keys, values;
        CausalMask mask;
        if (cached != null) {
            cached.store(ops, rotK, v, span.past());
            keys = cached.keys();
            values = cached.values();
            mask = span.cachedMask(nHeads, nKeyValueHeads, scoring.window());
        } else {
            keys = everyQueryHead(ops, rotK);
            values = everyQueryHead(ops, v);
            mask = span.mask(nHeads, scoring.window());
        }
        Tensor scores = ops.empty(batch, nHeads, pos, span.keys());
        ops.attentionScores(rotQ, keys, scores, mask, dHead, scale());
        if (scoring.softCap() > 0) ops.softCap(scores, scores, scoring.softCap());
        Tensor pattern = ops.empty(batch, nHeads, pos, span.keys());
        ops.attentionPattern(hookAttnScores.forward(scores), pattern, mask);
        Tensor patternT = hookPattern.forward(pattern);
        Tensor z = ops.empty(batch, pos, nHeads, dHead);
        ops.attentionMix(patternT, values, z, mask, dHead);
        Tensor zT = hookZ.forward(z);

        Tensor out = ops.empty(batch, pos, dModel);
        if (useAttnResult) {
            Tensor result = ops.empty(batch, pos, nHeads, dModel);
            for (int h = 0; h < nHeads; h++) {
                Linear.forward(ops, headOf(zT, h, n), outputWeights(h), null, Matrix.of(result, h * dModel, n, dModel, nHeads * dModel));
            }
            Tensor summed = hookResult.forward(result);
            ops.copyRows(Matrix.of(b_O.value(), 0, n, dModel, 0), Matrix.of(out, n, dModel));
            for (int h = 0; h < nHeads; h++) ops.addRows(Matrix.of(summed, h * dModel, n, dModel, nHeads * dModel), Matrix.of(out, n, dModel));
        } else {
            Linear.forward(ops, Matrix.of(zT, n, hd), Matrix.of(W_O.value(), hd, dModel), b_O.value(), Matrix.of(out, n, dModel));
        }
        if (keep) {
            // Only what backward will read: x and the positions feed the projections' gradients, z W_O's.
            boolean projectionGradients = W_Q.requiresGrad() || W_K.requiresGrad() || W_V.requiresGrad();
            this.x = projectionGradients ? x : null;
            this.qkPositions = qkPositions;
            this.v = values;
            this.rotQ = rotQ;
            this.rotK = keys;
            this.cappedScores = scoring.softCap() > 0 ? scores : null;
            this.pattern = patternT;
            this.z = W_O.requiresGrad() ? zT : null;
            this.mask = mask;
            this.positionIds = positionIds;
        }
        return out;
    }

    public Tensor backward(Tensor dOut) {
        Backend ops = Backend.of(W_Q.value());
        int batch = dOut.dim(0), pos = dOut.dim(1), n = batch * pos, hd = nHeads * dHead, kv = keyValueWidth(), width = fusedWidth();
        if (b_O.requiresGrad()) Linear.biasGradient(ops, Matrix.of(dOut, n, dModel), b_O.grad());
        Tensor dz = ops.empty(batch, pos, nHeads, dHead);
        if (useAttnResult) {
            Tensor dResult = ops.empty(batch, pos, nHeads, dModel);
            for (int h = 0; h < nHeads; h++) ops.copyRows(Matrix.of(dOut, n, dModel), Matrix.of(dResult, h * dModel, n, dModel, nHeads * dModel));
            Tensor dr = hookResult.backward(dResult);
            for (int h = 0; h < nHeads; h++) {
                Matrix dHeadResult = Matrix.of(dr, h * dModel, n, dModel, nHeads * dModel);
                if (z != null) Linear.weightGradient(ops, headOf(z, h, n), dHeadResult, Matrix.of(W_O.grad(), h * dHead * dModel, dHead, dModel, dModel));
                Linear.inputGradient(ops, dHeadResult, outputWeights(h), headOf(dz, h, n));
            }
        } else {
            if (z != null) Linear.weightGradient(ops, Matrix.of(z, n, hd), Matrix.of(dOut, n, dModel), Matrix.of(W_O.grad(), hd, dModel));
            Linear.inputGradient(ops, Matrix.of(dOut, n, dModel), Matrix.of(W_O.value(), hd, dModel), Matrix.of(dz, n, hd));
        }
        Tensor dzHooked = hookZ.backward(dz);

        Tensor dPattern = ops.zeros(batch, nHeads, pos, pos), dValues = ops.zeros(batch, pos, nHeads, dHead);
        ops.attentionMixBackward(dzHooked, pattern, v, dPattern, dValues, mask, dHead);
        Tensor dScores = ops.zeros(batch, nHeads, pos, pos);
        ops.attentionPatternBackward(pattern, hookPattern.backward(dPattern), dScores, mask);
        Tensor dq = ops.zeros(batch, pos, nHeads, dHead), dKeys = ops.zeros(batch, pos, nHeads, dHead);
        Tensor dCapped = hookAttnScores.backward(dScores), dRaw = dCapped;
        if (cappedScores != null) {
            // Not in place: a backward hook may hold on to the gradient it saw.
            dRaw = ops.empty(dCapped.shape());
            ops.softCapBackward(cappedScores, dCapped, dRaw, scoring.softCap());
        }
        ops.attentionScoresBackward(dRaw, rotQ, rotK, dq, dKeys, mask, dHead, scale());
        Tensor dk = sumOverGroups(ops, dKeys), dv = sumOverGroups(ops, dValues);
        if (rotary != null) {
            dq = unrotate(ops, hookRotQ.backward(dq), positionIds);
            dk = unrotate(ops, hookRotK.backward(dk), positionIds);
        }
        if (qNorm != null) {
            dq = qNorm.backward(dq);
            dk = kNorm.backward(dk);
        }
        Tensor dQkv = ops.empty(n, width);
        ops.copyRows(Matrix.of(hookQ.backward(dq), n, hd), Matrix.of(dQkv, 0, n, hd, width));
        ops.copyRows(Matrix.of(hookK.backward(dk), n, kv), Matrix.of(dQkv, hd, n, kv, width));
        ops.copyRows(Matrix.of(hookV.backward(dv), n, kv), Matrix.of(dQkv, hd + kv, n, kv, width));
        Parameter[] weights = {W_Q, W_K, W_V}, biases = {b_Q, b_K, b_V};
        if (x != null) {
            Tensor dW = fused.gradient(ops, dModel, width);
            Linear.weightGradient(ops, Matrix.of(x, n, dModel), Matrix.of(dQkv, n, width), Matrix.of(dW, dModel, width));
            if (qkPositions != null) {
                // q and k read x + pos: their weights' gradient has a posᵀ·dq, posᵀ·dk part as well.
                Linear.weightGradient(ops, Matrix.of(qkPositions, n, dModel), Matrix.of(dQkv, 0, n, hd + kv, width), Matrix.of(dW, 0, dModel, hd + kv, width));
            }
            for (int j = 0; j < 3; j++) {
                if (!weights[j].requiresGrad()) continue;
                int at = blockOffset(j);
                for (int h = 0; h < (j == 0 ? nHeads : nKeyValueHeads); h++) {
                    ops.addRows(Matrix.of(dW, at + h * dHead, dModel, dHead, width), Matrix.of(weights[j].grad(), h * dModel * dHead, dModel, dHead, dHead));
                }
            }
        }
        for (int j = 0; j < 3; j++) {
            int heads = j == 0 ? nHeads : nKeyValueHeads;
            if (biases[j].requiresGrad()) Linear.biasGradient(ops, Matrix.of(dQkv, blockOffset(j), n, heads * dHead, width), biases[j].grad());
        }
        Tensor dx = ops.empty(batch, pos, dModel);
        // The shared buffer holds another layer's weights by now: fuse this layer's again.
        Tensor wQkv = fusedQkv(ops);
        Linear.inputGradient(ops, Matrix.of(dQkv, n, width), Matrix.of(wQkv, dModel, width), Matrix.of(dx, n, dModel));
        if (qkPositions != null) {
            Tensor dPos = ops.empty(batch, pos, dModel);
            Linear.inputGradient(ops, Matrix.of(dQkv, 0, n, hd + kv, width), Matrix.of(wQkv, 0, dModel, hd + kv, width), Matrix.of(dPos, n, dModel));
            positionGradient = dPos;
        }
        return dx;
    }

    /** q, k and v of every head, [N, (H + 2G)·Dh], through one product with the fused weights. */
    private Tensor projectFused(Backend ops, Tensor x, Tensor qkPositions, int n) {
        int width = fusedWidth();
        Tensor wQkv = fusedQkv(ops);
        Tensor qkv = ops.empty(n, width);
        Linear.forward(ops, Matrix.of(x, n, dModel), Matrix.of(wQkv, dModel, width), fusedBias(ops), Matrix.of(qkv, n, width));
        if (qkPositions != null) {
            // (x + pos)·W = x·W + pos·W: add the positions' projection to the q and k columns only.
            int queryKey = nHeads * dHead + keyValueWidth();
            ops.matmulAdd(Matrix.of(qkPositions, n, dModel), Matrix.of(wQkv, 0, dModel, queryKey, width), Matrix.of(qkv, 0, n, queryKey, width));
        }
        return qkv;
    }

    /**
     * As {@link #projectFused}, one product per head straight from W_Q, W_K and W_V: for a token or
     * two (decoding) the weights are read once either way, and fusing them would copy them first.
     */
    private Tensor projectEachHead(Backend ops, Tensor x, Tensor qkPositions, int n) {
        int width = fusedWidth();
        Tensor qkv = ops.empty(n, width);
        ops.copyRows(Matrix.of(fusedBias(ops), 0, n, width, 0), Matrix.of(qkv, n, width));
        Parameter[] weights = {W_Q, W_K, W_V};
        for (int j = 0; j < 3; j++) {
            int heads = j == 0 ? nHeads : nKeyValueHeads;
            Matrix columns = Matrix.of(qkv, blockOffset(j), n, heads * dHead, width);
            ops.matmulAddEach(Matrix.of(x, n, dModel), weights[j].value(), columns);
            if (qkPositions != null && j < 2) ops.matmulAddEach(Matrix.of(qkPositions, n, dModel), weights[j].value(), columns);
        }
        return qkv;
    }

    private float scale() {
        return (float) (1 / scoring.divisor());
    }

    /** After a backward with shortformer positions: dL/dpositions [B, T, D], else null. */
    public Tensor positionGradient() {
        return positionGradient;
    }

    private int keyValueWidth() {
        return nKeyValueHeads * dHead;
    }

    /** Columns of the fused projection: H·Dh of queries, then G·Dh of keys and of values. */
    private int fusedWidth() {
        return nHeads * dHead + 2 * keyValueWidth();
    }

    /** Where q (j = 0), k (1) or v (2) starts among the fused columns. */
    private int blockOffset(int j) {
        return j == 0 ? 0 : nHeads * dHead + (j - 1) * keyValueWidth();
    }

    /** Head h of a [B, T, H, Dh] tensor, as an [N, Dh] view. */
    private Matrix headOf(Tensor t, int h, int n) {
        return Matrix.of(t, h * dHead, n, dHead, nHeads * dHead);
    }

    /** W_O[h] as a [Dh, D] view. */
    private Matrix outputWeights(int h) {
        return Matrix.of(W_O.value(), h * dHead * dModel, dHead, dModel, dModel);
    }

    /**
     * W_Q, W_K and W_V side by side as one [D, (H + 2G)·Dh] matrix (GPT-2's c_attn layout), so that
     * q, k and v for every head come from one matmul rather than H + 2G thin ones. Built at each use
     * (into the model's shared buffer on the CPU), as the weights may have changed since the last.
     */
    private Tensor fusedQkv(Backend ops) {
        int width = fusedWidth();
        Tensor fused = this.fused.weights(ops, dModel, width);
        Parameter[] weights = {W_Q, W_K, W_V};
        for (int j = 0; j < 3; j++) {
            int heads = j == 0 ? nHeads : nKeyValueHeads;
            for (int h = 0; h < heads; h++) {
                ops.copyRows(Matrix.of(weights[j].value(), h * dModel * dHead, dModel, dHead, dHead),
                        Matrix.of(fused, blockOffset(j) + h * dHead, dModel, dHead, width));
            }
        }
        return fused;
    }

    private Tensor fusedBias(Backend ops) {
        Tensor fused = ops.empty(fusedWidth());
        Parameter[] biases = {b_Q, b_K, b_V};
        for (int j = 0; j < 3; j++) {
            int span = biases[j].value().size();
            ops.copyRows(Matrix.of(biases[j].value(), 1, span), Matrix.of(fused, blockOffset(j), 1, span, span));
        }
        return fused;
    }

    /** The {@code heads} heads starting at column {@code from} of the fused output [N, (H + 2G)·Dh], as [B, T, heads, Dh]. */
    private Tensor columns(Backend ops, Tensor qkv, int from, int heads, int batch, int pos) {
        int span = heads * dHead;
        Tensor out = ops.empty(batch, pos, heads, dHead);
        ops.copyRows(Matrix.of(qkv, from, batch * pos, span, fusedWidth()), Matrix.of(out, batch * pos, span));
        return out;
    }

    /** Keys or values [B, T, G, Dh] for each of the H query heads, [B, T, H, Dh] (the same tensor without grouping). */
    private Tensor everyQueryHead(Backend ops, Tensor grouped) {
        if (nKeyValueHeads == nHeads) return grouped;
        int n = grouped.dim(0) * grouped.dim(1), perGroup = nHeads / nKeyValueHeads;
        Tensor out = ops.empty(grouped.dim(0), grouped.dim(1), nHeads, dHead);
        for (int h = 0; h < nHeads; h++) {
            ops.copyRows(Matrix.of(grouped, h / perGroup * dHead, n, dHead, keyValueWidth()), headOf(out, h, n));
        }
        return out;
    }

    /** The inverse of {@link #everyQueryHead} for gradients: each key/value head's is the sum over the query heads that read it. */
    private Tensor sumOverGroups(Backend ops, Tensor perQueryHead) {
        if (nKeyValueHeads == nHeads) return perQueryHead;
        int n = perQueryHead.dim(0) * perQueryHead.dim(1), perGroup = nHeads / nKeyValueHeads;
        Tensor out = ops.zeros(perQueryHead.dim(0), perQueryHead.dim(1), nKeyValueHeads, dHead);
        for (int h = 0; h < nHeads; h++) {
            ops.addRows(headOf(perQueryHead, h, n), Matrix.of(out, h / perGroup * dHead, n, dHead, keyValueWidth()));
        }
        return out;
    }

    private Tensor rotate(Backend ops, Tensor t, int[] positionIds) {
        Tensor out = ops.empty(t.shape());
        ops.rotary(rotary, t, out, positionIds, t.dim(0), t.dim(1), t.dim(2), dHead);
        return out;
    }

    private Tensor unrotate(Backend ops, Tensor dRot, int[] positionIds) {
        Tensor out = ops.zeros(dRot.shape());
        ops.rotaryBackward(rotary, dRot, out, positionIds, dRot.dim(0), dRot.dim(1), dRot.dim(2), dHead);
        return out;
    }

    public void release() {
        x = v = rotQ = rotK = cappedScores = pattern = z = qkPositions = positionGradient = null;
        mask = null;
        positionIds = null;
        if (qNorm != null) {
            qNorm.release();
            kNorm.release();
        }
    }
}
