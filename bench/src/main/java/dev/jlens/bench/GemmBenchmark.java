package dev.jlens.bench;

import dev.jlens.kernels.Gemm.Op;
import dev.jlens.kernels.Gemm;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The matmul forms a transformer step uses, at GPT-2 small's shapes for 256 tokens: forward
 * (A·B), input gradient (A·Bᵀ) and weight gradient (Aᵀ·B). GFLOP/s = 2·M·K·N / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBenchmark {
    /** M x K x N. */
    @Param({"256x768x3072", "256x3072x768", "256x768x50257", "2048x2048x2048"})
    public String shape;

    @Param({"N_N", "N_T", "T_N"})
    public String form;

    private int m, k, n;
    private Op opA, opB;
    private float[] a, b, c;

    @Setup
    public void setUp() {
        String[] parts = shape.split("x");
        m = Integer.parseInt(parts[0]);
        k = Integer.parseInt(parts[1]);
        n = Integer.parseInt(parts[2]);
        opA = Op.valueOf(form.substring(0, 1));
        opB = Op.valueOf(form.substring(2));
        a = Data.random(m * k, 1);
        b = Data.random(k * n, 2);
        c = new float[m * n];
    }

    @Benchmark
    public float[] gemm() {
        Gemm.gemm(opA, opB, m, n, k, a, 0, opA == Op.N ? k : m, b, 0, opB == Op.N ? n : k, c, 0, n, false, null, 0);
        return c;
    }

    /** The scalar reference on a small shape: the anchor the blocked kernel is measured against. */
    @State(Scope.Benchmark)
    public static class Small {
        final int m = 64, k = 256, n = 256;
        final float[] a = Data.random(m * k, 3), b = Data.random(k * n, 4), c = new float[m * n];
    }

    @Benchmark
    public float[] small64x256x256Blocked(Small s) {
        Gemm.matmul(s.a, s.b, s.c, s.m, s.k, s.n);
        return s.c;
    }

    @Benchmark
    public float[] small64x256x256Reference(Small s) {
        Gemm.gemmReference(Op.N, Op.N, s.m, s.n, s.k, s.a, 0, s.k, s.b, 0, s.n, s.c, 0, s.n, false, null, 0);
        return s.c;
    }

    static final class Data {
        static float[] random(int size, long seed) {
            SplittableRandom rng = new SplittableRandom(seed);
            float[] x = new float[size];
            for (int i = 0; i < size; i++) x[i] = (float) (rng.nextDouble() * 2 - 1);
            return x;
        }
    }
}
