package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Tensor;

/**
 * The affine map every component is built from, forward and backward, over matrix views:
 * y[N×out] = x[N×in]·W[in×out] (+ b). Backward accumulates: dW += xᵀ·dy, db += Σ_rows dy,
 * and writes dx = dy·Wᵀ. A view may be one head's slice of a wider tensor.
 */
final class Linear {
    private Linear() {}

    /** y = x·W (+ b, when b is not null). */
    static void forward(Backend ops, Matrix x, Matrix w, Tensor b, Matrix y) {
        ops.matmul(x, w, b, y);
    }

    /** dW[in×out] += xᵀ·dy. */
    static void weightGradient(Backend ops, Matrix x, Matrix dy, Matrix dw) {
        ops.matmulAdd(x.t(), dy, dw);
    }

    /** dx[N×in] = dy·Wᵀ. */
    static void inputGradient(Backend ops, Matrix dy, Matrix w, Matrix dx) {
        ops.matmul(dy, w.t(), null, dx);
    }

    /** db[out] += Σ_rows dy. */
    static void biasGradient(Backend ops, Matrix dy, Tensor db) {
        ops.sumRows(dy, db);
    }
}
