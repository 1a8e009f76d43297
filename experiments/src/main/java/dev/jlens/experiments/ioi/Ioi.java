package dev.jlens.experiments.ioi;

import dev.jlens.analysis.CacheAnalysis;
import dev.jlens.analysis.Metric;
import dev.jlens.analysis.Patching;
import dev.jlens.analysis.PosSlice;
import dev.jlens.analysis.ResidualStack;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.experiments.organisms.IoiText;
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
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Notebook 002: indirect-object identification. Eight prompts and their logit difference; the
 * direct-logit-attribution check; the logit lens over the accumulated residual; per-layer and per-head
 * attribution; activation patching (residual, attention and MLP outputs by layer and position, each
 * head's output), each beside its attribution-patching estimate, with the normalised metric; and the
 * logit difference on held-out prompts of the organism corpus.
 */
public final class Ioi {
    /** Notebook 002's prompt formats and name pairs, copied exactly. */
    public static final List<String> PROMPT_FORMAT = List.of(
            "When John and Mary went to the shops,{} gave the bag to",
            "When Tom and James went to the park,{} gave the ball to",
            "When Dan and Sid went to the shops,{} gave an apple to",
            "After Martin and Amy went to the park,{} gave a drink to");
    public static final List<String[]> NAMES = List.of(
            new String[] {" Mary", " John"}, new String[] {" Tom", " James"}, new String[] {" Dan", " Sid"}, new String[] {" Martin", " Amy"});

    public record Options(int heldOut, int maxBatch) {
        public static final Options DEFAULTS = new Options(100, 64);
    }

    /** The headline numbers, for tests and the closing note. */
    public record Result(double cleanLogitDiff, double corruptedLogitDiff, double heldOutLogitDiff, double heldOutAccuracy,
                         Tensor headPatching, Tensor residPatching) {}

    private Ioi() {}

    public static Result run(LoadedModel loaded, Options o, Report report) {
        HookedTransformer model = loaded.model();
        int nLayers = model.cfg().nLayers(), nHeads = model.cfg().nHeads();
        List<String> prompts = new ArrayList<>();
        List<String[]> answers = new ArrayList<>();
        for (int i = 0; i < PROMPT_FORMAT.size(); i++) {
            for (int j = 0; j < 2; j++) {
                answers.add(new String[] {NAMES.get(i)[j], NAMES.get(i)[1 - j]});
                prompts.add(PROMPT_FORMAT.get(i).replace("{}", answers.getLast()[1]));
            }
        }
        int[] correct = new int[prompts.size()], incorrect = new int[prompts.size()];
        for (int i = 0; i < prompts.size(); i++) {
            correct[i] = Prompts.singleToken(loaded, answers.get(i)[0], report);
            incorrect[i] = Prompts.singleToken(loaded, answers.get(i)[1], report);
        }
        Tokens tokens = Prompts.batch(loaded, prompts);
        if (Arrays.stream(tokens.lengths()).distinct().count() > 1) {
            report.note("the prompts are not all the same length for this tokenizer; each prompt is read at its own last position.");
        }
        Table promptTable = new Table("prompts", "prompts and answers", "prompt", "clean", "corrupted");
        for (int i = 0; i < prompts.size(); i++) promptTable.row(prompts.get(i), answers.get(i)[0], answers.get(i)[1]);
        report.table(promptTable);

        HookedTransformer.CachedRun clean = model.runWithCache(tokens, NameFilter.all());
        Metric metric = Metric.logitDifference(correct, incorrect);
        double[] perPrompt = Metric.logitDifferences(clean.logits(), tokens, correct, incorrect);
        double average = Arrays.stream(perPrompt).average().orElseThrow();
        Table diffs = new Table("logit_differences", "Logit differences", "Prompt", "Correct", "Incorrect", "Logit Difference");
        for (int i = 0; i < prompts.size(); i++) diffs.row(prompts.get(i), answers.get(i)[0], answers.get(i)[1], perPrompt[i]);
        report.table(diffs);
        report.block("Avg logit difference", String.format(Locale.ROOT, "%.4f", average));

        CacheAnalysis analysis = new CacheAnalysis(model, clean.cache());
        PosSlice last = PosSlice.at(-1);
        ResidualStack accumulated = analysis.accumulatedResid(nLayers, true, last);
        double[] lens = Reduce.meanOverBatch(analysis.logitAttrs(accumulated, correct, incorrect, last));
        double[] x = new double[lens.length];
        for (int i = 0; i < x.length; i++) x[i] = i / 2.0;
        report.figure(Figure.lines("logit_lens", "Logit Difference From Accumulate Residual Stream", "Layer", "Logit Difference", x,
                Map.of("logit difference", lens)));
        report.table(Reduce.componentTable("logit_lens", "Logit lens: logit difference of the accumulated residual", accumulated.labels(), lens));
        // Direct logit attribution of the final residual (its last component) must reproduce the logit difference.
        report.block("Logit difference from the final residual (apply_ln_to_stack) minus the model's",
                String.format(Locale.ROOT, "%.3e", lens[lens.length - 1] - average));

        ResidualStack perLayer = analysis.decomposeResid(nLayers, CacheAnalysis.Mode.ALL, true, last);
        double[] layerDiffs = Reduce.meanOverBatch(analysis.logitAttrs(perLayer, correct, incorrect, last));
        report.figure(Figure.labelledLines("per_layer", "Logit Difference From Each Layer", "Component", "Logit Difference",
                perLayer.labels(), Map.of("logit difference", layerDiffs)));
        report.table(Reduce.componentTable("per_layer", "Logit difference from each layer", perLayer.labels(), layerDiffs));

        ResidualStack heads = analysis.stackHeadResults(nLayers, last);
        double[] headDiffs = Reduce.meanOverBatch(analysis.logitAttrs(heads, correct, incorrect, last));
        report.figure(Figure.heatmap("per_head", "Logit Difference From Each Head", "Head", "Layer", Reduce.numbers(nHeads), Reduce.numbers(nLayers),
                grid(headDiffs, nLayers, nHeads)));
        report.table(topHeads("per_head_top", "Heads with the largest direct logit attribution", headDiffs, nHeads, 10, null));
        report.view("Attention patterns of the heads with the largest direct logit attribution", topHeadPatterns(loaded, tokens, clean.cache(), headDiffs, 4));
        report.view("Logit difference (indirect object minus subject) predicted at each token", tokenLogitDifferences(loaded, tokens, clean.logits(),
                correct, incorrect));

        // Patching: the corrupted prompts are the clean ones with the names swapped (each prompt's partner).
        int[][] swapped = new int[prompts.size()][];
        for (int i = 0; i < prompts.size(); i++) swapped[i] = Prompts.row(tokens, i % 2 == 0 ? i + 1 : i - 1);
        Tokens corrupted = Tokens.padded(loaded.tokenizer().bosToken(), swapped);
        HookedTransformer.CachedRun corruptedRun = model.runWithCache(corrupted, NameFilter.all());
        double corruptedDiff = metric.value(corruptedRun.logits(), corrupted);
        report.block("Clean and corrupted average logit difference", String.format(Locale.ROOT, "clean %.4f, corrupted %.4f", average, corruptedDiff));
        Patching patching = new Patching(model, corrupted, clean.cache(), corruptedRun.cache(), metric);
        List<String> posLabels = Prompts.positionLabels(loaded, Prompts.row(tokens, 0));
        Tensor resid = null;
        for (Patching.Site site : List.of(Patching.Site.RESID_PRE, Patching.Site.ATTN_OUT, Patching.Site.MLP_OUT)) {
            Patching.SideBySide s = patching.compareLayerByPosition(site, o.maxBatch());
            double[][] act = Reduce.normalised(s.activation(), average, corruptedDiff), attr = Reduce.normalised(s.attribution(), average, corruptedDiff);
            String what = site.name().toLowerCase(Locale.ROOT);
            if (site == Patching.Site.RESID_PRE) resid = s.activation();
            report.figure(Figure.heatmap("patch_" + what, "Normalised logit difference from patched " + what + " (activation patching)",
                    "Position", "Layer", posLabels, Reduce.numbers(nLayers), act));
            report.view("Patched " + what + ", interactive", View.heatmap(null, "position", "layer", posLabels, Reduce.numbers(nLayers), act));
            report.figure(Figure.heatmap("attr_patch_" + what, "Normalised logit difference from patched " + what + " (attribution patching)",
                    "Position", "Layer", posLabels, Reduce.numbers(nLayers), attr));
        }
        Patching.SideBySide headPatch = patching.compareLayerByHead(Patching.HeadSite.Z, o.maxBatch());
        double[][] headAct = Reduce.normalised(headPatch.activation(), average, corruptedDiff);
        double[][] headAttr = Reduce.normalised(headPatch.attribution(), average, corruptedDiff);
        report.figure(Figure.heatmap("patch_head_z", "Normalised logit difference from patched head outputs (z, all positions)",
                "Head", "Layer", Reduce.numbers(nHeads), Reduce.numbers(nLayers), headAct));
        report.view("Patched head outputs, interactive", View.heatmap(null, "head", "layer", Reduce.numbers(nHeads), Reduce.numbers(nLayers), headAct));
        report.figure(Figure.heatmap("attr_patch_head_z", "Attribution-patching estimate for each head's output (z)", "Head", "Layer",
                Reduce.numbers(nHeads), Reduce.numbers(nLayers), headAttr));
        report.table(topHeads("patch_head_top", "Heads whose output, patched from the clean run, restores the most (normalised)",
                flatten(headAct), nHeads, 10, flatten(headAttr)));

        List<IoiText.Prompt> held = IoiText.heldOutPrompts(7, o.heldOut());
        double heldDiff = 0, heldRight = 0;
        Table heldTable = new Table("held_out", "Held-out IOI prompts (name pairs absent from the organisms' training text)",
                "Prompt", "Correct", "Incorrect", "Logit Difference");
        for (int start = 0; start < held.size(); start += o.maxBatch()) {
            List<IoiText.Prompt> chunk = held.subList(start, Math.min(held.size(), start + o.maxBatch()));
            int[] c = new int[chunk.size()], w = new int[chunk.size()];
            for (int i = 0; i < chunk.size(); i++) {
                c[i] = loaded.tokenizer().encode(chunk.get(i).correct())[0];
                w[i] = loaded.tokenizer().encode(chunk.get(i).incorrect())[0];
            }
            Tokens t = Prompts.batch(loaded, chunk.stream().map(IoiText.Prompt::text).toList());
            double[] d = Metric.logitDifferences(model.forward(t), t, c, w);
            for (int i = 0; i < d.length; i++) {
                heldDiff += d[i];
                if (d[i] > 0) heldRight++;
                if (start + i < 10) heldTable.row(chunk.get(i).text(), chunk.get(i).correct(), chunk.get(i).incorrect(), d[i]);
            }
        }
        report.table(heldTable);
        Table summary = new Table("summary", "IOI summary", "measure", "value")
                .row("clean average logit difference (notebook prompts)", average)
                .row("corrupted average logit difference", corruptedDiff)
                .row("held-out prompts", held.size())
                .row("held-out mean logit difference", heldDiff / held.size())
                .row("held-out fraction with the indirect object ahead", heldRight / held.size());
        report.table(summary);
        return new Result(average, corruptedDiff, heldDiff / held.size(), heldRight / held.size(), headPatch.activation(), resid);
    }

    /** The patterns of the {@code count} heads with the largest |DLA|, on every prompt. */
    static View topHeadPatterns(LoadedModel loaded, Tokens tokens, dev.jlens.engine.hooks.ActivationCache cache, double[] headDiffs, int count) {
        int nHeads = loaded.model().cfg().nHeads();
        int[] top = Reduce.top(headDiffs, count, true);
        List<String> heads = new ArrayList<>();
        for (int i : top) heads.add("L" + (i / nHeads) + "H" + (i % nHeads));
        List<View.AttentionPrompt> prompts = new ArrayList<>();
        for (int b = 0; b < tokens.batch(); b++) {
            int from = tokens.start(b), n = tokens.end(b) - from, pos = tokens.pos();
            float[][][][] patterns = new float[1][top.length][n][n];
            for (int k = 0; k < top.length; k++) {
                float[] pattern = cache.get("blocks." + (top[k] / nHeads) + ".attn.hook_pattern").data();
                int h = top[k] % nHeads;
                for (int q = 0; q < n; q++) {
                    for (int key = 0; key < n; key++) patterns[0][k][q][key] = pattern[((b * nHeads + h) * pos + from + q) * pos + from + key];
                }
            }
            prompts.add(new View.AttentionPrompt("prompt " + b, View.tokens(loaded.tokenizer(), tokens, b), patterns));
        }
        return View.attention(null, List.of("top heads"), heads, prompts);
    }

    /** logit(correct) − logit(incorrect) at every position of every prompt: where the model comes to prefer the indirect object. */
    static View tokenLogitDifferences(LoadedModel loaded, Tokens tokens, Tensor logits, int[] correct, int[] incorrect) {
        int vocab = logits.dim(2), pos = tokens.pos();
        float[] l = logits.data();
        List<View.TokenRow> rows = new ArrayList<>();
        for (int b = 0; b < tokens.batch(); b++) {
            float[] values = new float[tokens.end(b) - tokens.start(b)];
            for (int p = tokens.start(b); p < tokens.end(b); p++) {
                int at = (b * pos + p) * vocab;
                values[p - tokens.start(b)] = l[at + correct[b]] - l[at + incorrect[b]];
            }
            rows.add(new View.TokenRow("prompt " + b, View.tokens(loaded.tokenizer(), tokens, b), values));
        }
        return View.tokenActivations(null, rows);
    }

    static double[][] grid(double[] flat, int rows, int cols) {
        double[][] out = new double[rows][cols];
        for (int r = 0; r < rows; r++) System.arraycopy(flat, r * cols, out[r], 0, cols);
        return out;
    }

    static double[] flatten(double[][] grid) {
        return Arrays.stream(grid).flatMapToDouble(Arrays::stream).toArray();
    }

    private static Table topHeads(String name, String title, double[] values, int nHeads, int k, double[] beside) {
        Table t = beside == null ? new Table(name, title, "Head", "Value") : new Table(name, title, "Head", "Activation patching", "Attribution patching");
        for (int i : Reduce.top(values, k, true)) {
            String head = (i / nHeads) + "." + (i % nHeads);
            if (beside == null) t.row(head, values[i]);
            else t.row(head, values[i], beside[i]);
        }
        return t;
    }
}
