package dev.jlens.kernels;

/**
 * The two steps of an RMS norm that a layer norm's kernels do not already do. An RMS norm is a layer
 * norm whose mean is taken as zero: normalized = x·rstd with rstd = 1/√(mean(x²) + eps), so
 * {@link LayerNorm#normalize} and {@link LayerNorm#backwardToScale} serve it given a zero mean; what
 * differs is the statistic, and the last backward step, where x_c = x has no mean to subtract.
 *
 * <p>Shapes: x, dx [N, C]; rstd, dScale [N].
 */
public final class RmsNorm {
    private RmsNorm() {}

    /** rstd = 1/√(mean(x²) + eps) of each row. */
    public static void statistics(float[] x, float[] rstd, int n, int c, float eps) {
        Parallel.forEach(Gemm.ceilDiv(n, rowsPerTask(c)), t -> {
            int end = Math.min(n, (t + 1) * rowsPerTask(c));
            for (int row = t * rowsPerTask(c); row < end; row++) {
                float meanSquare = Simd.dot(x, row * c, x, row * c, c) / c;
                rstd[row] = (float) (1 / Math.sqrt((double) meanSquare + eps));
            }
        });
    }

    /** Through s = √(mean(x²) + eps): dx += dscale·x·rstd/C (ds/dx = x/(C·s)). */
    public static void backwardFromScale(float[] dx, float[] dScale, float[] x, float[] rstd, int n, int c) {
        Parallel.forEach(Gemm.ceilDiv(n, rowsPerTask(c)), t -> {
            int end = Math.min(n, (t + 1) * rowsPerTask(c));
            for (int row = t * rowsPerTask(c); row < end; row++) Simd.axpy(dScale[row] * rstd[row] / c, x, row * c, dx, row * c, c);
        });
    }

    private static int rowsPerTask(int c) {
        return Math.max(1, 16384 / Math.max(1, c));
    }

    public static void statisticsReference(float[] x, float[] rstd, int n, int c, float eps) {
        for (int row = 0; row < n; row++) {
            double squares = 0;
            for (int i = 0; i < c; i++) squares += (double) x[row * c + i] * x[row * c + i];
            rstd[row] = (float) (1 / Math.sqrt(squares / c + eps));
        }
    }

    public static void backwardFromScaleReference(float[] dx, float[] dScale, float[] x, float[] rstd, int n, int c) {
        for (int row = 0; row < n; row++) {
            double coefficient = (double) dScale[row] * rstd[row] / c;
            for (int i = 0; i < c; i++) dx[row * c + i] = (float) (dx[row * c + i] + coefficient * x[row * c + i]);
        }
    }
}
