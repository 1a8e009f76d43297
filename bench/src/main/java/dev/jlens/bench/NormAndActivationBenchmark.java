package dev.jlens.bench;

import dev.jlens.kernels.Gelu;
import dev.jlens.kernels.LayerNorm;
import dev.jlens.kernels.Solu;
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
 * Layer norm, GELU (both kinds) and SoLU, forward and backward, each beside its scalar
 * reference, on one GPT-2-small layer's activations for 256 tokens (C = 768, d_mlp = 3072).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class NormAndActivationBenchmark {
    @Param({"TANH", "ERF"})
    public Gelu.Kind gelu;

    final int tokens = 256, c = 768, mlp = 3072;
    float[] x, y, w, b, dy, dx, dw, db, mean, rstd, hidden, hiddenOut, hiddenGrad, hiddenDx;

    @Setup
    public void setUp() {
        x = GemmBenchmark.Data.random(tokens * c, 1);
        y = new float[tokens * c];
        w = GemmBenchmark.Data.random(c, 2);
        b = GemmBenchmark.Data.random(c, 3);
        dy = GemmBenchmark.Data.random(tokens * c, 4);
        dx = new float[tokens * c];
        dw = new float[c];
        db = new float[c];
        mean = new float[tokens];
        rstd = new float[tokens];
        hidden = GemmBenchmark.Data.random(tokens * mlp, 5);
        hiddenOut = new float[tokens * mlp];
        hiddenGrad = GemmBenchmark.Data.random(tokens * mlp, 6);
        hiddenDx = new float[tokens * mlp];
        LayerNorm.forward(x, y, w, b, mean, rstd, tokens, c, 1e-5f);
    }

    @Benchmark
    public float[] layerNormForward() {
        LayerNorm.forward(x, y, w, b, mean, rstd, tokens, c, 1e-5f);
        return y;
    }

    @Benchmark
    public float[] layerNormForwardReference() {
        LayerNorm.forwardReference(x, y, w, b, mean, rstd, tokens, c, 1e-5f);
        return y;
    }

    @Benchmark
    public float[] layerNormBackward() {
        LayerNorm.backward(dx, dw, db, dy, x, w, mean, rstd, tokens, c);
        return dx;
    }

    @Benchmark
    public float[] layerNormBackwardReference() {
        LayerNorm.backwardReference(dx, dw, db, dy, x, w, mean, rstd, tokens, c);
        return dx;
    }

    @Benchmark
    public float[] geluForward() {
        Gelu.forward(gelu, hidden, hiddenOut, hidden.length);
        return hiddenOut;
    }

    @Benchmark
    public float[] geluForwardReference() {
        Gelu.forwardReference(gelu, hidden, hiddenOut, hidden.length);
        return hiddenOut;
    }

    @Benchmark
    public float[] geluBackward() {
        Gelu.backward(gelu, hidden, hiddenGrad, hiddenDx, hidden.length);
        return hiddenDx;
    }

    @Benchmark
    public float[] geluBackwardReference() {
        Gelu.backwardReference(gelu, hidden, hiddenGrad, hiddenDx, hidden.length);
        return hiddenDx;
    }

    @Benchmark
    public float[] soluForward() {
        Solu.forward(hidden, hiddenOut, tokens, mlp);
        return hiddenOut;
    }

    @Benchmark
    public float[] soluForwardReference() {
        Solu.forwardReference(hidden, hiddenOut, tokens, mlp);
        return hiddenOut;
    }

    @Benchmark
    public float[] soluBackward() {
        Solu.backward(hidden, hiddenGrad, hiddenDx, tokens, mlp);
        return hiddenDx;
    }

    @Benchmark
    public float[] soluBackwardReference() {
        Solu.backwardReference(hidden, hiddenGrad, hiddenDx, tokens, mlp);
        return hiddenDx;
    }
}
