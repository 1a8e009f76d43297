package dev.jlens.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Layer norm over rows of width C: y = (x − mean)·rstd·w + b with rstd = 1/√(var + eps).
 * Forward saves mean and rstd per row for backward (TransformerLens's {@code hook_scale} is 1/rstd).
 * {@code w} and {@code b} may be null: a norm without its affine part (as after {@code fold_ln}).
 *
 * <p>Shapes: x, y, dx, dy [N, C]; mean, rstd [N]; w, b, dw, db [C].
 */
public final class LayerNorm {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;

    private LayerNorm() {}

    public static void forward(float[] x, float[] y, float[] w, float[] b, float[] mean, float[] rstd,
                               int n, int c, float eps) {
        statistics(x, mean, rstd, n, c, eps);
        normalize(x, y, w, b, mean, rstd, n, c);
    }

    /** mean and rstd = 1/√(var + eps) of each row: the first half of forward. */
    public static void statistics(float[] x, float[] mean, float[] rstd, int n, int c, float eps) {
        Parallel.forEach(Gemm.ceilDiv(n, rowsPerTask(c)), t -> {
            int end = Math.min(n, (t + 1) * rowsPerTask(c));
            for (int row = t * rowsPerTask(c); row < end; row++) {
                int o = row * c;
                float mu = Simd.sum(x, o, c) / c;
                int i = 0, bound = S.loopBound(c);
                FloatVector vmu = FloatVector.broadcast(S, mu), acc = FloatVector.zero(S);
                for (; i < bound; i += L) {
                    FloatVector d = FloatVector.fromArray(S, x, o + i).sub(vmu);
                    acc = d.fma(d, acc);
                }
                float var = Simd.sumLanes(acc);
                for (; i < c; i++) var += (x[o + i] - mu) * (x[o + i] - mu);
                mean[row] = mu;
                rstd[row] = (float) (1.0 / Math.sqrt(var / c + eps));
            }
        });
    }

    /** y = (x − mean)·rstd·w + b with the given statistics: the second half of forward. */
    public static void normalize(float[] x, float[] y, float[] w, float[] b, float[] mean, float[] rstd, int n, int c) {
        Parallel.forEach(Gemm.ceilDiv(n, rowsPerTask(c)), t -> {
            int end = Math.min(n, (t + 1) * rowsPerTask(c));
            for (int row = t * rowsPerTask(c); row < end; row++) {
                int o = row * c, i = 0, bound = S.loopBound(c);
                float mu = mean[row], rs = rstd[row];
                FloatVector vmu = FloatVector.broadcast(S, mu), vrs = FloatVector.broadcast(S, rs);
                for (; i < bound; i += L) {
                    FloatVector v = FloatVector.fromArray(S, x, o + i).sub(vmu).mul(vrs);
                    if (w != null) v = v.mul(FloatVector.fromArray(S, w, i));
                    if (b != null) v = v.add(FloatVector.fromArray(S, b, i));
                    v.intoArray(y, o + i);
                }
                for (; i < c; i++) {
                    float v = (x[o + i] - mu) * rs;
                    if (w != null) v *= w[i];
                    if (b != null) v += b[i];
                    y[o + i] = v;
                }
            }
        });
    }

    /**
     * dx += dL/dx; dw += Σ_rows dy·x̂; db += Σ_rows dy (dw, db may be null when w, b are).
     * The two halves of {@link #backwardToScale} and {@link #backwardFromScale}, with nothing between.
     */
    public static void backward(float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w,
                                float[] mean, float[] rstd, int n, int c) {
        float[] dScale = new float[n], own = new float[n * c];
        backwardToScale(own, dw, db, dScale, dy, x, w, mean, rstd, n, c);
        backwardFromScale(own, dScale, x, mean, rstd, n, c);
        Simd.add(own, 0, dx, 0, n * c);
    }

    /**
     * First half of backward, up to the scale s = 1/rstd: with g = dy·w and x_c = x − mean,
     * dx_c = g/s (written to dx, not added), dscale = −Σ g·x_c / s², and dw, db accumulate.
     * A hook on the scale may change dscale before {@link #backwardFromScale}.
     */
    public static void backwardToScale(float[] dxc, float[] dw, float[] db, float[] dScale, float[] dy, float[] x,
                                       float[] w, float[] mean, float[] rstd, int n, int c) {
        // dx rows are independent; dw and db sum over rows, so each task sums its rows privately.
        int tasks = Gemm.ceilDiv(n, rowsPerTask(c));
        float[][] partialW = new float[tasks][], partialB = new float[tasks][];
        Parallel.forEach(tasks, t -> {
            float[] pw = dw == null ? null : new float[c], pb = db == null ? null : new float[c];
            int end = Math.min(n, (t + 1) * rowsPerTask(c));
            for (int row = t * rowsPerTask(c); row < end; row++) {
                int o = row * c, i = 0, bound = S.loopBound(c);
                float mu = mean[row], rs = rstd[row];
                FloatVector vmu = FloatVector.broadcast(S, mu), vrs = FloatVector.broadcast(S, rs), acc = FloatVector.zero(S);
                for (; i < bound; i += L) {
                    FloatVector dyv = FloatVector.fromArray(S, dy, o + i);
                    FloatVector xhat = FloatVector.fromArray(S, x, o + i).sub(vmu).mul(vrs);
                    FloatVector g = w == null ? dyv : dyv.mul(FloatVector.fromArray(S, w, i));
                    acc = g.fma(xhat, acc);
                    g.mul(vrs).intoArray(dxc, o + i);
                    if (pw != null) dyv.fma(xhat, FloatVector.fromArray(S, pw, i)).intoArray(pw, i);
                    if (pb != null) dyv.add(FloatVector.fromArray(S, pb, i)).intoArray(pb, i);
                }
                float sumGx = Simd.sumLanes(acc);
                for (; i < c; i++) {
                    float xhat = (x[o + i] - mu) * rs;
                    float g = w == null ? dy[o + i] : dy[o + i] * w[i];
                    sumGx += g * xhat;
                    dxc[o + i] = g * rs;
                    if (pw != null) pw[i] += dy[o + i] * xhat;
                    if (pb != null) pb[i] += dy[o + i];
                }
                // dscale = −Σ g·x_c/s² = −rstd·Σ g·x̂
                dScale[row] = -rs * sumGx;
            }
            partialW[t] = pw;
            partialB[t] = pb;
        });
        for (int t = 0; t < tasks; t++) {
            if (dw != null) Simd.add(partialW[t], 0, dw, 0, c);
            if (db != null) Simd.add(partialB[t], 0, db, 0, c);
        }
    }

    /**
     * Second half: through s = √(mean(x_c²) + eps), dx_c += dscale·x_c/(C·s); then through
     * x_c = x − mean(x), dx = dx_c − mean(dx_c). Replaces the dx_c in {@code dx} by dx.
     */
    public static void backwardFromScale(float[] dx, float[] dScale, float[] x, float[] mean, float[] rstd, int n, int c) {
        Parallel.forEach(Gemm.ceilDiv(n, rowsPerTask(c)), t -> {
            int end = Math.min(n, (t + 1) * rowsPerTask(c));
            for (int row = t * rowsPerTask(c); row < end; row++) {
                int o = row * c, bound = S.loopBound(c);
                float mu = mean[row], coefficient = dScale[row] * rstd[row] / c;
                FloatVector vmu = FloatVector.broadcast(S, mu), vco = FloatVector.broadcast(S, coefficient), acc = FloatVector.zero(S);
                int i = 0;
                for (; i < bound; i += L) {
                    FloatVector d = FloatVector.fromArray(S, x, o + i).sub(vmu).fma(vco, FloatVector.fromArray(S, dx, o + i));
                    d.intoArray(dx, o + i);
                    acc = acc.add(d);
                }
                float sum = Simd.sumLanes(acc);
                for (; i < c; i++) {
                    dx[o + i] += coefficient * (x[o + i] - mu);
                    sum += dx[o + i];
                }
                float shift = sum / c;
                FloatVector vshift = FloatVector.broadcast(S, shift);
                for (i = 0; i < bound; i += L) FloatVector.fromArray(S, dx, o + i).sub(vshift).intoArray(dx, o + i);
                for (; i < c; i++) dx[o + i] -= shift;
            }
        });
    }

    private static int rowsPerTask(int c) {
        return Math.max(1, 16384 / Math.max(1, c));
    }

    public static void forwardReference(float[] x, float[] y, float[] w, float[] b, float[] mean, float[] rstd,
                                        int n, int c, float eps) {
        for (int row = 0; row < n; row++) {
            int o = row * c;
            double mu = 0, var = 0;
            for (int i = 0; i < c; i++) mu += x[o + i];
            mu /= c;
            for (int i = 0; i < c; i++) var += (x[o + i] - mu) * (x[o + i] - mu);
            double rs = 1.0 / Math.sqrt(var / c + eps);
            mean[row] = (float) mu;
            rstd[row] = (float) rs;
            for (int i = 0; i < c; i++) {
                double v = (x[o + i] - mu) * rs;
                if (w != null) v *= w[i];
                if (b != null) v += b[i];
                y[o + i] = (float) v;
            }
        }
    }

    public static void backwardReference(float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w,
                                         float[] mean, float[] rstd, int n, int c) {
        for (int row = 0; row < n; row++) {
            int o = row * c;
            double sumG = 0, sumGx = 0;
            for (int i = 0; i < c; i++) {
                double xhat = (x[o + i] - mean[row]) * (double) rstd[row];
                double g = w == null ? dy[o + i] : (double) dy[o + i] * w[i];
                sumG += g;
                sumGx += g * xhat;
                if (dw != null) dw[i] += (float) (dy[o + i] * xhat);
                if (db != null) db[i] += dy[o + i];
            }
            for (int i = 0; i < c; i++) {
                double xhat = (x[o + i] - mean[row]) * (double) rstd[row];
                double g = w == null ? dy[o + i] : (double) dy[o + i] * w[i];
                dx[o + i] += (float) (rstd[row] * (g - sumG / c - xhat * sumGx / c));
            }
        }
    }
}
