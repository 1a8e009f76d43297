package dev.jlens.models.components;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;
import dev.jlens.kernels.CausalAttention;
import dev.jlens.kernels.Gemm;
import dev.jlens.kernels.Rotary;
import dev.jlens.kernels.Simd;
import dev.jlens.models.loading.Layouts;

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
        int batch = x.dim(0), pos = x.dim(1), n = batch * pos, hd = nHeads * dHead;
        Tensor wQkv = fusedQkv(fused.weights(dModel * 3 * hd));
        float[] qkv = new float[n * 3 * hd];
        Linear.forward(x.data(), 0, dModel, wQkv.data(), 0, 3 * hd, fusedBias(), 0, qkv, 0, 3 * hd, n, dModel, 3 * hd);
        if (qkPositions != null) {
            // (x + pos)·W = x·W + pos·W: add the positions' projection to the q and k columns only.
            Gemm.gemm(Gemm.Op.N, Gemm.Op.N, n, 2 * hd, dModel, qkPositions.data(), 0, dModel, wQkv.data(), 0, 3 * hd,
                    qkv, 0, 3 * hd, true, null, 0);
        }
        Tensor q = hookQ.forward(columns(qkv, 0, batch, pos));
        Tensor k = hookK.forward(columns(qkv, 1, batch, pos));
        Tensor v = hookV.forward(columns(qkv, 2, batch, pos));
        Tensor rotQ = q, rotK = k;
        if (rotary != null) {
            rotQ = hookRotQ.forward(rotate(q));
            rotK = hookRotK.forward(rotate(k));
        }
        float[] scores = new float[batch * nHeads * pos * pos];
        CausalAttention.scores(rotQ.data(), rotK.data(), scores, batch, pos, nHeads, dHead, (float) (1 / Math.sqrt(dHead)));
        Tensor scoresT = hookAttnScores.forward(Tensor.of(scores, batch, nHeads, pos, pos));
        float[] pattern = new float[scores.length];
        CausalAttention.pattern(scoresT.data(), pattern, batch, pos, nHeads);
        Tensor patternT = hookPattern.forward(Tensor.of(pattern, batch, nHeads, pos, pos));
        float[] z = new float[n * hd];
        CausalAttention.mix(patternT.data(), v.data(), z, batch, pos, nHeads, dHead);
        Tensor zT = hookZ.forward(Tensor.of(z, batch, pos, nHeads, dHead));

        float[] out = new float[n * dModel];
        if (useAttnResult) {
            float[] result = new float[n * nHeads * dModel];
            for (int h = 0; h < nHeads; h++) {
                Linear.forward(zT.data(), h * dHead, hd, W_O.value().data(), h * dHead * dModel, dModel, null, 0,
                        result, h * dModel, nHeads * dModel, n, dHead, dModel);
            }
            float[] summed = hookResult.forward(Tensor.of(result, batch, pos, nHeads, dModel)).data();
            for (int row = 0; row < n; row++) {
                System.arraycopy(b_O.value().data(), 0, out, row * dModel, dModel);
                for (int h = 0; h < nHeads; h++) Simd.add(summed, (row * nHeads + h) * dModel, out, row * dModel, dModel);
            }
        } else {
            Linear.forward(zT.data(), 0, hd, W_O.value().data(), 0, dModel, b_O.value().data(), 0, out, 0, dModel, n, hd, dModel);
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
        return Tensor.of(out, batch, pos, dModel);
    }

    public Tensor backward(Tensor dOut) {
        int batch = dOut.dim(0), pos = dOut.dim(1), n = batch * pos, hd = nHeads * dHead;
        float[] dout = dOut.data();
        Linear.biasGradient(dout, 0, dModel, b_O.grad().data(), 0, n, dModel);
        float[] dz = new float[n * hd];
        if (useAttnResult) {
            float[] dResult = new float[n * nHeads * dModel];
            for (int row = 0; row < n; row++) {
                for (int h = 0; h < nHeads; h++) System.arraycopy(dout, row * dModel, dResult, (row * nHeads + h) * dModel, dModel);
            }
            float[] dr = hookResult.backward(Tensor.of(dResult, batch, pos, nHeads, dModel)).data();
            for (int h = 0; h < nHeads; h++) {
                Linear.weightGradient(z.data(), h * dHead, hd, dr, h * dModel, nHeads * dModel,
                        W_O.grad().data(), h * dHead * dModel, dModel, n, dHead, dModel);
                Linear.inputGradient(dr, h * dModel, nHeads * dModel, W_O.value().data(), h * dHead * dModel, dModel,
                        dz, h * dHead, hd, n, dHead, dModel, false);
            }
        } else {
            Linear.weightGradient(z.data(), 0, hd, dout, 0, dModel, W_O.grad().data(), 0, dModel, n, hd, dModel);
            Linear.inputGradient(dout, 0, dModel, W_O.value().data(), 0, dModel, dz, 0, hd, n, hd, dModel, false);
        }
        float[] dzHooked = hookZ.backward(Tensor.of(dz, batch, pos, nHeads, dHead)).data();

        float[] dPattern = new float[batch * nHeads * pos * pos], dv = new float[n * hd];
        CausalAttention.mixBackward(dzHooked, pattern.data(), v.data(), dPattern, dv, batch, pos, nHeads, dHead);
        float[] dPatternHooked = hookPattern.backward(Tensor.of(dPattern, batch, nHeads, pos, pos)).data();
        float[] dScores = new float[dPattern.length];
        CausalAttention.patternBackward(pattern.data(), dPatternHooked, dScores, batch, pos, nHeads);
        float[] dScoresHooked = hookAttnScores.backward(Tensor.of(dScores, batch, nHeads, pos, pos)).data();
        float[] dRotQ = new float[n * hd], dRotK = new float[n * hd];
        CausalAttention.scoresBackward(dScoresHooked, rotQ.data(), rotK.data(), dRotQ, dRotK, batch, pos, nHeads, dHead,
                (float) (1 / Math.sqrt(dHead)));
        Tensor dq = Tensor.of(dRotQ, batch, pos, nHeads, dHead), dk = Tensor.of(dRotK, batch, pos, nHeads, dHead);
        if (rotary != null) {
            dq = unrotate(hookRotQ.backward(dq));
            dk = unrotate(hookRotK.backward(dk));
        }
        float[] dQkv = new float[n * 3 * hd];
        Tensor[] grads = {hookQ.backward(dq), hookK.backward(dk), hookV.backward(Tensor.of(dv, batch, pos, nHeads, dHead))};
        Parameter[] weights = {W_Q, W_K, W_V}, biases = {b_Q, b_K, b_V};
        for (int j = 0; j < 3; j++) {
            for (int row = 0; row < n; row++) System.arraycopy(grads[j].data(), row * hd, dQkv, row * 3 * hd + j * hd, hd);
        }
        float[] dW = fused.gradient(dModel * 3 * hd);
        java.util.Arrays.fill(dW, 0, dModel * 3 * hd, 0f);
        Linear.weightGradient(x.data(), 0, dModel, dQkv, 0, 3 * hd, dW, 0, 3 * hd, n, dModel, 3 * hd);
        if (qkPositions != null) {
            // q and k read x + pos: their weights' gradient has a posᵀ·dq, posᵀ·dk part as well.
            Linear.weightGradient(qkPositions.data(), 0, dModel, dQkv, 0, 3 * hd, dW, 0, 3 * hd, n, dModel, 2 * hd);
        }
        Tensor dWQkv = Tensor.of(java.util.Arrays.copyOf(dW, dModel * 3 * hd), dModel, 3 * hd);
        for (int j = 0; j < 3; j++) {
            Simd.add(Layouts.headsFromColumns(dWQkv, j * hd, dHead, nHeads, dHead).data(), 0, weights[j].grad().data(), 0, dModel * hd);
            Linear.biasGradient(dQkv, j * hd, 3 * hd, biases[j].grad().data(), 0, n, hd);
        }
        float[] dx = new float[n * dModel];
        // The shared buffer holds another layer's weights by now: fuse this layer's again.
        Tensor wQkv = fusedQkv(fused.weights(dModel * 3 * hd));
        Linear.inputGradient(dQkv, 0, 3 * hd, wQkv.data(), 0, 3 * hd, dx, 0, dModel, n, dModel, 3 * hd, false);
        if (qkPositions != null) {
            float[] dPos = new float[n * dModel];
            Linear.inputGradient(dQkv, 0, 3 * hd, wQkv.data(), 0, 3 * hd, dPos, 0, dModel, n, dModel, 2 * hd, false);
            positionGradient = Tensor.of(dPos, batch, pos, dModel);
        }
        return Tensor.of(dx, batch, pos, dModel);
    }

    /** After a backward with shortformer positions: dL/dpositions [B, T, D], else null. */
    public Tensor positionGradient() {
        return positionGradient;
    }

    /**
     * W_Q, W_K and W_V side by side as one [D, 3·H·Dh] matrix (GPT-2's c_attn layout), so that q, k
     * and v for every head come from one matmul rather than 3·H thin ones. Built at each use into
     * the model's shared buffer, as the weights may have changed since the last.
     */
    private Tensor fusedQkv(float[] buffer) {
        int hd = nHeads * dHead;
        Tensor fused = Tensor.of(buffer, dModel, 3 * hd);
        Parameter[] weights = {W_Q, W_K, W_V};
        for (int j = 0; j < 3; j++) Layouts.headsToColumns(weights[j].value(), fused, j * hd, dHead);
        return fused;
    }

    private float[] fusedBias() {
        int hd = nHeads * dHead;
        float[] fused = new float[3 * hd];
        System.arraycopy(b_Q.value().data(), 0, fused, 0, hd);
        System.arraycopy(b_K.value().data(), 0, fused, hd, hd);
        System.arraycopy(b_V.value().data(), 0, fused, 2 * hd, hd);
        return fused;
    }

    /** Block j (q, k or v) of the fused projection's output [N, 3·H·Dh], as [B, T, H, Dh]. */
    private Tensor columns(float[] qkv, int j, int batch, int pos) {
        int hd = nHeads * dHead, n = batch * pos;
        float[] out = new float[n * hd];
        for (int row = 0; row < n; row++) System.arraycopy(qkv, row * 3 * hd + j * hd, out, row * hd, hd);
        return Tensor.of(out, batch, pos, nHeads, dHead);
    }

    private Tensor rotate(Tensor t) {
        float[] out = new float[t.size()];
        Rotary.forward(rotary, t.data(), out, t.dim(0), t.dim(1), nHeads, dHead);
        return Tensor.of(out, t.shape());
    }

    private Tensor unrotate(Tensor dRot) {
        float[] out = new float[dRot.size()];
        Rotary.backward(rotary, dRot.data(), out, dRot.dim(0), dRot.dim(1), nHeads, dHead);
        return Tensor.of(out, dRot.shape());
    }

    public void release() {
        x = v = rotQ = rotK = pattern = z = qkPositions = positionGradient = null;
    }
}
