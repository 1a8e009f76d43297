package dev.jlens.models.components;

import dev.jlens.kernels.Gemm;
import dev.jlens.kernels.Gemm.Op;
import dev.jlens.kernels.Simd;

/**
 * The affine map every component is built from, forward and backward, over row-major slices:
 * y[N×out] = x[N×in]·W[in×out] (+ b). Backward accumulates: dW += xᵀ·dy, db += Σ_rows dy,
 * dx += dy·Wᵀ. Offsets and leading dimensions let one head's slice of a wider tensor take part.
 */
final class Linear {
    private Linear() {}

    static void forward(float[] x, int xOff, int ldx, float[] w, int wOff, int ldw, float[] b, int bOff,
                        float[] y, int yOff, int ldy, int n, int in, int out) {
        Gemm.gemm(Op.N, Op.N, n, out, in, x, xOff, ldx, w, wOff, ldw, y, yOff, ldy, false, b, bOff);
    }

    /** dW[in×out] += xᵀ·dy. */
    static void weightGradient(float[] x, int xOff, int ldx, float[] dy, int dyOff, int lddy,
                               float[] dw, int dwOff, int lddw, int n, int in, int out) {
        Gemm.gemm(Op.T, Op.N, in, out, n, x, xOff, ldx, dy, dyOff, lddy, dw, dwOff, lddw, true, null, 0);
    }

    /** dx[N×in] (+)= dy·Wᵀ. */
    static void inputGradient(float[] dy, int dyOff, int lddy, float[] w, int wOff, int ldw,
                              float[] dx, int dxOff, int lddx, int n, int in, int out, boolean accumulate) {
        Gemm.gemm(Op.N, Op.T, n, in, out, dy, dyOff, lddy, w, wOff, ldw, dx, dxOff, lddx, accumulate, null, 0);
    }

    /** db[out] += Σ_rows dy. */
    static void biasGradient(float[] dy, int dyOff, int lddy, float[] db, int dbOff, int n, int out) {
        for (int row = 0; row < n; row++) Simd.add(dy, dyOff + row * lddy, db, dbOff, out);
    }
}
