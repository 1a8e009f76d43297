package dev.jlens.engine;

import dev.jlens.kernels.AdamWUpdate;
import dev.jlens.kernels.CausalAttention;
import dev.jlens.kernels.Gelu;
import dev.jlens.kernels.Gemm;
import dev.jlens.kernels.Gemm.Op;
import dev.jlens.kernels.LayerNorm;
import dev.jlens.kernels.Parallel;
import dev.jlens.kernels.Rotary;
import dev.jlens.kernels.Simd;
import dev.jlens.kernels.Softmax;
import dev.jlens.kernels.Solu;

/** The Java Vector API kernels of {@code dev.jlens.kernels}, over host arrays. */
final class CpuBackend implements Backend {
    static final CpuBackend INSTANCE = new CpuBackend();

    private CpuBackend() {}

    @Override
    public Device device() {
        return Device.CPU;
    }

    @Override
    public void synchronize() {}

    @Override
    public Tensor zeros(int... shape) {
        return Tensor.zeros(shape);
    }

    @Override
    public Tensor empty(int... shape) {
        return Tensor.zeros(shape);
    }

    @Override
    public Tensor place(Tensor t) {
        t.data();
        return t;
    }

    @Override
    public Tensor copy(Tensor t) {
        return Tensor.of(t.data().clone(), t.shape());
    }

    @Override
    public void zero(Tensor t) {
        java.util.Arrays.fill(t.data(), 0f);
    }

    @Override
    public Tensor sum(Tensor a, Tensor b) {
        float[] out = a.data().clone();
        Simd.add(b.data(), 0, out, 0, out.length);
        return Tensor.of(out, a.shape());
    }

    @Override
    public void add(Tensor x, int xOff, Tensor y, int yOff, int n) {
        Simd.add(x.data(), xOff, y.data(), yOff, n);
    }

    @Override
    public void gemm(Op opA, Op opB, int m, int n, int k, Tensor a, int aOff, int lda, Tensor b, int bOff, int ldb,
                     Tensor c, int cOff, int ldc, boolean accumulate, Tensor bias, int biasOff) {
        Gemm.gemm(opA, opB, m, n, k, a.data(), aOff, lda, b.data(), bOff, ldb, c.data(), cOff, ldc, accumulate,
                bias == null ? null : bias.data(), biasOff);
    }

    @Override
    public void copyRows(int rows, int width, Tensor src, int srcOff, int ldSrc, Tensor dst, int dstOff, int ldDst, boolean accumulate) {
        float[] s = src.data(), d = dst.data();
        for (int r = 0; r < rows; r++) {
            if (accumulate) Simd.add(s, srcOff + r * ldSrc, d, dstOff + r * ldDst, width);
            else System.arraycopy(s, srcOff + r * ldSrc, d, dstOff + r * ldDst, width);
        }
    }

    @Override
    public void sumRows(Tensor x, int xOff, int ld, int rows, int width, Tensor y, int yOff) {
        float[] xs = x.data(), ys = y.data();
        for (int r = 0; r < rows; r++) Simd.add(xs, xOff + r * ld, ys, yOff, width);
    }

    @Override
    public void reciprocal(Tensor x, Tensor y) {
        float[] xs = x.data(), ys = y.data();
        for (int i = 0; i < xs.length; i++) ys[i] = 1f / xs[i];
    }

    @Override
    public void layerNormStatistics(Tensor x, Tensor mean, Tensor rstd, int rows, int width, float eps) {
        LayerNorm.statistics(x.data(), mean.data(), rstd.data(), rows, width, eps);
    }

    @Override
    public void layerNormNormalize(Tensor x, Tensor y, Tensor w, Tensor b, Tensor mean, Tensor rstd, int rows, int width) {
        LayerNorm.normalize(x.data(), y.data(), host(w), host(b), mean.data(), rstd.data(), rows, width);
    }

    @Override
    public void layerNormBackwardToScale(Tensor dxc, Tensor dw, Tensor db, Tensor dScale, Tensor dy, Tensor x, Tensor w,
                                         Tensor mean, Tensor rstd, int rows, int width) {
        LayerNorm.backwardToScale(dxc.data(), host(dw), host(db), dScale.data(), dy.data(), x.data(), host(w), mean.data(),
                rstd.data(), rows, width);
    }

    @Override
    public void layerNormBackwardFromScale(Tensor dx, Tensor dScale, Tensor x, Tensor mean, Tensor rstd, int rows, int width) {
        LayerNorm.backwardFromScale(dx.data(), dScale.data(), x.data(), mean.data(), rstd.data(), rows, width);
    }

    @Override
    public void gelu(Gelu.Kind kind, Tensor x, Tensor y) {
        Gelu.forward(kind, x.data(), y.data(), x.size());
    }

    @Override
    public void geluBackward(Gelu.Kind kind, Tensor x, Tensor dy, Tensor dx) {
        Gelu.backward(kind, x.data(), dy.data(), dx.data(), x.size());
    }

    @Override
    public void solu(Tensor x, Tensor y, int rows, int width) {
        Solu.forward(x.data(), y.data(), rows, width);
    }

    @Override
    public void soluBackward(Tensor x, Tensor dy, Tensor dx, int rows, int width) {
        Solu.backward(x.data(), dy.data(), dx.data(), rows, width);
    }

    @Override
    public void rotary(Rotary.Table table, Tensor x, Tensor y, int b, int t, int h, int d) {
        Rotary.forward(table, x.data(), y.data(), b, t, h, d);
    }

    @Override
    public void rotaryBackward(Rotary.Table table, Tensor dy, Tensor dx, int b, int t, int h, int d) {
        Rotary.backward(table, dy.data(), dx.data(), b, t, h, d);
    }

    @Override
    public void attentionScores(Tensor q, Tensor k, Tensor scores, int b, int t, int h, int d, float scale) {
        CausalAttention.scores(q.data(), k.data(), scores.data(), b, t, h, d, scale);
    }

    @Override
    public void attentionPattern(Tensor scores, Tensor pattern, int b, int t, int h) {
        CausalAttention.pattern(scores.data(), pattern.data(), b, t, h);
    }

    @Override
    public void attentionMix(Tensor pattern, Tensor v, Tensor z, int b, int t, int h, int d) {
        CausalAttention.mix(pattern.data(), v.data(), z.data(), b, t, h, d);
    }

    @Override
    public void attentionMixBackward(Tensor dz, Tensor pattern, Tensor v, Tensor dpattern, Tensor dv, int b, int t, int h, int d) {
        CausalAttention.mixBackward(dz.data(), pattern.data(), v.data(), dpattern.data(), dv.data(), b, t, h, d);
    }

    @Override
    public void attentionPatternBackward(Tensor pattern, Tensor dpattern, Tensor dscores, int b, int t, int h) {
        CausalAttention.patternBackward(pattern.data(), dpattern.data(), dscores.data(), b, t, h);
    }

    @Override
    public void attentionScoresBackward(Tensor dscores, Tensor q, Tensor k, Tensor dq, Tensor dk, int b, int t, int h, int d, float scale) {
        CausalAttention.scoresBackward(dscores.data(), q.data(), k.data(), dq.data(), dk.data(), b, t, h, d, scale);
    }

    @Override
    public void embed(Tensor table, int[] tokens, Tensor out) {
        float[] w = table.data(), o = out.data();
        int d = table.dim(1);
        for (int i = 0; i < tokens.length; i++) System.arraycopy(w, tokens[i] * d, o, i * d, d);
    }

    @Override
    public void embedBackward(Tensor dOut, int[] tokens, Tensor grad) {
        float[] g = grad.data(), dy = dOut.data();
        int d = grad.dim(1);
        for (int i = 0; i < tokens.length; i++) Simd.add(dy, i * d, g, tokens[i] * d, d);
    }

    @Override
    public double[] crossEntropy(Tensor logits, int[] targets, float scale, Tensor grad) {
        int vocab = logits.dim(-1);
        float[] l = logits.data(), g = grad.data();
        double[] rowLoss = new double[targets.length];
        Parallel.forEach(targets.length, row -> {
            int target = targets[row], at = row * vocab;
            if (target < 0) return;
            Softmax.forward(l, at, g, at, vocab, vocab);
            float p = g[at + target];
            // A probability that underflowed in float still has a finite loss: take it from the logits.
            rowLoss[row] = p > 1e-30f ? -Math.log(p) : Softmax.logSumExp(l, at, vocab) - l[at + target];
            Simd.scale(g, at, scale, vocab);
            g[at + target] -= scale;
        });
        return rowLoss;
    }

    @Override
    public void adamw(Tensor w, Tensor g, Tensor m, Tensor v, AdamWUpdate.Step step) {
        AdamWUpdate.apply(w.data(), g.data(), m.data(), v.data(), step);
    }

    @Override
    public double sumOfSquares(java.util.List<Tensor> tensors) {
        double sum = 0;
        for (Tensor t : tensors) for (float x : t.data()) sum += (double) x * x;
        return sum;
    }

    @Override
    public void scale(Tensor t, float factor) {
        Simd.scale(t.data(), 0, factor, t.size());
    }

    private static float[] host(Tensor t) {
        return t == null ? null : t.data();
    }
}
