package dev.jlens.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * C[M×N] (+)= A[M×K]·op(B) (+ bias) with A and C float32 and B, the weights, in bf16 (stored
 * [K×N], or [N×K] read transposed, as nn.Linear keeps them). Accumulation is float32.
 *
 * <p>Two regimes. With few rows of A (decoding a token, M ≤ {@link #GEMV_ROWS}) the product is
 * memory-bound: every weight is read once, as 2 bytes instead of 4, widened in registers and
 * multiplied straight away. With many rows the product is compute-bound: {@link Gemm}'s packed
 * kernel runs as for float32, B widened as it is packed, so the widening costs what packing does.
 */
public final class GemmBf16 {
    private static final VectorSpecies<Float> F = Simd.SPECIES;
    private static final int L = Simd.LANES;
    /** Up to this many rows of A, the weights are streamed once and used for every row. */
    static final int GEMV_ROWS = 4;

    private GemmBf16() {}

    public static void gemm(Gemm.Op opB, int m, int n, int k, float[] a, int aOff, int lda, short[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        if (m <= 0 || n <= 0) return;
        if (m <= GEMV_ROWS) {
            if (opB == Gemm.Op.T) rowsTimesTransposed(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, bias, biasOff);
            else rowsTimesStored(m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc, accumulate, bias, biasOff);
            return;
        }
        Gemm.gemm(Gemm.Op.N, opB, m, n, k, a, aOff, lda, null, b, bOff, ldb, c, cOff, ldc, accumulate, bias, biasOff);
    }

    /** B stored [N×K]: each C[i, j] is a dot product of row i of A with row j of B, parallel over blocks of j. */
    private static void rowsTimesTransposed(int m, int n, int k, float[] a, int aOff, int lda, short[] b, int bOff, int ldb,
                                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        int blocks = Math.min(n, 4 * Parallel.threads());
        Parallel.forEach(blocks, t -> {
            int j0 = (int) ((long) n * t / blocks), j1 = (int) ((long) n * (t + 1) / blocks);
            for (int j = j0; j < j1; j++) {
                int row = bOff + j * ldb;
                for (int i = 0; i < m; i++) {
                    int ai = aOff + i * lda, p = 0, bound = F.loopBound(k);
                    FloatVector acc = FloatVector.zero(F);
                    for (; p < bound; p += L) acc = FloatVector.fromArray(F, a, ai + p).fma(Bf16.widen(b, row + p), acc);
                    float sum = Simd.sumLanes(acc);
                    for (; p < k; p++) sum += a[ai + p] * Bf16.toFloat(b[row + p]);
                    int at = cOff + i * ldc + j;
                    float base = accumulate ? c[at] : 0f;
                    c[at] = base + sum + (bias == null ? 0f : bias[biasOff + j]);
                }
            }
        });
    }

    /** B stored [K×N]: C[i, :] = Σ_p A[i, p]·B[p, :], each widened row of B used for every row of A; parallel over blocks of columns. */
    private static void rowsTimesStored(int m, int n, int k, float[] a, int aOff, int lda, short[] b, int bOff, int ldb,
                                        float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        int blocks = Math.max(1, Math.min(4 * Parallel.threads(), n / L));
        Parallel.forEach(blocks, t -> {
            int j0 = (int) ((long) n * t / blocks) / L * L, j1 = t == blocks - 1 ? n : (int) ((long) n * (t + 1) / blocks) / L * L;
            for (int i = 0; i < m; i++) {
                int ci = cOff + i * ldc;
                for (int j = j0; j < j1; j++) c[ci + j] = (accumulate ? c[ci + j] : 0f) + (bias == null ? 0f : bias[biasOff + j]);
            }
            int bound = j0 + F.loopBound(j1 - j0);
            for (int p = 0; p < k; p++) {
                int row = bOff + p * ldb;
                for (int i = 0; i < m; i++) {
                    float x = a[aOff + i * lda + p];
                    FloatVector xv = FloatVector.broadcast(F, x);
                    int ci = cOff + i * ldc, j = j0;
                    for (; j < bound; j += L) xv.fma(Bf16.widen(b, row + j), FloatVector.fromArray(F, c, ci + j)).intoArray(c, ci + j);
                    for (; j < j1; j++) c[ci + j] += x * Bf16.toFloat(b[row + j]);
                }
            }
        });
    }
}
