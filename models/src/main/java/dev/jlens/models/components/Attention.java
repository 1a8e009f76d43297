package dev.jlens.models.components;

import dev.jlens.engine.Matrix;
import dev.jlens.engine.Backend;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;
import dev.jlens.kernels.Gemm.Op;
import dev.jlens.kernels.Rotary;

/**
 * Causal multi-head attention in TransformerLens's parameterisation: per head h,
 * q = x·W_Q[h] + b_Q[h] (likewise k, v), rotary on q and k when the model has it,
 * scores = q·kᵀ/√d_head with the future masked to −∞, pattern = softmax(scores),
 * z = pattern·v, and out = Σ_h z[h]·W_O[h] + b_O.
 *
 * <p>Shapes: x, out [B, T, D]; q, k, v, z [B, T, H, Dh]; scores, pattern [B, H, T, T];
 * result [B, T, H, D]. W_Q, W_K, W_V [H, D, Dh]; b_Q, b_K, b_V [H, Dh]; W_O [H, Dh, D]; b_O [D].
 */
public final class Attention {
    public final Parameter W_Q, W_K, W_V, b_Q, b_K, b_V, W_O, b_O;
    public final HookPoint hookQ, hookK, hookV, hookRotQ, hookRotK, hookAttnScores, hookPattern, hookZ, hookResult;
    private final int dModel, nHeads, dHead;
    private final Rotary.Table rotary;
    private boolean useAttnResult;

    // saved for backward: what each step consumed, and the fused projection forward used
    private Tensor x, v, rotQ, rotK, pattern, z, qkPositions, positionGradient;
    /** Shared by every layer of a model, which run one at a time: the fused [D, 3·H·Dh] projection. */
    private final FusedQkvBuffer fused;

    public Attention(HookPoints hooks, String prefix, Parameter[] qkv, Parameter[] qkvBias, Parameter wO, Parameter bO,
                     Rotary.Table rotary, boolean useAttnResult, FusedQkvBuffer fused) {
        this.W_Q = qkv[0];
        this.W_K = qkv[1];
        this.W_V = qkv[2];
        this.b_Q = qkvBias[0];
        this.b_K = qkvBias[1];
        this.b_V = qkvBias[2];
        this.W_O = wO;
        this.b_O = bO;
        this.nHeads = W_Q.value().dim(0);
        this.dModel = W_Q.value().dim(1);
        this.dHead = W_Q.value().dim(2);
        this.rotary = rotary;
        this.useAttnResult = useAttnResult;
        this.fused = fused;
        hookQ = hooks.register(prefix + ".hook_q");
        hookK = hooks.register(prefix + ".hook_k");
        hookV = hooks.register(prefix + ".hook_v");
        hookRotQ = rotary == null ? null : hooks.register(prefix + ".hook_rot_q");
        hookRotK = rotary == null ? null : hooks.register(prefix + ".hook_rot_k");
        hookAttnScores = hooks.register(prefix + ".hook_attn_scores");
        hookPattern = hooks.register(prefix + ".hook_pattern");
        hookZ = hooks.register(prefix + ".hook_z");
        hookResult = hooks.register(prefix + ".hook_result");
    }

    /** Whether {@code hook_result} (per-head outputs) is computed, as TransformerLens's use_attn_result. */
    public void setUseAttnResult(boolean on) {
        this.useAttnResult = on;
    }

    public Tensor forward(Tensor x, boolean keep) {
        return forward(x, keep, null);
    }

    /**
     * @param qkPositions null, or shortformer positions [B, T, D] added to the query and key inputs
     *                    (not the value input): q = (x + pos)·W_Q + b_Q
     */
    public Tensor forward(Tensor x, boolean keep, Tensor qkPositions) {
        Backend ops = Backend.of(W_Q.value());
        int batch = x.dim(0), pos = x.dim(1), n = batch * pos, hd = nHeads * dHead;
        Tensor wQkv = fusedQkv(ops);
        Tensor qkv = ops.empty(n, 3 * hd);
        Linear.forward(ops, Matrix.of(x, n, dModel), Matrix.of(wQkv, dModel, 3 * hd), fusedBias(ops), Matrix.of(qkv, n, 3 * hd));
        if (qkPositions != null) {
            // (x + pos)·W = x·W + pos·W: add the positions' projection to the q and k columns only.
            ops.matmulAdd(Matrix.of(qkPositions, n, dModel), Matrix.of(wQkv, 0, dModel, 2 * hd, 3 * hd), Matrix.of(qkv, 0, n, 2 * hd, 3 * hd));
        }
        Tensor q = hookQ.forward(columns(ops, qkv, 0, batch, pos));
        Tensor k = hookK.forward(columns(ops, qkv, 1, batch, pos));
        Tensor v = hookV.forward(columns(ops, qkv, 2, batch, pos));
        Tensor rotQ = q, rotK = k;
        if (rotary != null) {
            rotQ = hookRotQ.forward(rotate(ops, q));
            rotK = hookRotK.forward(rotate(ops, k));
        }
        Tensor scores = ops.empty(batch, nHeads, pos, pos);
        ops.attentionScores(rotQ, rotK, scores, batch, pos, nHeads, dHead, scale());
        Tensor pattern = ops.empty(batch, nHeads, pos, pos);
        ops.attentionPattern(hookAttnScores.forward(scores), pattern, batch, pos, nHeads);
        Tensor patternT = hookPattern.forward(pattern);
        Tensor z = ops.empty(batch, pos, nHeads, dHead);
        ops.attentionMix(patternT, v, z, batch, pos, nHeads, dHead);
        Tensor zT = hookZ.forward(z);

        Tensor out = ops.empty(batch, pos, dModel);
        if (useAttnResult) {
            Tensor result = ops.empty(batch, pos, nHeads, dModel);
            for (int h = 0; h < nHeads; h++) {
                Linear.forward(ops, Matrix.of(zT, h * dHead, n, dHead, hd), Matrix.of(W_O.value(), h * dHead * dModel, dHead, dModel, dModel), null, Matrix.of(result, h * dModel, n, dModel, nHeads * dModel));
            }
            Tensor summed = hookResult.forward(result);
            ops.copyRows(Matrix.of(b_O.value(), 0, n, dModel, 0), Matrix.of(out, n, dModel));
            for (int h = 0; h < nHeads; h++) ops.addRows(Matrix.of(summed, h * dModel, n, dModel, nHeads * dModel), Matrix.of(out, n, dModel));
        } else {
            Linear.forward(ops, Matrix.of(zT, n, hd), Matrix.of(W_O.value(), hd, dModel), b_O.value(), Matrix.of(out, n, dModel));
        }
        if (keep) {
            this.x = x;
            this.qkPositions = qkPositions;
            this.v = v;
            this.rotQ = rotQ;
            this.rotK = rotK;
            this.pattern = patternT;
            this.z = zT;
        }
        return out;
    }

    public Tensor backward(Tensor dOut) {
        Backend ops = Backend.of(W_Q.value());
        int batch = dOut.dim(0), pos = dOut.dim(1), n = batch * pos, hd = nHeads * dHead;
        Linear.biasGradient(ops, Matrix.of(dOut, n, dModel), b_O.grad());
        Tensor dz = ops.empty(batch, pos, nHeads, dHead);
        if (useAttnResult) {
            Tensor dResult = ops.empty(batch, pos, nHeads, dModel);
            for (int h = 0; h < nHeads; h++) ops.copyRows(Matrix.of(dOut, n, dModel), Matrix.of(dResult, h * dModel, n, dModel, nHeads * dModel));
            Tensor dr = hookResult.backward(dResult);
            for (int h = 0; h < nHeads; h++) {
                Linear.weightGradient(ops, Matrix.of(z, h * dHead, n, dHead, hd), Matrix.of(dr, h * dModel, n, dModel, nHeads * dModel), Matrix.of(W_O.grad(), h * dHead * dModel, dHead, dModel, dModel));
                Linear.inputGradient(ops, Matrix.of(dr, h * dModel, n, dModel, nHeads * dModel), Matrix.of(W_O.value(), h * dHead * dModel, dHead, dModel, dModel), Matrix.of(dz, h * dHead, n, dHead, hd));
            }
        } else {
            Linear.weightGradient(ops, Matrix.of(z, n, hd), Matrix.of(dOut, n, dModel), Matrix.of(W_O.grad(), hd, dModel));
            Linear.inputGradient(ops, Matrix.of(dOut, n, dModel), Matrix.of(W_O.value(), hd, dModel), Matrix.of(dz, n, hd));
        }
        Tensor dzHooked = hookZ.backward(dz);

        Tensor dPattern = ops.zeros(batch, nHeads, pos, pos), dv = ops.zeros(batch, pos, nHeads, dHead);
        ops.attentionMixBackward(dzHooked, pattern, v, dPattern, dv, batch, pos, nHeads, dHead);
        Tensor dScores = ops.zeros(batch, nHeads, pos, pos);
        ops.attentionPatternBackward(pattern, hookPattern.backward(dPattern), dScores, batch, pos, nHeads);
        Tensor dq = ops.zeros(batch, pos, nHeads, dHead), dk = ops.zeros(batch, pos, nHeads, dHead);
        ops.attentionScoresBackward(hookAttnScores.backward(dScores), rotQ, rotK, dq, dk, batch, pos, nHeads, dHead, scale());
        if (rotary != null) {
            dq = unrotate(ops, hookRotQ.backward(dq));
            dk = unrotate(ops, hookRotK.backward(dk));
        }
        Tensor dQkv = ops.empty(n, 3 * hd);
        Tensor[] grads = {hookQ.backward(dq), hookK.backward(dk), hookV.backward(dv)};
        Parameter[] weights = {W_Q, W_K, W_V}, biases = {b_Q, b_K, b_V};
        for (int j = 0; j < 3; j++) ops.copyRows(Matrix.of(grads[j], n, hd), Matrix.of(dQkv, j * hd, n, hd, 3 * hd));
        Tensor dW = fused.gradient(ops, dModel, 3 * hd);
        Linear.weightGradient(ops, Matrix.of(x, n, dModel), Matrix.of(dQkv, n, 3 * hd), Matrix.of(dW, dModel, 3 * hd));
        if (qkPositions != null) {
            // q and k read x + pos: their weights' gradient has a posᵀ·dq, posᵀ·dk part as well.
            Linear.weightGradient(ops, Matrix.of(qkPositions, n, dModel), Matrix.of(dQkv, 0, n, 2 * hd, 3 * hd), Matrix.of(dW, 0, dModel, 2 * hd, 3 * hd));
        }
        for (int j = 0; j < 3; j++) {
            for (int h = 0; h < nHeads; h++) {
                ops.addRows(Matrix.of(dW, j * hd + h * dHead, dModel, dHead, 3 * hd), Matrix.of(weights[j].grad(), h * dModel * dHead, dModel, dHead, dHead));
            }
            Linear.biasGradient(ops, Matrix.of(dQkv, j * hd, n, hd, 3 * hd), biases[j].grad());
        }
        Tensor dx = ops.empty(batch, pos, dModel);
        // The shared buffer holds another layer's weights by now: fuse this layer's again.
        Tensor wQkv = fusedQkv(ops);
        Linear.inputGradient(ops, Matrix.of(dQkv, n, 3 * hd), Matrix.of(wQkv, dModel, 3 * hd), Matrix.of(dx, n, dModel));
        if (qkPositions != null) {
            Tensor dPos = ops.empty(batch, pos, dModel);
            Linear.inputGradient(ops, Matrix.of(dQkv, 0, n, 2 * hd, 3 * hd), Matrix.of(wQkv, 0, dModel, 2 * hd, 3 * hd), Matrix.of(dPos, n, dModel));
            positionGradient = dPos;
        }
        return dx;
    }

    private float scale() {
        return (float) (1 / Math.sqrt(dHead));
    }

    /** After a backward with shortformer positions: dL/dpositions [B, T, D], else null. */
    public Tensor positionGradient() {
        return positionGradient;
    }

    /**
     * W_Q, W_K and W_V side by side as one [D, 3·H·Dh] matrix (GPT-2's c_attn layout), so that q, k
     * and v for every head come from one matmul rather than 3·H thin ones. Built at each use (into
     * the model's shared buffer on the CPU), as the weights may have changed since the last.
     */
    private Tensor fusedQkv(Backend ops) {
        int hd = nHeads * dHead;
        Tensor fused = this.fused.weights(ops, dModel, 3 * hd);
        Parameter[] weights = {W_Q, W_K, W_V};
        for (int j = 0; j < 3; j++) {
            for (int h = 0; h < nHeads; h++) {
                ops.copyRows(Matrix.of(weights[j].value(), h * dModel * dHead, dModel, dHead, dHead), Matrix.of(fused, j * hd + h * dHead, dModel, dHead, 3 * hd));
            }
        }
        return fused;
    }

    private Tensor fusedBias(Backend ops) {
        int hd = nHeads * dHead;
        Tensor fused = ops.empty(3 * hd);
        Parameter[] biases = {b_Q, b_K, b_V};
        for (int j = 0; j < 3; j++) ops.copyRows(Matrix.of(biases[j].value(), 0, 1, hd, 0), Matrix.of(fused, j * hd, 1, hd, 0));
        return fused;
    }

    /** Block j (q, k or v) of the fused projection's output [N, 3·H·Dh], as [B, T, H, Dh]. */
    private Tensor columns(Backend ops, Tensor qkv, int j, int batch, int pos) {
        int hd = nHeads * dHead;
        Tensor out = ops.empty(batch, pos, nHeads, dHead);
        ops.copyRows(Matrix.of(qkv, j * hd, batch * pos, hd, 3 * hd), Matrix.of(out, batch * pos, hd));
        return out;
    }

    private Tensor rotate(Backend ops, Tensor t) {
        Tensor out = ops.empty(t.shape());
        ops.rotary(rotary, t, out, t.dim(0), t.dim(1), nHeads, dHead);
        return out;
    }

    private Tensor unrotate(Backend ops, Tensor dRot) {
        Tensor out = ops.zeros(dRot.shape());
        ops.rotaryBackward(rotary, dRot, out, dRot.dim(0), dRot.dim(1), nHeads, dHead);
        return out;
    }

    public void release() {
        x = v = rotQ = rotK = pattern = z = qkPositions = positionGradient = null;
    }
}
