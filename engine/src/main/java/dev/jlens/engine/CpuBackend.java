package dev.jlens.engine;

import dev.jlens.kernels.AdamWUpdate;
import dev.jlens.kernels.CausalAttention;
import dev.jlens.kernels.CausalMask;
import dev.jlens.kernels.Gelu;
import dev.jlens.kernels.Gemm.Op;
import dev.jlens.kernels.Gemm;
import dev.jlens.kernels.GemmHalf;
import dev.jlens.kernels.Gemv;
import dev.jlens.kernels.LayerNorm;
import dev.jlens.kernels.Parallel;
import dev.jlens.kernels.RmsNorm;
import dev.jlens.kernels.Rotary;
import dev.jlens.kernels.Silu;
import dev.jlens.kernels.Simd;
import dev.jlens.kernels.Softmax;
import dev.jlens.kernels.SoftCap;
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
        if (t.isOnDevice()) t.data();
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
    public void matmul(Matrix a, Matrix b, Tensor bias, Matrix c) {
        gemm(a, b, c, false, bias);
    }

    @Override
    public void matmulAdd(Matrix a, Matrix b, Matrix c) {
        gemm(a, b, c, true, null);
    }

    @Override
    public void matmulAddEach(Matrix a, Tensor w, Matrix c) {
        int count = w.dim(0), k = w.dim(1), n = w.dim(2);
        if (!streamsWeights(a.rows()) || a.transposed() || a.cols() != k || c.cols() != count * n || c.rows() != a.rows()) {
            Backend.super.matmulAddEach(a, w, c);
            return;
        }
        if (w.dtype().isHalf()) {
            Gemv.addEach(count, a.rows(), n, k, a.data().data(), a.offset(), a.ld(), w.dtype().half(), w.segment(), 0, c.data().data(), c.offset(), c.ld());
        } else {
            Gemv.addEach(count, a.rows(), n, k, a.data().data(), a.offset(), a.ld(), w.data(), 0, c.data().data(), c.offset(), c.ld());
        }
    }

    @Override
    public boolean streamsWeights(int rows) {
        return rows <= Gemv.ROWS && Decoding.active();
    }

    private static void gemm(Matrix a, Matrix b, Matrix c, boolean accumulate, Tensor bias) {
        Matrix.checkProduct(a, b, c);
        Tensor weights = b.data();
        if (!weights.dtype().isHalf() && !a.transposed() && Decoding.active() && c.rows() <= Gemv.ROWS) {
            Gemv.gemv(op(b), c.rows(), c.cols(), a.cols(), a.data().data(), a.offset(), a.ld(), weights.data(), b.offset(), b.ld(),
                    c.data().data(), c.offset(), c.ld(), accumulate, host(bias), 0);
            return;
        }
        if (weights.dtype().isHalf() && !a.transposed()) {
            GemmHalf.gemm(op(b), c.rows(), c.cols(), a.cols(), a.data().data(), a.offset(), a.ld(), weights.dtype().half(),
                    weights.segment(), b.offset(), b.ld(), c.data().data(), c.offset(), c.ld(), accumulate, host(bias), 0);
            return;
        }
        Gemm.gemm(op(a), op(b), c.rows(), c.cols(), a.cols(), a.data().data(), a.offset(), a.ld(), b.data().data(), b.offset(), b.ld(),
                c.data().data(), c.offset(), c.ld(), accumulate, host(bias), 0);
    }

    private static Op op(Matrix m) {
        return m.transposed() ? Op.T : Op.N;
    }

    @Override
    public void matvec(Matrix a, Tensor x, Tensor y) {
        if (a.transposed() || x.size() < a.cols() || y.size() < a.rows()) {
            throw new IllegalArgumentException("matvec takes a row-major matrix, a vector of its columns and one of its rows");
        }
        Tensor matrix = a.data();
        if (matrix.dtype().isHalf()) {
            // y = x·Aᵀ: the 16-bit product streams each row of A once.
            GemmHalf.gemm(Op.T, 1, a.rows(), a.cols(), x.data(), 0, a.cols(), matrix.dtype().half(), matrix.segment(), a.offset(), a.ld(),
                    y.data(), 0, a.rows(), false, null, 0);
            return;
        }
        float[] m = matrix.data(), v = x.data(), out = y.data();
        for (int i = 0; i < a.rows(); i++) out[i] = Simd.dot(m, a.index(i, 0), v, 0, a.cols());
    }

    @Override
    public void copyRows(Matrix src, Matrix dst) {
        Matrix.checkSameShape(src, dst);
        Tensor from = rowMajor(src).data();
        float[] d = dst.data().data();
        if (from.dtype().isHalf()) {
            for (int r = 0; r < dst.rows(); r++) from.dtype().half().widen(from.segment(), src.index(r, 0), d, dst.index(r, 0), dst.cols());
            return;
        }
        float[] s = from.data();
        for (int r = 0; r < dst.rows(); r++) System.arraycopy(s, src.index(r, 0), d, dst.index(r, 0), dst.cols());
    }

    @Override
    public void addRows(Matrix src, Matrix dst) {
        Matrix.checkSameShape(src, dst);
        float[] s = rowMajor(src).data().data(), d = dst.data().data();
        for (int r = 0; r < dst.rows(); r++) Simd.add(s, src.index(r, 0), d, dst.index(r, 0), dst.cols());
    }

    @Override
    public void sumRows(Matrix x, Tensor y) {
        float[] xs = rowMajor(x).data().data(), ys = y.data();
        for (int r = 0; r < x.rows(); r++) Simd.add(xs, x.index(r, 0), ys, 0, x.cols());
    }

    /** Row operations read rows contiguously: a transposed view is refused. */
    private static Matrix rowMajor(Matrix m) {
        if (m.transposed()) throw new IllegalArgumentException("row operations take views read as stored, not transposed ones");
        return m;
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
    public void rmsNormStatistics(Tensor x, Tensor rstd, int rows, int width, float eps) {
        RmsNorm.statistics(x.data(), rstd.data(), rows, width, eps);
    }

    @Override
    public void rmsNormBackwardFromScale(Tensor dx, Tensor dScale, Tensor x, Tensor rstd, int rows, int width) {
        RmsNorm.backwardFromScale(dx.data(), dScale.data(), x.data(), rstd.data(), rows, width);
    }

    @Override
    public void multiply(Tensor a, Tensor b, Tensor out) {
        Simd.mul(a.data(), 0, b.data(), 0, out.data(), 0, a.size());
    }

    @Override
    public void multiplyRows(Tensor x, Tensor w, Tensor y, int rows, int width) {
        float[] xs = x.data(), ws = w.data(), ys = y.data();
        for (int r = 0; r < rows; r++) Simd.mul(xs, r * width, ws, 0, ys, r * width, width);
    }

    @Override
    public void silu(Tensor x, Tensor y) {
        Silu.forward(x.data(), y.data(), x.size());
    }

    @Override
    public void siluBackward(Tensor x, Tensor dy, Tensor dx) {
        Silu.backward(x.data(), dy.data(), dx.data(), x.size());
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
    public void softCap(Tensor x, Tensor y, float cap) {
        SoftCap.forward(x.data(), y.data(), x.size(), cap);
    }

    @Override
    public void softCapBackward(Tensor y, Tensor dy, Tensor dx, float cap) {
        SoftCap.backward(y.data(), dy.data(), dx.data(), y.size(), cap);
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
    public void rotary(Rotary.Table table, Tensor x, Tensor y, int[] positions, int b, int t, int h, int d) {
        Rotary.forward(table, x.data(), y.data(), positions, b, t, h, d);
    }

    @Override
    public void rotaryBackward(Rotary.Table table, Tensor dy, Tensor dx, int[] positions, int b, int t, int h, int d) {
        Rotary.backward(table, dy.data(), dx.data(), positions, b, t, h, d);
    }

    @Override
    public void attentionScores(Tensor q, Tensor k, Tensor scores, CausalMask mask, int d, float scale) {
        CausalAttention.scores(q.data(), k.data(), scores.data(), mask, d, scale);
    }

    @Override
    public void attentionPattern(Tensor scores, Tensor pattern, CausalMask mask) {
        CausalAttention.pattern(scores.data(), pattern.data(), mask);
    }

    @Override
    public void attentionMix(Tensor pattern, Tensor v, Tensor z, CausalMask mask, int d) {
        CausalAttention.mix(pattern.data(), v.data(), z.data(), mask, d);
    }

    @Override
    public void attentionMixBackward(Tensor dz, Tensor pattern, Tensor v, Tensor dpattern, Tensor dv, CausalMask mask, int d) {
        CausalAttention.mixBackward(dz.data(), pattern.data(), v.data(), dpattern.data(), dv.data(), mask, d);
    }

    @Override
    public void attentionPatternBackward(Tensor pattern, Tensor dpattern, Tensor dscores, CausalMask mask) {
        CausalAttention.patternBackward(pattern.data(), dpattern.data(), dscores.data(), mask);
    }

    @Override
    public void attentionScoresBackward(Tensor dscores, Tensor q, Tensor k, Tensor dq, Tensor dk, CausalMask mask, int d, float scale) {
        CausalAttention.scoresBackward(dscores.data(), q.data(), k.data(), dq.data(), dk.data(), mask, d, scale);
    }

    @Override
    public void embed(Tensor table, int[] tokens, Tensor out) {
        float[] o = out.data();
        int d = table.dim(1);
        if (table.dtype().isHalf()) {
            for (int i = 0; i < tokens.length; i++) table.dtype().half().widen(table.segment(), (long) tokens[i] * d, o, i * d, d);
            return;
        }
        float[] w = table.data();
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
