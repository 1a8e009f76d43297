package dev.jlens.experiments.anneuron;

import dev.jlens.analysis.Progress;
import dev.jlens.engine.Backend;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Tensor;
import dev.jlens.experiments.report.Figure;
import dev.jlens.experiments.report.Reduce;
import dev.jlens.experiments.report.Report;
import dev.jlens.experiments.report.Table;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.loading.LoadedModel;
import java.util.ArrayList;
import java.util.List;

/**
 * Notebook 003's last finding: for every token, the two neurons (over all layers) whose output
 * weights have the largest dot product with the token's embedding, and the gap between them; a large
 * gap means one neuron stands alone for that token, as L31N892 does for " an".
 */
final class SimilarNeurons {
    private SimilarNeurons() {}

    static void report(LoadedModel loaded, Report report) {
        HookedTransformer model = loaded.model();
        int nLayers = model.cfg().nLayers(), dMlp = model.cfg().dMlp(), d = model.cfg().dModel(), vocab = model.cfg().dVocab();
        Tensor wE = model.parameter("embed.W_E").value();
        Backend ops = Backend.of(wE);
        int[] first = new int[vocab], second = new int[vocab];
        float[] firstSim = new float[vocab], secondSim = new float[vocab];
        double[] gap = new double[vocab], ids = new double[vocab];
        // One layer's W_out at a time, read in place: the neurons of all layers together would be a
        // copy the size of every W_out (0.9 GB for gpt2-large).
        int chunk = Math.max(1, (1 << 22) / dMlp);
        Tensor simsTensor = ops.empty(chunk, dMlp);
        try (Progress.Task bar = report.progress().start("token / neuron similarities", vocab)) {
            for (int start = 0; start < vocab; start += chunk) {
                int rows = Math.min(chunk, vocab - start);
                java.util.Arrays.fill(first, start, start + rows, -1);
                java.util.Arrays.fill(second, start, start + rows, -1);
                for (int l = 0; l < nLayers; l++) {
                    Tensor wOut = model.parameter("blocks." + l + ".mlp.W_out").value();
                    ops.matmul(Matrix.of(wE, start * d, rows, d, d), Matrix.of(wOut, dMlp, d).t(), null, Matrix.of(simsTensor, rows, dMlp));
                    float[] sims = simsTensor.data();
                    for (int r = 0; r < rows; r++) {
                        int t = start + r;
                        for (int i = 0; i < dMlp; i++) {
                            float s = sims[r * dMlp + i];
                            int n = l * dMlp + i;
                            if (first[t] < 0 || s > firstSim[t]) {
                                second[t] = first[t];
                                secondSim[t] = firstSim[t];
                                first[t] = n;
                                firstSim[t] = s;
                            } else if (second[t] < 0 || s > secondSim[t]) {
                                second[t] = n;
                                secondSim[t] = s;
                            }
                        }
                    }
                }
                for (int t = start; t < start + rows; t++) {
                    gap[t] = second[t] < 0 ? 0 : firstSim[t] - secondSim[t];
                    ids[t] = t;
                }
                bar.step(rows);
            }
        }
        int[] order = Reduce.top(gap, 21, false);
        List<Figure.Label> labels = new ArrayList<>();
        for (int i = 0; i < order.length; i += 3) labels.add(new Figure.Label(AnNeuron.vocabString(loaded, order[i]), order[i], gap[order[i]]));
        report.figure(Figure.scatter("most_similar_neurons", "Difference between Top 2 Most Similar Neuron Output Weights for each Token Embedding",
                "Token", "Top 2 Dot Product Difference", AnNeuron.series("tokens", ids, gap), labels));
        Table table = new Table("most_similar_neurons", "Tokens with the largest gap between their two most similar neuron output weights",
                "Token", "Id", "Top 2 Dot Product Difference", "Most similar", "Second");
        for (int i = 0; i < Math.min(20, order.length); i++) {
            int t = order[i];
            table.row(AnNeuron.vocabString(loaded, t), t, gap[t], "L" + first[t] / dMlp + "N" + first[t] % dMlp,
                    second[t] < 0 ? "-" : "L" + second[t] / dMlp + "N" + second[t] % dMlp);
        }
        report.table(table);
    }
}
