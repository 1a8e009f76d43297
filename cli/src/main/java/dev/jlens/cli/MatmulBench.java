package dev.jlens.cli;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Device;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Tensor;
import dev.jlens.kernels.Gemm;
import dev.jlens.kernels.GemmHalf;
import dev.jlens.kernels.Half;
import dev.jlens.kernels.Parallel;
import dev.jlens.kernels.cuda.Cuda;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code jlens bench matmul}: C[M×N] = A[M×K]·B[K×N] in float32 on every core. */
@Command(name = "matmul", mixinStandardHelpOptions = true,
        description = "Times C[M×N] = A[M×K]·B[K×N] (float32) and prints GFLOP/s; with --dtype bfloat16, B (the weights) held as bf16, "
                + "beside float32 in the same run.")
final class MatmulBench implements Callable<Integer> {
    @Option(names = "--m", required = true, description = "rows of A and C") int m;
    @Option(names = "--k", required = true, description = "columns of A, rows of B") int k;
    @Option(names = "--n", required = true, description = "columns of B and C") int n;
    @Option(names = "--form", defaultValue = "NN",
            description = "NN: A·B, NT: A·Bᵀ (B stored N×K), TN: Aᵀ·B (A stored K×M) (default ${DEFAULT-VALUE})")
    String form;
    @Option(names = "--repeats", defaultValue = "20", description = "timed runs (default ${DEFAULT-VALUE})") int repeats;
    @Option(names = "--warmup-seconds", defaultValue = "2", description = "untimed runs first (default ${DEFAULT-VALUE})")
    double warmupSeconds;

    @Option(names = "--dtype", defaultValue = "float32", description = "float32, or bfloat16: B held as bf16 (CPU), timed beside float32")
    String dtype;

    @Mixin DeviceOption device;

    @Override
    public Integer call() {
        if (!dtype.equals("float32") && !dtype.equals("bfloat16")) {
            throw new JlensException("--dtype must be float32 or bfloat16, not " + JlensException.quote(dtype) + ".");
        }
        if (m <= 0 || k <= 0 || n <= 0) throw new JlensException("--m, --k and --n must be positive, got " + m + ", " + k + ", " + n + ".");
        if (repeats <= 0) throw new JlensException("--repeats must be positive, got " + repeats + ".");
        if ((long) m * k > Integer.MAX_VALUE || (long) k * n > Integer.MAX_VALUE || (long) m * n > Integer.MAX_VALUE) {
            throw new JlensException("a " + m + "x" + k + "x" + n + " product has a matrix too large for one float array.");
        }
        if (!form.matches("NN|NT|TN")) throw new JlensException("--form must be NN, NT or TN, not '" + form + "'.");
        Backend ops = Backend.of(device.select());
        if (dtype.equals("bfloat16")) return bf16BesideFloat32(ops);
        Tensor a = ops.place(Tensor.of(randomMatrix(m * k, 1), m * k)), b = ops.place(Tensor.of(randomMatrix(k * n, 2), k * n));
        Tensor c = ops.empty(m * n);
        // A transposed operand is stored the other way round and read through a transposed view.
        Matrix left = form.charAt(0) == 'N' ? Matrix.of(a, m, k) : Matrix.of(a, k, m).t();
        Matrix right = form.charAt(1) == 'N' ? Matrix.of(b, k, n) : Matrix.of(b, n, k).t();
        Matrix product = Matrix.of(c, m, n);
        Runnable multiply = () -> {
            ops.matmul(left, right, null, product);
            ops.synchronize();
        };
        double[] seconds = sortedSeconds(multiply);
        double flops = 2.0 * m * k * n;
        double median = seconds[repeats / 2], best = seconds[0];
        String where = ops.device() == Device.CUDA ? Cuda.get().deviceName() + " (cuBLAS)" : Parallel.threads() + " threads";
        System.out.printf("matmul " + form + " %dx%dx%d on %s: median %.3f ms (%.1f GFLOP/s), best %.3f ms (%.1f GFLOP/s)%n",
                m, k, n, where, median * 1e3, flops / median / 1e9, best * 1e3, flops / best / 1e9);
        System.out.printf("RESULT matmul %.1f GFLOP/s%n", flops / median / 1e9);
        return 0;
    }

    /**
     * The same product with B (the weights) as float32 and as bf16, timed in one run: what holding
     * weights in half the bytes gains when decoding (M = 1, memory-bound) and costs when not.
     */
    private int bf16BesideFloat32(Backend ops) {
        if (ops.device() != Device.CPU) throw new JlensException("--dtype bfloat16 runs on the CPU; bf16 weights on the GPU are not implemented yet.");
        if (!form.matches("NN|NT")) throw new JlensException("--dtype bfloat16 takes --form NN or NT (B, the weights, stored K×N or N×K).");
        float[] a = randomMatrix(m * k, 1), b = randomMatrix(k * n, 2), c = new float[m * n];
        MemorySegment b16 = Half.BF16.narrow(b, Arena.ofAuto());
        Gemm.Op opB = form.charAt(1) == 'N' ? Gemm.Op.N : Gemm.Op.T;
        int ldb = opB == Gemm.Op.N ? n : k;
        double f32 = sortedSeconds(() -> Gemm.gemm(Gemm.Op.N, opB, m, n, k, a, 0, k, b, 0, ldb, c, 0, n, false, null, 0))[repeats / 2];
        double bf16 = sortedSeconds(() -> GemmHalf.gemm(opB, m, n, k, a, 0, k, Half.BF16, b16, 0, ldb, c, 0, n, false, null, 0))[repeats / 2];
        double flops = 2.0 * m * k * n;
        System.out.printf("matmul " + form + " %dx%dx%d on %d threads: float32 B median %.3f ms (%.1f GFLOP/s); bfloat16 B median %.3f ms (%.1f GFLOP/s); "
                        + "bfloat16 / float32 %.2fx%n", m, k, n, Parallel.threads(), f32 * 1e3, flops / f32 / 1e9, bf16 * 1e3, flops / bf16 / 1e9, f32 / bf16);
        System.out.printf("RESULT matmul %.1f GFLOP/s%n", flops / bf16 / 1e9);
        return 0;
    }

    /** Seconds of each of --repeats timed runs after --warmup-seconds of untimed ones, fastest first. */
    private double[] sortedSeconds(Runnable multiply) {
        long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        do multiply.run(); while (System.nanoTime() < warmupEnd);
        double[] seconds = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            long start = System.nanoTime();
            multiply.run();
            seconds[r] = (System.nanoTime() - start) / 1e9;
        }
        Arrays.sort(seconds);
        return seconds;
    }

    private static float[] randomMatrix(int size, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float) (rng.nextDouble() * 2 - 1);
        return x;
    }
}
