package dev.jlens.kernels;

import java.lang.foreign.MemorySegment;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The matmul family: C[M×N] (+)= op(A)[M×K] · op(B)[K×N] (+ bias[N]), where op is the identity
 * or the transpose. Forward passes use A·B (activations times weights); backward passes use
 * A·Bᵀ (input gradient: dY·Wᵀ) and Aᵀ·B (weight gradient: Xᵀ·dY), all through one blocked,
 * packed implementation.
 *
 * <p>Operands are row-major {@code float[]} slices: element (i, j) of a stored matrix with leading
 * dimension {@code ld} lives at {@code off + i·ld + j}. A transposed operand is read through its
 * stored layout, so no transposed copy is ever made.
 *
 * <p>How it is fast (the BLIS scheme): K is cut into blocks of {@link #KC}; for each, a block of
 * op(B) is packed into panels of {@link #NR} columns and a block of op(A) into strips of
 * {@link #MR} rows, both zero-padded to whole panels. The micro-kernel then multiplies one strip by
 * one panel with MR×NR accumulators held in vector registers, reading both operands
 * contiguously; packing is also what absorbs the transposes. Work is parallel over independent
 * blocks of C through {@link Parallel}.
 */
public final class Gemm {
    private static final VectorSpecies<Float> S = Simd.SPECIES;
    private static final int L = Simd.LANES;
    /** The MR values of one packed A strip row, moved as one vector where the machine has 256-bit vectors. */
    private static final VectorSpecies<Float> STRIP = FloatVector.SPECIES_256;
    private static final boolean STRIP_IN_ONE = Simd.SPECIES.vectorBitSize() >= STRIP.vectorBitSize();
    /** Rows of the micro-tile. */
    static final int MR = 8;
    /** Columns of the micro-tile: two vectors. */
    static final int NR = 2 * L;
    /** Depth of a packed block: a B panel of KC×NR floats stays in L1 while a strip of A streams past. */
    static final int KC = 256;
    /** Rows of A packed at once (fits L2 beside the B block). */
    static final int MC = 192;
    /** Values read from one stored row at a time when packing a transposed layout: one cache line. */
    private static final int TILE = 16;
    /**
     * Rows of A from which Bᵀ is packed by {@link #transposeTile} rather than value by value. The tiles
     * are 3-4x faster once C2 has compiled them, but until then (about a second of a JVM's first
     * products) C1 runs them with boxed vectors, 10x slower: a product of a few rows (a short
     * command's prompt through a tied unembedding) keeps the scalar path, which needs no warm-up.
     */
    private static final int TILED_ROWS = 64;
    /** Widest block of C columns one task packs B for. */
    static final int NC_MAX = 1024;
    /**
     * The most rows, and values, of A that the threads share one packing of ({@link #multiplySharedA}):
     * 4 MB at most. A larger A (256 × 8192: a K-heavy product) ran slower shared, its blocks read back
     * from L3 by every column task, than packed by each thread into its own L2.
     */
    static final int SHARED_A_ROWS = 1024, SHARED_A_VALUES = 1 << 20;

    private static final ThreadLocal<Workspace> WORKSPACE = ThreadLocal.withInitial(Workspace::new);

    private Gemm() {}

    /** How an operand is read: as stored, or transposed. */
    public enum Op { N, T }

    /** C[M×N] = A[M×K]·B[K×N], all contiguous. */
    public static void matmul(float[] a, float[] b, float[] c, int m, int k, int n) {
        gemm(Op.N, Op.N, m, n, k, a, 0, k, b, 0, n, c, 0, n, false, null, 0);
    }

    /** C[M×N] = A[M×K]·B[N×K]ᵀ, all contiguous. */
    public static void matmulTransB(float[] a, float[] b, float[] c, int m, int k, int n) {
        gemm(Op.N, Op.T, m, n, k, a, 0, k, b, 0, k, c, 0, n, false, null, 0);
    }

    /** C[M×N] = A[K×M]ᵀ·B[K×N], all contiguous. */
    public static void matmulTransA(float[] a, float[] b, float[] c, int m, int k, int n) {
        gemm(Op.T, Op.N, m, n, k, a, 0, m, b, 0, n, c, 0, n, false, null, 0);
    }

    /**
     * C[M×N] = op(A)·op(B) (+ bias), or C += ... when {@code accumulate}; parallel over blocks of C.
     *
     * @param bias null, or N values added to every row of C, read from {@code biasOff}
     */
    public static void gemm(Op opA, Op opB, int m, int n, int k,
                            float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                            float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        gemm(opA, opB, m, n, k, a, aOff, lda, b, null, null, bOff, ldb, c, cOff, ldc, accumulate, bias, biasOff);
    }

    /**
     * As {@link #gemm}, with B held 16-bit ({@code b16} in {@code format}, {@code b} null), widened to
     * float32 as it is packed: the packed kernel then runs exactly as for float32 weights ({@link GemmHalf}).
     */
    static void gemm(Op opA, Op opB, int m, int n, int k, float[] a, int aOff, int lda, float[] b, Half format, MemorySegment b16, int bOff, int ldb,
                     float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        if (m <= 0 || n <= 0) return;
        int kSplits = k <= 0 ? 1 : kSplits(m, n, k);
        if (k <= 0 || kSplits > 1) {
            initialiseC(m, n, c, cOff, ldc, accumulate, bias, biasOff);
            if (k > 0) multiplySplitK(kSplits, opA, opB, m, n, k, a, aOff, lda, b, format, b16, bOff, ldb, c, cOff, ldc);
            return;
        }
        // Unless accumulating, the first block of K writes C (bias plus products) without reading it:
        // C is neither zeroed beforehand nor read back on that pass (for the logits, 200 MB each way).
        boolean writeFirst = !accumulate;
        if (accumulate && bias != null) initialiseC(m, n, c, cOff, ldc, true, bias, biasOff);
        Grid grid = Grid.of(m, n, k);
        if (sharesA(m, n, k)) {
            multiplySharedA(opA, opB, m, n, k, a, aOff, lda, b, format, b16, bOff, ldb, c, cOff, ldc, writeFirst, bias, biasOff);
            return;
        }
        Parallel.forEach(grid.tasks(), t -> {
            int i0 = (t / grid.colBlocks) * grid.rowsPerTask, j0 = (t % grid.colBlocks) * grid.colsPerTask;
            int rows = Math.min(grid.rowsPerTask, m - i0), cols = Math.min(grid.colsPerTask, n - j0);
            multiplyBlock(opA, opB, rows, cols, k, a, aOff, lda, i0, b, format, b16, bOff, ldb, j0, c, cOff + i0 * ldc + j0, ldc,
                    writeFirst, bias, biasOff + j0);
        });
    }

    /**
     * How many slices of K to multiply apart when K dwarfs M and N (an unembedding's input gradient,
     * K = d_vocab): a grid over C would pack each operand once per block of the other, slices of K
     * pack each operand once in all. 1 when the grid is the better plan.
     */
    static int kSplits(int m, int n, int k) {
        int wanted = 4 * Parallel.threads();
        if (wanted == 4 || (long) m * n * k < 50_000_000L) return 1;
        Grid grid = Grid.of(m, n, k);
        long gridPacking = (long) k * ((long) m * grid.colBlocks + (long) n * grid.rowBlocks);
        // Whole rounds of slices per thread, so that no core idles while another finishes a slice.
        int threads = Parallel.threads();
        long splits = Math.min(wanted, k / (2L * KC)) / threads * threads;
        if (splits < 2 || splits * m * n > (16L << 20)) return 1;
        long splitPacking = (long) k * (m + n) + splits * m * n; // packing, then summing the partial products
        return splitPacking * 2 < gridPacking ? (int) splits : 1;
    }

    private static void multiplySplitK(int splits, Op opA, Op opB, int m, int n, int k,
                                       float[] a, int aOff, int lda, float[] b, Half format, MemorySegment b16, int bOff, int ldb,
                                       float[] c, int cOff, int ldc) {
        // The caller's buffers: reused call after call, as allocating them each time churns the heap.
        float[][] partial = WORKSPACE.get().partials(splits, m * n);
        boolean[] used = new boolean[splits];
        int slice = ceilDiv(ceilDiv(k, splits), KC) * KC;
        Parallel.forEach(splits, s -> {
            int k0 = s * slice, kLen = Math.min(slice, k - k0);
            if (kLen <= 0) return;
            used[s] = true;
            java.util.Arrays.fill(partial[s], 0, m * n, 0f);
            int aAt = aOff + (opA == Op.N ? k0 : k0 * lda), bAt = bOff + (opB == Op.N ? k0 * ldb : k0);
            multiplyBlock(opA, opB, m, n, kLen, a, aAt, lda, 0, b, format, b16, bAt, ldb, 0, partial[s], 0, n, false, null, 0);
        });
        Parallel.forEach(m, i -> {
            for (int s = 0; s < splits; s++) if (used[s]) Simd.add(partial[s], i * n, c, cOff + i * ldc, n);
        });
    }

    /**
     * {@code count} independent products C_i (+)= op(A_i)·op(B_i), where operand i starts at
     * {@code off + i·stride}: the per-head matmuls of attention. Parallel over i, each product serial.
     */
    public static void gemmBatched(int count, Op opA, Op opB, int m, int n, int k,
                                   float[] a, int aOff, int lda, int strideA,
                                   float[] b, int bOff, int ldb, int strideB,
                                   float[] c, int cOff, int ldc, int strideC, boolean accumulate) {
        Parallel.forEach(count, i -> gemmSerial(opA, opB, m, n, k, a, aOff + i * strideA, lda,
                b, bOff + i * strideB, ldb, c, cOff + i * strideC, ldc, accumulate));
    }

    /** As {@link #gemm} without bias, on the calling thread only: for use inside a parallel loop. */
    public static void gemmSerial(Op opA, Op opB, int m, int n, int k,
                                  float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                  float[] c, int cOff, int ldc, boolean accumulate) {
        if (m <= 0 || n <= 0) return;
        initialiseC(m, n, c, cOff, ldc, accumulate, null, 0);
        if (k <= 0) return;
        multiplyBlock(opA, opB, m, n, k, a, aOff, lda, 0, b, null, null, bOff, ldb, 0, c, cOff, ldc, false, null, 0);
    }

    /** The plain triple loop every form is tested against (double accumulation). */
    public static void gemmReference(Op opA, Op opB, int m, int n, int k,
                                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                                     float[] c, int cOff, int ldc, boolean accumulate, float[] bias, int biasOff) {
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                for (int p = 0; p < k; p++) {
                    float av = opA == Op.N ? a[aOff + i * lda + p] : a[aOff + p * lda + i];
                    float bv = opB == Op.N ? b[bOff + p * ldb + j] : b[bOff + j * ldb + p];
                    sum += (double) av * bv;
                }
                if (bias != null) sum += bias[biasOff + j];
                int at = cOff + i * ldc + j;
                c[at] = accumulate ? c[at] + (float) sum : (float) sum;
            }
        }
    }

    /**
     * How C is cut into tasks: one per thread, as a grid of row and column blocks. Each task
     * packs its own rows of A and columns of B, so A is packed once per column block and B once
     * per row block; the grid is the one that packs the fewest values.
     */
    private record Grid(int rowsPerTask, int colsPerTask, int rowBlocks, int colBlocks) {
        static Grid of(int m, int n, int k) {
            long flops = 2L * m * n * k;
            // One task per thread: each task packs its own rows of A and columns of B, so every task more
            // packs more; with four a thread, 256-row products ran 15% slower (medians of five runs).
            int wanted = flops < 2_000_000 ? 1 : Parallel.threads();
            int maxRowBlocks = ceilDiv(m, MR), maxColBlocks = ceilDiv(n, NR);
            Grid best = null;
            long bestCost = Long.MAX_VALUE;
            for (int r = 1; r <= Math.min(wanted, maxRowBlocks); r++) {
                int c = Math.min(ceilDiv(wanted, r), maxColBlocks);
                int rows = ceilDiv(ceilDiv(m, r), MR) * MR, cols = ceilDiv(ceilDiv(n, c), NR) * NR;
                Grid grid = new Grid(rows, cols, ceilDiv(m, rows), ceilDiv(n, cols));
                long packed = (long) m * grid.colBlocks + (long) n * grid.rowBlocks;
                // Fewer tasks than wanted balance worse across threads: count it as extra packing.
                long cost = packed * Math.max(1, wanted) / Math.max(1, Math.min(wanted, grid.tasks()));
                if (cost < bestCost) {
                    bestCost = cost;
                    best = grid;
                }
            }
            return best;
        }

        int tasks() {
            return rowBlocks * colBlocks;
        }
    }

    private static void initialiseC(int m, int n, float[] c, int cOff, int ldc, boolean accumulate,
                                    float[] bias, int biasOff) {
        if (accumulate && bias == null) return;
        for (int i = 0; i < m; i++) {
            int row = cOff + i * ldc;
            if (bias == null) java.util.Arrays.fill(c, row, row + n, 0f);
            else if (accumulate) Simd.add(bias, biasOff, c, row, n);
            else System.arraycopy(bias, biasOff, c, row, n);
        }
    }

    /** Whether the threads share one packing of A ({@link #multiplySharedA}) rather than each packing the rows of its block of C. */
    static boolean sharesA(int m, int n, int k) {
        long packed = (long) ceilDiv(m, MR) * MR * ceilDiv(k, KC) * KC;
        return m <= SHARED_A_ROWS && packed <= SHARED_A_VALUES && Grid.of(m, n, k).colBlocks > 1;
    }

    /**
     * A product whose grid would have every column task pack the same rows of A (A small beside B:
     * a layer's activations times its weights): op(A) is packed once, the threads sharing it, and the
     * columns of C are handed out a few panels at a time, so each thread packs only the columns of B
     * it multiplies and a thread slowed by a neighbour on its core takes fewer of them. Each value of
     * C sums its products in the same order as {@link #multiplyBlock}'s, so both give the same bits.
     */
    private static void multiplySharedA(Op opA, Op opB, int m, int n, int k, float[] a, int aOff, int lda,
                                        float[] b, Half format, MemorySegment b16, int bOff, int ldb,
                                        float[] c, int cOff, int ldc, boolean writeFirst, float[] bias, int biasOff) {
        int kBlocks = ceilDiv(k, KC), strips = ceilDiv(m, MR), rowGroups = ceilDiv(m, MC);
        // Block pb of K holds its strips from pb·strips·KC·MR on, each kc·MR values long.
        float[] aPacked = WORKSPACE.get().sharedA(kBlocks * strips * KC * MR);
        Parallel.forEach(kBlocks * rowGroups, t -> {
            int pc = (t / rowGroups) * KC, kc = Math.min(KC, k - pc), i0 = (t % rowGroups) * MC;
            packA(opA, a, aOff, lda, i0, Math.min(MC, m - i0), pc, kc, aPacked, (pc / KC) * strips * KC * MR + (i0 / MR) * kc * MR);
        });
        int taskCols = Math.min(NC_MAX, Math.max(NR, ceilDiv(ceilDiv(n, 4 * Parallel.threads()), NR) * NR));
        Parallel.forEach(ceilDiv(n, taskCols), t -> {
            int j0 = t * taskCols, cols = Math.min(taskCols, n - j0), panels = ceilDiv(cols, NR);
            Workspace ws = WORKSPACE.get();
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc), blockAt = (pc / KC) * strips * KC * MR;
                boolean write = writeFirst && pc == 0;
                float[] bPacked = ws.packedB(panels * kc * NR);
                if (b16 == null) packB(opB, b, bOff, ldb, pc, kc, j0, cols, bPacked, m >= TILED_ROWS);
                else packHalfB(opB, format, b16, bOff, ldb, pc, kc, j0, cols, bPacked);
                for (int ic = 0; ic < m; ic += MC) {
                    multiplyPacked(kc, aPacked, blockAt + (ic / MR) * kc * MR, Math.min(MC, m - ic), bPacked, cols,
                            c, cOff + ic * ldc + j0, ldc, write, bias, biasOff + j0, ws);
                }
            }
        });
    }

    /**
     * C block (rows × cols at cOff) += op(A)[i0.., :]·op(B)[:, j0..], serially, with this thread's
     * buffers; with {@code writeFirst}, C = bias (when not null, from {@code biasOff}) + the product,
     * C's old values never read.
     */
    private static void multiplyBlock(Op opA, Op opB, int rows, int cols, int k,
                                      float[] a, int aOff, int lda, int i0,
                                      float[] b, Half format, MemorySegment b16, int bOff, int ldb, int j0,
                                      float[] c, int cOff, int ldc, boolean writeFirst, float[] bias, int biasOff) {
        Workspace ws = WORKSPACE.get();
        for (int jc = 0; jc < cols; jc += NC_MAX) {
            int nc = Math.min(NC_MAX, cols - jc);
            int panels = ceilDiv(nc, NR);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                boolean write = writeFirst && pc == 0;
                float[] bPacked = ws.packedB(panels * kc * NR);
                if (b16 == null) packB(opB, b, bOff, ldb, pc, kc, j0 + jc, nc, bPacked, rows >= TILED_ROWS);
                else packHalfB(opB, format, b16, bOff, ldb, pc, kc, j0 + jc, nc, bPacked);
                for (int ic = 0; ic < rows; ic += MC) {
                    int mc = Math.min(MC, rows - ic);
                    float[] aPacked = ws.packedA(ceilDiv(mc, MR) * kc * MR);
                    packA(opA, a, aOff, lda, i0 + ic, mc, pc, kc, aPacked, 0);
                    multiplyPacked(kc, aPacked, 0, mc, bPacked, nc, c, cOff + ic * ldc + jc, ldc, write, bias, biasOff + jc, ws);
                }
            }
        }
    }

    /**
     * C[mc × nc at cAt] (+)= A's packed strips (from aAt) · B's packed panels over one block of K:
     * each B panel stays in L1 while the strips stream past. With {@code write}, C = bias + product.
     */
    private static void multiplyPacked(int kc, float[] aPacked, int aAt, int mc, float[] bPacked, int nc,
                                       float[] c, int cAt, int ldc, boolean write, float[] bias, int biasAt, Workspace ws) {
        int strips = ceilDiv(mc, MR), panels = ceilDiv(nc, NR);
        for (int jr = 0; jr < panels; jr++) {
            int nr = Math.min(NR, nc - jr * NR);
            int bAt = jr * kc * NR;
            for (int ir = 0; ir < strips; ir++) {
                int mr = Math.min(MR, mc - ir * MR);
                int tileAt = cAt + ir * MR * ldc + jr * NR;
                int tileBias = biasAt + jr * NR;
                if (mr == MR && nr == NR) {
                    microKernel(kc, aPacked, aAt + ir * kc * MR, bPacked, bAt, c, tileAt, ldc, write, write ? bias : null, tileBias);
                } else {
                    float[] tile = ws.clearedTile();
                    microKernel(kc, aPacked, aAt + ir * kc * MR, bPacked, bAt, tile, 0, NR, false, null, 0);
                    for (int r = 0; r < mr; r++) {
                        for (int q = 0; q < nr; q++) {
                            int at = tileAt + r * ldc + q;
                            float start = !write ? c[at] : bias == null ? 0f : bias[tileBias + q];
                            c[at] = start + tile[r * NR + q];
                        }
                    }
                }
            }
        }
    }

    /** Packs op(B)[pc..pc+kc, j0..j0+nc] as panels [panel][p][NR], zero-padding the last panel. */
    private static void packB(Op opB, float[] b, int bOff, int ldb, int pc, int kc, int j0, int nc, float[] out, boolean inRegisters) {
        int panels = ceilDiv(nc, NR);
        for (int jr = 0; jr < panels; jr++) {
            int j = j0 + jr * NR, nr = Math.min(NR, nc - jr * NR), base = jr * kc * NR;
            if (opB == Op.N) {
                for (int p = 0; p < kc; p++) {
                    int src = bOff + (pc + p) * ldb + j, dst = base + p * NR;
                    if (nr == NR) {
                        FloatVector.fromArray(S, b, src).intoArray(out, dst);
                        FloatVector.fromArray(S, b, src + L).intoArray(out, dst + L);
                    } else {
                        System.arraycopy(b, src, out, dst, nr);
                        java.util.Arrays.fill(out, dst + nr, dst + NR, 0f);
                    }
                }
            } else {
                // op(B)(p, j) = b[j·ldb + p]: a tile of TILE values from each stored row at a time, so
                // reads stay within one cache line per row and writes within a few lines of the panel.
                if (nr < NR) java.util.Arrays.fill(out, base, base + kc * NR, 0f);
                int src = bOff + j * ldb + pc, tiled = 0;
                if (inRegisters && nr == NR && L == 16) {
                    // Whole 16 × 16 tiles transposed in registers; what is left of kc value by value below.
                    for (tiled = 0; tiled + L <= kc; tiled += L) {
                        transposeTile(b, src + tiled, ldb, out, base + tiled * NR);
                        transposeTile(b, src + L * ldb + tiled, ldb, out, base + tiled * NR + L);
                    }
                }
                for (int p0 = tiled; p0 < kc; p0 += TILE) {
                    int p1 = Math.min(kc, p0 + TILE);
                    for (int q = 0; q < nr; q++) {
                        int row = src + q * ldb;
                        for (int p = p0; p < p1; p++) out[base + p * NR + q] = b[row + p];
                    }
                }
            }
        }
    }

    /**
     * out[dst + r·NR + q] = b[src + q·ldb + r] for r, q in [0, 16): a 16 × 16 tile of stored rows transposed
     * in registers (four rounds of two-vector shuffles, each pairing rows 8, 4, 2, then 1 apart) into
     * 16 rows of a B panel. Written out in named locals: vectors in an array would be boxed.
     */
    private static void transposeTile(float[] b, int src, int ldb, float[] out, int dst) {
        FloatVector v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15;
        v0 = FloatVector.fromArray(S, b, src); v1 = FloatVector.fromArray(S, b, src + 1 * ldb);
        v2 = FloatVector.fromArray(S, b, src + 2 * ldb); v3 = FloatVector.fromArray(S, b, src + 3 * ldb);
        v4 = FloatVector.fromArray(S, b, src + 4 * ldb); v5 = FloatVector.fromArray(S, b, src + 5 * ldb);
        v6 = FloatVector.fromArray(S, b, src + 6 * ldb); v7 = FloatVector.fromArray(S, b, src + 7 * ldb);
        v8 = FloatVector.fromArray(S, b, src + 8 * ldb); v9 = FloatVector.fromArray(S, b, src + 9 * ldb);
        v10 = FloatVector.fromArray(S, b, src + 10 * ldb); v11 = FloatVector.fromArray(S, b, src + 11 * ldb);
        v12 = FloatVector.fromArray(S, b, src + 12 * ldb); v13 = FloatVector.fromArray(S, b, src + 13 * ldb);
        v14 = FloatVector.fromArray(S, b, src + 14 * ldb); v15 = FloatVector.fromArray(S, b, src + 15 * ldb);
        FloatVector w0, w8, w1, w9, w2, w10, w3, w11, w4, w12, w5, w13, w6, w14, w7, w15;
        w0 = v0.rearrange(LOW[0], v8); w8 = v0.rearrange(HIGH[0], v8);
        w1 = v1.rearrange(LOW[0], v9); w9 = v1.rearrange(HIGH[0], v9);
        w2 = v2.rearrange(LOW[0], v10); w10 = v2.rearrange(HIGH[0], v10);
        w3 = v3.rearrange(LOW[0], v11); w11 = v3.rearrange(HIGH[0], v11);
        w4 = v4.rearrange(LOW[0], v12); w12 = v4.rearrange(HIGH[0], v12);
        w5 = v5.rearrange(LOW[0], v13); w13 = v5.rearrange(HIGH[0], v13);
        w6 = v6.rearrange(LOW[0], v14); w14 = v6.rearrange(HIGH[0], v14);
        w7 = v7.rearrange(LOW[0], v15); w15 = v7.rearrange(HIGH[0], v15);
        v0 = w0.rearrange(LOW[1], w4); v4 = w0.rearrange(HIGH[1], w4);
        v1 = w1.rearrange(LOW[1], w5); v5 = w1.rearrange(HIGH[1], w5);
        v2 = w2.rearrange(LOW[1], w6); v6 = w2.rearrange(HIGH[1], w6);
        v3 = w3.rearrange(LOW[1], w7); v7 = w3.rearrange(HIGH[1], w7);
        v8 = w8.rearrange(LOW[1], w12); v12 = w8.rearrange(HIGH[1], w12);
        v9 = w9.rearrange(LOW[1], w13); v13 = w9.rearrange(HIGH[1], w13);
        v10 = w10.rearrange(LOW[1], w14); v14 = w10.rearrange(HIGH[1], w14);
        v11 = w11.rearrange(LOW[1], w15); v15 = w11.rearrange(HIGH[1], w15);
        w0 = v0.rearrange(LOW[2], v2); w2 = v0.rearrange(HIGH[2], v2);
        w1 = v1.rearrange(LOW[2], v3); w3 = v1.rearrange(HIGH[2], v3);
        w4 = v4.rearrange(LOW[2], v6); w6 = v4.rearrange(HIGH[2], v6);
        w5 = v5.rearrange(LOW[2], v7); w7 = v5.rearrange(HIGH[2], v7);
        w8 = v8.rearrange(LOW[2], v10); w10 = v8.rearrange(HIGH[2], v10);
        w9 = v9.rearrange(LOW[2], v11); w11 = v9.rearrange(HIGH[2], v11);
        w12 = v12.rearrange(LOW[2], v14); w14 = v12.rearrange(HIGH[2], v14);
        w13 = v13.rearrange(LOW[2], v15); w15 = v13.rearrange(HIGH[2], v15);
        v0 = w0.rearrange(LOW[3], w1); v1 = w0.rearrange(HIGH[3], w1);
        v2 = w2.rearrange(LOW[3], w3); v3 = w2.rearrange(HIGH[3], w3);
        v4 = w4.rearrange(LOW[3], w5); v5 = w4.rearrange(HIGH[3], w5);
        v6 = w6.rearrange(LOW[3], w7); v7 = w6.rearrange(HIGH[3], w7);
        v8 = w8.rearrange(LOW[3], w9); v9 = w8.rearrange(HIGH[3], w9);
        v10 = w10.rearrange(LOW[3], w11); v11 = w10.rearrange(HIGH[3], w11);
        v12 = w12.rearrange(LOW[3], w13); v13 = w12.rearrange(HIGH[3], w13);
        v14 = w14.rearrange(LOW[3], w15); v15 = w14.rearrange(HIGH[3], w15);
        v0.intoArray(out, dst + 0 * NR); v1.intoArray(out, dst + 1 * NR); v2.intoArray(out, dst + 2 * NR); v3.intoArray(out, dst + 3 * NR);
        v4.intoArray(out, dst + 4 * NR); v5.intoArray(out, dst + 5 * NR); v6.intoArray(out, dst + 6 * NR); v7.intoArray(out, dst + 7 * NR);
        v8.intoArray(out, dst + 8 * NR); v9.intoArray(out, dst + 9 * NR); v10.intoArray(out, dst + 10 * NR); v11.intoArray(out, dst + 11 * NR);
        v12.intoArray(out, dst + 12 * NR); v13.intoArray(out, dst + 13 * NR); v14.intoArray(out, dst + 14 * NR); v15.intoArray(out, dst + 15 * NR);
    }

    /** The shuffles of {@link #transposeTile}'s rounds: LOW[i] and HIGH[i] interleave blocks of 8 >> i lanes of two rows. */
    private static final VectorShuffle<Float>[] LOW = L == 16 ? tileShuffles(0) : null, HIGH = L == 16 ? tileShuffles(1) : null;

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] tileShuffles(int half) {
        VectorShuffle<Float>[] out = new VectorShuffle[4];
        for (int round = 0; round < 4; round++) {
            int step = 8 >> round;
            int[] lanes = new int[L];
            for (int j = 0; j < L; j++) {
                int block = j / (2 * step), lane = block * 2 * step + j % step + half * step;
                // A lane of the second row is named by an index wrapped below zero.
                lanes[j] = j % (2 * step) < step ? lane : lane - L;
            }
            out[round] = VectorShuffle.fromArray(S, lanes, 0);
        }
        return out;
    }

    /** As {@link #packB}, reading 16-bit values and widening each to the float32 it stands for. */
    private static void packHalfB(Op opB, Half format, MemorySegment b, int bOff, int ldb, int pc, int kc, int j0, int nc, float[] out) {
        int panels = ceilDiv(nc, NR);
        for (int jr = 0; jr < panels; jr++) {
            int j = j0 + jr * NR, nr = Math.min(NR, nc - jr * NR), base = jr * kc * NR;
            if (opB == Op.N) {
                for (int p = 0; p < kc; p++) {
                    int src = bOff + (pc + p) * ldb + j, dst = base + p * NR;
                    if (nr == NR) {
                        format.widen(b, src).intoArray(out, dst);
                        format.widen(b, src + L).intoArray(out, dst + L);
                    } else {
                        for (int q = 0; q < nr; q++) out[dst + q] = format.get(b, src + q);
                        java.util.Arrays.fill(out, dst + nr, dst + NR, 0f);
                    }
                }
            } else {
                if (nr < NR) java.util.Arrays.fill(out, base, base + kc * NR, 0f);
                int src = bOff + j * ldb + pc;
                for (int p0 = 0; p0 < kc; p0 += TILE) {
                    int p1 = Math.min(kc, p0 + TILE);
                    for (int q = 0; q < nr; q++) {
                        int row = src + q * ldb;
                        for (int p = p0; p < p1; p++) out[base + p * NR + q] = format.get(b, row + p);
                    }
                }
            }
        }
    }

    /** Packs op(A)[i0..i0+mc, pc..pc+kc] as strips [strip][p][MR] from out[outAt], zero-padding the last strip. */
    private static void packA(Op opA, float[] a, int aOff, int lda, int i0, int mc, int pc, int kc, float[] out, int outAt) {
        int strips = ceilDiv(mc, MR);
        for (int ir = 0; ir < strips; ir++) {
            int i = i0 + ir * MR, mr = Math.min(MR, mc - ir * MR), base = outAt + ir * kc * MR;
            if (opA == Op.N && mr == MR) {
                // The strip's eight rows read side by side, each in order, into consecutive values of out.
                int r0 = aOff + i * lda + pc, r1 = r0 + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda, r6 = r5 + lda, r7 = r6 + lda;
                for (int p = 0, o = base; p < kc; p++, o += MR) {
                    out[o] = a[r0 + p]; out[o + 1] = a[r1 + p]; out[o + 2] = a[r2 + p]; out[o + 3] = a[r3 + p];
                    out[o + 4] = a[r4 + p]; out[o + 5] = a[r5 + p]; out[o + 6] = a[r6 + p]; out[o + 7] = a[r7 + p];
                }
            } else if (opA == Op.N) {
                // A last, partial strip: a cache line of each stored row at a time.
                if (mr < MR) java.util.Arrays.fill(out, base, base + kc * MR, 0f);
                int src = aOff + i * lda + pc;
                for (int p0 = 0; p0 < kc; p0 += TILE) {
                    int p1 = Math.min(kc, p0 + TILE);
                    for (int r = 0; r < mr; r++) {
                        int row = src + r * lda;
                        for (int p = p0; p < p1; p++) out[base + p * MR + r] = a[row + p];
                    }
                }
            } else {
                // op(A)(i, p) = a[p·lda + i]: the MR values of one p are contiguous in storage.
                for (int p = 0; p < kc; p++) {
                    int src = aOff + (pc + p) * lda + i, dst = base + p * MR;
                    if (mr == MR && STRIP_IN_ONE) {
                        FloatVector.fromArray(STRIP, a, src).intoArray(out, dst);
                    } else {
                        System.arraycopy(a, src, out, dst, mr);
                        java.util.Arrays.fill(out, dst + mr, dst + MR, 0f);
                    }
                }
            }
        }
    }

    /**
     * C[MR×NR at cAt, row stride ldc] += A strip [kc][MR] · B panel [kc][NR]. Sixteen accumulators
     * in named locals (not an array) so that they stay in registers.
     */
    private static void microKernel(int kc, float[] ap, int aAt, float[] bp, int bAt, float[] c, int cAt, int ldc,
                                    boolean write, float[] bias, int biasAt) {
        FloatVector c0a = FloatVector.zero(S), c0b = FloatVector.zero(S);
        FloatVector c1a = FloatVector.zero(S), c1b = FloatVector.zero(S);
        FloatVector c2a = FloatVector.zero(S), c2b = FloatVector.zero(S);
        FloatVector c3a = FloatVector.zero(S), c3b = FloatVector.zero(S);
        FloatVector c4a = FloatVector.zero(S), c4b = FloatVector.zero(S);
        FloatVector c5a = FloatVector.zero(S), c5b = FloatVector.zero(S);
        FloatVector c6a = FloatVector.zero(S), c6b = FloatVector.zero(S);
        FloatVector c7a = FloatVector.zero(S), c7b = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bAt + p * NR, ai = aAt + p * MR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector x;
            x = FloatVector.broadcast(S, ap[ai]);     c0a = x.fma(b0, c0a); c0b = x.fma(b1, c0b);
            x = FloatVector.broadcast(S, ap[ai + 1]); c1a = x.fma(b0, c1a); c1b = x.fma(b1, c1b);
            x = FloatVector.broadcast(S, ap[ai + 2]); c2a = x.fma(b0, c2a); c2b = x.fma(b1, c2b);
            x = FloatVector.broadcast(S, ap[ai + 3]); c3a = x.fma(b0, c3a); c3b = x.fma(b1, c3b);
            x = FloatVector.broadcast(S, ap[ai + 4]); c4a = x.fma(b0, c4a); c4b = x.fma(b1, c4b);
            x = FloatVector.broadcast(S, ap[ai + 5]); c5a = x.fma(b0, c5a); c5b = x.fma(b1, c5b);
            x = FloatVector.broadcast(S, ap[ai + 6]); c6a = x.fma(b0, c6a); c6b = x.fma(b1, c6b);
            x = FloatVector.broadcast(S, ap[ai + 7]); c7a = x.fma(b0, c7a); c7b = x.fma(b1, c7b);
        }
        // Written out rather than in a helper: a helper taking vectors would box them. Each row of C
        // starts from its old values, or (writing) from the bias or zero, without reading C.
        FloatVector startA = FloatVector.zero(S), startB = startA;
        if (write && bias != null) {
            startA = FloatVector.fromArray(S, bias, biasAt);
            startB = FloatVector.fromArray(S, bias, biasAt + L);
        }
        int r = cAt;
        if (write) {
            startA.add(c0a).intoArray(c, r); startB.add(c0b).intoArray(c, r + L); r += ldc;
            startA.add(c1a).intoArray(c, r); startB.add(c1b).intoArray(c, r + L); r += ldc;
            startA.add(c2a).intoArray(c, r); startB.add(c2b).intoArray(c, r + L); r += ldc;
            startA.add(c3a).intoArray(c, r); startB.add(c3b).intoArray(c, r + L); r += ldc;
            startA.add(c4a).intoArray(c, r); startB.add(c4b).intoArray(c, r + L); r += ldc;
            startA.add(c5a).intoArray(c, r); startB.add(c5b).intoArray(c, r + L); r += ldc;
            startA.add(c6a).intoArray(c, r); startB.add(c6b).intoArray(c, r + L); r += ldc;
            startA.add(c7a).intoArray(c, r); startB.add(c7b).intoArray(c, r + L);
            return;
        }
        FloatVector.fromArray(S, c, r).add(c0a).intoArray(c, r); FloatVector.fromArray(S, c, r + L).add(c0b).intoArray(c, r + L);
        r += ldc;
        FloatVector.fromArray(S, c, r).add(c1a).intoArray(c, r); FloatVector.fromArray(S, c, r + L).add(c1b).intoArray(c, r + L);
        r += ldc;
        FloatVector.fromArray(S, c, r).add(c2a).intoArray(c, r); FloatVector.fromArray(S, c, r + L).add(c2b).intoArray(c, r + L);
        r += ldc;
        FloatVector.fromArray(S, c, r).add(c3a).intoArray(c, r); FloatVector.fromArray(S, c, r + L).add(c3b).intoArray(c, r + L);
        r += ldc;
        FloatVector.fromArray(S, c, r).add(c4a).intoArray(c, r); FloatVector.fromArray(S, c, r + L).add(c4b).intoArray(c, r + L);
        r += ldc;
        FloatVector.fromArray(S, c, r).add(c5a).intoArray(c, r); FloatVector.fromArray(S, c, r + L).add(c5b).intoArray(c, r + L);
        r += ldc;
        FloatVector.fromArray(S, c, r).add(c6a).intoArray(c, r); FloatVector.fromArray(S, c, r + L).add(c6b).intoArray(c, r + L);
        r += ldc;
        FloatVector.fromArray(S, c, r).add(c7a).intoArray(c, r); FloatVector.fromArray(S, c, r + L).add(c7b).intoArray(c, r + L);
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Per-thread packing buffers, grown on demand and reused across calls. */
    private static final class Workspace {
        private float[] a = new float[0], b = new float[0];
        private final float[] tile = new float[MR * NR];

        float[] packedA(int size) {
            if (a.length < size) a = new float[size];
            return a;
        }

        private float[] sharedA = new float[0];

        /** A packing of A that every thread reads, held by the thread that asked for the product. */
        float[] sharedA(int size) {
            if (sharedA.length < size) sharedA = new float[size];
            return sharedA;
        }

        float[] packedB(int size) {
            if (b.length < size) b = new float[size];
            return b;
        }

        private float[][] partials = new float[0][];

        /** {@code count} buffers of at least {@code size} floats each, for the slices of a split K. */
        float[][] partials(int count, int size) {
            if (partials.length < count || partials[0].length < size) {
                partials = new float[Math.max(count, partials.length)][Math.max(size, partials.length == 0 ? 0 : partials[0].length)];
            }
            return partials;
        }

        float[] clearedTile() {
            java.util.Arrays.fill(tile, 0f);
            return tile;
        }
    }
}
