package dev.jlens.kernels;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * C[M×N] (+)= A[M×K]·op(B) (+ bias) with A and C float32 and B, the weights, 16-bit ({@link Half}:
 * bf16 or f16) in a memory segment (stored [K×N], or [N×K] read transposed, as nn.Linear keeps
 * them). Accumulation is float32.
 *
 * <p>Two regimes. With few rows of A (decoding a token, M ≤ {@link #GEMV_ROWS}) the product is
 * memory-bound: every weight is read once, as 2 bytes instead of 4, widened in registers and
 * multiplied straight away. With many rows the product is compute-bound: {@link Gemm}'s packed
 * kernel runs as for float32, B widened as it is packed, so the widening costs what packing does.
 */
public final class GemmHalf {
    private static final VectorSpecies<Float> F = Simd.SPECIES;
    private static final int L = Simd.LANES;
    /** Up to this many rows of A, the weights are streamed once and used for every row. */
    static final int GEMV_ROWS = 4;

    private GemmHalf() {}

    /**
     * Element (p, j) of op(B) lies at index {@code bOff + p·ldb + j} of {@code b} (N), or
     * {@code bOff + j·ldb + p} (T). Threads share the work, so {@code b} must be readable from any
     * thread (memory of a global, automatic or shared arena).
     */
    public static void gemm(Gemm.Op opB, int m, int n, int k, float[] a, int aOff, int lda, Half format, MemorySegment b, long bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        if (m <= 0 || n <= 0) return;
        // The matrix from its first element: offsets inside it fit an int even when the segment is larger.
        long elements = (opB == Gemm.Op.N ? (long) (k - 1) * ldb + n : (long) (n - 1) * ldb + k);
        MemorySegment matrix = b.asSlice(2 * bOff, 2 * Math.max(0, k == 0 ? 0 : elements));
        if (m <= GEMV_ROWS) {
            if (opB == Gemm.Op.T) rowsTimesTransposed(m, n, k, a, aOff, lda, format, matrix, ldb, c, cOff, ldc, accumulate, bias, biasOff);
            else rowsTimesStored(m, n, k, a, aOff, lda, format, matrix, ldb, c, cOff, ldc, accumulate, bias, biasOff);
            return;
        }
        Gemm.gemm(Gemm.Op.N, opB, m, n, k, a, aOff, lda, null, format, matrix, 0, ldb, c, cOff, ldc, accumulate, bias, biasOff);
    }

    /** B stored [N×K]: each C[i, j] is a dot product of row i of A with row j of B, parallel over blocks of j. */
    private static void rowsTimesTransposed(int m, int n, int k, float[] a, int aOff, int lda, Half format, MemorySegment b, int ldb,
                                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        int blocks = Math.min(n, 4 * Parallel.threads());
        Parallel.forEach(blocks, t -> {
            int j0 = (int) ((long) n * t / blocks), j1 = (int) ((long) n * (t + 1) / blocks);
            for (int j = j0; j < j1; j++) {
                long row = (long) j * ldb;
                for (int i = 0; i < m; i++) {
                    int ai = aOff + i * lda, p = 0, bound = F.loopBound(k);
                    FloatVector acc = FloatVector.zero(F);
                    for (; p < bound; p += L) acc = FloatVector.fromArray(F, a, ai + p).fma(format.widen(b, row + p), acc);
                    float sum = Simd.sumLanes(acc);
                    for (; p < k; p++) sum += a[ai + p] * format.get(b, row + p);
                    int at = cOff + i * ldc + j;
                    float base = accumulate ? c[at] : 0f;
                    c[at] = base + sum + (bias == null ? 0f : bias[biasOff + j]);
                }
            }
        });
    }

    /** B stored [K×N]: C[i, :] = Σ_p A[i, p]·B[p, :], each widened row of B used for every row of A; parallel over blocks of columns. */
    private static void rowsTimesStored(int m, int n, int k, float[] a, int aOff, int lda, Half format, MemorySegment b, int ldb,
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
                long row = (long) p * ldb;
                for (int i = 0; i < m; i++) {
                    float x = a[aOff + i * lda + p];
                    FloatVector xv = FloatVector.broadcast(F, x);
                    int ci = cOff + i * ldc, j = j0;
                    for (; j < bound; j += L) xv.fma(format.widen(b, row + j), FloatVector.fromArray(F, c, ci + j)).intoArray(c, ci + j);
                    for (; j < j1; j++) c[ci + j] += x * format.get(b, row + j);
                }
            }
        });
    }
}
