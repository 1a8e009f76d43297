package dev.jlens.experiments.soluoutliers;

import dev.jlens.analysis.Ablation;
import dev.jlens.analysis.Progress;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.experiments.report.Figure;
import dev.jlens.experiments.report.Report;
import dev.jlens.experiments.report.Table;
import dev.jlens.experiments.report.View;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Notebook 004: in a one-layer SoLU model, positions where the MLP matters but no single neuron
 * stands out. Per position: the loss increase when {@code hook_mid} is zeroed there, and the outlier
 * score (max − mean over neurons) of {@code hook_mid}; their ratio ranks positions; the outlier
 * score before and after the MLP's layer norm ({@code ln.hook_normalized}) is compared at the top
 * positions and at random ones.
 */
public final class SoluOutliers {
    /**
     * Notebook 004's prompts, copied exactly. "Laughter echoes." and "The sky is blue." have no comma
     * between them there, so Python joins them into one prompt: 35 prompts, not 36.
     */
    public static final List<String> PROMPTS = List.of(
            "I am happy.", "The sun shines.", "Cats meow.", "Dogs bark.", "Birds fly.", "Time flies.", "Love conquers.",
            "Dreams inspire.", "Music heals.", "Laughter echoes." + "The sky is blue.", "I love pizza.", "She walks to work.",
            "He plays guitar.", "We went to the beach.", "They are watching a movie.", "I need some coffee.", "The cat is sleeping.",
            "He ran to catch the bus.", "She smiled and waved goodbye.", "The book is on the table.", "They laughed at the joke.",
            "I want to learn coding.", "We had a great time.", "He asked me a question.", "She sings beautifully.",
            "The sun sets in the west.", "They went hiking in the mountains.", "I forgot my keys at home.", "He bought a new car.",
            "She enjoys playing tennis.", "We had dinner at a fancy restaurant.", "They are planning a trip to Europe.",
            "I saw a shooting star last night.", "She wrote a letter to her friend.", "The dog chased its tail.");

    /** Per prompt, indexed by position (BOS included, as the notebook's str_tokens are). */
    public record PromptResult(int index, String text, int[] tokens, double originalLoss, double[] outlierScores, double[] ablationLosses) {
        public double ablationLossDiff(int pos) {
            return ablationLosses[pos] - originalLoss;
        }
    }

    public record Position(int prompt, int pos, double score) {}

    public record Result(List<PromptResult> prompts, double[] scores, List<Position> top) {}

    private SoluOutliers() {}

    public static Result run(LoadedModel loaded, int layer, int topK, long seed, Report report) {
        HookedTransformer model = loaded.model();
        requireSolu(model);
        String mid = "blocks." + layer + ".mlp.hook_mid", normalized = "blocks." + layer + ".mlp.ln.hook_normalized";
        List<PromptResult> results = new ArrayList<>();
        try (Progress.Task bar = report.progress().start("ablating every position", PROMPTS.size())) {
            for (int i = 0; i < PROMPTS.size(); i++) {
                int[] ids = loaded.tokenizer().toTokens(PROMPTS.get(i), true);
                Tokens tokens = Tokens.of(ids);
                tokens.check(model.cfg());
                Tensor[] act = new Tensor[1];
                double original;
                try (HookScope scope = model.hookPoints().scope()) {
                    scope.forward(mid, (a, point) -> { act[0] = a; return null; });
                    original = model.loss(tokens);
                }
                double[] outliers = outlierScores(act[0]);
                double[] ablated = new double[ids.length];
                float[] zeros = new float[model.cfg().dMlp()];
                for (int p = 0; p < ids.length; p++) {
                    ablated[p] = Ablation.lossWith(model, tokens, mid, Ablation.positions(new int[] {p}, zeros));
                }
                results.add(new PromptResult(i, PROMPTS.get(i), ids, original, outliers, ablated));
                bar.step();
            }
        }
        Table perPrompt = new Table("prompts", "Prompts and their loss", "Index", "Prompt", "Tokens", "Loss");
        for (PromptResult r : results) perPrompt.row(r.index(), r.text(), r.tokens().length, r.originalLoss());
        report.table(perPrompt);
        List<View.TokenRow> rows = new ArrayList<>();
        for (PromptResult r : results) {
            List<String> tokens = new ArrayList<>();
            float[] values = new float[r.tokens().length];
            for (int p = 0; p < values.length; p++) {
                tokens.add(loaded.tokenizer().decode(r.tokens()[p]));
                values[p] = (float) r.ablationLossDiff(p);
            }
            rows.add(new View.TokenRow("prompt " + r.index(), tokens, values));
        }
        report.view("Loss increase when hook_mid is zeroed at each token", View.tokenActivations(null, rows));

        List<double[]> flat = new ArrayList<>(); // {prompt, pos, loss diff, inverse outlier score}
        for (PromptResult r : results) {
            for (int p = 0; p < r.tokens().length; p++) flat.add(new double[] {r.index(), p, r.ablationLossDiff(p), 1 / r.outlierScores()[p]});
        }
        double[] scores = flat.stream().mapToDouble(f -> f[2] * f[3]).toArray();
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -scores[i]).thenComparingInt(i -> i));
        List<Position> top = new ArrayList<>();
        Table topTable = new Table("top_scores", "Positions with the highest score (ablation loss increase / outlier score)",
                "Index", "Prompt", "Position", "Token", "Score", "Ablation loss diff", "Outlier score");
        for (int r = 0; r < Math.min(topK, order.length); r++) {
            double[] f = flat.get(order[r]);
            PromptResult pr = results.get((int) f[0]);
            int pos = (int) f[1];
            top.add(new Position(pr.index(), pos, scores[order[r]]));
            topTable.row(order[r], pr.index(), pos, token(loaded, pr.tokens()[pos]), scores[order[r]], f[2], pr.outlierScores()[pos]);
        }
        report.table(topTable);
        report.block("scores.max()", String.valueOf(scores[order[0]]));

        report.table(compare("outliers_top", "Increases in outlier score in allegedly most important positions", loaded, results, top, mid, normalized));
        SplittableRandom rng = new SplittableRandom(seed);
        List<Position> random = new ArrayList<>();
        int[] picked = rng.ints(0, scores.length).distinct().limit(Math.min(10, scores.length)).sorted().toArray();
        for (int i : picked) random.add(new Position((int) flat.get(i)[0], (int) flat.get(i)[1], scores[i]));
        report.table(compare("outliers_random", "Increases in outlier score in random positions", loaded, results, random, mid, normalized));

        Map<String, double[][]> points = new LinkedHashMap<>();
        points.put("positions", new double[][] {flat.stream().mapToDouble(f -> 1 / f[3]).toArray(), flat.stream().mapToDouble(f -> f[2]).toArray()});
        report.figure(Figure.scatter("ablation_vs_outlier", "Loss increase from zeroing hook_mid at a position against its outlier score",
                "Outlier score (max - mean of hook_mid)", "Ablation loss increase", points, List.of()));
        List<String> labels = new ArrayList<>();
        double[] topScores = new double[top.size()];
        for (int i = 0; i < top.size(); i++) {
            labels.add("[" + top.get(i).prompt() + " : " + top.get(i).pos() + "] " + token(loaded, results.get(top.get(i).prompt()).tokens()[top.get(i).pos()]));
            topScores[i] = top.get(i).score();
        }
        report.figure(Figure.stackedBars("top_scores", "Top " + top.size() + " scores", "[prompt : position] token", "score", labels,
                Map.of("score", topScores)));
        return new Result(results, scores, top);
    }

    public static void requireSolu(HookedTransformer model) {
        if (model.cfg().actFn() != dev.jlens.models.components.Activation.SOLU_LN) {
            throw new JlensException("solu-outliers needs a SoLU model (its MLP has hook_mid and ln.hook_normalized); this model's activation is "
                    + model.cfg().actFn().hfName() + ".");
        }
    }

    /** max − mean over the last axis, per position of a [1, pos, d_mlp] activation. */
    public static double[] outlierScores(Tensor act) {
        int pos = act.dim(1), width = act.dim(2);
        double[] out = new double[pos];
        for (int p = 0; p < pos; p++) {
            double max = Double.NEGATIVE_INFINITY, sum = 0;
            for (int i = 0; i < width; i++) {
                float v = act.data()[p * width + i];
                max = Math.max(max, v);
                sum += v;
            }
            out[p] = max - sum / width;
        }
        return out;
    }

    private static Table compare(String name, String title, LoadedModel loaded, List<PromptResult> results, List<Position> positions,
                                 String pre, String post) {
        Table t = new Table(name, title, "Prompt", "Position", "Token", "Pre", "Post", "Ratio");
        for (Position p : positions) {
            PromptResult pr = results.get(p.prompt());
            Tensor[] acts = new Tensor[2];
            try (HookScope scope = loaded.model().hookPoints().scope()) {
                scope.forward(pre, (a, point) -> { acts[0] = a; return null; });
                scope.forward(post, (a, point) -> { acts[1] = a; return null; });
                loaded.model().forward(Tokens.of(pr.tokens()));
            }
            double before = outlierScores(acts[0])[p.pos()], after = outlierScores(acts[1])[p.pos()];
            t.row(p.prompt(), p.pos(), token(loaded, pr.tokens()[p.pos()]), before, after, after / before);
        }
        return t;
    }

    private static String token(LoadedModel loaded, int id) {
        return "'" + loaded.tokenizer().decode(id) + "'";
    }
}
