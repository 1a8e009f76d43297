package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Tensor;
import dev.jlens.kernels.Gemm.Op;

/**
 * The affine map every component is built from, forward and backward, over row-major slices:
 * y[N×out] = x[N×in]·W[in×out] (+ b). Backward accumulates: dW += xᵀ·dy, db += Σ_rows dy,
 * dx += dy·Wᵀ. Offsets and leading dimensions let one head's slice of a wider tensor take part.
 */
final class Linear {
    private Linear() {}

    static void forward(Backend ops, Tensor x, int xOff, int ldx, Tensor w, int wOff, int ldw, Tensor b, int bOff,
                        Tensor y, int yOff, int ldy, int n, int in, int out) {
        ops.gemm(Op.N, Op.N, n, out, in, x, xOff, ldx, w, wOff, ldw, y, yOff, ldy, false, b, bOff);
    }

    /** dW[in×out] += xᵀ·dy. */
    static void weightGradient(Backend ops, Tensor x, int xOff, int ldx, Tensor dy, int dyOff, int lddy,
                               Tensor dw, int dwOff, int lddw, int n, int in, int out) {
        ops.gemm(Op.T, Op.N, in, out, n, x, xOff, ldx, dy, dyOff, lddy, dw, dwOff, lddw, true, null, 0);
    }

    /** dx[N×in] (+)= dy·Wᵀ. */
    static void inputGradient(Backend ops, Tensor dy, int dyOff, int lddy, Tensor w, int wOff, int ldw,
                              Tensor dx, int dxOff, int lddx, int n, int in, int out, boolean accumulate) {
        ops.gemm(Op.N, Op.T, n, in, out, dy, dyOff, lddy, w, wOff, ldw, dx, dxOff, lddx, accumulate, null, 0);
    }

    /** db[out] += Σ_rows dy. */
    static void biasGradient(Backend ops, Tensor dy, int dyOff, int lddy, Tensor db, int dbOff, int n, int out) {
        ops.sumRows(dy, dyOff, lddy, n, out, db, dbOff);
    }
}
