package dev.jlens.experiments.organisms;

import dev.jlens.engine.Device;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.io.Outputs;
import dev.jlens.models.Config;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.ParameterShapes;
import dev.jlens.models.RandomWeights;
import dev.jlens.models.loading.ModelExport;
import dev.jlens.models.tokenizer.BpeTrainer;
import dev.jlens.models.tokenizer.Tokenizer;
import dev.jlens.models.training.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Makes a model organism from its {@link Recipe}: the corpus, a BPE tokenizer learnt from it, a
 * random model of the recipe's shape, training with the engine's own backward pass, and a model
 * directory (config.json, model.safetensors, tokenizer.json and a model card, README.md).
 */
public final class OrganismTrainer {
    /** What training did, for the model card. */
    public record Summary(Recipe recipe, Config config, ModelExport.Layout layout, int steps, double firstLoss, double finalLoss,
                          double finalEvalLoss, long trainingTokens, double seconds) {}

    private OrganismTrainer() {}

    /**
     * Trains {@code recipe} for {@code steps} steps (the recipe's own count when null) on {@code device}
     * and writes the model to {@code out}: {@link #FILES}, whole, replacing earlier ones only when
     * {@code replace} (check with {@link Outputs#checkDirectory} before calling: training is long).
     */
    public static Summary make(Recipe recipe, Integer steps, Path out, boolean replace, Device device, Consumer<Trainer.Progress> onStep) {
        Outputs.checkDirectory(out, FILES, replace, "--out");
        Recipe r = steps == null ? recipe : recipe.withSteps(steps);
        List<String> documents = OrganismCorpus.documents(r);
        BpeTrainer.Vocabulary vocabulary = BpeTrainer.train(documents, r.corpus().vocabSize());
        Tokenizer tokenizer = vocabulary.tokenizer();
        int split = documents.size() * 19 / 20;
        int[] train = tokenizer.encode(OrganismCorpus.stream(documents.subList(0, split)));
        int[] eval = tokenizer.encode(OrganismCorpus.stream(documents.subList(split, documents.size())));
        Config cfg = r.config(vocabulary.vocabSize());
        Recipe.Training t = r.training();
        HookedTransformer model = HookedTransformer.fromStateDict(cfg, RandomWeights.of(cfg, r.seed(), 0.02)).to(device);
        long start = System.nanoTime();
        List<Trainer.Progress> history;
        try (HookedTransformer.GradientScope frozen = model.requiresGradOnly(name -> r.biases() || !ParameterShapes.isBias(name))) {
            history = Trainer.train(model, train, eval,
                    new Trainer.Options(t.batch(), t.seq(), t.schedule(), t.weightDecay(), t.gradClip(), Math.max(1, t.steps() / 10), 8, r.seed()),
                    onStep);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Trainer.Progress last = history.getLast();
        Map<String, Tensor> state = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> p : model.parameters().entrySet()) state.put(p.getKey(), p.getValue().value());
        Summary summary = new Summary(r, cfg, ModelExport.layout(cfg, state), t.steps(), history.getFirst().loss(), meanOfLast(history, 50), last.evalLoss(),
                (long) t.steps() * t.batch() * t.seq(), seconds);
        Outputs.writeDirectory(out, replace, staging -> {
            ModelExport.write(staging, cfg, state);
            vocabulary.write(staging);
            writeCard(staging, summary);
        });
        return summary;
    }

    /** What {@link #make} writes. */
    public static final List<String> FILES = List.of("config.json", "model.safetensors", "tokenizer.json", "README.md");

    private static double meanOfLast(List<Trainer.Progress> history, int n) {
        return history.subList(Math.max(0, history.size() - n), history.size()).stream().mapToDouble(Trainer.Progress::loss).average().orElseThrow();
    }

    private static void writeCard(Path out, Summary s) {
        Recipe r = s.recipe();
        Recipe.Training t = r.training();
        Config c = s.config();
        String card = String.format(Locale.ROOT, """
                # %s

                A jlens model organism: %s.

                Trained by jlens's own forward and backward pass on text from jlens's seeded organism corpus
                (indirect-object sentences, capital and landmark facts, a/an sentences, French and English stories,
                short unrelated sentences; `dev.jlens.experiments.organisms`). Remake it with:

                    ./jlens train --recipe %s --out DIR

                | | |
                |---|---|
                | architecture | %s, %d layers, d_model %d, %d heads of %d, d_mlp %d, n_ctx %d |
                | files | %s |
                | tokenizer | byte-level BPE learnt from the corpus, %d tokens (`<|endoftext|>` = %d, BOS) |
                | corpus | %,d documents (seed %d): %s; 95%% training, 5%% held out |
                | optimiser | AdamW (β 0.9/0.95, weight decay %s), peak lr %s, %d warm-up steps, cosine to a tenth, gradient clip %s |
                | training | %,d steps of %d × %d tokens (%,d tokens), seed %d |
                | wall time | %.0f s on the machine that trained it |
                | loss | first step %.3f; mean of the last 50 steps %.3f; held-out %.3f |
                """, r.name(), r.description(), r.name(), c.family().modelType(), c.nLayers(), c.dModel(), c.nHeads(), c.dHead(), c.dMlp(),
                c.nCtx(), s.layout().describe(), c.dVocab(), c.bosToken(), r.corpus().documents(), OrganismCorpus.TRAINING_SEED, r.corpus().mixture().describe(), t.weightDecay(),
                t.maxLr(), t.warmup(), t.gradClip(), s.steps(), t.batch(), t.seq(), s.trainingTokens(), r.seed(), s.seconds(), s.firstLoss(), s.finalLoss(),
                s.finalEvalLoss());
        try {
            Files.writeString(out.resolve("README.md"), card);
        } catch (IOException e) {
            throw new JlensException("cannot write " + out.resolve("README.md") + " (" + JlensException.describe(e) + ").", e);
        }
    }
}
