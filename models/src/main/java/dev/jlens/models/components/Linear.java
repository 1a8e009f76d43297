package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Parameter;
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

    /**
     * The whole backward of y = x·W + b over rows, W [in, out]: db += Σ dy and dW += xᵀ·dy where
     * they take gradients (x is null when forward kept none for W), and dx = dy·Wᵀ, returned with
     * dy's shape but {@code in} values per row.
     */
    static Tensor backward(Backend ops, Tensor dy, Tensor x, Parameter w, Parameter b) {
        int in = w.value().dim(0), out = w.value().dim(1), n = dy.size() / out;
        if (b != null && b.requiresGrad()) biasGradient(ops, Matrix.of(dy, n, out), b.grad());
        if (x != null) weightGradient(ops, Matrix.of(x, n, in), Matrix.of(dy, n, out), Matrix.of(w.grad(), in, out));
        int[] shape = dy.shape();
        shape[shape.length - 1] = in;
        Tensor dx = ops.empty(shape);
        inputGradient(ops, Matrix.of(dy, n, out), Matrix.of(w.value(), in, out), Matrix.of(dx, n, in));
        return dx;
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
