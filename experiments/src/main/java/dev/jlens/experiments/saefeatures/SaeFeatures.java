package dev.jlens.experiments.saefeatures;

import dev.jlens.analysis.Metric;
import dev.jlens.analysis.Probing;
import dev.jlens.analysis.sae.CorpusContexts;
import dev.jlens.analysis.sae.FeatureStatistics;
import dev.jlens.analysis.sae.Sae;
import dev.jlens.analysis.sae.SaeEvaluation;
import dev.jlens.analysis.sae.SaeSplice;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.experiments.organisms.IoiText;
import dev.jlens.experiments.organisms.OrganismCorpus;
import dev.jlens.experiments.organisms.Recipe;
import dev.jlens.experiments.report.Prompts;
import dev.jlens.experiments.report.Report;
import dev.jlens.experiments.report.Table;
import dev.jlens.experiments.report.View;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * SAE features on the organisms, reading like a notebook's cells: how well each shipped SAE
 * stands in for its hook; on neox-organism's layer-1 residual, the features that best tell French
 * tokens from English ones, probed one at a time beside the French neuron L1N484; on
 * gpt2-organism, the features attribution patching singles out for IOI, each checked by ablating
 * it; and a dashboard for each feature named.
 */
public final class SaeFeatures {
    /**
     * @param frenchNeuron the layer-1 neuron notebook 001's experiment finds on neox-organism
     * @param samples      French and English held-out texts, each
     * @param ioiPrompts   held-out IOI prompts
     * @param top          features shown per finding
     */
    public record Options(int frenchNeuron, int samples, int ioiPrompts, int top, int contexts, int splits, long seed) {
        public static final Options DEFAULTS = new Options(484, 200, 64, 5, 128, 5, 0);
    }

    /** One SAE on one model, and the corpus its dashboards read. */
    public record Subject(LoadedModel loaded, Sae sae, String name, List<String> corpus) {}

    /** The headline numbers, for tests and the closing note. */
    public record Result(SaeEvaluation neoxQuality, SaeEvaluation gpt2Quality, int frenchFeature, double frenchFeatureTest, double frenchTogetherTest,
                         double neuronTest,
                         int[] ioiFeatures, double[] ioiAttribution, double[] ioiAblation, double cleanLogitDiff) {}

    private SaeFeatures() {}

    public static Result run(Subject neox, Subject gpt2, Options o, Report report) {
        SaeEvaluation neoxQuality = quality(neox, o, report), gpt2Quality = quality(gpt2, o, report);
        French french = french(neox, o, report);
        Ioi ioi = ioi(gpt2, o, report);
        dashboards(neox, french.features, "French", o, report);
        dashboards(gpt2, ioi.features, "IOI", o, report);
        return new Result(neoxQuality, gpt2Quality, french.features[0], french.bestTest, french.togetherTest, french.neuronTest, ioi.features, ioi.attribution, ioi.ablation,
                ioi.clean);
    }

    /** Cell 1: the SAE against its hook on held-out text (SAELens's metrics). */
    static SaeEvaluation quality(Subject s, Options o, Report report) {
        List<String> heldOut = s.corpus().subList(s.corpus().size() - Math.max(2, s.corpus().size() / 10), s.corpus().size());
        CorpusContexts contexts = new CorpusContexts(heldOut, s.loaded().tokenizer(), Math.min(128, s.loaded().model().cfg().nCtx()));
        int n = Math.min(32, Math.max(1, contexts.tokens() / 127));
        int[][] rows = new int[n][];
        for (int i = 0; i < n; i++) rows[i] = contexts.get();
        SaeEvaluation e = SaeEvaluation.of(s.loaded().model(), s.sae(), Tokens.padded(0, rows));
        Table t = new Table("quality_" + slug(s.name()), "The " + s.name() + " SAE at " + s.sae().cfg().hookName() + " on " + n
                + " held-out contexts", "Measure", "Value");
        t.row("features (d_sae)", s.sae().cfg().dSae());
        t.row("L0 (active features per token)", e.l0());
        t.row("explained variance", e.explainedVariance());
        t.row("normalised MSE", e.normalisedMse());
        t.row("features firing nowhere", e.deadFraction());
        t.row("CE loss, clean", e.cleanLoss());
        t.row("CE loss, SAE spliced in", e.saeLoss());
        t.row("CE loss, zero-ablated", e.zeroAblationLoss());
        t.row("CE loss recovered", e.ceLossRecovered());
        report.table(t);
        return e;
    }

    private record French(int[] features, double bestTest, double togetherTest, double neuronTest) {}

    /** Features probed one at a time: those with the largest difference of class means. */
    static final int CANDIDATES = 30;

    /**
     * Cell 2: per-token features on held-out French and English texts (BOS left out), ranked by the
     * difference of class means; each of the top features, and the neuron, probed alone by logistic
     * regression over random train/test splits, as the French-neuron experiment probes neurons.
     */
    static French french(Subject s, Options o, Report report) {
        HookedTransformer model = s.loaded().model();
        OrganismCorpus.HeldOut texts = OrganismCorpus.heldOut(o.samples(), Recipe.named(s.name()));
        int layer = layerOf(s.sae().cfg().hookName());
        Rows french = rows(s, texts.french(), layer, o.frenchNeuron()), english = rows(s, texts.english(), layer, o.frenchNeuron());
        Probing.Dataset features = Probing.balanced(french.features, english.features), neuron = Probing.balanced(french.neuron, english.neuron);
        // Candidates by the difference of class means, as the French-neuron experiment ranks neurons; each probed alone, and the
        // best o.top() by training accuracy shown with their test accuracy, beside the top 10 candidates probed together.
        int[] candidates = Probing.topK(Probing.classMeanDifference(Probing.split(features, 0.1, o.seed()).train()), CANDIDATES);
        double[] test = new double[candidates.length], train = new double[candidates.length];
        double neuronTest = 0, neuronTrain = 0, togetherTest = 0, togetherTrain = 0;
        int[] together = Arrays.copyOf(candidates, Math.min(10, candidates.length));
        for (int split = 0; split < o.splits(); split++) {
            Probing.Split fs = Probing.split(features, 0.1, o.seed() + 1 + split), ns = Probing.split(neuron, 0.1, o.seed() + 1 + split);
            for (int k = 0; k < candidates.length; k++) {
                Probing.LogisticRegression lr = Probing.LogisticRegression.fit(fs.train().columns(candidates[k]), 1.0);
                train[k] += lr.accuracy(fs.train().columns(candidates[k])) / o.splits();
                test[k] += lr.accuracy(fs.test().columns(candidates[k])) / o.splits();
            }
            Probing.LogisticRegression all = Probing.LogisticRegression.fit(fs.train().columns(together), 1.0);
            togetherTrain += all.accuracy(fs.train().columns(together)) / o.splits();
            togetherTest += all.accuracy(fs.test().columns(together)) / o.splits();
            Probing.LogisticRegression lr = Probing.LogisticRegression.fit(ns.train(), 1.0);
            neuronTrain += lr.accuracy(ns.train()) / o.splits();
            neuronTest += lr.accuracy(ns.test()) / o.splits();
        }
        Integer[] byTrain = new Integer[candidates.length];
        for (int k = 0; k < byTrain.length; k++) byTrain[k] = k;
        Arrays.sort(byTrain, (a, b) -> Double.compare(train[b], train[a]));
        Table t = new Table("french_features", "Features of the SAE at " + s.sae().cfg().hookName() + " that best tell French tokens from English ones ("
                + french.features.size() + " French and " + english.features.size() + " English tokens; of the " + CANDIDATES
                + " features with the largest difference of class means, the best single-feature probes by training accuracy, mean over "
                + o.splits() + " splits), beside neuron L" + layer + "N" + o.frenchNeuron(), "Probe", "Mean on French", "Mean on English",
                "Fires on French", "Fires on English", "Train accuracy", "Test accuracy");
        int[] shown = new int[Math.min(o.top(), candidates.length)];
        for (int i = 0; i < shown.length; i++) {
            int k = byTrain[i], f = candidates[k];
            shown[i] = f;
            t.row("feature " + f, mean(french.features, f), mean(english.features, f), firing(french.features, f), firing(english.features, f), train[k], test[k]);
        }
        t.row("the top " + together.length + " features together", "", "", "", "", togetherTrain, togetherTest);
        t.row("neuron L" + layer + "N" + o.frenchNeuron(), mean(french.neuron, 0), mean(english.neuron, 0), firing(french.neuron, 0),
                firing(english.neuron, 0), neuronTrain, neuronTest);
        report.table(t);
        double bestTest = test[byTrain[0]];
        report.block("The best French feature against the French neuron", String.format(Locale.ROOT,
                "feature %d alone tells French tokens from English ones %.1f%% of the time (it fires on %.1f%% of French tokens and %.1f%% of English ones); "
                        + "the top %d features together %.1f%%; neuron L%dN%d alone %.1f%%.", shown[0], 100 * bestTest,
                100 * firing(french.features, shown[0]), 100 * firing(english.features, shown[0]), together.length, 100 * togetherTest, layer,
                o.frenchNeuron(), 100 * neuronTest));
        return new French(shown, bestTest, togetherTest, neuronTest);
    }

    /** Per token (BOS left out): the SAE's features, and the neuron's activation. */
    private record Rows(List<float[]> features, List<float[]> neuron) {}

    private static Rows rows(Subject s, List<String> texts, int layer, int neuronIndex) {
        HookedTransformer model = s.loaded().model();
        String hook = s.sae().cfg().hookName(), post = "blocks." + layer + ".mlp.hook_post";
        int dSae = s.sae().cfg().dSae(), dMlp = model.cfg().dMlp(), in = s.sae().cfg().dIn();
        List<float[]> features = new ArrayList<>(), neuron = new ArrayList<>();
        for (int start = 0; start < texts.size(); start += 32) {
            Tokens tokens = Prompts.batchTruncated(s.loaded(), texts.subList(start, Math.min(texts.size(), start + 32)));
            ActivationCache cache = model.runWithCache(tokens, NameFilter.exactly(hook, post)).cache();
            Tensor x = cache.get(hook);
            float[] acts = s.sae().encode(x.reshape(tokens.batch() * tokens.pos(), in)).data(), n = cache.get(post).data();
            for (int b = 0; b < tokens.batch(); b++) {
                for (int p = tokens.start(b) + 1; p < tokens.end(b); p++) {
                    int row = b * tokens.pos() + p;
                    features.add(Arrays.copyOfRange(acts, row * dSae, (row + 1) * dSae));
                    neuron.add(new float[] {n[row * dMlp + neuronIndex]});
                }
            }
        }
        return new Rows(features, neuron);
    }

    private record Ioi(int[] features, double[] attribution, double[] ablation, double clean) {}

    /**
     * Cell 3: attribution patching of SAE features for IOI. With the SAE spliced in (and its error
     * term, so the model computes as before), the gradient of the mean logit difference (indirect
     * object minus subject) at the features, times the features, summed over positions: the
     * first-order effect of removing each feature. The strongest are then ablated for real.
     */
    static Ioi ioi(Subject s, Options o, Report report) {
        HookedTransformer model = s.loaded().model();
        List<IoiText.Prompt> prompts = IoiText.heldOutPrompts(o.seed() + 2026, o.ioiPrompts());
        List<String> texts = prompts.stream().map(IoiText.Prompt::text).toList();
        int[] correct = new int[texts.size()], incorrect = new int[texts.size()];
        for (int i = 0; i < texts.size(); i++) {
            correct[i] = Prompts.singleToken(s.loaded(), prompts.get(i).correct(), report);
            incorrect[i] = Prompts.singleToken(s.loaded(), prompts.get(i).incorrect(), report);
        }
        Tokens tokens = Prompts.batch(s.loaded(), texts);
        Metric metric = Metric.logitDifference(correct, incorrect);
        int dSae = s.sae().cfg().dSae();
        double[] attribution = new double[dSae];
        double clean;
        float[] acts;
        try (SaeSplice spliced = SaeSplice.attach(model, s.sae(), true); HookScope scope = model.hookPoints().scope();
             HookedTransformer.GradientScope noWeights = model.requiresGradOnly(name -> false)) {
            String actsName = spliced.hookName("hook_sae_acts_post");
            ActivationCache forward = ActivationCache.recordActivations(scope, NameFilter.exactly(actsName));
            ActivationCache backward = ActivationCache.recordGradients(scope, NameFilter.exactly(actsName));
            s.sae().setRequiresGrad(false);
            Tensor logits = model.forward(tokens, true);
            clean = metric.value(logits, tokens);
            model.backward(metric.gradient(logits, tokens));
            acts = forward.get(actsName).data();
            float[] grads = backward.get(actsName).data();
            // Σ over positions of activation × gradient, for the mean over prompts the metric already is.
            for (int b = 0; b < tokens.batch(); b++) {
                for (int p = tokens.start(b); p < tokens.end(b); p++) {
                    int at = (b * tokens.pos() + p) * dSae;
                    for (int f = 0; f < dSae; f++) attribution[f] -= acts[at + f] * grads[at + f];
                }
            }
        }
        Integer[] order = new Integer[dSae];
        for (int f = 0; f < dSae; f++) order[f] = f;
        Arrays.sort(order, (a, b) -> Double.compare(Math.abs(attribution[b]), Math.abs(attribution[a])));
        int[] top = new int[o.top()];
        double[] predicted = new double[o.top()], ablated = new double[o.top()];
        Table t = new Table("ioi_features", "Features of the SAE at " + s.sae().cfg().hookName() + " that attribution patching singles out for IOI ("
                + texts.size() + " held-out prompts; clean logit difference " + String.format(Locale.ROOT, "%.3f", clean) + ")", "Feature",
                "Removing it: attribution (first order)", "Removing it: ablation (actual)", "Fires at", "Its strongest token");
        for (int i = 0; i < o.top(); i++) {
            int f = order[i];
            top[i] = f;
            predicted[i] = attribution[f];
            ablated[i] = ablate(model, s.sae(), f, tokens, metric) - clean;
            t.row("feature " + f, predicted[i], ablated[i], firedPositions(acts, f, dSae, tokens), strongestToken(acts, f, dSae, tokens, s.loaded()));
        }
        report.table(t);
        return new Ioi(top, predicted, ablated, clean);
    }

    /** The mean logit difference with feature {@code f} set to zero at every position (the error term keeps the rest of the model as it was). */
    private static double ablate(HookedTransformer model, Sae sae, int f, Tokens tokens, Metric metric) {
        int dSae = sae.cfg().dSae();
        try (SaeSplice spliced = SaeSplice.attach(model, sae, true); HookScope scope = model.hookPoints().scope()) {
            scope.forward(spliced.hookName("hook_sae_acts_post"), (x, point) -> {
                Tensor y = x.copy();
                float[] v = y.data();
                for (int i = f; i < v.length; i += dSae) v[i] = 0f;
                return y;
            });
            return metric.value(model.forward(tokens), tokens);
        }
    }

    /** Which token positions of the prompts the feature fires at, as fractions: "S2 0.95" style summaries are left to the table's reader. */
    private static String firedPositions(float[] acts, int f, int dSae, Tokens tokens) {
        long fired = 0, positions = 0;
        for (int b = 0; b < tokens.batch(); b++) {
            for (int p = tokens.start(b); p < tokens.end(b); p++) {
                positions++;
                if (acts[(b * tokens.pos() + p) * dSae + f] > 0) fired++;
            }
        }
        return String.format(Locale.ROOT, "%d of %d positions", fired, positions);
    }

    /** The token at which the feature is strongest over the prompts, shown with the token before it. */
    private static String strongestToken(float[] acts, int f, int dSae, Tokens tokens, LoadedModel loaded) {
        float best = 0;
        int bestB = -1, bestP = -1;
        for (int b = 0; b < tokens.batch(); b++) {
            for (int p = tokens.start(b); p < tokens.end(b); p++) {
                float v = acts[(b * tokens.pos() + p) * dSae + f];
                if (v > best) {
                    best = v;
                    bestB = b;
                    bestP = p;
                }
            }
        }
        if (bestB < 0) return "";
        String before = bestP > tokens.start(bestB) ? loaded.tokenizer().decode(tokens.get(bestB, bestP - 1)) : "";
        return before + "[" + loaded.tokenizer().decode(tokens.get(bestB, bestP)) + "]";
    }

    /** Cell 4: a dashboard for each feature named, over contexts of the model's corpus. */
    static void dashboards(Subject s, int[] features, String finding, Options o, Report report) {
        CorpusContexts contexts = new CorpusContexts(s.corpus(), s.loaded().tokenizer(), Math.min(128, s.loaded().model().cfg().nCtx()));
        int n = Math.min(o.contexts(), Math.max(1, contexts.tokens() / 127));
        int[][] rows = new int[n][];
        for (int i = 0; i < n; i++) rows[i] = contexts.get();
        FeatureStatistics stats = FeatureStatistics.of(s.loaded().model(), s.sae(), rows, 10, 10, report.progress());
        for (int f : features) {
            FeatureStatistics.Feature feature = stats.feature(f);
            String title = finding + " feature " + f + " of the " + s.name() + " SAE: fires at " + feature.fires() + " of " + stats.positions()
                    + " corpus positions";
            report.view(title, View.feature(stats, feature, s.loaded().tokenizer(), FeatureDashboards.BEFORE, FeatureDashboards.AFTER));
        }
    }

    private static int layerOf(String hook) {
        String[] parts = hook.split("\\.");
        return parts.length > 1 && parts[0].equals("blocks") ? Integer.parseInt(parts[1]) : 0;
    }

    private static double mean(List<float[]> rows, int column) {
        double sum = 0;
        for (float[] r : rows) sum += r[column];
        return sum / rows.size();
    }

    private static double firing(List<float[]> rows, int column) {
        int fired = 0;
        for (float[] r : rows) if (r[column] > 0) fired++;
        return (double) fired / rows.size();
    }

    private static String slug(String name) {
        return name.replaceAll("[^A-Za-z0-9]+", "-");
    }
}
