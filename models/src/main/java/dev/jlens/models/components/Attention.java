package dev.jlens.models.components;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;
import dev.jlens.engine.hooks.HookPoints;
import dev.jlens.kernels.CausalAttention;
import dev.jlens.kernels.Rotary;
import dev.jlens.kernels.Simd;

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

    // saved for backward: what each step consumed
    private Tensor x, v, rotQ, rotK, pattern, z;

    public Attention(HookPoints hooks, String prefix, Parameter[] qkv, Parameter[] qkvBias, Parameter wO, Parameter bO,
                     Rotary.Table rotary, boolean useAttnResult) {
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
        int batch = x.dim(0), pos = x.dim(1), n = batch * pos, hd = nHeads * dHead;
        Tensor q = hookQ.forward(project(x, W_Q, b_Q));
        Tensor k = hookK.forward(project(x, W_K, b_K));
        Tensor v = hookV.forward(project(x, W_V, b_V));
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
        float[] dx = new float[n * dModel];
        projectBackward(hookQ.backward(dq), W_Q, b_Q, dx, n);
        projectBackward(hookK.backward(dk), W_K, b_K, dx, n);
        projectBackward(hookV.backward(Tensor.of(dv, batch, pos, nHeads, dHead)), W_V, b_V, dx, n);
        return Tensor.of(dx, batch, pos, dModel);
    }

    /** x [B, T, D] → x·W[h] + b[h] for every head, [B, T, H, Dh]. */
    private Tensor project(Tensor x, Parameter w, Parameter b) {
        int n = x.dim(0) * x.dim(1), hd = nHeads * dHead;
        float[] out = new float[n * hd];
        for (int h = 0; h < nHeads; h++) {
            Linear.forward(x.data(), 0, dModel, w.value().data(), h * dModel * dHead, dHead, b.value().data(), h * dHead,
                    out, h * dHead, hd, n, dModel, dHead);
        }
        return Tensor.of(out, x.dim(0), x.dim(1), nHeads, dHead);
    }

    /** dW[h] += xᵀ·dproj[h], db[h] += Σ dproj[h], dx += dproj[h]·W[h]ᵀ. */
    private void projectBackward(Tensor dProj, Parameter w, Parameter b, float[] dx, int n) {
        int hd = nHeads * dHead;
        float[] d = dProj.data();
        for (int h = 0; h < nHeads; h++) {
            Linear.biasGradient(d, h * dHead, hd, b.grad().data(), h * dHead, n, dHead);
            Linear.weightGradient(x.data(), 0, dModel, d, h * dHead, hd, w.grad().data(), h * dModel * dHead, dHead, n, dModel, dHead);
            Linear.inputGradient(d, h * dHead, hd, w.value().data(), h * dModel * dHead, dHead, dx, 0, dModel, n, dModel, dHead, true);
        }
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
        x = v = rotQ = rotK = pattern = z = null;
    }
}
