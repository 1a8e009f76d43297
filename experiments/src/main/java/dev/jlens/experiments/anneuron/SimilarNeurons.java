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
        int neurons = nLayers * dMlp;
        float[] wOut = new float[neurons * d];
        for (int l = 0; l < nLayers; l++) {
            System.arraycopy(model.parameter("blocks." + l + ".mlp.W_out").value().data(), 0, wOut, l * dMlp * d, dMlp * d);
        }
        Tensor wE = model.parameter("embed.W_E").value(), allWOut = Tensor.of(wOut, neurons, d);
        Backend ops = Backend.of(wE);
        int[] first = new int[vocab], second = new int[vocab];
        double[] gap = new double[vocab], ids = new double[vocab];
        int chunk = Math.max(1, (1 << 22) / neurons);
        Tensor simsTensor = ops.empty(chunk, neurons);
        try (Progress.Task bar = report.progress().start("token / neuron similarities", vocab)) {
            for (int start = 0; start < vocab; start += chunk) {
                int rows = Math.min(chunk, vocab - start);
                ops.matmul(Matrix.of(wE, start * d, rows, d, d), Matrix.of(allWOut, neurons, d).t(), null, Matrix.of(simsTensor, rows, neurons));
                float[] sims = simsTensor.data();
                for (int r = 0; r < rows; r++) {
                    int b1 = -1, b2 = -1;
                    for (int n = 0; n < neurons; n++) {
                        float s = sims[r * neurons + n];
                        if (b1 < 0 || s > sims[r * neurons + b1]) { b2 = b1; b1 = n; }
                        else if (b2 < 0 || s > sims[r * neurons + b2]) b2 = n;
                    }
                    int t = start + r;
                    first[t] = b1;
                    second[t] = b2;
                    gap[t] = b2 < 0 ? 0 : sims[r * neurons + b1] - sims[r * neurons + b2];
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
