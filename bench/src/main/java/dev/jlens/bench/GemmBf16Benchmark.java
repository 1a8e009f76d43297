package dev.jlens.bench;

import dev.jlens.kernels.Gemm;
import dev.jlens.kernels.Gemm.Op;
import dev.jlens.kernels.GemmHalf;
import dev.jlens.kernels.Half;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
 * Weights held as bf16 beside the same weights as float32, at Llama-3.1-8B's MLP shape (4096 →
 * 14336, larger than any cache): M = 1 is decoding one token (memory-bound: half the bytes read),
 * M = 256 a prompt (compute-bound: the widening rides on packing). Forms N (weights [K×N]) and T
 * (weights [N×K], as nn.Linear stores them).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class GemmBf16Benchmark {
    @Param({"1", "256"})
    public int m;

    @Param({"N", "T"})
    public String form;

    private final int k = 4096, n = 14336;
    private Op opB;
    private float[] a, b, c;
    private MemorySegment b16;

    @Setup
    public void setUp() {
        opB = Op.valueOf(form);
        a = GemmBenchmark.Data.random(m * k, 1);
        b = GemmBenchmark.Data.random(k * n, 2);
        b16 = Half.BF16.narrow(b, Arena.ofAuto());
        c = new float[m * n];
    }

    @Benchmark
    public float[] float32Weights() {
        Gemm.gemm(Op.N, opB, m, n, k, a, 0, k, b, 0, opB == Op.N ? n : k, c, 0, n, false, null, 0);
        return c;
    }

    @Benchmark
    public float[] bfloat16Weights() {
        GemmHalf.gemm(opB, m, n, k, a, 0, k, Half.BF16, b16, 0, opB == Op.N ? n : k, c, 0, n, false, null, 0);
        return c;
    }
}
