package dev.jlens.bench;

import dev.jlens.kernels.CausalAttention;
import dev.jlens.kernels.CausalMask;
import dev.jlens.kernels.Rotary;
import dev.jlens.kernels.Softmax;
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
 * Causal attention (forward, backward), its softmax (forward, backward; the scores double as an
 * upstream gradient) and rotary embeddings at GPT-2 small's head
 * layout (12 heads of 64) for a batch of 4 sequences, each fast kernel beside its reference.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class AttentionBenchmark {
    @Param({"64", "256"})
    public int t;

    final int b = 4, h = 12, d = 64;
    float[] q, k, v, z, scores, pattern, dscores, dz, dq, dk, dv, rotated;
    Rotary.Table table;

    @Setup
    public void setUp() {
        int size = b * t * h * d;
        q = GemmBenchmark.Data.random(size, 1);
        k = GemmBenchmark.Data.random(size, 2);
        v = GemmBenchmark.Data.random(size, 3);
        dz = GemmBenchmark.Data.random(size, 4);
        z = new float[size];
        dq = new float[size];
        dk = new float[size];
        dv = new float[size];
        rotated = new float[size];
        scores = new float[b * h * t * t];
        pattern = new float[b * h * t * t];
        dscores = new float[b * h * t * t];
        table = Rotary.Table.of(16, t, 10000);
        CausalAttention.forward(q, k, v, scores, pattern, z, b, t, h, d);
    }

    @Benchmark
    public float[] attentionForward() {
        CausalAttention.forward(q, k, v, scores, pattern, z, b, t, h, d);
        return z;
    }

    @Benchmark
    public float[] attentionForwardReference() {
        CausalAttention.forwardReference(q, k, v, pattern, z, b, t, h, d);
        return z;
    }

    @Benchmark
    public float[] attentionBackward() {
        CausalAttention.backward(dz, q, k, v, pattern, dq, dk, dv, b, t, h, d);
        return dq;
    }

    @Benchmark
    public float[] causalSoftmax() {
        CausalAttention.pattern(scores, pattern, CausalMask.causal(b, h, t));
        return pattern;
    }

    @Benchmark
    public float[] causalSoftmaxReference() {
        for (int row = 0; row < b * h * t; row++) {
            Softmax.forwardReference(scores, row * t, pattern, row * t, row % t + 1, t);
        }
        return pattern;
    }

    @Benchmark
    public float[] causalSoftmaxBackward() {
        CausalAttention.patternBackward(pattern, scores, dscores, CausalMask.causal(b, h, t));
        return dscores;
    }

    @Benchmark
    public float[] causalSoftmaxBackwardReference() {
        for (int row = 0; row < b * h * t; row++) {
            Softmax.backwardReference(pattern, row * t, scores, row * t, dscores, row * t, row % t + 1);
        }
        return dscores;
    }

    @Benchmark
    public float[] rotaryForward() {
        Rotary.forward(table, q, rotated, b, t, h, d);
        return rotated;
    }

    @Benchmark
    public float[] rotaryForwardReference() {
        Rotary.forwardReference(16, 10000, q, rotated, b, t, h, d);
        return rotated;
    }

    @Benchmark
    public float[] rotaryBackward() {
        Rotary.backward(table, dz, dq, b, t, h, d);
        return dq;
    }
}
