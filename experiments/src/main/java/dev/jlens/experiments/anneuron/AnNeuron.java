package dev.jlens.experiments.anneuron;

import dev.jlens.analysis.CacheAnalysis;
import dev.jlens.analysis.Metric;
import dev.jlens.analysis.Patching;
import dev.jlens.analysis.PosSlice;
import dev.jlens.analysis.Progress;
import dev.jlens.analysis.ResidualStack;
import dev.jlens.analysis.TestPrompt;
import dev.jlens.engine.Backend;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.experiments.organisms.ArticleText;
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
 * Notebook 003, "We Found An Neuron": the " an" / " a" logit difference on the apple-tree prompt, the
 * logit lens, patching from the lemon-tree prompt by layer and position, a sweep over every neuron of
 * one MLP layer (with its attribution-patching estimate beside it), the neuron's activation against the
 * " an" logit margin over a book, the neuron's output weights against the vocabulary, and each token's
 * two most similar neuron output directions.
 */
public final class AnNeuron {
    public record Options(int layer, int neuron, String token, String book, int maxBatch) {
        public static Options defaults(String book) {
            return new Options(31, 892, " an", book, 64);
        }
    }

    public record Result(double cleanLogitDiff, double corruptedLogitDiff, int layer, int neuron, double[] neuronPatching,
                         double[] neuronAttribution, int tokenCount, int topPredictions) {}

    private AnNeuron() {}

    public static Result run(LoadedModel loaded, Options o, Report report) {
        HookedTransformer model = loaded.model();
        int nLayers = model.cfg().nLayers(), dMlp = model.cfg().dMlp();
        int an = Prompts.singleToken(loaded, " an", report), a = Prompts.singleToken(loaded, " a", report);
        String prompt = ArticleText.NOTEBOOK_PROMPT;
        report.block("utils.test_prompt(prompts[0], \" an\", model, prepend_bos=True, top_k=5)", TestPrompt.render(loaded, prompt, " an", 5, true));

        Tokens tokens = Prompts.batch(loaded, List.of(prompt));
        Metric metric = Metric.logitDifference(new int[] {an}, new int[] {a});
        HookedTransformer.CachedRun clean = model.runWithCache(tokens, NameFilter.all());
        double cleanDiff = metric.value(clean.logits(), tokens);
        report.block("' an' / ' a' logit difference:", String.format(Locale.ROOT, "%.6f", cleanDiff));

        CacheAnalysis analysis = new CacheAnalysis(model, clean.cache());
        PosSlice last = PosSlice.at(-1);
        ResidualStack accumulated = analysis.accumulatedResid(nLayers, true, last);
        double[] lens = Reduce.meanOverBatch(analysis.logitAttrs(accumulated, new int[] {an}, new int[] {a}, last));
        double[] x = new double[lens.length];
        for (int i = 0; i < x.length; i++) x[i] = i / 2.0;
        report.figure(Figure.lines("logit_lens", "Logit Difference From Residual Stream", "Layer", "Logit Difference", x, Map.of("logit difference", lens)));
        report.table(Reduce.componentTable("logit_lens", "Logit lens: ' an' - ' a' from the accumulated residual", accumulated.labels(), lens));

        Tokens corrupted = Prompts.batch(loaded, List.of(ArticleText.NOTEBOOK_CORRUPTED));
        if (corrupted.pos() != tokens.pos()) {
            throw new JlensException("the clean and corrupted prompts tokenize to " + tokens.pos() + " and " + corrupted.pos()
                    + " tokens; patching by position needs equal lengths.");
        }
        HookedTransformer.CachedRun corruptedRun = model.runWithCache(corrupted, NameFilter.all());
        double corruptedDiff = metric.value(corruptedRun.logits(), corrupted);
        report.block("Corrupted and clean average logit difference",
                String.format(Locale.ROOT, "Corrupted Average Logit Diff %.6f%nClean Average Logit Diff %.6f", corruptedDiff, cleanDiff));

        Patching patching = new Patching(model, corrupted, clean.cache(), corruptedRun.cache(), metric);
        List<String> labels = Prompts.positionLabels(loaded, Prompts.row(tokens, 0));
        String[][] sites = {{"RESID_PRE", "patched_resid", "Logit Difference From Patched Residual Stream"},
            {"ATTN_OUT", "patched_attn", "Logit Difference From Patched Attention Layer"},
            {"MLP_OUT", "patched_mlp", "Logit Difference From Patched MLP Layer"}};
        double[][] mlpPatching = null;
        try (Progress.Task bar = report.progress().start("patching layers x positions", sites.length)) {
            for (String[] site : sites) {
                Patching.SideBySide s = patching.compareLayerByPosition(Patching.Site.valueOf(site[0]), o.maxBatch());
                if (site[0].equals("MLP_OUT")) mlpPatching = Reduce.normalised(s.activation(), cleanDiff, corruptedDiff);
                report.figure(Figure.heatmap(site[1], site[2], "Token", "Layer", labels, Reduce.numbers(nLayers),
                        Reduce.normalised(s.activation(), cleanDiff, corruptedDiff)));
                report.figure(Figure.heatmap(site[1] + "_attribution", site[2] + " (attribution patching)", "Token", "Layer", labels,
                        Reduce.numbers(nLayers), Reduce.normalised(s.attribution(), cleanDiff, corruptedDiff)));
                bar.step();
            }
        }

        int layer = o.layer();
        if (layer >= nLayers) {
            // The notebook chose layer 31 from its MLP patching figure; do the same here: the layer whose MLP
            // output, patched at the final position, restores the most.
            int lastPos = tokens.pos() - 1;
            layer = 0;
            for (int l = 1; l < nLayers; l++) if (mlpPatching[l][lastPos] > mlpPatching[layer][lastPos]) layer = l;
            report.note("the neuron sweep is over layer " + o.layer() + " in the notebook, but this model has " + nLayers
                    + " layers; sweeping layer " + layer + ", whose MLP output patched at the final position restores the most ("
                    + String.format(Locale.ROOT, "%.3f", mlpPatching[layer][lastPos]) + ").");
        }
        int[] all = new int[dMlp];
        for (int i = 0; i < dMlp; i++) all[i] = i;
        double[] sweep = new double[dMlp];
        try (Progress.Task bar = report.progress().start("patching every neuron of layer " + layer, dMlp)) {
            for (int start = 0; start < dMlp; start += 256) {
                int[] chunk = Arrays.copyOfRange(all, start, Math.min(dMlp, start + 256));
                double[] part = patching.neurons(layer, chunk, o.maxBatch());
                for (int i = 0; i < part.length; i++) sweep[start + i] = Metric.normalised(part[i], cleanDiff, corruptedDiff);
                bar.step(chunk.length);
            }
        }
        double[] attribution = patching.attributionNeurons(layer);
        for (int i = 0; i < dMlp; i++) attribution[i] = Metric.normalised(attribution[i], cleanDiff, corruptedDiff);
        int best = Reduce.argmax(sweep);
        int neuron = o.neuron();
        if (neuron >= dMlp || layer != o.layer()) {
            report.note("the neuron studied is L" + o.layer() + "N" + o.neuron() + " in the notebook; this model's sweep singles out L" + layer
                    + "N" + best + ", which the rest of the experiment studies.");
            neuron = best;
        }
        double[] index = new double[dMlp];
        for (int i = 0; i < dMlp; i++) index[i] = i;
        report.figure(Figure.scatter("patched_neurons", "Logit Difference From Patched Neurons in MLP Layer " + layer, "Neuron",
                "Patch Improvement", series("activation patching", index, sweep),
                List.of(new Figure.Label("Neuron " + best + " stands out", best, sweep[best]))));
        report.figure(Figure.scatter("patched_neurons_attribution_vs_activation",
                "Attribution patching against activation patching, every neuron of layer " + layer, "Activation patching",
                "Attribution patching", series("neurons", sweep, attribution), List.of()));
        Table topNeurons = new Table("patched_neurons_top", "Neurons of layer " + layer + " whose clean activation restores the most",
                "Neuron", "Patch Improvement", "Attribution estimate");
        for (int i : Reduce.top(sweep, 10, false)) topNeurons.row(i, sweep[i], attribution[i]);
        report.table(topNeurons);

        int tokenOfInterest = Prompts.singleToken(loaded, o.token(), report);
        BookReading reading = BookReading.read(loaded, o.book(), layer, neuron, tokenOfInterest, report);
        report.view("Neuron L" + layer + "N" + neuron + " over the book (its first rows)", bookView(loaded, reading, BOOK_ROWS_SHOWN));
        String activationLabel = "Layer " + layer + " Neuron " + neuron + " activation";
        List<double[]> top = new ArrayList<>(), notTop = new ArrayList<>();
        for (int i = 0; i < reading.activations().length; i++) {
            if (reading.activations()[i] <= 0) continue;
            (reading.logitDiffs()[i] > 0 ? top : notTop).add(new double[] {reading.activations()[i], reading.logitDiffs()[i]});
        }
        Map<String, double[][]> bookSeries = new LinkedHashMap<>();
        bookSeries.put("Top prediction: False", columns(notTop));
        bookSeries.put("Top prediction: True", columns(top));
        report.figure(Figure.scatter("token_logit_activation", "Layer " + layer + " Neuron " + neuron + " activations (>=0) vs. \"" + o.token()
                + "\" Logit subtract Top Other Logit", activationLabel, "\"" + o.token() + "\" Logit - Max Other Logit", bookSeries, List.of()));
        report.table(new Table("book_counts", "The book: the neuron and the token of interest", "measure", "value")
                .row("tokens read", reading.activations().length)
                .row("Instances of '" + o.token() + "' in book", reading.tokenCount())
                .row("Top predictions", reading.topPredictions())
                .row("positions with activation > 0", top.size() + notTop.size())
                .row("correlation of activation and logit margin", reading.correlation()));

        Tensor wOut = model.parameter("blocks." + layer + ".mlp.W_out").value();
        Tensor wU = model.parameter("unembed.W_U").value();
        int d = model.cfg().dModel(), vocab = wU.dim(1);
        Backend ops = Backend.of(wU);
        Tensor effectOnVocab = ops.empty(1, vocab);
        ops.matmul(Matrix.of(wOut, neuron * d, 1, d, d), Matrix.of(wU, d, vocab), null, Matrix.of(effectOnVocab, 1, vocab));
        float[] effect = effectOnVocab.data();
        double[] effectD = new double[vocab], ids = new double[vocab];
        for (int i = 0; i < vocab; i++) { effectD[i] = effect[i]; ids[i] = i; }
        List<Figure.Label> topLabels = new ArrayList<>();
        Table vocabTable = new Table("neuron_dot_vocab", "Tokens whose unembedding the neuron's output weights raise most", "Token", "Id", "Dot Product");
        for (int i : Reduce.top(effectD, 10, false)) {
            vocabTable.row(vocabString(loaded, i), i, effectD[i]);
            if (topLabels.size() < 7) topLabels.add(new Figure.Label(vocabString(loaded, i), i, effectD[i]));
        }
        report.figure(Figure.scatter("neuron_dot_vocab", "Token Embeddings Dot Output Weights of Layer " + layer + " MLP Neuron " + neuron,
                "Token", "Dot Product", series("tokens", ids, effectD), topLabels));
        report.table(vocabTable);

        SimilarNeurons.report(loaded, report);
        return new Result(cleanDiff, corruptedDiff, layer, neuron, sweep, attribution, reading.tokenCount(), reading.topPredictions());
    }

    static String vocabString(LoadedModel loaded, int id) {
        String s = loaded.tokenizer().decode(id);
        return "'" + (s.length() > 10 ? s.substring(0, 10) : s).replace("\n", "\\n") + "'";
    }

    static Map<String, double[][]> series(String name, double[] x, double[] y) {
        Map<String, double[][]> m = new LinkedHashMap<>();
        m.put(name, new double[][] {x, y});
        return m;
    }

    private static double[][] columns(List<double[]> points) {
        double[][] xy = new double[2][points.size()];
        for (int i = 0; i < points.size(); i++) { xy[0][i] = points.get(i)[0]; xy[1][i] = points.get(i)[1]; }
        return xy;
    }

    /** Rows of the book the interactive view shows: enough to read the neuron at work, few enough for a page. */
    static final int BOOK_ROWS_SHOWN = 8;

    /** The neuron's activation at each token of the book's first rows. */
    static View bookView(LoadedModel loaded, BookReading reading, int rows) {
        List<View.TokenRow> out = new java.util.ArrayList<>();
        int length = reading.rowLength();
        for (int r = 0; r < Math.min(rows, reading.tokens().length / length); r++) {
            List<String> tokens = new java.util.ArrayList<>();
            float[] values = new float[length];
            for (int p = 0; p < length; p++) {
                tokens.add(loaded.tokenizer().decode(reading.tokens()[r * length + p]));
                values[p] = (float) reading.activations()[r * length + p];
            }
            out.add(new View.TokenRow("row " + r, tokens, values));
        }
        return View.tokenActivations(null, out);
    }
}
