package dev.jlens.engine;

import dev.jlens.kernels.AdamWUpdate;
import dev.jlens.kernels.Gelu;
import dev.jlens.kernels.CausalMask;
import dev.jlens.kernels.Rotary;

/**
 * The kernels a model runs, on the CPU or the GPU, over tensors with offsets and leading
 * dimensions (in floats) as the CPU kernels of {@code dev.jlens.kernels} take them; each method has
 * the contract of the CPU kernel it names. Inputs held elsewhere are moved where the backend
 * computes. Methods whose names end in Backward add into their outputs.
 */
public interface Backend {
    /** Where a model whose weights are on {@code device} computes. */
    static Backend of(Device device) {
        return device == Device.CUDA ? CudaBackend.get() : CpuBackend.INSTANCE;
    }

    /** Where {@code t} lives. */
    static Backend of(Tensor t) {
        return t.isOnDevice() ? CudaBackend.get() : CpuBackend.INSTANCE;
    }

    Device device();

    Tensor zeros(int... shape);

    /** A tensor whose values the caller overwrites before reading (on the CPU, zeros). */
    Tensor empty(int... shape);

    /** {@code t} with its values moved here. */
    Tensor place(Tensor t);

    Tensor copy(Tensor t);

    /** Sets every value of t to 0. */
    void zero(Tensor t);

    /** A new a + b. */
    Tensor sum(Tensor a, Tensor b);

    /** y[yOff..+n) += x[xOff..+n). */
    void add(Tensor x, int xOff, Tensor y, int yOff, int n);

    /** c = a·b, plus {@code bias[0..n)} in every row when bias is not null: a [m×k], b [k×n], c [m×n], c not transposed. */
    void matmul(Matrix a, Matrix b, Tensor bias, Matrix c);

    /** c += a·b, shapes as {@link #matmul}. */
    void matmulAdd(Matrix a, Matrix b, Matrix c);

    /**
     * c[:, h·n .. (h + 1)·n) += a·w[h] for each of the w.dim(0) matrices of w [count, k, n] (attention's
     * per-head weights): a [m×k], c [m × count·n].
     */
    default void matmulAddEach(Matrix a, Tensor w, Matrix c) {
        int count = w.dim(0), k = w.dim(1), n = w.dim(2);
        for (int h = 0; h < count; h++) {
            matmulAdd(a, Matrix.of(w, h * k * n, k, n, n), Matrix.of(c.data(), c.offset() + h * n, c.rows(), n, c.ld()));
        }
    }

    /**
     * Whether a product with this many rows of activations streams its weights as they are stored
     * (while {@link Decoding}), so that one product per head reads no more than one product of the
     * heads side by side would, and making that side-by-side copy first would only add to what is read.
     */
    default boolean streamsWeights(int rows) {
        return false;
    }

    /** y[i] = Σ_j a[i, j]·x[j] for each row i of a (not transposed): logit attributions and other projections onto one direction. */
    void matvec(Matrix a, Tensor x, Tensor y);

    /** dst = src, for two views of one shape (a view with ld 0 repeats its row). */
    void copyRows(Matrix src, Matrix dst);

    /** dst += src, for two views of one shape. */
    void addRows(Matrix src, Matrix dst);

    /** y[0..cols) += Σ over the rows of x (a bias gradient). */
    void sumRows(Matrix x, Tensor y);

    /** y = 1/x elementwise. */
    void reciprocal(Tensor x, Tensor y);

    void layerNormStatistics(Tensor x, Tensor mean, Tensor rstd, int rows, int width, float eps);

    /** w and b may be null. */
    void layerNormNormalize(Tensor x, Tensor y, Tensor w, Tensor b, Tensor mean, Tensor rstd, int rows, int width);

    /** Writes dx_c and dScale; dw and db (null when w and b are) accumulate. */
    void layerNormBackwardToScale(Tensor dxc, Tensor dw, Tensor db, Tensor dScale, Tensor dy, Tensor x, Tensor w,
                                  Tensor mean, Tensor rstd, int rows, int width);

    void layerNormBackwardFromScale(Tensor dx, Tensor dScale, Tensor x, Tensor mean, Tensor rstd, int rows, int width);

    /** rstd = 1/√(mean(x²) + eps) of each row; an RMS norm then normalises with the layer norm's calls and a zero mean. */
    void rmsNormStatistics(Tensor x, Tensor rstd, int rows, int width, float eps);

    /** The RMS norm's last backward step: dx += dScale·x·rstd/width (x has no mean subtracted). */
    void rmsNormBackwardFromScale(Tensor dx, Tensor dScale, Tensor x, Tensor rstd, int rows, int width);

    /** out = a ⊙ b elementwise, all of one size. */
    void multiply(Tensor a, Tensor b, Tensor out);

    /** y[r, j] = x[r, j]·w[j]: each row scaled by one vector (an RMS norm's weight). */
    void multiplyRows(Tensor x, Tensor w, Tensor y, int rows, int width);

    void gelu(Gelu.Kind kind, Tensor x, Tensor y);

    void geluBackward(Gelu.Kind kind, Tensor x, Tensor dy, Tensor dx);

    /** y = x·σ(x). */
    void silu(Tensor x, Tensor y);

    /** dx += silu'(x)·dy. */
    void siluBackward(Tensor x, Tensor dy, Tensor dx);

    /** y = cap·tanh(x / cap), with −∞ kept (Gemma 2's soft cap of scores and logits); y may be x. */
    void softCap(Tensor x, Tensor y, float cap);

    /** dx = (1 − (y / cap)²)·dy from the soft cap's output y; dx may be dy. */
    void softCapBackward(Tensor y, Tensor dy, Tensor dx, float cap);

    void solu(Tensor x, Tensor y, int rows, int width);

    void soluBackward(Tensor x, Tensor dy, Tensor dx, int rows, int width);

    /** @param positions null (row (b, t) turns by position t), or each row's position [b·t] */
    void rotary(Rotary.Table table, Tensor x, Tensor y, int[] positions, int b, int t, int h, int d);

    void rotaryBackward(Rotary.Table table, Tensor dy, Tensor dx, int[] positions, int b, int t, int h, int d);

    // Attention, in the steps of CausalAttention: q, z [b, queries, h, d]; k, v [b, keys, h, d];
    // scores, pattern [b, h, queries, keys]; the mask says which keys each query sees.

    /** scores = q·kᵀ·scale where the mask shows the key, −∞ elsewhere. */
    void attentionScores(Tensor q, Tensor k, Tensor scores, CausalMask mask, int d, float scale);

    /** Row softmax over the keys each query sees; a row that sees none is 0. */
    void attentionPattern(Tensor scores, Tensor pattern, CausalMask mask);

    void attentionMix(Tensor pattern, Tensor v, Tensor z, CausalMask mask, int d);

    void attentionMixBackward(Tensor dz, Tensor pattern, Tensor v, Tensor dpattern, Tensor dv, CausalMask mask, int d);

    void attentionPatternBackward(Tensor pattern, Tensor dpattern, Tensor dscores, CausalMask mask);

    void attentionScoresBackward(Tensor dscores, Tensor q, Tensor k, Tensor dq, Tensor dk, CausalMask mask, int d, float scale);

    /** out[i] = table[tokens[i]] for rows of width d. */
    void embed(Tensor table, int[] tokens, Tensor out);

    /** grad[tokens[i]] += dOut[i]. */
    void embedBackward(Tensor dOut, int[] tokens, Tensor grad);

    /**
     * Softmax cross-entropy of each row of logits [rows, vocab] against {@code targets[row]} (−1: a
     * row that predicts nothing): writes grad = (softmax − onehot)·scale (0 on rows predicting
     * nothing) and returns each row's loss −log softmax[target], in double.
     */
    double[] crossEntropy(Tensor logits, int[] targets, float scale, Tensor grad);

    /** One AdamW update of w from g, with its moments m and v. */
    void adamw(Tensor w, Tensor g, Tensor m, Tensor v, AdamWUpdate.Step step);

    /** Σ t² over every tensor, accumulated in double (on the CPU one value at a time, in order). */
    double sumOfSquares(java.util.List<Tensor> tensors);

    /** t ·= factor. */
    void scale(Tensor t, float factor);

    /** Waits until everything issued so far has finished (for timing; reading a result waits anyway). */
    void synchronize();
}
