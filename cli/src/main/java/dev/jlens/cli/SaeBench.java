package dev.jlens.cli;

import dev.jlens.analysis.sae.ActivationBuffer;
import dev.jlens.analysis.sae.CorpusContexts;
import dev.jlens.analysis.sae.Sae;
import dev.jlens.analysis.sae.SaeArchitecture;
import dev.jlens.analysis.sae.SaeConfig;
import dev.jlens.analysis.sae.SaeSplice;
import dev.jlens.analysis.sae.SaeTrainer;
import dev.jlens.engine.Backend;
import dev.jlens.engine.Device;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Tensor;
import dev.jlens.experiments.organisms.OrganismCorpus;
import dev.jlens.experiments.organisms.Recipe;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.hub.ShippedModels;
import dev.jlens.models.loading.LoadedModel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code jlens bench sae}: SAE training throughput (the training steps alone on activations
 * collected beforehand, and end to end with the model's forward filling the buffer), and the cost
 * of a spliced SAE in a forward pass against the cost of its own two matrix products, in one run.
 */
@Command(name = "sae", mixinStandardHelpOptions = true,
        description = "Times SAE training (tokens/s, steps alone and with the model's forward) and a spliced SAE's overhead against its two matmuls.")
final class SaeBench implements Callable<Integer> {
    @Mixin ModelOption modelOption;
    @Option(names = "--hook", defaultValue = "blocks.1.hook_resid_post", description = "hook point (default ${DEFAULT-VALUE})") String hook;
    @Option(names = "--d-sae", defaultValue = "4096", description = "features (default ${DEFAULT-VALUE})") int dSae;
    @Option(names = "--k", defaultValue = "16", description = "TopK's k (default ${DEFAULT-VALUE})") int k;
    @Option(names = "--batch", defaultValue = "1024", description = "activations per step (default ${DEFAULT-VALUE})") int batch;
    @Option(names = "--steps", defaultValue = "100", description = "training steps timed (default ${DEFAULT-VALUE})") int steps;
    @Option(names = "--repeats", defaultValue = "5", description = "forward passes timed each way (default ${DEFAULT-VALUE})") int repeats;

    @Override
    public Integer call() {
        NumberFlag.require(dSae >= 1 && dSae <= 1 << 18, "--d-sae", dSae, "1 to 262144");
        NumberFlag.require(k >= 1 && k <= dSae, "--k", k, "1 to --d-sae");
        NumberFlag.require(steps >= 1 && batch >= 1 && repeats >= 1, "--steps", steps, "positive, as --batch and --repeats");
        LoadedModel loaded = modelOption.load(ShippedModels.NEOX, "default");
        HookedTransformer model = loaded.model();
        model.hookPoints().get(hook);
        int length = Math.min(128, model.cfg().nCtx());
        CorpusContexts corpus = new CorpusContexts(OrganismCorpus.documents(Recipe.named(ShippedModels.NEOX).corpus().mixture(), 11, 4000),
                loaded.tokenizer(), length);
        int width = SaeTrainCommand.widthAt(model, hook, corpus.get());
        SaeConfig cfg = new SaeConfig(SaeArchitecture.TOPK, width, dSae, k, true, SaeConfig.Normalization.NONE, hook, modelOption.name(ShippedModels.NEOX), false);

        // Training steps alone: the batches collected first, then replayed.
        ActivationBuffer buffer = ActivationBuffer.fromModel(model, hook, width, corpus, batch, 4, 1);
        List<Tensor> batches = new ArrayList<>();
        for (int i = 0; i < Math.min(steps, 64); i++) batches.add(buffer.get());
        int[] next = {0};
        Supplier<Tensor> replay = () -> batches.get(next[0]++ % batches.size()).copy();
        SaeTrainer.Options options = new SaeTrainer.Options(cfg, (long) steps * batch, batch, 1e-3, 0, 1, 1000, false, 1);
        SaeTrainer.train(replay, new SaeTrainer.Options(cfg, 10L * batch, batch, 1e-3, 0, 1, 1000, false, 1), SaeTrainer.Listener.NONE); // warm-up
        long t0 = System.nanoTime();
        Sae sae = SaeTrainer.train(replay, options, SaeTrainer.Listener.NONE);
        double stepsAlone = (double) steps * batch / ((System.nanoTime() - t0) / 1e9);
        // End to end: the buffer fills from the model as training goes.
        ActivationBuffer live = ActivationBuffer.fromModel(model, hook, width, corpus, batch, 8, 2);
        t0 = System.nanoTime();
        SaeTrainer.train(live, options, SaeTrainer.Listener.NONE);
        double endToEnd = (double) steps * batch / ((System.nanoTime() - t0) / 1e9);

        // A spliced SAE in the forward pass against its two matmuls on as many rows.
        int[][] rows = new int[8][];
        for (int i = 0; i < rows.length; i++) rows[i] = corpus.get();
        Tokens tokens = Tokens.padded(0, rows);
        double plain = forwardSeconds(model, tokens, null), spliced = forwardSeconds(model, tokens, sae);
        int n = tokens.batch() * tokens.pos();
        double matmuls = matmulSeconds(n, width, dSae);
        System.out.printf("%s at %s: TopK SAE, d_in %d, d_sae %d, k %d, batches of %d%n", modelOption.name(ShippedModels.NEOX), hook, width, dSae, k, batch);
        System.out.printf("training: %.0f tokens/s for the steps alone (best of one run of %d steps), %.0f tokens/s with the model's forward filling the buffer%n",
                stepsAlone, steps, endToEnd);
        System.out.printf("forward of %d x %d tokens: %.2f ms, with the SAE spliced in (error term) %.2f ms: overhead %.2f ms, "
                        + "against %.2f ms for the SAE's two matmuls alone on %d rows (%.2fx them)%n",
                tokens.batch(), tokens.pos(), plain * 1e3, spliced * 1e3, (spliced - plain) * 1e3, matmuls * 1e3, n, (spliced - plain) / matmuls);
        System.out.printf("RESULT sae_train %.0f tokens/s%n", stepsAlone);
        return 0;
    }

    /** The best of --repeats forward passes, with {@code sae} spliced in when given. */
    private double forwardSeconds(HookedTransformer model, Tokens tokens, Sae sae) {
        double best = Double.MAX_VALUE;
        for (int r = 0; r < repeats + 2; r++) {
            long t0 = System.nanoTime();
            if (sae == null) model.forward(tokens);
            else {
                try (SaeSplice ignored = SaeSplice.attach(model, sae, true)) {
                    model.forward(tokens);
                }
            }
            if (r >= 2) best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    /** The best of --repeats runs of x·W_enc and acts·W_dec on {@code n} rows. */
    private double matmulSeconds(int n, int in, int features) {
        Backend ops = Backend.of(Device.CPU);
        Tensor x = Tensor.zeros(n, in), wEnc = Tensor.zeros(in, features), acts = Tensor.zeros(n, features), wDec = Tensor.zeros(features, in),
                out = Tensor.zeros(n, in);
        java.util.Arrays.fill(x.data(), 0.5f);
        double best = Double.MAX_VALUE;
        for (int r = 0; r < repeats + 2; r++) {
            long t0 = System.nanoTime();
            ops.matmul(Matrix.of(x, n, in), Matrix.of(wEnc, in, features), null, Matrix.of(acts, n, features));
            ops.matmul(Matrix.of(acts, n, features), Matrix.of(wDec, features, in), null, Matrix.of(out, n, in));
            if (r >= 2) best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }
}
