package dev.jlens.bench;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Device;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.ReferenceBackend;
import dev.jlens.engine.Tensor;
import java.util.SplittableRandom;
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
 * The rest of a training step's kernels, through the CPU backend beside the scalar reference backend,
 * at GPT-2 small's step of 4 × 64 tokens: the cross-entropy's loss and logit gradient over 50,257
 * logits a row, the embedding's gather and its scatter-add backward (d_model 768), a bias gradient
 * (the column sums of dy, d_mlp 3072) and a residual add.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class LossAndEmbeddingBenchmark {
    final int tokens = 256, vocab = 50257, d = 768, mlp = 3072;
    final Backend cpu = Backend.of(Device.CPU), reference = ReferenceBackend.INSTANCE;
    Tensor logits, logitGrad, table, embedded, dEmbedded, tableGrad, dy, biasGrad, residual, update;
    int[] ids;

    @Setup
    public void setUp() {
        logits = Tensor.of(GemmBenchmark.Data.random(tokens * vocab, 1), tokens, vocab);
        logitGrad = Tensor.zeros(tokens, vocab);
        table = Tensor.of(GemmBenchmark.Data.random(vocab * d, 2), vocab, d);
        embedded = Tensor.zeros(tokens, d);
        dEmbedded = Tensor.of(GemmBenchmark.Data.random(tokens * d, 3), tokens, d);
        tableGrad = Tensor.zeros(vocab, d);
        dy = Tensor.of(GemmBenchmark.Data.random(tokens * mlp, 4), tokens, mlp);
        biasGrad = Tensor.zeros(mlp);
        residual = Tensor.of(GemmBenchmark.Data.random(tokens * d, 5), tokens, d);
        update = Tensor.of(GemmBenchmark.Data.random(tokens * d, 6), tokens, d);
        SplittableRandom rng = new SplittableRandom(7);
        ids = new int[tokens];
        for (int i = 0; i < tokens; i++) ids[i] = rng.nextInt(vocab);
    }

    @Benchmark
    public double[] crossEntropy() {
        return cpu.crossEntropy(logits, ids, 1f / tokens, logitGrad);
    }

    @Benchmark
    public double[] crossEntropyReference() {
        return reference.crossEntropy(logits, ids, 1f / tokens, logitGrad);
    }

    @Benchmark
    public Tensor embed() {
        cpu.embed(table, ids, embedded);
        return embedded;
    }

    @Benchmark
    public Tensor embedReference() {
        reference.embed(table, ids, embedded);
        return embedded;
    }

    @Benchmark
    public Tensor embedBackward() {
        cpu.embedBackward(dEmbedded, ids, tableGrad);
        return tableGrad;
    }

    @Benchmark
    public Tensor embedBackwardReference() {
        reference.embedBackward(dEmbedded, ids, tableGrad);
        return tableGrad;
    }

    @Benchmark
    public Tensor biasGradient() {
        cpu.sumRows(Matrix.of(dy, tokens, mlp), biasGrad);
        return biasGrad;
    }

    @Benchmark
    public Tensor biasGradientReference() {
        reference.sumRows(Matrix.of(dy, tokens, mlp), biasGrad);
        return biasGrad;
    }

    @Benchmark
    public Tensor residualAdd() {
        cpu.add(update, 0, residual, 0, tokens * d);
        return residual;
    }

    @Benchmark
    public Tensor residualAddReference() {
        reference.add(update, 0, residual, 0, tokens * d);
        return residual;
    }
}
