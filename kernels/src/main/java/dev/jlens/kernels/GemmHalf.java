package dev.jlens.kernels;

import java.lang.foreign.MemorySegment;

/**
 * C[M×N] (+)= A[M×K]·op(B) (+ bias) with A and C float32 and B, the weights, 16-bit ({@link Half}:
 * bf16 or f16) in a memory segment (stored [K×N], or [N×K] read transposed, as nn.Linear keeps
 * them). Accumulation is float32.
 *
 * <p>Two regimes. With few rows of A (decoding a token, M ≤ {@link Gemv#ROWS}) the product is
 * memory-bound: {@link Gemv} reads every weight once, as 2 bytes instead of 4, widened in registers
 * and multiplied straight away. With many rows the product is compute-bound: {@link Gemm}'s packed
 * kernel runs as for float32, B widened as it is packed, so the widening costs what packing does.
 */
public final class GemmHalf {
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
        if (m <= Gemv.ROWS) {
            Gemv.gemv(opB, m, n, k, a, aOff, lda, format, matrix, 0, ldb, c, cOff, ldc, accumulate, bias, biasOff);
            return;
        }
        Gemm.gemm(Gemm.Op.N, opB, m, n, k, a, aOff, lda, null, format, matrix, 0, ldb, c, cOff, ldc, accumulate, bias, biasOff);
    }
}
