package dev.jlens.kernels;

import dev.jlens.kernels.Gemm.Op;
import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * C[M×N] (+)= A[M×K]·op(B) (+ bias) for a few rows of A (M ≤ {@link #ROWS}): decoding one token
 * per sequence. Such a product is bound by reading B, the weights, so each weight is read exactly
 * once, in memory order, and used for every row of A; nothing is packed. B is float32, or 16-bit
 * ({@link Half}) widened in registers.
 *
 * <p>B stored [K×N] (A·B): each thread takes a contiguous run of B's rows and sums into a partial
 * C of its own, four rows of B per pass over C; the partials are added at the end. B stored [N×K]
 * (A·Bᵀ): each C[i, j] is a dot product with row j of B, threads taking runs of rows.
 */
public final class Gemv {
    private static final VectorSpecies<Float> F = Simd.SPECIES;
    private static final int L = Simd.LANES;
    /** Rows of A up to which this beats {@link Gemm}'s packed kernel. */
    public static final int ROWS = 4;
    /** Partial products of the row runs: the caller's, reused call after call. */
    private static final ThreadLocal<float[][]> PARTIALS = ThreadLocal.withInitial(() -> new float[0][]);

    private Gemv() {}

    /** The weights, one way or the other: float32 or 16-bit. */
    private record Weights(float[] f32, int f32Off, Half format, MemorySegment half, long halfOff, int ld) {
        FloatVector vector(long row, int col) {
            return f32 != null ? FloatVector.fromArray(F, f32, f32Off + (int) row * ld + col) : format.widen(half, halfOff + row * ld + col);
        }

        float get(long row, int col) {
            return f32 != null ? f32[f32Off + (int) row * ld + col] : format.get(half, halfOff + row * ld + col);
        }

        /** The same weights from column {@code col} on. */
        Weights from(int col) {
            return new Weights(f32, f32Off + col, format, half, halfOff + col, ld);
        }
    }

    /** With B float32: element (p, j) of op(B) at {@code bOff + p·ldb + j} (N) or {@code bOff + j·ldb + p} (T). */
    public static void gemv(Op opB, int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        multiply(opB, m, n, k, a, aOff, lda, new Weights(b, bOff, null, null, 0, ldb), c, cOff, ldc, accumulate, bias, biasOff);
    }

    /** With B 16-bit in {@code format}, from element {@code bOff} of {@code b}. */
    public static void gemv(Op opB, int m, int n, int k, float[] a, int aOff, int lda, Half format, MemorySegment b, long bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        multiply(opB, m, n, k, a, aOff, lda, new Weights(null, 0, format, b, bOff, ldb), c, cOff, ldc, accumulate, bias, biasOff);
    }

    private static void multiply(Op opB, int m, int n, int k, float[] a, int aOff, int lda, Weights b,
                                 float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        if (m <= 0 || n <= 0) return;
        if (m > ROWS) throw new IllegalArgumentException(m + " rows are more than a GEMV's " + ROWS);
        for (int i = 0; i < m; i++) {
            int ci = cOff + i * ldc;
            for (int j = 0; j < n; j++) c[ci + j] = (accumulate ? c[ci + j] : 0f) + (bias == null ? 0f : bias[biasOff + j]);
        }
        if (k <= 0) return;
        if (opB == Op.T) rowsOfTransposed(m, n, k, a, aOff, lda, b, c, cOff, ldc);
        else rowsOfStored(m, n, k, a, aOff, lda, b, c, cOff, ldc);
    }

    /** B [N×K]: C[i, j] += A[i, :]·B[j, :], threads over runs of j. */
    private static void rowsOfTransposed(int m, int n, int k, float[] a, int aOff, int lda, Weights b, float[] c, int cOff, int ldc) {
        int runs = Math.min(n, 4 * Parallel.threads());
        Parallel.forEach(runs, t -> {
            int j0 = (int) ((long) n * t / runs), j1 = (int) ((long) n * (t + 1) / runs);
            for (int j = j0; j < j1; j++) {
                for (int i = 0; i < m; i++) {
                    // One loop per weight type: a dot product this short cannot afford a branch inside.
                    float sum = b.f32 != null ? dot(a, aOff + i * lda, b.f32, b.f32Off + j * b.ld, k)
                            : dot(a, aOff + i * lda, b.format, b.half, b.halfOff + (long) j * b.ld, k);
                    c[cOff + i * ldc + j] += sum;
                }
            }
        });
    }

    private static float dot(float[] a, int aOff, float[] w, int wOff, int k) {
        return Simd.dot(a, aOff, w, wOff, k);
    }

    /** a[aOff ..]·w[wIndex ..] over k values, w 16-bit. */
    private static float dot(float[] a, int aOff, Half format, MemorySegment w, long wIndex, int k) {
        int p = 0, bound = F.loopBound(k);
        FloatVector acc = FloatVector.zero(F);
        for (; p < bound; p += L) acc = FloatVector.fromArray(F, a, aOff + p).fma(format.widen(w, wIndex + p), acc);
        float sum = Simd.sumLanes(acc);
        for (; p < k; p++) sum += a[aOff + p] * format.get(w, wIndex + p);
        return sum;
    }

    /**
     * B [K×N]: B's rows in contiguous runs, four per thread so that a thread that starts late finds
     * runs left; each run summed into a partial of its own; then C += Σ partials, threads over
     * blocks of columns.
     */
    private static void rowsOfStored(int m, int n, int k, float[] a, int aOff, int lda, Weights b, float[] c, int cOff, int ldc) {
        int runs = Math.max(1, Math.min(4 * Parallel.threads(), k / 16));
        float[][] partials = partials(runs, m * n);
        Parallel.forEach(runs, t -> {
            int p0 = (int) ((long) k * t / runs), p1 = (int) ((long) k * (t + 1) / runs);
            float[] part = partials[t];
            java.util.Arrays.fill(part, 0, m * n, 0f);
            rowRun(m, n, a, aOff, lda, b, 0, p0, p1, part, 0, n);
        });
        int blocks = Math.max(1, Math.min(4 * Parallel.threads(), n / 4096));
        Parallel.forEach(blocks, block -> {
            int j0 = (int) ((long) n * block / blocks), j1 = (int) ((long) n * (block + 1) / blocks);
            for (int t = 0; t < runs; t++) {
                for (int i = 0; i < m; i++) Simd.add(partials[t], i * n + j0, c, cOff + i * ldc + j0, j1 - j0);
            }
        });
    }

    /**
     * out[outOff + i·ldo + j] += Σ_{p in [p0, p1)} A[i, p]·B[first + p, j] for j &lt; n: the rows
     * p0 .. p1 − 1 of a B that starts at row {@code first} of the weights.
     */
    private static void rowRun(int m, int n, float[] a, int aOff, int lda, Weights b, long first, int p0, int p1, float[] out, int outOff, int ldo) {
        if (m == 1 && n == 4 * L) fourVectors(a, aOff, b, first, p0, p1, out, outOff);
        else if (m == 1 && n <= WIDE) oneRow(n, a, aOff, b, first, p0, p1, out, outOff);
        else if (m == 1) {
            // A wide B (an unembedding): a block of columns at a time, so that the sums stay in the L1 cache.
            for (int j0 = 0; j0 < n; j0 += COLUMNS) oneRow(Math.min(COLUMNS, n - j0), a, aOff, b.from(j0), first, p0, p1, out, outOff + j0);
        } else {
            severalRows(m, n, a, aOff, lda, b, first, p0, p1, out, outOff, ldo);
        }
    }

    /** Columns of B whose sums (16 KB) one pass over a run of rows keeps in the L1 cache. */
    private static final int COLUMNS = 4096;
    /** Wider than this (an unembedding, not an MLP), B is taken a block of columns at a time. */
    private static final int WIDE = 16384;

    /**
     * {@link #oneRow} for a B four vectors wide (one attention head of 64 values, with 16 lanes):
     * the sums stay in registers for the whole run, instead of going through memory every row.
     */
    private static void fourVectors(float[] a, int aOff, Weights b, long first, int p0, int p1, float[] out, int off) {
        FloatVector c0 = FloatVector.fromArray(F, out, off), c1 = FloatVector.fromArray(F, out, off + L),
                c2 = FloatVector.fromArray(F, out, off + 2 * L), c3 = FloatVector.fromArray(F, out, off + 3 * L);
        if (b.f32 != null) {
            for (int p = p0; p < p1; p++) {
                FloatVector x = FloatVector.broadcast(F, a[aOff + p]);
                int row = b.f32Off + (int) (first + p) * b.ld;
                c0 = FloatVector.fromArray(F, b.f32, row).fma(x, c0);
                c1 = FloatVector.fromArray(F, b.f32, row + L).fma(x, c1);
                c2 = FloatVector.fromArray(F, b.f32, row + 2 * L).fma(x, c2);
                c3 = FloatVector.fromArray(F, b.f32, row + 3 * L).fma(x, c3);
            }
        } else {
            Half format = b.format;
            MemorySegment w = b.half;
            for (int p = p0; p < p1; p++) {
                FloatVector x = FloatVector.broadcast(F, a[aOff + p]);
                long row = b.halfOff + (first + p) * b.ld;
                c0 = format.widen(w, row).fma(x, c0);
                c1 = format.widen(w, row + L).fma(x, c1);
                c2 = format.widen(w, row + 2 * L).fma(x, c2);
                c3 = format.widen(w, row + 3 * L).fma(x, c3);
            }
        }
        c0.intoArray(out, off);
        c1.intoArray(out, off + L);
        c2.intoArray(out, off + 2 * L);
        c3.intoArray(out, off + 3 * L);
    }

    /** part[off + j] += Σ_{p in [p0, p1)} a[p]·B[first + p, j], four rows of B per pass. */
    private static void oneRow(int n, float[] a, int aOff, Weights b, long first, int p0, int p1, float[] part, int off) {
        int bound = F.loopBound(n), p = p0;
        // 16-bit rows eight per pass: the sums go through memory half as often, which narrow
        // matrices (a row of 4 KB, W_O and W_out) need most (measured 23-25 against 29-30 GB/s).
        if (b.f32 == null) {
            for (; p + 8 <= p1; p += 8) eightRows(n, bound, a, aOff + p, b.format, b.half, b.halfOff + (first + p) * b.ld, b.ld, part, off);
        }
        for (; p + 4 <= p1; p += 4) {
            FloatVector x0 = FloatVector.broadcast(F, a[aOff + p]), x1 = FloatVector.broadcast(F, a[aOff + p + 1]),
                    x2 = FloatVector.broadcast(F, a[aOff + p + 2]), x3 = FloatVector.broadcast(F, a[aOff + p + 3]);
            long row = first + p;
            int j = bound;
            // One loop per weight type, the four rows' starts computed once: the loop is the whole GEMV.
            if (b.f32 != null) fourRows(bound, x0, x1, x2, x3, b.f32, b.f32Off + (int) row * b.ld, b.ld, part, off);
            else fourRows(bound, x0, x1, x2, x3, b.format, b.half, b.halfOff + row * b.ld, b.ld, part, off);
            for (; j < n; j++) {
                part[off + j] += a[aOff + p] * b.get(row, j) + a[aOff + p + 1] * b.get(row + 1, j) + a[aOff + p + 2] * b.get(row + 2, j)
                        + a[aOff + p + 3] * b.get(row + 3, j);
            }
        }
        for (; p < p1; p++) {
            FloatVector x = FloatVector.broadcast(F, a[aOff + p]);
            int j = 0;
            for (; j < bound; j += L) b.vector(first + p, j).fma(x, FloatVector.fromArray(F, part, off + j)).intoArray(part, off + j);
            for (; j < n; j++) part[off + j] += a[aOff + p] * b.get(first + p, j);
        }
    }

    /** part[off + j] += x0·w[r] + x1·w[r + ld] + x2·w[r + 2ld] + x3·w[r + 3ld] at column j, for j &lt; bound. */
    private static void fourRows(int bound, FloatVector x0, FloatVector x1, FloatVector x2, FloatVector x3, float[] w, int r, int ld,
                                 float[] part, int off) {
        for (int j = 0; j < bound; j += L) {
            FloatVector acc = FloatVector.fromArray(F, part, off + j);
            acc = FloatVector.fromArray(F, w, r + j).fma(x0, acc);
            acc = FloatVector.fromArray(F, w, r + ld + j).fma(x1, acc);
            acc = FloatVector.fromArray(F, w, r + 2 * ld + j).fma(x2, acc);
            FloatVector.fromArray(F, w, r + 3 * ld + j).fma(x3, acc).intoArray(part, off + j);
        }
    }

    /** part[off + j] += Σ_{q < 8} a[at + q]·w[r + q·ld + j] for j &lt; n, 16-bit weights. */
    private static void eightRows(int n, int bound, float[] a, int at, Half format, MemorySegment w, long r, long ld, float[] part, int off) {
        FloatVector x0 = FloatVector.broadcast(F, a[at]), x1 = FloatVector.broadcast(F, a[at + 1]), x2 = FloatVector.broadcast(F, a[at + 2]),
                x3 = FloatVector.broadcast(F, a[at + 3]), x4 = FloatVector.broadcast(F, a[at + 4]), x5 = FloatVector.broadcast(F, a[at + 5]),
                x6 = FloatVector.broadcast(F, a[at + 6]), x7 = FloatVector.broadcast(F, a[at + 7]);
        for (int j = 0; j < bound; j += L) {
            FloatVector acc = FloatVector.fromArray(F, part, off + j);
            FloatVector acc2 = format.widen(w, r + 4 * ld + j).mul(x4);
            acc = format.widen(w, r + j).fma(x0, acc);
            acc2 = format.widen(w, r + 5 * ld + j).fma(x5, acc2);
            acc = format.widen(w, r + ld + j).fma(x1, acc);
            acc2 = format.widen(w, r + 6 * ld + j).fma(x6, acc2);
            acc = format.widen(w, r + 2 * ld + j).fma(x2, acc);
            acc2 = format.widen(w, r + 7 * ld + j).fma(x7, acc2);
            acc = format.widen(w, r + 3 * ld + j).fma(x3, acc);
            acc.add(acc2).intoArray(part, off + j);
        }
        for (int j = bound; j < n; j++) {
            float sum = 0;
            for (int q = 0; q < 8; q++) sum += a[at + q] * format.get(w, r + q * ld + j);
            part[off + j] += sum;
        }
    }

    /** As the float32 one, the weights 16-bit from element {@code r} of {@code w}. */
    private static void fourRows(int bound, FloatVector x0, FloatVector x1, FloatVector x2, FloatVector x3, Half format, MemorySegment w, long r,
                                 long ld, float[] part, int off) {
        for (int j = 0; j < bound; j += L) {
            FloatVector acc = FloatVector.fromArray(F, part, off + j);
            acc = format.widen(w, r + j).fma(x0, acc);
            acc = format.widen(w, r + ld + j).fma(x1, acc);
            acc = format.widen(w, r + 2 * ld + j).fma(x2, acc);
            format.widen(w, r + 3 * ld + j).fma(x3, acc).intoArray(part, off + j);
        }
    }

    /** part[off + i·ld + j] += Σ_p A[i, p]·B[first + p, j] for every row i: each vector of B read once, for all rows, four rows of B per pass. */
    private static void severalRows(int m, int n, float[] a, int aOff, int lda, Weights b, long first, int p0, int p1, float[] part, int off, int ld) {
        int bound = F.loopBound(n), p = p0;
        for (; p + 4 <= p1; p += 4) {
            long row = first + p;
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector w0 = b.vector(row, j), w1 = b.vector(row + 1, j), w2 = b.vector(row + 2, j), w3 = b.vector(row + 3, j);
                for (int i = 0; i < m; i++) {
                    int ai = aOff + i * lda + p, at = off + i * ld + j;
                    FloatVector acc = FloatVector.fromArray(F, part, at);
                    acc = w0.fma(FloatVector.broadcast(F, a[ai]), acc);
                    acc = w1.fma(FloatVector.broadcast(F, a[ai + 1]), acc);
                    acc = w2.fma(FloatVector.broadcast(F, a[ai + 2]), acc);
                    w3.fma(FloatVector.broadcast(F, a[ai + 3]), acc).intoArray(part, at);
                }
            }
            for (; j < n; j++) {
                for (int r = 0; r < 4; r++) {
                    float w = b.get(row + r, j);
                    for (int i = 0; i < m; i++) part[off + i * ld + j] += a[aOff + i * lda + p + r] * w;
                }
            }
        }
        for (; p < p1; p++) {
            int j = 0;
            for (; j < bound; j += L) {
                FloatVector w = b.vector(first + p, j);
                for (int i = 0; i < m; i++) {
                    int at = off + i * ld + j;
                    w.fma(FloatVector.broadcast(F, a[aOff + i * lda + p]), FloatVector.fromArray(F, part, at)).intoArray(part, at);
                }
            }
            for (; j < n; j++) {
                float w = b.get(first + p, j);
                for (int i = 0; i < m; i++) part[off + i * ld + j] += a[aOff + i * lda + p] * w;
            }
        }
    }

    /**
     * C[:, h·n .. (h + 1)·n) += A·B_h for each of {@code count} matrices B_h [K×N] stored one after
     * another (attention's per-head weights, [heads, d_model, d_head]), threads over h: each head's
     * weights are one contiguous run, read once.
     */
    public static void addEach(int count, int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff,
                               float[] c, int cOff, int ldc) {
        addEach(count, m, n, k, a, aOff, lda, new Weights(b, bOff, null, null, 0, n), c, cOff, ldc);
    }

    /** As the float32 one, with the B_h 16-bit in {@code format} from element {@code bOff} of {@code b}. */
    public static void addEach(int count, int m, int n, int k, float[] a, int aOff, int lda, Half format, MemorySegment b, long bOff,
                               float[] c, int cOff, int ldc) {
        addEach(count, m, n, k, a, aOff, lda, new Weights(null, 0, format, b, bOff, n), c, cOff, ldc);
    }

    private static void addEach(int count, int m, int n, int k, float[] a, int aOff, int lda, Weights b, float[] c, int cOff, int ldc) {
        if (m > ROWS) throw new IllegalArgumentException(m + " rows are more than a GEMV's " + ROWS);
        Parallel.forEach(count, h -> rowRun(m, n, a, aOff, lda, b, (long) h * k, 0, k, c, cOff + h * n, ldc));
    }

    /** {@code count} buffers of at least {@code size} floats. */
    private static float[][] partials(int count, int size) {
        float[][] p = PARTIALS.get();
        if (p.length < count || p[0].length < size) {
            p = new float[Math.max(count, p.length)][Math.max(size, p.length == 0 ? 0 : p[0].length)];
            PARTIALS.set(p);
        }
        return p;
    }
}
