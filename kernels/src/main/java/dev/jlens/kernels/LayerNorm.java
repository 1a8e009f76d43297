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
        Parallel.forEach(Gemm.ceilDiv(n, rowsPerTask(c)), t -> {
            int end = Math.min(n, (t + 1) * rowsPerTask(c));
            for (int row = t * rowsPerTask(c); row < end; row++) forwardRow(x, y, w, b, mean, rstd, row, c, eps);
        });
    }

    private static void forwardRow(float[] x, float[] y, float[] w, float[] b, float[] mean, float[] rstd,
                                   int row, int c, float eps) {
        int o = row * c;
        float mu = Simd.sum(x, o, c) / c;
        float var = 0;
        int i = 0, bound = S.loopBound(c);
        FloatVector vmu = FloatVector.broadcast(S, mu), acc = FloatVector.zero(S);
        for (; i < bound; i += L) {
            FloatVector d = FloatVector.fromArray(S, x, o + i).sub(vmu);
            acc = d.fma(d, acc);
        }
        var = acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
        for (; i < c; i++) var += (x[o + i] - mu) * (x[o + i] - mu);
        float rs = (float) (1.0 / Math.sqrt(var / c + eps));
        mean[row] = mu;
        rstd[row] = rs;
        FloatVector vrs = FloatVector.broadcast(S, rs);
        for (i = 0; i < bound; i += L) {
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

    /**
     * dx += dL/dx; dw += Σ_rows dy·x̂; db += Σ_rows dy (dw, db may be null when w, b are).
     * dx = rstd·(dy·w − mean(dy·w) − x̂·mean(dy·w·x̂)), with x̂ recomputed from x, mean and rstd.
     */
    public static void backward(float[] dx, float[] dw, float[] db, float[] dy, float[] x, float[] w,
                                float[] mean, float[] rstd, int n, int c) {
        // Rows are independent for dx; dw and db sum over rows, so each task sums its rows privately.
        int tasks = Gemm.ceilDiv(n, rowsPerTask(c));
        float[][] partialW = new float[tasks][], partialB = new float[tasks][];
        Parallel.forEach(tasks, t -> {
            float[] pw = dw == null ? null : new float[c], pb = db == null ? null : new float[c];
            float[] g = new float[c];
            int end = Math.min(n, (t + 1) * rowsPerTask(c));
            for (int row = t * rowsPerTask(c); row < end; row++) {
                int o = row * c;
                float mu = mean[row], rs = rstd[row];
                float sumG = 0, sumGx = 0;
                for (int i = 0; i < c; i++) {
                    float xhat = (x[o + i] - mu) * rs;
                    g[i] = w == null ? dy[o + i] : dy[o + i] * w[i];
                    sumG += g[i];
                    sumGx += g[i] * xhat;
                    if (pw != null) pw[i] += dy[o + i] * xhat;
                    if (pb != null) pb[i] += dy[o + i];
                }
                float meanG = sumG / c, meanGx = sumGx / c;
                for (int i = 0; i < c; i++) {
                    float xhat = (x[o + i] - mu) * rs;
                    dx[o + i] += rs * (g[i] - meanG - xhat * meanGx);
                }
            }
            partialW[t] = pw;
            partialB[t] = pb;
        });
        for (int t = 0; t < tasks; t++) {
            if (dw != null) Simd.add(partialW[t], 0, dw, 0, c);
            if (db != null) Simd.add(partialB[t], 0, db, 0, c);
        }
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
