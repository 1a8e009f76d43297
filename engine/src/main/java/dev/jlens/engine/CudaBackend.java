package dev.jlens.engine;

import dev.jlens.kernels.AdamWUpdate;
import dev.jlens.kernels.Gelu;
import dev.jlens.kernels.CausalMask;
import dev.jlens.kernels.Rotary;
import dev.jlens.kernels.cuda.Cublas;
import dev.jlens.kernels.cuda.Cuda;
import dev.jlens.kernels.cuda.CudaException;
import dev.jlens.kernels.cuda.DeviceBuffer;
import dev.jlens.kernels.cuda.Kernels;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The GPU: matrix products through cuBLAS, everything else through jlens's CUDA kernels
 * ({@code kernels.cu}). Attention keeps TransformerLens's explicit [B, H, T, T] scores and pattern
 * (hook points read them), computed per sequence as strided batches over the heads.
 */
final class CudaBackend implements Backend {
    private static CudaBackend instance;

    private final Cuda cuda;
    private final Kernels kernels;
    private final Cublas cublas;
    private final Map<Rotary.Table, DeviceBuffer[]> rotaryTables = new WeakHashMap<>();
    private DeviceBuffer ones;

    private CudaBackend(Cuda cuda) {
        this.cuda = cuda;
        this.kernels = cuda.kernels();
        this.cublas = cuda.cublas();
    }

    /** The GPU backend; a JlensException saying why when there is no usable GPU. */
    static synchronized CudaBackend get() {
        if (instance == null) {
            try {
                instance = new CudaBackend(Cuda.get());
            } catch (CudaException e) {
                throw new JlensException("--device cuda: " + e.getMessage() + ".");
            }
        }
        return instance;
    }

    @Override
    public Device device() {
        return Device.CUDA;
    }

    @Override
    public void synchronize() {
        cuda.synchronize();
    }

    @Override
    public Tensor zeros(int... shape) {
        Tensor t = empty(shape);
        zero(t);
        return t;
    }

    @Override
    public Tensor empty(int... shape) {
        return Tensor.onDevice(cuda.allocate(Math.max(1, Tensor.checkedSize(shape))), shape);
    }

    @Override
    public Tensor place(Tensor t) {
        t.deviceBuffer();
        return t;
    }

    @Override
    public Tensor copy(Tensor t) {
        Tensor out = empty(t.shape());
        cuda.copy(at(t, 0), at(out, 0), t.size());
        return out;
    }

    @Override
    public void zero(Tensor t) {
        cuda.fill(at(t, 0), t.size(), 0f);
    }

    @Override
    public Tensor sum(Tensor a, Tensor b) {
        Tensor out = empty(a.shape());
        kernels.elementwise("sum_of", a.size(), at(a, 0), at(b, 0), at(out, 0), (long) a.size());
        return out;
    }

    @Override
    public void add(Tensor x, int xOff, Tensor y, int yOff, int n) {
        kernels.elementwise("add_to", n, at(x, xOff), at(y, yOff), (long) n);
    }

    @Override
    public void matmul(Matrix a, Matrix b, Tensor bias, Matrix c) {
        Matrix.checkProduct(a, b, c);
        if (c.rows() == 0 || c.cols() == 0) return;
        if (bias != null) copyRows(new Matrix(bias, 0, c.rows(), c.cols(), 0, false), c);
        gemm(a, b, c, bias != null);
    }

    @Override
    public void matmulAdd(Matrix a, Matrix b, Matrix c) {
        Matrix.checkProduct(a, b, c);
        if (c.rows() == 0 || c.cols() == 0) return;
        gemm(a, b, c, true);
    }

    /** c (+)= a·b through cuBLAS, whose row-major calls the wrapper translates. */
    private void gemm(Matrix a, Matrix b, Matrix c, boolean keepC) {
        int m = c.rows(), n = c.cols(), k = a.cols();
        if (k == 0) {
            if (!keepC) for (int r = 0; r < m; r++) cuda.fill(at(c.data(), c.offset() + r * c.ld()), n, 0f);
            return;
        }
        cublas.gemm(a.transposed(), b.transposed(), m, n, k, 1f, at(a.data(), a.offset()), a.ld(), 0, at(b.data(), b.offset()), b.ld(), 0,
                keepC ? 1f : 0f, at(c.data(), c.offset()), c.ld(), 0, 1);
    }

    @Override
    public void matvec(Matrix a, Tensor x, Tensor y) {
        if (a.transposed() || x.size() < a.cols() || y.size() < a.rows()) {
            throw new IllegalArgumentException("matvec takes a row-major matrix, a vector of its columns and one of its rows");
        }
        gemm(a, new Matrix(x, 0, a.cols(), 1, 1, false), new Matrix(y, 0, a.rows(), 1, 1, false), false);
    }

    @Override
    public void copyRows(Matrix src, Matrix dst) {
        rows(src, dst, false);
    }

    @Override
    public void addRows(Matrix src, Matrix dst) {
        rows(src, dst, true);
    }

    private void rows(Matrix src, Matrix dst, boolean accumulate) {
        Matrix.checkSameShape(src, dst);
        if (src.transposed()) throw new IllegalArgumentException("row operations take views read as stored, not transposed ones");
        kernels.elementwise("copy_rows", (long) dst.rows() * dst.cols(), at(src.data(), src.offset()), (long) src.ld(),
                at(dst.data(), dst.offset()), (long) dst.ld(), dst.rows(), dst.cols(), accumulate ? 1 : 0);
    }

    @Override
    public void sumRows(Matrix x, Tensor y) {
        if (x.transposed()) throw new IllegalArgumentException("row operations take views read as stored, not transposed ones");
        cublas.sumRows(at(x.data(), x.offset()), x.rows(), x.cols(), x.ld(), ones(x.rows()), at(y, 0));
    }

    /** A vector of at least n ones on the GPU: Σ over rows as a matrix-vector product. */
    private long ones(int n) {
        if (ones == null || ones.floats() < n) {
            ones = cuda.allocate(Math.max(n, 1 << 16));
            cuda.fill(ones.address(), ones.floats(), 1f);
        }
        return ones.address();
    }

    @Override
    public void reciprocal(Tensor x, Tensor y) {
        kernels.elementwise("reciprocal", x.size(), at(x, 0), at(y, 0), (long) x.size());
    }

    @Override
    public void layerNormStatistics(Tensor x, Tensor mean, Tensor rstd, int rows, int width, float eps) {
        kernels.perRow("layer_norm_statistics", rows, at(x, 0), at(mean, 0), at(rstd, 0), width, eps);
    }

    @Override
    public void layerNormNormalize(Tensor x, Tensor y, Tensor w, Tensor b, Tensor mean, Tensor rstd, int rows, int width) {
        kernels.elementwise("layer_norm_normalize", (long) rows * width, at(x, 0), at(y, 0), orNull(w), orNull(b),
                at(mean, 0), at(rstd, 0), rows, width);
    }

    @Override
    public void layerNormBackwardToScale(Tensor dxc, Tensor dw, Tensor db, Tensor dScale, Tensor dy, Tensor x, Tensor w,
                                         Tensor mean, Tensor rstd, int rows, int width) {
        kernels.perRow("layer_norm_backward_to_scale", rows, at(dxc, 0), at(dScale, 0), at(dy, 0), at(x, 0), orNull(w),
                at(mean, 0), at(rstd, 0), width);
        if (dw == null && db == null) return;
        int rowsPerBlock = 64;
        kernels.launch("layer_norm_parameter_gradients", (width + Kernels.THREADS - 1) / Kernels.THREADS,
                (rows + rowsPerBlock - 1) / rowsPerBlock, orNull(dw), orNull(db), at(dy, 0), at(x, 0), at(mean, 0), at(rstd, 0),
                rows, width, rowsPerBlock);
    }

    @Override
    public void layerNormBackwardFromScale(Tensor dx, Tensor dScale, Tensor x, Tensor mean, Tensor rstd, int rows, int width) {
        kernels.perRow("layer_norm_backward_from_scale", rows, at(dx, 0), at(dScale, 0), at(x, 0), at(mean, 0), at(rstd, 0), width);
    }

    @Override
    public void rmsNormStatistics(Tensor x, Tensor rstd, int rows, int width, float eps) {
        kernels.perRow("rms_norm_statistics", rows, at(x, 0), at(rstd, 0), width, eps);
    }

    @Override
    public void rmsNormBackwardFromScale(Tensor dx, Tensor dScale, Tensor x, Tensor rstd, int rows, int width) {
        kernels.elementwise("rms_norm_backward_from_scale", (long) rows * width, at(dx, 0), at(dScale, 0), at(x, 0), at(rstd, 0), rows, width);
    }

    @Override
    public void multiply(Tensor a, Tensor b, Tensor out) {
        kernels.elementwise("multiply", a.size(), at(a, 0), at(b, 0), at(out, 0), (long) a.size());
    }

    @Override
    public void multiplyRows(Tensor x, Tensor w, Tensor y, int rows, int width) {
        kernels.elementwise("multiply_rows", (long) rows * width, at(x, 0), at(w, 0), at(y, 0), rows, width);
    }

    @Override
    public void silu(Tensor x, Tensor y) {
        kernels.elementwise("silu", x.size(), at(x, 0), at(y, 0), (long) x.size());
    }

    @Override
    public void siluBackward(Tensor x, Tensor dy, Tensor dx) {
        kernels.elementwise("silu_backward", x.size(), at(x, 0), at(dy, 0), at(dx, 0), (long) x.size());
    }

    @Override
    public void gelu(Gelu.Kind kind, Tensor x, Tensor y) {
        kernels.elementwise(kind == Gelu.Kind.TANH ? "gelu_tanh" : "gelu_erf", x.size(), at(x, 0), at(y, 0), (long) x.size());
    }

    @Override
    public void geluBackward(Gelu.Kind kind, Tensor x, Tensor dy, Tensor dx) {
        kernels.elementwise(kind == Gelu.Kind.TANH ? "gelu_tanh_backward" : "gelu_erf_backward", x.size(),
                at(x, 0), at(dy, 0), at(dx, 0), (long) x.size());
    }

    @Override
    public void softCap(Tensor x, Tensor y, float cap) {
        kernels.elementwise("soft_cap", x.size(), at(x, 0), at(y, 0), cap, (long) x.size());
    }

    @Override
    public void softCapBackward(Tensor y, Tensor dy, Tensor dx, float cap) {
        kernels.elementwise("soft_cap_backward", y.size(), at(y, 0), at(dy, 0), at(dx, 0), cap, (long) y.size());
    }

    @Override
    public void solu(Tensor x, Tensor y, int rows, int width) {
        kernels.perRow("solu", rows, at(x, 0), at(y, 0), width);
    }

    @Override
    public void soluBackward(Tensor x, Tensor dy, Tensor dx, int rows, int width) {
        kernels.perRow("solu_backward", rows, at(x, 0), at(dy, 0), at(dx, 0), width);
    }

    @Override
    public void rotary(Rotary.Table table, Tensor x, Tensor y, int[] positions, int b, int t, int h, int d) {
        requireSequencePositions(positions);
        rotate(table, x, y, b, t, h, d, 1f, false);
    }

    @Override
    public void rotaryBackward(Rotary.Table table, Tensor dy, Tensor dx, int[] positions, int b, int t, int h, int d) {
        requireSequencePositions(positions);
        rotate(table, dy, dx, b, t, h, d, -1f, true);
    }

    /** The kernels here turn row (b, t) by position t: left padding and a KV cache need the CPU for now. */
    private static void requireSequencePositions(int[] positions) {
        if (positions != null) throw new JlensException(UNSUPPORTED);
    }

    private static final String UNSUPPORTED = "left-padded batches and generation with a KV cache run on the CPU only for now; "
            + "run without --device cuda.";

    /** The square masks this backend's kernels compute: the future, and a sliding window. */
    private static CausalMask square(CausalMask mask) {
        if (!mask.square()) throw new JlensException(UNSUPPORTED);
        return mask;
    }

    private void rotate(Rotary.Table table, Tensor in, Tensor out, int b, int t, int h, int d, float direction, boolean accumulate) {
        DeviceBuffer[] cosSin = rotaryTables.computeIfAbsent(table, tb -> new DeviceBuffer[] {cuda.upload(tb.cos()), cuda.upload(tb.sin())});
        int half = table.rotaryDim() / 2;
        long bt = (long) b * t;
        kernels.elementwise("rotary", bt * h * half, cosSin[0].address(), cosSin[1].address(), at(in, 0), at(out, 0),
                t, h, d, half, bt, direction, accumulate ? 1 : 0);
        if (table.rotaryDim() < d) {
            kernels.elementwise("rotary_pass", bt * h * (d - table.rotaryDim()), at(in, 0), at(out, 0), d, table.rotaryDim(),
                    bt * h, accumulate ? 1 : 0);
        }
    }

    // Attention: for each sequence, one strided batch over heads. A head's q, k, v, z start d floats
    // after the previous head's (rows h·d apart); its scores and pattern t·t after.

    @Override
    public void attentionScores(Tensor q, Tensor k, Tensor scores, CausalMask mask, int d, float scale) {
        int b = square(mask).batch(), t = mask.keys(), h = mask.heads();
        for (int s = 0; s < b; s++) {
            cublas.gemm(false, true, t, t, d, scale, at(q, s * t * h * d), h * d, d, at(k, s * t * h * d), h * d, d,
                    0f, at(scores, s * h * t * t), t, (long) t * t, h);
        }
        kernels.elementwise("mask_future", (long) b * h * t * t, at(scores, 0), t, (long) b * h);
        if (mask.window() > 0 && t > mask.window()) {
            kernels.elementwise("mask_outside_window", (long) b * h * t * t, at(scores, 0), t, mask.window(), (long) b * h);
        }
    }

    @Override
    public void attentionPattern(Tensor scores, Tensor pattern, CausalMask mask) {
        kernels.perRow("causal_softmax", (long) square(mask).rows(), at(scores, 0), at(pattern, 0), mask.keys());
    }

    @Override
    public void attentionMix(Tensor pattern, Tensor v, Tensor z, CausalMask mask, int d) {
        int b = square(mask).batch(), t = mask.keys(), h = mask.heads();
        for (int s = 0; s < b; s++) {
            cublas.gemm(false, false, t, d, t, 1f, at(pattern, s * h * t * t), t, (long) t * t, at(v, s * t * h * d), h * d, d,
                    0f, at(z, s * t * h * d), h * d, d, h);
        }
    }

    @Override
    public void attentionMixBackward(Tensor dz, Tensor pattern, Tensor v, Tensor dpattern, Tensor dv, CausalMask mask, int d) {
        int b = square(mask).batch(), t = mask.keys(), h = mask.heads();
        for (int s = 0; s < b; s++) {
            int qkv = s * t * h * d, tt = s * h * t * t;
            cublas.gemm(false, true, t, t, d, 1f, at(dz, qkv), h * d, d, at(v, qkv), h * d, d, 1f, at(dpattern, tt), t, (long) t * t, h);
            cublas.gemm(true, false, t, d, t, 1f, at(pattern, tt), t, (long) t * t, at(dz, qkv), h * d, d, 1f, at(dv, qkv), h * d, d, h);
        }
    }

    @Override
    public void attentionPatternBackward(Tensor pattern, Tensor dpattern, Tensor dscores, CausalMask mask) {
        kernels.perRow("causal_softmax_backward", (long) square(mask).rows(), at(pattern, 0), at(dpattern, 0), at(dscores, 0), mask.keys());
    }

    @Override
    public void attentionScoresBackward(Tensor dscores, Tensor q, Tensor k, Tensor dq, Tensor dk, CausalMask mask, int d, float scale) {
        int b = square(mask).batch(), t = mask.keys(), h = mask.heads();
        for (int s = 0; s < b; s++) {
            int qkv = s * t * h * d, tt = s * h * t * t;
            cublas.gemm(false, false, t, d, t, scale, at(dscores, tt), t, (long) t * t, at(k, qkv), h * d, d, 1f, at(dq, qkv), h * d, d, h);
            cublas.gemm(true, false, t, d, t, scale, at(dscores, tt), t, (long) t * t, at(q, qkv), h * d, d, 1f, at(dk, qkv), h * d, d, h);
        }
    }

    @Override
    public void embed(Tensor table, int[] tokens, Tensor out) {
        DeviceBuffer ids = cuda.upload(tokens);
        int d = table.dim(1);
        kernels.elementwise("embed", (long) tokens.length * d, at(table, 0), ids.address(), at(out, 0), tokens.length, d);
    }

    @Override
    public void embedBackward(Tensor dOut, int[] tokens, Tensor grad) {
        DeviceBuffer ids = cuda.upload(tokens);
        int d = grad.dim(1);
        kernels.elementwise("embed_backward", (long) tokens.length * d, at(dOut, 0), ids.address(), at(grad, 0), tokens.length, d);
    }

    @Override
    public double[] crossEntropy(Tensor logits, int[] targets, float scale, Tensor grad) {
        DeviceBuffer ids = cuda.upload(targets), losses = cuda.allocate(2L * targets.length);
        kernels.perRow("cross_entropy", targets.length, at(logits, 0), ids.address(), at(grad, 0), losses.address(),
                logits.dim(-1), scale);
        double[] rowLoss = new double[targets.length];
        cuda.download(losses.address(), rowLoss);
        return rowLoss;
    }

    @Override
    public void adamw(Tensor w, Tensor g, Tensor m, Tensor v, AdamWUpdate.Step s) {
        kernels.elementwise("adamw", w.size(), at(w, 0), at(g, 0), at(m, 0), at(v, 0), (long) w.size(),
                s.beta1(), s.beta2(), 1 / s.c1(), 1 / s.c2(), s.eps(), s.weightDecay(), s.lr());
    }

    @Override
    public double sumOfSquares(java.util.List<Tensor> tensors) {
        // One accumulator for every tensor, read once: a read waits for the GPU, so one wait, not one per tensor.
        DeviceBuffer total = cuda.allocate(2);
        cuda.fill(total.address(), 2, 0f);
        for (Tensor t : tensors) kernels.elementwise("sum_of_squares", t.size(), at(t, 0), (long) t.size(), total.address());
        double[] out = new double[1];
        cuda.download(total.address(), out);
        return out[0];
    }

    @Override
    public void scale(Tensor t, float factor) {
        kernels.elementwise("scale", t.size(), at(t, 0), factor, (long) t.size());
    }

    private static long at(Tensor t, int offset) {
        return t.deviceBuffer().at(offset);
    }

    private static long orNull(Tensor t) {
        return t == null ? 0L : t.deviceBuffer().address();
    }
}
