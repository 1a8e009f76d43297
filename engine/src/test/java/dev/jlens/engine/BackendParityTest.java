package dev.jlens.engine;

import static dev.jlens.testkit.Close.assertCloseToScale;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.jlens.kernels.AdamWUpdate;
import dev.jlens.kernels.CausalMask;
import dev.jlens.kernels.Gelu;
import dev.jlens.kernels.Rotary;
import dev.jlens.kernels.cuda.CudaDriver;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every operation of every backend against {@link ReferenceBackend}, the plain scalar one: the same
 * call on copies of random inputs of awkward sizes, every argument (outputs included) equal after,
 * to a tolerance relative to its largest value. The CPU backend always; the CUDA backend where an
 * NVIDIA GPU answers.
 */
class BackendParityTest {
    private final Backend reference = ReferenceBackend.INSTANCE;
    private final SplittableRandom rng = new SplittableRandom(11);

    static List<Backend> backends() {
        List<Backend> all = new ArrayList<>(List.of(CpuBackend.INSTANCE));
        if (CudaDriver.probe().available()) all.add(Backend.of(Device.CUDA));
        return all;
    }

    /** Runs {@code op} on reference copies and on {@code candidate}'s copies of {@code inputs}; every argument must agree after. */
    private void same(Backend candidate, double tolerance, BiConsumer<Backend, Tensor[]> op, Tensor... inputs) {
        Tensor[] expected = new Tensor[inputs.length], actual = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            expected[i] = inputs[i] == null ? null : Tensor.of(inputs[i].data().clone(), inputs[i].shape());
            actual[i] = inputs[i] == null ? null : candidate.place(Tensor.of(inputs[i].data().clone(), inputs[i].shape()));
        }
        op.accept(reference, expected);
        op.accept(candidate, actual);
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null) continue;
            assertEquals(candidate.device() == Device.CUDA, actual[i].isOnDevice(), "argument " + i + " stayed where the backend computes");
            assertCloseToScale(expected[i].data(), actual[i].data(), tolerance, "argument " + i);
        }
    }

    /**
     * As {@link #same}, with input {@code weights} held as {@code type} by the candidate and as the
     * same rounded values in float32 by the reference: the kernels that read 16-bit weights must
     * give what float32 weights of those values give, and (on the CPU) leave the weights 16-bit.
     */
    private void sameWithWeights(DataType type, Backend candidate, double tolerance, BiConsumer<Backend, Tensor[]> op, int weights, Tensor... inputs) {
        inputs[weights].convertTo(type);
        inputs[weights].convertTo(DataType.FLOAT32);
        Tensor[] expected = new Tensor[inputs.length], actual = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            expected[i] = inputs[i] == null ? null : Tensor.of(inputs[i].data().clone(), inputs[i].shape());
            actual[i] = inputs[i] == null ? null : Tensor.of(inputs[i].data().clone(), inputs[i].shape());
        }
        actual[weights].convertTo(type);
        op.accept(reference, expected);
        op.accept(candidate, actual);
        if (candidate.device() == Device.CPU) assertEquals(type, actual[weights].dtype(), "the weights stay " + type);
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] != null) assertCloseToScale(expected[i].data(), actual[i].data(), tolerance, "argument " + i);
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void sixteenBitWeightsInProductsRowCopiesAndEmbeddings(Backend candidate) {
        int m = 37, n = 53, k = 29;
        for (DataType type : new DataType[] {DataType.BFLOAT16, DataType.FLOAT16}) {
            for (int rows : new int[] {1, m}) {
                for (boolean tb : new boolean[] {false, true}) {
                    int lda = k + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
                    sameWithWeights(type, candidate, 1e-5, (ops, t) -> ops.matmul(view(t[0], 3, rows, k, lda, false), view(t[1], 2, k, n, ldb, tb), t[3],
                            Matrix.of(t[2], 4, rows, n, ldc)), 1, random(1, 3 + rows * lda), random(1, 2 + (tb ? n : k) * ldb), random(1, 4 + rows * ldc), random(1, n));
                    sameWithWeights(type, candidate, 1e-5, (ops, t) -> ops.matmulAdd(view(t[0], 3, rows, k, lda, false), view(t[1], 2, k, n, ldb, tb),
                            Matrix.of(t[2], 4, rows, n, ldc)), 1, random(1, 3 + rows * lda), random(1, 2 + (tb ? n : k) * ldb), random(1, 4 + rows * ldc));
                }
            }
            sameWithWeights(type, candidate, 1e-5, (ops, t) -> ops.matvec(Matrix.of(t[0], 5, 41, 67, 70), t[1], t[2]), 0, random(1, 5 + 41 * 70), random(1, 67), random(1, 41));
            sameWithWeights(type, candidate, 0, (ops, t) -> ops.copyRows(Matrix.of(t[0], 2, 7, 13, 17), Matrix.of(t[1], 1, 7, 13, 19)), 0, random(1, 2 + 7 * 17), random(1, 1 + 7 * 19));
            int[] tokens = {4, 0, 9, 4, 4, 7, 2};
            sameWithWeights(type, candidate, 0, (ops, x) -> ops.embed(x[0], tokens, x[1]), 0, random(1, 10, 24), random(1, tokens.length, 24));
        }
    }

    private Tensor random(double scale, int... shape) {
        float[] v = new float[Tensor.checkedSize(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * scale);
        return Tensor.of(v, shape);
    }

    /** A view of {@code t} as rows × cols from offset, ld apart, read transposed when asked (then it stores cols × rows). */
    private static Matrix view(Tensor t, int offset, int rows, int cols, int ld, boolean transposed) {
        return transposed ? Matrix.of(t, offset, cols, rows, ld).t() : Matrix.of(t, offset, rows, cols, ld);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void matmulInEveryFormWithOffsetsLeadingDimensionsBiasAndAccumulation(Backend candidate) {
        int m = 37, n = 53, k = 29;
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
                Tensor a = random(1, 3 + (ta ? k : m) * lda), b = random(1, 2 + (tb ? n : k) * ldb);
                Tensor c = random(1, 4 + m * ldc), bias = random(1, n);
                BiConsumer<Backend, Tensor[]> plain = (ops, t) -> ops.matmul(view(t[0], 3, m, k, lda, ta), view(t[1], 2, k, n, ldb, tb), null,
                        Matrix.of(t[2], 4, m, n, ldc));
                same(candidate, 1e-5, plain, a, b, c);
                same(candidate, 1e-5, (ops, t) -> ops.matmul(view(t[0], 3, m, k, lda, ta), view(t[1], 2, k, n, ldb, tb), t[3],
                        Matrix.of(t[2], 4, m, n, ldc)), a, b, c, bias);
                same(candidate, 1e-5, (ops, t) -> ops.matmulAdd(view(t[0], 3, m, k, lda, ta), view(t[1], 2, k, n, ldb, tb),
                        Matrix.of(t[2], 4, m, n, ldc)), a, b, c);
            }
        }
        same(candidate, 1e-5, (ops, t) -> ops.matvec(Matrix.of(t[0], 5, 41, 67, 70), t[1], t[2]), random(1, 5 + 41 * 70), random(1, 67), random(1, 41));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void elementwiseAndRowOperations(Backend candidate) {
        same(candidate, 1e-6, (current, t) -> current.add(t[0], 3, t[1], 5, 1000), random(1, 1003), random(1, 1005));
        same(candidate, 0, (current, t) -> current.copyRows(Matrix.of(t[0], 2, 7, 13, 17), Matrix.of(t[1], 1, 7, 13, 19)), random(1, 2 + 7 * 17), random(1, 1 + 7 * 19));
        same(candidate, 1e-6, (current, t) -> current.addRows(Matrix.of(t[0], 2, 7, 13, 17), Matrix.of(t[1], 1, 7, 13, 19)), random(1, 2 + 7 * 17), random(1, 1 + 7 * 19));
        same(candidate, 0, (current, t) -> current.copyRows(Matrix.of(t[0], 2, 7, 13, 0), Matrix.of(t[1], 1, 7, 13, 19)), random(1, 15), random(1, 1 + 7 * 19));
        same(candidate, 1e-5, (current, t) -> current.sumRows(Matrix.of(t[0], 2, 33, 39, 41), t[1]), random(1, 2 + 33 * 41), random(1, 39));
        same(candidate, 0, (current, t) -> current.reciprocal(t[0], t[1]), random(1, 301), random(1, 301));
        same(candidate, 0, (current, t) -> current.scale(t[0], 0.37f), random(1, 1001));
        same(candidate, 0, (current, t) -> current.zero(t[0]), random(1, 999));
        Tensor a = random(1, 5, 7), b = random(1, 5, 7);
        assertArrayEquals(reference.sum(a, b).data(), candidate.sum(candidate.copy(candidate.place(a.copy())), b).data());
        double squares = reference.sumOfSquares(List.of(a, b));
        assertEquals(squares, candidate.sumOfSquares(List.of(candidate.place(a.copy()), candidate.place(b.copy()))), 1e-9 * squares);
    }

    @ParameterizedTest
    @MethodSource("backends")
    void layerNormForwardAndBackwardWithAndWithoutItsWeights(Backend candidate) {
        int rows = 19, width = 300;
        for (boolean affine : new boolean[] {true, false}) {
            Tensor x = random(2, rows, width), w = affine ? random(1, width) : null, b = affine ? random(1, width) : null;
            same(candidate, 1e-5, (current, t) -> {
                current.layerNormStatistics(t[0], t[1], t[2], rows, width, 1e-5f);
                current.layerNormNormalize(t[0], t[3], t[4], t[5], t[1], t[2], rows, width);
            }, x, random(1, rows), random(1, rows), random(1, rows, width), w, b);
            Tensor mean = Tensor.zeros(rows), rstd = Tensor.zeros(rows);
            reference.layerNormStatistics(x, mean, rstd, rows, width, 1e-5f);
            same(candidate, 1e-4, (current, t) -> {
                current.layerNormBackwardToScale(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], rows, width);
                current.layerNormBackwardFromScale(t[0], t[3], t[5], t[7], t[8], rows, width);
            }, random(1, rows, width), affine ? random(1, width) : null, affine ? random(1, width) : null, random(1, rows),
                    random(1, rows, width), x, w, mean, rstd);
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void rmsNormStepsAndElementwiseProducts(Backend candidate) {
        int rows = 19, width = 300;
        Tensor x = random(2, rows, width), rstd = Tensor.zeros(rows);
        same(candidate, 1e-6, (current, t) -> current.rmsNormStatistics(t[0], t[1], rows, width, 1e-6f), x, random(1, rows));
        reference.rmsNormStatistics(x, rstd, rows, width, 1e-6f);
        same(candidate, 1e-5, (current, t) -> current.rmsNormBackwardFromScale(t[0], t[1], t[2], t[3], rows, width),
                random(1, rows, width), random(1, rows), x, rstd);
        same(candidate, 0, (current, t) -> current.multiply(t[0], t[1], t[2]), random(1, 1001), random(1, 1001), random(1, 1001));
        same(candidate, 0, (current, t) -> current.multiplyRows(t[0], t[1], t[2], rows, width), x, random(1, width), random(1, rows, width));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void activationsIntoTheirFarTails(Backend candidate) {
        Tensor x = random(1, 4001);
        for (int i = 0; i < 40; i++) x.data()[i] = -20 + i; // e^(−2u) overflows float below about −9
        for (Gelu.Kind kind : Gelu.Kind.values()) {
            same(candidate, 1e-5, (current, t) -> current.gelu(kind, t[0], t[1]), x, random(1, 4001));
            same(candidate, 1e-5, (current, t) -> current.geluBackward(kind, t[0], t[1], t[2]), x, random(1, 4001), random(1, 4001));
        }
        same(candidate, 1e-5, (current, t) -> current.silu(t[0], t[1]), x, random(1, 4001));
        same(candidate, 1e-5, (current, t) -> current.siluBackward(t[0], t[1], t[2]), x, random(1, 4001), random(1, 4001));
        same(candidate, 1e-5, (current, t) -> current.softCap(t[0], t[1], 0.7f), x, random(1, 4001));
        same(candidate, 1e-5, (current, t) -> current.softCapBackward(t[0], t[1], t[2], 30f), x, random(1, 4001), random(1, 4001));
        same(candidate, 1e-5, (current, t) -> current.solu(t[0], t[1], 13, 517), random(3, 13, 517), random(1, 13, 517));
        same(candidate, 1e-5, (current, t) -> current.soluBackward(t[0], t[1], t[2], 13, 517), random(3, 13, 517), random(1, 13, 517), random(1, 13, 517));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void rotaryOnPartOfEachHead(Backend candidate) {
        int b = 2, t = 9, h = 3, d = 16;
        Rotary.Table table = Rotary.Table.of(12, 32, 10000);
        same(candidate, 1e-6, (current, x) -> current.rotary(table, x[0], x[1], null, b, t, h, d), random(1, b, t, h, d), random(1, b, t, h, d));
        same(candidate, 1e-6, (current, x) -> current.rotaryBackward(table, x[0], x[1], null, b, t, h, d), random(1, b, t, h, d), random(1, b, t, h, d));
        if (candidate instanceof CudaBackend) return; // positions of their own run on the CPU only
        int[] positions = new int[b * t];
        for (int i = 0; i < positions.length; i++) positions[i] = rng.nextInt(32);
        same(candidate, 1e-6, (current, x) -> current.rotary(table, x[0], x[1], positions, b, t, h, d), random(1, b, t, h, d), random(1, b, t, h, d));
        same(candidate, 1e-6, (current, x) -> current.rotaryBackward(table, x[0], x[1], positions, b, t, h, d), random(1, b, t, h, d), random(1, b, t, h, d));
    }

    /**
     * Square causal; with a sliding window; queries after cached keys with left padding (one query
     * seeing no key), and with a window too; read from a cache of grouped key/value heads (forward only).
     */
    static List<CausalMask> masks() {
        return List.of(CausalMask.causal(2, 3, 33), new CausalMask(2, 3, 33, 33, null, 5),
                new CausalMask(2, 3, 7, 33, new int[] {0, 27}, 0), new CausalMask(2, 3, 7, 33, new int[] {4, 11}, 9),
                new CausalMask(2, 4, 1, 30, new int[] {0, 3}, 0, 2, 37), new CausalMask(2, 6, 5, 30, null, 8, 3, 30));
    }

    @ParameterizedTest
    @MethodSource("backends")
    void attentionStepsForwardAndBackward(Backend candidate) {
        for (CausalMask m : masks()) {
            if (candidate instanceof CudaBackend && !m.square()) continue; // left padding and caches run on the CPU only
            int b = m.batch(), tq = m.queries(), tk = m.keys(), h = m.heads(), d = 8;
            float scale = (float) (1 / Math.sqrt(d));
            Tensor q = random(1, b, tq, h, d), k = random(1, b, m.keyRows(), m.kvHeads(), d), v = random(1, b, m.keyRows(), m.kvHeads(), d);
            same(candidate, 1e-5, (current, x) -> {
                current.attentionScores(x[0], x[1], x[3], m, d, scale);
                current.attentionPattern(x[3], x[4], m);
                current.attentionMix(x[4], x[2], x[5], m, d);
            }, q, k, v, random(1, b, h, tq, tk), random(1, b, h, tq, tk), random(1, b, tq, h, d));
            if (!m.plainKeys()) continue; // a backward never runs through a cache
            Tensor scores = Tensor.zeros(b, h, tq, tk), pattern = Tensor.zeros(b, h, tq, tk);
            reference.attentionScores(q, k, scores, m, d, scale);
            reference.attentionPattern(scores, pattern, m);
            same(candidate, 1e-5, (current, x) -> {
                current.attentionMixBackward(x[0], x[1], x[2], x[3], x[4], m, d);
                current.attentionPatternBackward(x[1], x[3], x[5], m);
                current.attentionScoresBackward(x[5], x[6], x[7], x[8], x[9], m, d, scale);
            }, random(1, b, tq, h, d), pattern, v, random(1, b, h, tq, tk), random(1, b, tk, h, d), random(1, b, h, tq, tk), q, k,
                    random(1, b, tq, h, d), random(1, b, tk, h, d));
        }
    }

    /** The reference itself: a pattern row sums to 1 over exactly the keys its query sees, and to 0 where it sees none. */
    @org.junit.jupiter.api.Test
    void referencePatternsSeeExactlyTheMaskedKeys() {
        for (CausalMask m : masks()) {
            Tensor scores = Tensor.zeros(m.batch(), m.heads(), m.queries(), m.keys()), pattern = Tensor.zeros(scores.shape());
            reference.attentionScores(random(1, m.batch(), m.queries(), m.heads(), 4), random(1, m.batch(), m.keyRows(), m.kvHeads(), 4), scores, m, 4, 0.5f);
            reference.attentionPattern(scores, pattern, m);
            for (int n = 0; n < m.batch(); n++) for (int head = 0; head < m.heads(); head++) for (int i = 0; i < m.queries(); i++) {
                double sum = 0;
                for (int j = 0; j < m.keys(); j++) {
                    float p = pattern.get(n, head, i, j);
                    boolean seen = j >= m.first(n, i) && j <= m.last(i);
                    if (!seen) assertEquals(0f, p);
                    else org.junit.jupiter.api.Assertions.assertTrue(p > 0);
                    sum += p;
                }
                assertEquals(m.first(n, i) <= m.last(i) ? 1.0 : 0.0, sum, 1e-5);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("backends")
    void embeddingCrossEntropyAndAdamw(Backend candidate) {
        int[] tokens = {4, 0, 9, 4, 4, 7, 2};
        same(candidate, 0, (current, x) -> current.embed(x[0], tokens, x[1]), random(1, 10, 24), random(1, tokens.length, 24));
        same(candidate, 1e-6, (current, x) -> current.embedBackward(x[0], tokens, x[1]), random(1, tokens.length, 24), random(1, 10, 24));

        int[] targets = {3, -1, 999, 0, -1, 517};
        Tensor logits = random(4, targets.length, 1000);
        Tensor expectedGrad = Tensor.zeros(targets.length, 1000), actualGrad = candidate.zeros(targets.length, 1000);
        double[] expectedLoss = reference.crossEntropy(logits, targets, 0.25f, expectedGrad);
        double[] actualLoss = candidate.crossEntropy(candidate.copy(candidate.place(logits.copy())), targets, 0.25f, actualGrad);
        for (int r = 0; r < targets.length; r++) assertEquals(expectedLoss[r], actualLoss[r], 1e-5 * Math.max(1, expectedLoss[r]), "row " + r);
        assertCloseToScale(expectedGrad.data(), actualGrad.data(), 1e-5, "cross-entropy gradient");

        AdamWUpdate.Step step = new AdamWUpdate.Step(0.9f, 0.95f, 0.19f, 0.0975f, 1e-8f, 0.1f, 0.01f);
        Tensor secondMoment = random(0.1, 1037);
        for (int i = 0; i < secondMoment.size(); i++) secondMoment.data()[i] = Math.abs(secondMoment.data()[i]);
        same(candidate, 1e-5, (current, x) -> current.adamw(x[0], x[1], x[2], x[3], step), random(1, 1037), random(1, 1037), random(0.1, 1037), secondMoment);
    }
}
