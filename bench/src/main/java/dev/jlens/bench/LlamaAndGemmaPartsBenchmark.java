package dev.jlens.bench;

import dev.jlens.kernels.AdamWUpdate;
import dev.jlens.kernels.RmsNorm;
import dev.jlens.kernels.Rotary;
import dev.jlens.kernels.Silu;
import dev.jlens.kernels.SoftCap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Llama family's and Gemma 2's own elementwise kernels, forward and backward, each beside its
 * scalar reference, at gemma-2-2b's widths for 256 tokens: the RMS norm's statistic and its backward
 * (d_model 2304), SiLU (d_mlp 9216), the soft cap over 8 heads' 256 × 256 scores, rotary over
 * 8 heads of 256 (forward beside its explicit-matrix reference; backward), and the AdamW update of
 * one MLP matrix (2304 × 9216).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class LlamaAndGemmaPartsBenchmark {
    final int tokens = 256, c = 2304, mlp = 9216, scores = 8 * 256 * 256;
    final int heads = 8, dHead = 256;
    float[] x, rstd, dScale, dx, hidden, hiddenOut, hiddenGrad, hiddenDx, raw, capped, dCapped, dRaw, q, rotated, w, g, m, v;
    Rotary.Table rotary;
    AdamWUpdate.Step step;

    @Setup
    public void setUp() {
        x = GemmBenchmark.Data.random(tokens * c, 1);
        rstd = new float[tokens];
        dScale = GemmBenchmark.Data.random(tokens, 2);
        dx = new float[tokens * c];
        hidden = GemmBenchmark.Data.random(tokens * mlp, 3);
        hiddenOut = new float[tokens * mlp];
        hiddenGrad = GemmBenchmark.Data.random(tokens * mlp, 4);
        hiddenDx = new float[tokens * mlp];
        raw = GemmBenchmark.Data.random(scores, 5);
        for (int i = 0; i < raw.length; i++) raw[i] *= 100; // scores reach past the cap of 50
        capped = new float[scores];
        dCapped = GemmBenchmark.Data.random(scores, 6);
        dRaw = new float[scores];
        RmsNorm.statistics(x, rstd, tokens, c, 1e-6f);
        SoftCap.forward(raw, capped, scores, 50f);
        q = GemmBenchmark.Data.random(tokens * heads * dHead, 7);
        rotated = new float[q.length];
        rotary = Rotary.Table.of(dHead, tokens, 10000);
        w = GemmBenchmark.Data.random(c * mlp, 8);
        g = GemmBenchmark.Data.random(c * mlp, 9);
        m = new float[c * mlp];
        v = new float[c * mlp];
        step = new AdamWUpdate.Step(0.9f, 0.95f, 0.1f, 0.05f, 1e-8f, 0.1f, 1e-4f);
    }

    @Benchmark
    public float[] rotaryForward() {
        Rotary.forward(rotary, q, rotated, 1, tokens, heads, dHead);
        return rotated;
    }

    @Benchmark
    public float[] rotaryForwardReference() {
        Rotary.forwardReference(dHead, 10000, q, rotated, 1, tokens, heads, dHead);
        return rotated;
    }

    @Benchmark
    public float[] rotaryBackward() {
        Rotary.backward(rotary, q, rotated, 1, tokens, heads, dHead);
        return rotated;
    }

    @Benchmark
    public float[] adamwUpdate() {
        AdamWUpdate.apply(w, g, m, v, step);
        return w;
    }

    @Benchmark
    public float[] rmsNormStatistics() {
        RmsNorm.statistics(x, rstd, tokens, c, 1e-6f);
        return rstd;
    }

    @Benchmark
    public float[] rmsNormStatisticsReference() {
        RmsNorm.statisticsReference(x, rstd, tokens, c, 1e-6f);
        return rstd;
    }

    @Benchmark
    public float[] rmsNormBackwardFromScale() {
        RmsNorm.backwardFromScale(dx, dScale, x, rstd, tokens, c);
        return dx;
    }

    @Benchmark
    public float[] rmsNormBackwardFromScaleReference() {
        RmsNorm.backwardFromScaleReference(dx, dScale, x, rstd, tokens, c);
        return dx;
    }

    @Benchmark
    public float[] siluForward() {
        Silu.forward(hidden, hiddenOut, hidden.length);
        return hiddenOut;
    }

    @Benchmark
    public float[] siluForwardReference() {
        Silu.forwardReference(hidden, hiddenOut, hidden.length);
        return hiddenOut;
    }

    @Benchmark
    public float[] siluBackward() {
        Silu.backward(hidden, hiddenGrad, hiddenDx, hidden.length);
        return hiddenDx;
    }

    @Benchmark
    public float[] siluBackwardReference() {
        Silu.backwardReference(hidden, hiddenGrad, hiddenDx, hidden.length);
        return hiddenDx;
    }

    @Benchmark
    public float[] softCapForward() {
        SoftCap.forward(raw, capped, scores, 50f);
        return capped;
    }

    @Benchmark
    public float[] softCapForwardReference() {
        SoftCap.forwardReference(raw, capped, scores, 50f);
        return capped;
    }

    @Benchmark
    public float[] softCapBackward() {
        SoftCap.backward(capped, dCapped, dRaw, scores, 50f);
        return dRaw;
    }

    @Benchmark
    public float[] softCapBackwardReference() {
        SoftCap.backwardReference(capped, dCapped, dRaw, scores, 50f);
        return dRaw;
    }
}
