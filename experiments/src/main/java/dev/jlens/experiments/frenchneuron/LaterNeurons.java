package dev.jlens.experiments.frenchneuron;

import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ForwardHook;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.experiments.report.Figure;
import dev.jlens.experiments.report.Prompts;
import dev.jlens.experiments.report.Reduce;
import dev.jlens.experiments.report.Report;
import dev.jlens.experiments.report.Table;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Notebook 001's reverse engineering of the neuron: its output direction (a row of W_out) against
 * every input direction (a column of W_in) of the next two layers, by cosine similarity and by dot
 * product; then how much mean-ablating it moves the most similar neurons of the next layer on stories.
 */
final class LaterNeurons {
    private LaterNeurons() {}

    static void report(LoadedModel loaded, int layer, int neuron, List<String> stories, String hook, ForwardHook ablate, Report report) {
        HookedTransformer model = loaded.model();
        int nLayers = model.cfg().nLayers(), d = model.cfg().dModel(), dMlp = model.cfg().dMlp();
        if (layer + 1 >= nLayers) {
            report.note("L" + layer + " is the last layer, so there are no later neurons to compare its output direction with.");
            return;
        }
        float[] out = Arrays.copyOfRange(model.parameter("blocks." + layer + ".mlp.W_out").value().data(), neuron * d, (neuron + 1) * d);
        int later = Math.min(2, nLayers - layer - 1);
        double[][] cos = new double[later][dMlp], dot = new double[later][dMlp];
        double outNorm = norm(out, 0, 1, d);
        for (int i = 0; i < later; i++) {
            float[] wIn = model.parameter("blocks." + (layer + 1 + i) + ".mlp.W_in").value().data();
            for (int j = 0; j < dMlp; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) s += (double) out[k] * wIn[k * dMlp + j];
                dot[i][j] = s;
                // torch's CosineSimilarity clamps each norm at 1e-8.
                cos[i][j] = s / (Math.max(outNorm, 1e-8) * Math.max(norm(wIn, j, dMlp, d), 1e-8));
            }
        }
        int[][] topCos = new int[later][];
        for (String kind : List.of("cosine", "dot")) {
            double[][] scores = kind.equals("cosine") ? cos : dot;
            Table t = new Table("later_" + kind, "High " + (kind.equals("cosine") ? "cosine similarity" : "dot product") + " with L" + layer + "N" + neuron,
                    "Layer", "Rank", "Neuron", "Score");
            for (int i = 0; i < later; i++) {
                int[] top = Reduce.top(scores[i], 10, true);
                if (kind.equals("cosine")) topCos[i] = top;
                for (int r = 0; r < top.length; r++) t.row(layer + 1 + i, r, top[r], scores[i][top[r]]);
            }
            report.table(t);
            report.figure(Figure.histogram("later_" + kind + "_hist", (kind.equals("cosine") ? "Cosine similarity" : "Dot product") + " of L" + layer + "N"
                    + neuron + " with later neurons", kind, Map.of(kind, Arrays.stream(scores).flatMapToDouble(Arrays::stream).toArray()), 50, true));
        }

        // Mean change of the next layer's activations when the neuron is ablated, over real positions after BOS.
        Tokens tokens = Prompts.batchTruncated(loaded, stories);
        Tensor original = FrenchNeuron.mlpPost(model, tokens, layer + 1), ablated;
        try (HookScope scope = model.hookPoints().scope()) {
            scope.forward(hook, ablate);
            ablated = FrenchNeuron.mlpPost(model, tokens, layer + 1);
        }
        double[] change = new double[dMlp];
        int count = 0;
        for (int b = 0; b < tokens.batch(); b++) {
            for (int p = 1; p < tokens.lengths()[b]; p++) {
                int row = (b * tokens.pos() + p) * dMlp;
                for (int j = 0; j < dMlp; j++) change[j] += original.data()[row + j] - ablated.data()[row + j];
                count++;
            }
        }
        for (int j = 0; j < dMlp; j++) change[j] /= Math.max(1, count);
        double[] selected = Arrays.stream(topCos[0]).mapToDouble(j -> change[j]).toArray();
        boolean[] isSelected = new boolean[dMlp];
        for (int j : topCos[0]) isSelected[j] = true;
        double[] others = java.util.stream.IntStream.range(0, dMlp).filter(j -> !isSelected[j]).mapToDouble(j -> change[j]).toArray();
        Table t = new Table("ablation_effect_later", "L" + layer + "N" + neuron + " ablation effects on the most similar neurons of layer " + (layer + 1),
                "Neuron", "Difference in activation");
        for (int i = 0; i < topCos[0].length; i++) t.row(topCos[0][i], selected[i]);
        t.row("average of the other neurons", Arrays.stream(others).average().orElse(Double.NaN));
        report.table(t);
        Map<String, double[]> hist = new LinkedHashMap<>();
        hist.put("Other neurons", others);
        hist.put("Top similarity neurons", selected);
        report.figure(Figure.histogram("ablation_effect_later", "L" + layer + "N" + neuron + " ablation effects on later neurons", "Difference in activation",
                hist, 40, true));
    }

    private static double norm(float[] v, int offset, int stride, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) v[offset + i * stride] * v[offset + i * stride];
        return Math.sqrt(s);
    }

}
