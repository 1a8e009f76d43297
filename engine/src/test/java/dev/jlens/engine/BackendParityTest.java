package dev.jlens.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.jlens.kernels.AdamWUpdate;
import dev.jlens.kernels.Gelu;
import dev.jlens.kernels.Gemm.Op;
import dev.jlens.kernels.Rotary;
import dev.jlens.kernels.cuda.CudaDriver;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.Test;

/**
 * Every GPU kernel against the CPU kernel of the same contract (itself tested against a scalar
 * reference), on random inputs of awkward sizes: the same call on both backends, outputs equal to
 * 1e-5 relative. Runs only where an NVIDIA GPU answers; skipped elsewhere.
 */
@EnabledIf(value = "gpuPresent", disabledReason = "no NVIDIA GPU answers here")
class BackendParityTest {
    private static Backend gpu;
    private final Backend cpu = CpuBackend.INSTANCE;
    private final SplittableRandom rng = new SplittableRandom(11);

    static boolean gpuPresent() {
        return CudaDriver.probe().available();
    }

    @BeforeAll
    static void startTheGpu() {
        gpu = Backend.of(Device.CUDA);
    }

    /** Runs {@code op} on CPU copies and GPU copies of {@code inputs}; every input (outputs included) must agree after. */
    private void same(double tolerance, Consumer<Tensor[]> op, Tensor... inputs) {
        Tensor[] onCpu = new Tensor[inputs.length], onGpu = new Tensor[inputs.length];
        for (int i = 0; i < inputs.length; i++) {
            onCpu[i] = inputs[i] == null ? null : Tensor.of(inputs[i].data().clone(), inputs[i].shape());
            onGpu[i] = inputs[i] == null ? null : gpu.place(Tensor.of(inputs[i].data().clone(), inputs[i].shape()));
        }
        op.accept(onCpu);
        Backend saved = current;
        current = gpu;
        op.accept(onGpu);
        current = saved;
        for (int i = 0; i < inputs.length; i++) {
            if (inputs[i] == null) continue;
            assertTrue(onGpu[i].isOnDevice(), "argument " + i + " stayed on the GPU");
            assertClose(onCpu[i].data(), onGpu[i].data(), tolerance, "argument " + i);
        }
    }

    /** The backend the op under test runs on: set by {@link #same}. */
    private Backend current = CpuBackend.INSTANCE;

    private Tensor random(double scale, int... shape) {
        float[] v = new float[Tensor.checkedSize(shape)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * scale);
        return Tensor.of(v, shape);
    }

    @Test
    void gemmInEveryFormWithOffsetsLeadingDimensionsBiasAndAccumulation() {
        int m = 37, n = 53, k = 29;
        for (Op opA : Op.values()) {
            for (Op opB : Op.values()) {
                for (boolean accumulate : new boolean[] {false, true}) {
                    int lda = (opA == Op.N ? k : m) + 3, ldb = (opB == Op.N ? n : k) + 5, ldc = n + 2;
                    Tensor a = random(1, 3 + (opA == Op.N ? m : k) * lda), b = random(1, 2 + (opB == Op.N ? k : n) * ldb);
                    Tensor c = random(1, 4 + m * ldc), bias = random(1, n + 1);
                    same(1e-5, t -> current.gemm(opA, opB, m, n, k, t[0], 3, lda, t[1], 2, ldb, t[2], 4, ldc, accumulate, t[3], 1),
                            a, b, c, bias);
                    same(1e-5, t -> current.gemm(opA, opB, m, n, k, t[0], 3, lda, t[1], 2, ldb, t[2], 4, ldc, accumulate, null, 0), a, b, c);
                }
            }
        }
    }

    @Test
    void elementwiseAndRowOperations() {
        same(0, t -> current.add(t[0], 3, t[1], 5, 1000), random(1, 1003), random(1, 1005));
        same(0, t -> current.copyRows(7, 13, t[0], 2, 17, t[1], 1, 19, false), random(1, 2 + 7 * 17), random(1, 1 + 7 * 19));
        same(0, t -> current.copyRows(7, 13, t[0], 2, 17, t[1], 1, 19, true), random(1, 2 + 7 * 17), random(1, 1 + 7 * 19));
        same(0, t -> current.copyRows(7, 13, t[0], 2, 0, t[1], 1, 19, false), random(1, 15), random(1, 1 + 7 * 19));
        same(1e-5, t -> current.sumRows(t[0], 2, 41, 33, 39, t[1], 1), random(1, 2 + 33 * 41), random(1, 40));
        same(0, t -> current.reciprocal(t[0], t[1]), random(1, 301), random(1, 301));
        same(0, t -> current.scale(t[0], 0.37f), random(1, 1001));
        same(0, t -> current.zero(t[0]), random(1, 999));
        Tensor a = random(1, 5, 7), b = random(1, 5, 7);
        assertArrayEquals(cpu.sum(a, b).data(), gpu.sum(gpu.copy(a), b).data());
        double squares = cpu.sumOfSquares(java.util.List.of(a, b));
        assertEquals(squares, gpu.sumOfSquares(java.util.List.of(gpu.place(a.copy()), gpu.place(b.copy()))), 1e-9 * squares);
    }

    @Test
    void layerNormForwardAndBackwardWithAndWithoutItsWeights() {
        int rows = 19, width = 300;
        for (boolean affine : new boolean[] {true, false}) {
            Tensor x = random(2, rows, width), w = affine ? random(1, width) : null, b = affine ? random(1, width) : null;
            same(1e-5, t -> {
                current.layerNormStatistics(t[0], t[1], t[2], rows, width, 1e-5f);
                current.layerNormNormalize(t[0], t[3], t[4], t[5], t[1], t[2], rows, width);
            }, x, random(1, rows), random(1, rows), random(1, rows, width), w, b);
            Tensor mean = Tensor.zeros(rows), rstd = Tensor.zeros(rows);
            cpu.layerNormStatistics(x, mean, rstd, rows, width, 1e-5f);
            same(1e-4, t -> {
                current.layerNormBackwardToScale(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], rows, width);
                current.layerNormBackwardFromScale(t[0], t[3], t[5], t[7], t[8], rows, width);
            }, random(1, rows, width), affine ? random(1, width) : null, affine ? random(1, width) : null, random(1, rows),
                    random(1, rows, width), x, w, mean, rstd);
        }
    }

    @Test
    void activationsIntoTheirFarTails() {
        Tensor x = random(1, 4001);
        for (int i = 0; i < 40; i++) x.data()[i] = -20 + i; // e^(−2u) overflows float below about −9
        for (Gelu.Kind kind : Gelu.Kind.values()) {
            same(1e-5, t -> current.gelu(kind, t[0], t[1]), x, random(1, 4001));
            same(1e-5, t -> current.geluBackward(kind, t[0], t[1], t[2]), x, random(1, 4001), random(1, 4001));
        }
        same(1e-5, t -> current.solu(t[0], t[1], 13, 517), random(3, 13, 517), random(1, 13, 517));
        same(1e-5, t -> current.soluBackward(t[0], t[1], t[2], 13, 517), random(3, 13, 517), random(1, 13, 517), random(1, 13, 517));
    }

    @Test
    void rotaryOnPartOfEachHead() {
        int b = 2, t = 9, h = 3, d = 16;
        Rotary.Table table = Rotary.Table.of(12, 32, 10000);
        same(1e-6, x -> current.rotary(table, x[0], x[1], b, t, h, d), random(1, b, t, h, d), random(1, b, t, h, d));
        same(1e-6, x -> current.rotaryBackward(table, x[0], x[1], b, t, h, d), random(1, b, t, h, d), random(1, b, t, h, d));
    }

    @Test
    void attentionStepsForwardAndBackward() {
        int b = 2, t = 33, h = 3, d = 8;
        float scale = (float) (1 / Math.sqrt(d));
        Tensor q = random(1, b, t, h, d), k = random(1, b, t, h, d), v = random(1, b, t, h, d);
        same(1e-5, x -> {
            current.attentionScores(x[0], x[1], x[3], b, t, h, d, scale);
            current.attentionPattern(x[3], x[4], b, t, h);
            current.attentionMix(x[4], x[2], x[5], b, t, h, d);
        }, q, k, v, random(1, b, h, t, t), random(1, b, h, t, t), random(1, b, t, h, d));
        Tensor scores = Tensor.zeros(b, h, t, t), pattern = Tensor.zeros(b, h, t, t);
        cpu.attentionScores(q, k, scores, b, t, h, d, scale);
        cpu.attentionPattern(scores, pattern, b, t, h);
        same(1e-5, x -> {
            current.attentionMixBackward(x[0], x[1], x[2], x[3], x[4], b, t, h, d);
            current.attentionPatternBackward(x[1], x[3], x[5], b, t, h);
            current.attentionScoresBackward(x[5], x[6], x[7], x[8], x[9], b, t, h, d, scale);
        }, random(1, b, t, h, d), pattern, v, random(1, b, h, t, t), random(1, b, t, h, d), random(1, b, h, t, t), q, k,
                random(1, b, t, h, d), random(1, b, t, h, d));
    }

    @Test
    void embeddingCrossEntropyAndAdamw() {
        int[] tokens = {4, 0, 9, 4, 4, 7, 2};
        same(0, x -> current.embed(x[0], tokens, x[1]), random(1, 10, 24), random(1, tokens.length, 24));
        same(1e-6, x -> current.embedBackward(x[0], tokens, x[1]), random(1, tokens.length, 24), random(1, 10, 24));

        int[] targets = {3, -1, 999, 0, -1, 517};
        Tensor logits = random(4, targets.length, 1000);
        Tensor gradCpu = Tensor.zeros(targets.length, 1000), gradGpu = gpu.zeros(targets.length, 1000);
        double[] lossCpu = cpu.crossEntropy(logits, targets, 0.25f, gradCpu);
        double[] lossGpu = gpu.crossEntropy(gpu.copy(gpu.place(logits.copy())), targets, 0.25f, gradGpu);
        for (int r = 0; r < targets.length; r++) assertEquals(lossCpu[r], lossGpu[r], 1e-5 * Math.max(1, lossCpu[r]), "row " + r);
        assertClose(gradCpu.data(), gradGpu.data(), 1e-5, "cross-entropy gradient");

        AdamWUpdate.Step step = new AdamWUpdate.Step(0.9f, 0.95f, 0.19f, 0.0975f, 1e-8f, 0.1f, 0.01f);
        Tensor secondMoment = random(0.1, 1037);
        for (int i = 0; i < secondMoment.size(); i++) secondMoment.data()[i] = Math.abs(secondMoment.data()[i]);
        same(1e-5, x -> current.adamw(x[0], x[1], x[2], x[3], step), random(1, 1037), random(1, 1037), random(0.1, 1037), secondMoment);
    }

    private static void assertClose(float[] expected, float[] actual, double tolerance, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double largest = 0, worst = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Float.isInfinite(expected[i]) || Float.isNaN(expected[i]) || Float.isNaN(actual[i])) {
                assertEquals(expected[i], actual[i], what + " at " + i);
                continue;
            }
            largest = Math.max(largest, Math.abs(expected[i]));
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= tolerance * largest, what + ": largest difference " + worst + " against largest magnitude " + largest);
    }
}
