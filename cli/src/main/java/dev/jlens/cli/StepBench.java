package dev.jlens.cli;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Device;
import dev.jlens.engine.JlensException;
import dev.jlens.kernels.Parallel;
import dev.jlens.kernels.cuda.Cuda;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.training.AdamW;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code jlens bench step}: one training step (or forward only) of a model on random tokens. */
@Command(name = "step", mixinStandardHelpOptions = true,
        description = "Times forward+backward (+ an AdamW update), or a forward alone, on random tokens; "
                + "GFLOP/s counts 6 (forward: 2) x matmul parameters x tokens, unembedding included.")
final class StepBench implements Callable<Integer> {
    @Mixin ModelOption modelOption;
    @Option(names = "--batch", defaultValue = "4") int batch;
    @Option(names = "--seq", defaultValue = "64") int seq;
    @Option(names = "--update", description = "adamw: include the optimizer update in each step") String update;
    @Option(names = "--forward-only", description = "time the forward pass alone") boolean forwardOnly;
    @Option(names = "--steps", defaultValue = "5", description = "timed steps (default ${DEFAULT-VALUE})") int steps;
    @Option(names = "--warmup", defaultValue = "2", description = "untimed steps first (default ${DEFAULT-VALUE})") int warmup;

    @Override
    public Integer call() {
        if (update != null && !update.equals("adamw")) throw new JlensException("--update knows only adamw, not '" + update + "'.");
        if (update != null && forwardOnly) throw new JlensException("--update and --forward-only cannot be combined.");
        if (batch <= 0 || seq <= 0) throw new JlensException("--batch and --seq must be positive.");
        NumberFlag.require(steps > 0 && steps <= 10_000, "--steps", steps, "from 1 to 10000");
        NumberFlag.require(warmup >= 0 && warmup <= 10_000, "--warmup", warmup, "from 0 to 10000");
        HookedTransformer model = modelOption.load().model();
        Config cfg = model.cfg();
        if (seq > cfg.nCtx()) throw new JlensException("--seq " + seq + " is longer than the model's context (n_ctx) of " + cfg.nCtx() + " tokens.");
        // The widest activation is the logits: check it before allocating anything of this size.
        long logits = (long) batch * seq * cfg.dVocab();
        if (logits > Integer.MAX_VALUE - 8) {
            throw new JlensException("--batch " + batch + " x --seq " + seq + " makes logits of " + logits + " floats, more than jlens can hold in one tensor (2^31).");
        }
        Tokens tokens = randomTokens(cfg, batch, seq);
        Backend ops = Backend.of(model.device());
        tokens.check(cfg);
        AdamW adamw = update == null ? null : new AdamW(new ArrayList<>(model.parameters().values()), 0.9f, 0.95f, 1e-8f, 0.1f);

        double[] seconds = new double[steps], updates = new double[steps];
        for (int s = -warmup; s < steps; s++) {
            long start = System.nanoTime(), updateStart = start;
            if (forwardOnly) {
                model.forward(tokens);
            } else {
                model.zeroGrad();
                model.lossAndBackward(tokens);
                updateStart = System.nanoTime();
                if (adamw != null) adamw.step(1e-4f);
            }
            ops.synchronize();
            long end = System.nanoTime();
            if (s >= 0) {
                seconds[s] = (end - start) / 1e9;
                updates[s] = (end - updateStart) / 1e9;
            }
        }
        Arrays.sort(seconds);
        Arrays.sort(updates);
        if (adamw != null) System.out.printf("AdamW update of %,d parameters: median %.3f s%n", totalParameters(model), updates[steps / 2]);
        double median = seconds[steps / 2];
        double flops = (forwardOnly ? 2.0 : 6.0) * cfg.matmulParameters() * batch * seq;
        String what = forwardOnly ? "forward" : adamw == null ? "forward+backward" : "forward+backward+adamw";
        String where = model.device() == Device.CUDA ? Cuda.get().deviceName() : Parallel.threads() + " threads";
        System.out.printf("%s of %s (%,d matmul parameters) at batch %d x %d tokens on %s: median %.3f s per step (best %.3f s), %.1f GFLOP/s%n",
                what, modelOption.name(), cfg.matmulParameters(), batch, seq, where, median, seconds[0], flops / median / 1e9);
        System.out.printf("RESULT step %.1f GFLOP/s%n", flops / median / 1e9);
        return 0;
    }

    private static long totalParameters(HookedTransformer model) {
        return model.parameters().values().stream().mapToLong(p -> p.value().size()).sum();
    }

    private static Tokens randomTokens(Config cfg, int batch, int seq) {
        SplittableRandom rng = new SplittableRandom(1);
        int[][] rows = new int[batch][seq];
        for (int[] row : rows) for (int i = 0; i < seq; i++) row[i] = rng.nextInt(cfg.dVocab());
        return Tokens.padded(0, rows);
    }
}
