package dev.jlens.cli;

import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.analysis.Progress;
import dev.jlens.analysis.sae.ActivationBuffer;
import dev.jlens.analysis.sae.CorpusContexts;
import dev.jlens.analysis.sae.Sae;
import dev.jlens.analysis.sae.SaeArchitecture;
import dev.jlens.analysis.sae.SaeConfig;
import dev.jlens.analysis.sae.SaeEvaluation;
import dev.jlens.analysis.sae.SaeFiles;
import dev.jlens.analysis.sae.SaeTrainer;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.io.Outputs;
import dev.jlens.engine.io.TextLines;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code jlens sae train}: an SAE on one hook's activations over a corpus, written in SAELens's layout. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Trains an SAE (topk, or relu with an L1 penalty) on the model's activations at a hook over a corpus (one document per line), "
                + "and writes it in SAELens's layout with its evaluation.")
final class SaeTrainCommand implements Callable<Integer> {
    static final String SUMMARY = "training.json";

    @Mixin ModelOption modelOption;
    @Option(names = "--hook", required = true, paramLabel = "NAME", description = "the hook point whose activations the SAE reads") String hook;
    @Option(names = "--d-sae", required = true, paramLabel = "N", description = "number of features") int dSae;
    @Option(names = "--architecture", defaultValue = "topk", paramLabel = "A", description = "topk or relu (default ${DEFAULT-VALUE})") String architecture;
    @Option(names = "--k", defaultValue = "32", paramLabel = "K", description = "active features per position of a topk SAE (default ${DEFAULT-VALUE})") int k;
    @Option(names = "--l1", defaultValue = "5", paramLabel = "X", description = "L1 coefficient of a relu SAE (default ${DEFAULT-VALUE})") double l1;
    @Option(names = "--corpus", required = true, paramLabel = "FILE", description = "text, one document per line; the last tenth is held out for evaluation") Path corpus;
    @Option(names = "--tokens", required = true, paramLabel = "T", description = "training tokens") long tokens;
    @Option(names = "--context", paramLabel = "C", description = "tokens per context, BOS first (default: the model's n_ctx, at most 128)") Integer context;
    @Option(names = "--batch", defaultValue = "1024", paramLabel = "B", description = "activations per step (default ${DEFAULT-VALUE})") int batch;
    @Option(names = "--lr", defaultValue = "3e-4", paramLabel = "LR", description = "AdamW learning rate (default ${DEFAULT-VALUE})") double lr;
    @Option(names = "--normalize", description = "train on activations scaled to an average norm of sqrt(d_in) (expected_average_only_in), folded in at the end") boolean normalize;
    @Option(names = "--seed", defaultValue = "0", description = "seed of the weights and the shuffling (default ${DEFAULT-VALUE})") long seed;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory to write the SAE into") Path out;
    @Option(names = "--overwrite", description = "replace the SAE files of an earlier run in --out") boolean overwrite;

    @Override
    public Integer call() throws IOException {
        SaeArchitecture arch = SaeArchitecture.trainable(architecture);
        NumberFlag.require(dSae >= 1 && dSae <= 1 << 20, "--d-sae", dSae, "1 to 1048576");
        NumberFlag.require(batch >= 1 && batch <= 1 << 16, "--batch", batch, "1 to 65536");
        NumberFlag.require(tokens >= batch, "--tokens", tokens, "at least --batch (" + batch + ")");
        if (arch == SaeArchitecture.TOPK) NumberFlag.require(k >= 1 && k <= dSae, "--k", k, "1 to --d-sae (" + dSae + ")");
        if (!(lr > 0 && lr < 1)) throw new JlensException("--lr " + lr + " is not a learning rate between 0 and 1.");
        if (!(l1 >= 0) || Double.isInfinite(l1)) throw new JlensException("--l1 " + l1 + " is not a non-negative number.");
        Outputs.checkDirectory(out, List.of(SaeFiles.CONFIG, SaeFiles.WEIGHTS, SaeFiles.SPARSITY, SUMMARY), overwrite, "--out");
        List<String> documents = documents(corpus);
        LoadedModel loaded = modelOption.load();
        HookedTransformer model = loaded.model();
        model.hookPoints().get(hook);
        int length = context == null ? Math.min(128, model.cfg().nCtx()) : context;
        NumberFlag.require(length >= 2 && length <= model.cfg().nCtx(), "--context", length, "2 to the model's n_ctx (" + model.cfg().nCtx() + ")");
        int heldOut = Math.max(1, documents.size() / 10);
        CorpusContexts train = new CorpusContexts(documents.subList(0, documents.size() - heldOut), loaded.tokenizer(), length);
        CorpusContexts evaluation = new CorpusContexts(documents.subList(documents.size() - heldOut, documents.size()), loaded.tokenizer(), length);
        int width = widthAt(model, hook, train.get());
        SaeConfig cfg = new SaeConfig(arch, width, dSae, arch == SaeArchitecture.TOPK ? k : 0, true,
                normalize ? SaeConfig.Normalization.EXPECTED_AVERAGE_ONLY_IN : SaeConfig.Normalization.NONE, hook, modelOption.name(), hook.endsWith("hook_z"));
        SaeTrainer.Options options = SaeTrainer.Options.of(cfg, tokens, batch, lr, l1, normalize, seed);
        ActivationBuffer buffer = ActivationBuffer.fromModel(model, hook, width, train, batch, 16, seed);
        long start = System.nanoTime();
        Sae sae;
        try (Progress.Task task = ConsoleProgress.INSTANCE.start("training the SAE", options.steps())) {
            sae = SaeTrainer.train(buffer, options, (step, steps, mse, aux, l0, dead) -> {
                task.step(1);
                if (step % 10 == 0 || step == steps) task.message(String.format("mse %.4g, L0 %.1f, dead %.1f%%", mse, l0, 100 * dead));
            });
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int contexts = Math.max(1, Math.min(32, evaluation.tokens() / (length - 1)));
        int[][] held = new int[contexts][];
        for (int i = 0; i < contexts; i++) held[i] = evaluation.get();
        SaeEvaluation eval = SaeEvaluation.of(model, sae, Tokens.padded(0, held));
        Outputs.writeDirectory(out, overwrite, staging -> {
            SaeFiles.writeInto(sae, staging);
            SaeFiles.writeSparsity(eval.density(), staging);
            Files.writeString(staging.resolve(SUMMARY), summary(eval, options, seconds, buffer.rowsRead(), corpus.getFileName().toString(), length));
        });
        System.out.printf("trained a %s SAE (%d features) at %s on %,d activations in %.1f s (%.0f tokens/s, the model's forward included)%n",
                cfg.architecture().saeLensName(), dSae, hook, options.steps() * batch, seconds, options.steps() * batch / seconds);
        System.out.printf("held out (%d contexts of %d tokens): normalised MSE %.4f, explained variance %.4f, L0 %.2f, dead %.2f%%, "
                        + "CE loss recovered %.4f (clean %.4f, with the SAE %.4f, zero-ablated %.4f)%n", contexts, length, eval.normalisedMse(),
                eval.explainedVariance(), eval.l0(), 100 * eval.deadFraction(), eval.ceLossRecovered(), eval.cleanLoss(), eval.saeLoss(),
                eval.zeroAblationLoss());
        System.out.printf("wrote %s, %s, %s and %s to %s%n", SaeFiles.CONFIG, SaeFiles.WEIGHTS, SaeFiles.SPARSITY, SUMMARY, out);
        return 0;
    }

    /** The corpus's non-blank lines; an unreadable or nearly empty corpus is one sentence. */
    static List<String> documents(Path corpus) {
        List<String> documents = new ArrayList<>();
        for (String line : TextLines.read(corpus, "--corpus")) if (!line.isBlank()) documents.add(line);
        if (documents.size() < 2) throw new JlensException("--corpus " + corpus + ": holds " + documents.size() + " documents; it needs at least 2 (one line each), one to hold out.");
        return documents;
    }

    /** The hook's values per position, read off one forward pass. */
    static int widthAt(HookedTransformer model, String hook, int[] context) {
        int[] width = {0};
        try (var scope = model.hookPoints().scope()) {
            scope.forward(hook, (x, point) -> {
                width[0] = (int) (x.elements() / ((long) x.dim(0) * x.dim(1)));
                return null;
            });
            model.forward(Tokens.of(context));
        }
        return width[0];
    }

    private static String summary(SaeEvaluation e, SaeTrainer.Options o, double seconds, long modelTokens, String corpusName, int contextLength)
            throws IOException {
        ObjectNode json = JsonMapper.builder().build().createObjectNode();
        json.put("architecture", o.cfg().architecture().saeLensName());
        json.put("hook_name", o.cfg().hookName());
        json.put("d_sae", o.cfg().dSae());
        if (o.cfg().architecture() == SaeArchitecture.TOPK) json.put("k", o.cfg().k());
        else json.put("l1_coefficient", o.l1Coefficient());
        json.put("learning_rate", o.learningRate());
        json.put("batch", o.batchRows());
        json.put("context_size", contextLength);
        json.put("normalize_inputs", o.normalizeInputs());
        json.put("seed", o.seed());
        json.put("corpus", corpusName);
        json.put("training_tokens", o.steps() * o.batchRows());
        json.put("model_tokens_read", modelTokens);
        json.put("seconds", seconds);
        json.put("normalised_mse", e.normalisedMse());
        json.put("explained_variance", e.explainedVariance());
        json.put("l0", e.l0());
        json.put("dead_fraction", e.deadFraction());
        json.put("ce_loss_clean", e.cleanLoss());
        json.put("ce_loss_with_sae", e.saeLoss());
        json.put("ce_loss_zero_ablation", e.zeroAblationLoss());
        json.put("ce_loss_recovered", e.ceLossRecovered());
        return JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build().writeValueAsString(json);
    }
}
