package dev.jlens.experiments.frenchneuron;

import dev.jlens.analysis.Ablation;
import dev.jlens.analysis.CacheAnalysis;
import dev.jlens.analysis.PosSlice;
import dev.jlens.analysis.Probing;
import dev.jlens.analysis.Progress;
import dev.jlens.analysis.ResidualStack;
import dev.jlens.analysis.TestPrompt;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.ForwardHook;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.experiments.report.Figure;
import dev.jlens.experiments.report.Prompts;
import dev.jlens.experiments.report.Reduce;
import dev.jlens.experiments.report.Report;
import dev.jlens.experiments.report.Table;
import dev.jlens.experiments.report.View;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Notebook 001: a French neuron. Activations of one MLP layer's {@code hook_post} on French and
 * other text; neurons ranked by the difference of class means; logistic-regression probes on the
 * top k together and on each alone (train/test splits); the best neuron's activations, its
 * mean-ablation and the loss change on French, other and story text; its output direction against
 * later layers' input weights; direct logit attribution of " de" vs " is" with and without it; and
 * its mean activation and the loss by token position.
 */
public final class FrenchNeuron {
    /**
     * {@code layer} {@link #ANY_LAYER}: notebook 001's layer 3 where the model has the notebook's neuron there
     * (pythia-70m), else every layer's neurons are probed and the best one is studied.
     */
    public record Options(int layer, int neuron, int samples, int topK, int splits, int perNeuronK, long seed, int batch) {
        public static final int ANY_LAYER = -1, NOTEBOOK_LAYER = 3;
        public static final Options DEFAULTS = new Options(ANY_LAYER, 609, 200, 10, 5, 20, 0, 32);
    }

    /** The inputs: French and other samples, and the stories the ablation is also measured on. */
    public record Data(List<String> french, List<String> nonFrench, List<String> stories) {}

    public record Result(int layer, int neuron, int[] topK, double topKTrainAccuracy, double topKTestAccuracy, int[] perNeuron,
                         double[] perNeuronTrain, double[] perNeuronTest, double meanFrench, double meanOther,
                         Ablation.LossChange frenchLoss, Ablation.LossChange otherLoss, Ablation.LossChange storiesLoss,
                         Probing.Dataset dataset, double[] bestTestByLayer) {}

    /** One layer's activations on the two classes and its per-neuron probes: the top neurons by class-mean difference and their mean accuracies. */
    private record ProbedLayer(int layer, List<float[]> french, List<float[]> other, Probing.Dataset dataset, int[] ranked,
                               double[] meanTrain, double[] meanTest) {
        /** The index, in {@code ranked}, of the neuron with the best mean test accuracy. */
        int best() {
            return Reduce.argmax(meanTest);
        }
    }

    static final String TEST_PROMPT = "Dans un petit village, vivait une petite fille nommée Sophie qui rêvait";

    private FrenchNeuron() {}

    public static Result run(LoadedModel loaded, Data data, Options o, Report report) {
        HookedTransformer model = loaded.model();
        int dMlp = model.cfg().dMlp(), nLayers = model.cfg().nLayers();
        int n = Math.min(o.samples(), Math.min(data.french().size(), data.nonFrench().size()));
        if (n < o.samples()) report.note("using " + n + " samples of each class (the notebook takes " + o.samples() + ").");
        Data sampled = new Data(data.french().subList(0, n), data.nonFrench().subList(0, n), data.stories());

        boolean searchLayers = o.layer() == Options.ANY_LAYER && o.neuron() >= dMlp;
        int wanted = o.layer() == Options.ANY_LAYER ? Options.NOTEBOOK_LAYER : o.layer();
        double[] bestTestByLayer = new double[searchLayers ? nLayers : 0];
        ProbedLayer probed = searchLayers ? bestLayer(loaded, sampled, o, bestTestByLayer, report)
                : probe(loaded, sampled, Prompts.layer(wanted, nLayers, "The French neuron's layer", report), o, report.progress());
        int layer = probed.layer();
        String hook = "blocks." + layer + ".mlp.hook_post";
        List<float[]> french = probed.french(), other = probed.other();
        report.block("print(french_activations.shape, non_french_activations.shape)",
                "[" + french.size() + ", " + dMlp + "] [" + other.size() + ", " + dMlp + "]");
        Probing.Dataset a = probed.dataset();

        // The top-k probe on one 80/20 split.
        Probing.Split split = Probing.split(a, 0.2, o.seed());
        int[] topK = Probing.topK(Probing.classMeanDifference(split.train()), o.topK());
        Probing.LogisticRegression probe = Probing.LogisticRegression.fit(split.train().columns(topK), 1.0);
        double trainAcc = probe.accuracy(split.train().columns(topK)), testAcc = probe.accuracy(split.test().columns(topK));
        report.block("Top-" + o.topK() + " neurons by class-mean difference, and the probe on them (train accuracy, test accuracy)",
                Arrays.toString(topK) + String.format(Locale.ROOT, "%n%.16f%n%.16f", trainAcc, testAcc));

        int[] ranked = probed.ranked();
        double[] meanTrain = probed.meanTrain(), meanTest = probed.meanTest();
        List<String> neuronLabels = Arrays.stream(ranked).mapToObj(String::valueOf).toList();
        report.figure(Figure.labelledLines("per_neuron_accuracy", "Per neuron accuracy on French vs. non-French", "Neuron", "Accuracy",
                neuronLabels, Map.of("train accuracy", meanTrain)));
        Table perNeuron = new Table("per_neuron_accuracy", "Per neuron accuracy on French vs. non-French (mean over " + o.splits() + " splits)",
                "Neuron", "Train accuracy", "Test accuracy");
        for (int k = 0; k < ranked.length; k++) perNeuron.row(ranked[k], meanTrain[k], meanTest[k]);
        report.table(perNeuron);

        int neuron = o.neuron();
        if (neuron >= dMlp || layer != wanted) {
            neuron = ranked[probed.best()];
            report.note("L" + wanted + "N" + o.neuron() + " (by default notebook 001's French neuron) is not this model's to study; it has " + nLayers
                    + " layers of " + dMlp + " neurons, so the experiment studies L" + layer + "N" + neuron + ", the best single-neuron probe on held-out rows"
                    + (searchLayers ? " of any layer." : " of layer " + layer + "."));
        }
        String name = "L" + layer + "N" + neuron;
        double[] frenchAct = column(french, neuron), otherAct = column(other, neuron);
        double meanFrench = mean(frenchAct), meanOther = mean(otherAct);
        report.block(name + " mean activations", String.format(Locale.ROOT, "French activation: %s%nNon french activation: %s", meanFrench, meanOther));
        Map<String, double[]> hist = new LinkedHashMap<>();
        hist.put("French", frenchAct);
        hist.put("Other", otherAct);
        report.figure(Figure.histogram("activations_" + name, name + " activations", "Neuron activation", hist, 40, true));
        report.view(name + " over held-out French and English texts", textsView(loaded, data, layer, neuron, TEXTS_SHOWN));

        ForwardHook ablate = Ablation.neurons(new int[] {neuron}, new float[] {(float) meanOther});
        Ablation.LossChange frenchLoss = ablatedLoss(model, loaded, data.french(), hook, ablate, o.batch());
        Ablation.LossChange otherLoss = ablatedLoss(model, loaded, data.nonFrench(), hook, ablate, o.batch());
        Ablation.LossChange storiesLoss = ablatedLoss(model, loaded, data.stories(), hook, ablate, 1);
        Table ablation = new Table("ablation", "Mean-ablating " + name + " (set to its mean non-French activation)",
                "Data", "Full model loss", "Ablated MLP layer loss", "Percent loss increase");
        ablation.row("French samples (batches of " + o.batch() + ")", frenchLoss.original(), frenchLoss.ablated(), frenchLoss.relativeIncrease());
        ablation.row("non-French samples (batches of " + o.batch() + ")", otherLoss.original(), otherLoss.ablated(), otherLoss.relativeIncrease());
        ablation.row("stories (one at a time)", storiesLoss.original(), storiesLoss.ablated(), storiesLoss.relativeIncrease());
        report.table(ablation);

        report.block("Original model", TestPrompt.render(loaded, TEST_PROMPT, " de", 10, true));
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(hook, ablate);
            report.block("Ablated model", TestPrompt.render(loaded, TEST_PROMPT, " de", 10, true));
        }

        LaterNeurons.report(loaded, layer, neuron, data.stories(), hook, ablate, report);
        logitAttribution(loaded, layer, neuron, hook, ablate, report);
        positions(loaded, data, hook, neuron, ranked.length > 1 ? ranked[ranked[0] == neuron ? 1 : 0] : neuron, layer, o.batch(), report);
        return new Result(layer, neuron, topK, trainAcc, testAcc, ranked, meanTrain, meanTest, meanFrench, meanOther, frenchLoss, otherLoss,
                storiesLoss, a, bestTestByLayer);
    }

    /** Activations of {@code layer} on both classes, and one probe per neuron over several 90/10 splits. */
    private static ProbedLayer probe(LoadedModel loaded, Data data, int layer, Options o, Progress progress) {
        List<float[]> french = activations(loaded, data.french(), layer, o.batch(), "L" + layer + " French activations", progress);
        List<float[]> other = activations(loaded, data.nonFrench(), layer, o.batch(), "L" + layer + " non-French activations", progress);
        Probing.Dataset a = Probing.balanced(french, other);
        double[][] train = new double[o.splits()][o.perNeuronK()], test = new double[o.splits()][o.perNeuronK()];
        int[] ranked = null;
        try (Progress.Task bar = progress.start("L" + layer + " per-neuron probes", o.splits())) {
            for (int s = 0; s < o.splits(); s++) {
                Probing.Split sp = Probing.split(a, 0.1, o.seed() + 1 + s);
                ranked = Probing.topK(Probing.classMeanDifference(sp.train()), o.perNeuronK());
                for (int k = 0; k < ranked.length; k++) {
                    Probing.LogisticRegression lr = Probing.LogisticRegression.fit(sp.train().columns(ranked[k]), 1.0);
                    train[s][k] = lr.accuracy(sp.train().columns(ranked[k]));
                    test[s][k] = lr.accuracy(sp.test().columns(ranked[k]));
                }
                bar.step();
            }
        }
        return new ProbedLayer(layer, french, other, a, ranked, columnMeans(train), columnMeans(test));
    }

    /** Every layer probed; the one whose best single neuron probes best, with each layer's best in {@code bestTestByLayer} and a table. */
    private static ProbedLayer bestLayer(LoadedModel loaded, Data data, Options o, double[] bestTestByLayer, Report report) {
        Table byLayer = new Table("best_neuron_by_layer", "The best single-neuron probe of each MLP layer (mean test accuracy over "
                + o.splits() + " splits)", "Layer", "Neuron", "Train accuracy", "Test accuracy");
        ProbedLayer best = null;
        for (int layer = 0; layer < loaded.model().cfg().nLayers(); layer++) {
            ProbedLayer p = probe(loaded, data, layer, o, report.progress());
            int k = p.best();
            byLayer.row(layer, p.ranked()[k], p.meanTrain()[k], p.meanTest()[k]);
            bestTestByLayer[layer] = p.meanTest()[k];
            if (best == null || bestTestByLayer[layer] > bestTestByLayer[best.layer()]) best = p;
        }
        report.table(byLayer);
        return best;
    }

    /** One row per token (BOS left out) of layer {@code layer}'s hook_post over the samples, in order. */
    static List<float[]> activations(LoadedModel loaded, List<String> samples, int layer, int batch, String task, Progress progress) {
        List<float[]> rows = new ArrayList<>();
        try (Progress.Task bar = progress.start(task, samples.size())) {
            for (int start = 0; start < samples.size(); start += batch) {
                List<String> chunk = samples.subList(start, Math.min(samples.size(), start + batch));
                Tokens tokens = Prompts.batchTruncated(loaded, chunk);
                Tensor act = mlpPost(loaded.model(), tokens, layer);
                int pos = act.dim(1), width = act.dim(2);
                for (int b = 0; b < chunk.size(); b++) {
                    for (int p = 1; p < tokens.lengths()[b]; p++) rows.add(Arrays.copyOfRange(act.data(), (b * pos + p) * width, (b * pos + p + 1) * width));
                }
                bar.step(chunk.size());
            }
        }
        return rows;
    }

    /**
     * blocks.{layer}.mlp.hook_post over a batch. The model runs only up to that block (TransformerLens's
     * stop_at_layer): the later blocks and the unembedding, the largest matmul of a 50k-token model, are
     * not needed to read it, nor is a [batch, pos, d_vocab] logits tensor.
     */
    /** Texts of each language the interactive view shows. */
    static final int TEXTS_SHOWN = 4;

    /** The neuron's activation at each token of the first French and English samples, a row per text. */
    static View textsView(LoadedModel loaded, Data data, int layer, int neuron, int count) {
        List<View.TokenRow> rows = new ArrayList<>();
        int dMlp = loaded.model().cfg().dMlp();
        for (String language : List.of("French", "English")) {
            List<String> texts = language.equals("French") ? data.french() : data.nonFrench();
            texts = texts.subList(0, Math.min(count, texts.size()));
            Tokens tokens = Prompts.batchTruncated(loaded, texts);
            float[] post = mlpPost(loaded.model(), tokens, layer).data();
            for (int b = 0; b < tokens.batch(); b++) {
                float[] values = new float[tokens.end(b) - tokens.start(b)];
                for (int p = tokens.start(b); p < tokens.end(b); p++) values[p - tokens.start(b)] = post[(b * tokens.pos() + p) * dMlp + neuron];
                rows.add(new View.TokenRow(language + " " + (b + 1), View.tokens(loaded.tokenizer(), tokens, b), values));
            }
        }
        return View.tokenActivations(null, rows);
    }

    static Tensor mlpPost(HookedTransformer model, Tokens tokens, int layer) {
        Tensor[] out = new Tensor[1];
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward("blocks." + layer + ".mlp.hook_post", (act, point) -> { out[0] = act; return null; });
            model.residualAt(tokens, layer + 1);
        }
        return out[0];
    }

    /** As the notebook: the mean over batches of each batch's mean loss, without and with the hook. */
    static Ablation.LossChange ablatedLoss(HookedTransformer model, LoadedModel loaded, List<String> texts, String hook, ForwardHook ablate, int batch) {
        double original = 0, ablated = 0;
        int batches = 0;
        for (int start = 0; start < texts.size(); start += batch) {
            Ablation.LossChange c = Ablation.lossChange(model, Prompts.batchTruncated(loaded, texts.subList(start, Math.min(texts.size(), start + batch))), hook, ablate);
            original += c.original();
            ablated += c.ablated();
            batches++;
        }
        return new Ablation.LossChange(original / batches, ablated / batches);
    }

    private static void logitAttribution(LoadedModel loaded, int layer, int neuron, String hook, ForwardHook ablate, Report report) {
        HookedTransformer model = loaded.model();
        String frenchPrompt = " Le livre", englishPrompt = " The bookstore";
        report.block("utils.test_prompt(french_prompt, ' de', model)", TestPrompt.render(loaded, frenchPrompt, " de", 10, true));
        report.block("utils.test_prompt(english_prompt, ' is', model)", TestPrompt.render(loaded, englishPrompt, " is", 10, true));
        int is = Prompts.singleToken(loaded, " is", report), de = Prompts.singleToken(loaded, " de", report);
        int nLayers = model.cfg().nLayers();
        PosSlice last = PosSlice.at(-1);

        Tokens english = Prompts.batch(loaded, List.of(englishPrompt));
        ActivationCache englishCache = model.runWithCache(english, NameFilter.all()).cache();
        CacheAnalysis ea = new CacheAnalysis(model, englishCache);
        ResidualStack englishStack = ea.decomposeResid(nLayers, CacheAnalysis.Mode.ALL, true, last);
        double[] englishDiffs = Reduce.meanOverBatch(ea.logitAttrs(englishStack, new int[] {is}, new int[] {de}, last));
        report.figure(Figure.labelledLines("dla_english", "Logit Difference From Each Layer (' is' - ' de' on '" + englishPrompt + "')", "Component",
                "Logit Diff", englishStack.labels(), Map.of("logit difference", englishDiffs)));

        Tokens frenchTokens = Prompts.batch(loaded, List.of(frenchPrompt));
        ActivationCache frenchCache = model.runWithCache(frenchTokens, NameFilter.all()).cache();
        ActivationCache ablatedCache;
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(hook, ablate);
            ablatedCache = model.runWithCache(frenchTokens, NameFilter.all()).cache();
        }
        CacheAnalysis fa = new CacheAnalysis(model, frenchCache), aa = new CacheAnalysis(model, ablatedCache);
        ResidualStack frenchStack = fa.decomposeResid(nLayers, CacheAnalysis.Mode.ALL, true, last);
        double[] frenchDiffs = Reduce.meanOverBatch(fa.logitAttrs(frenchStack, new int[] {de}, new int[] {is}, last));
        double[] ablatedDiffs = Reduce.meanOverBatch(aa.logitAttrs(aa.decomposeResid(nLayers, CacheAnalysis.Mode.ALL, true, last),
                new int[] {de}, new int[] {is}, last));
        Map<String, double[]> series = new LinkedHashMap<>();
        series.put("Logit diffs", frenchDiffs);
        series.put("Logit diffs with L" + layer + "N" + neuron + " disabled", ablatedDiffs);
        report.figure(Figure.labelledLines("dla_french_ablated", "' de' - ' is' per component on '" + frenchPrompt + "', with and without L" + layer + "N" + neuron,
                "Component", "Logit Diff", frenchStack.labels(), series));
        Table t = new Table("dla_french", "' de' - ' is' per component, with and without the neuron", "Component", "Logit diffs", "With the neuron disabled", "Change");
        for (int i = 0; i < frenchDiffs.length; i++) t.row(frenchStack.labels().get(i), frenchDiffs[i], ablatedDiffs[i], ablatedDiffs[i] - frenchDiffs[i]);
        report.table(t);
        Tensor post = frenchCache.get(hook);
        float[] acts = new float[post.dim(1)];
        for (int p = 0; p < acts.length; p++) acts[p] = post.data()[p * post.dim(2) + neuron];
        report.block("Activation of L" + layer + "N" + neuron + " on the French prompt, by position", Arrays.toString(acts));
    }

    /** Mean activation of a neuron and mean loss at each token position over a data set, padding excluded. */
    private static void positions(LoadedModel loaded, Data data, String hook, int neuron, int second, int layer, int batch, Report report) {
        double[][] frenchStats = positionStats(loaded, data.french(), hook, neuron, batch);
        int len = frenchStats[0].length;
        double[] x = new double[len];
        for (int i = 0; i < len; i++) x[i] = i;
        report.figure(Figure.lines("position_activation_L" + layer + "N" + neuron, "Average activation value of French neuron L" + layer + "N" + neuron
                + " on French text", "Token Position", "Activation Value", x, Map.of("activation", frenchStats[0])));
        report.figure(Figure.lines("position_loss", "Average loss on French text", "Token Position", "Loss", x, Map.of("loss", frenchStats[1])));
        Table t = new Table("position_activation", "Average activation of L" + layer + "N" + neuron + " and loss by position on French text",
                "Position", "Activation", "Loss", "Count");
        for (int p = 0; p < len; p++) t.row(p, frenchStats[0][p], frenchStats[1][p], (int) frenchStats[2][p]);
        report.table(t);
        double[][] secondFrench = positionStats(loaded, data.french(), hook, second, batch);
        double[][] secondOther = positionStats(loaded, data.nonFrench(), hook, second, 10);
        report.figure(Figure.lines("position_activation_L" + layer + "N" + second, "Average activation value of French neuron L" + layer + "N" + second
                + " on French text", "Token Position", "Activation Value", x(secondFrench[0].length), Map.of("activation", secondFrench[0])));
        report.figure(Figure.lines("position_activation_L" + layer + "N" + second + "_other", "Average activation value of French neuron L" + layer + "N"
                + second + " on Non-French text", "Token Position", "Activation Value", x(secondOther[0].length), Map.of("activation", secondOther[0])));
    }

    private static double[] x(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = i;
        return x;
    }

    /** {mean activation, mean loss, count} per position; the loss at a position is that of predicting the next token. */
    static double[][] positionStats(LoadedModel loaded, List<String> texts, String hook, int neuron, int batch) {
        int nCtx = loaded.model().cfg().nCtx();
        double[] act = new double[nCtx], loss = new double[nCtx], count = new double[nCtx], lossCount = new double[nCtx];
        int longest = 0;
        for (int start = 0; start < texts.size(); start += batch) {
            Tokens tokens = Prompts.batchTruncated(loaded, texts.subList(start, Math.min(texts.size(), start + batch)));
            Tensor[] post = new Tensor[1];
            Tensor perToken;
            try (HookScope scope = loaded.model().hookPoints().scope()) {
                scope.forward(hook, (a, point) -> { post[0] = a; return null; });
                perToken = loaded.model().lossPerToken(tokens);
            }
            int pos = tokens.pos(), width = post[0].dim(2);
            for (int b = 0; b < tokens.batch(); b++) {
                for (int p = 0; p < tokens.lengths()[b]; p++) {
                    act[p] += post[0].data()[(b * pos + p) * width + neuron];
                    count[p]++;
                    if (p + 1 < tokens.lengths()[b]) {
                        loss[p] += perToken.data()[b * (pos - 1) + p];
                        lossCount[p]++;
                    }
                }
                longest = Math.max(longest, tokens.lengths()[b]);
            }
        }
        double[][] out = new double[3][longest];
        for (int p = 0; p < longest; p++) {
            out[0][p] = count[p] == 0 ? 0 : act[p] / count[p];
            out[1][p] = lossCount[p] == 0 ? 0 : loss[p] / lossCount[p];
            out[2][p] = count[p];
        }
        return out;
    }

    static double[] columnMeans(double[][] m) {
        double[] out = new double[m[0].length];
        for (double[] row : m) for (int j = 0; j < row.length; j++) out[j] += row[j] / m.length;
        return out;
    }

    static double[] column(List<float[]> rows, int j) {
        return rows.stream().mapToDouble(r -> r[j]).toArray();
    }

    static double mean(double[] v) {
        return Arrays.stream(v).average().orElse(Double.NaN);
    }

}
