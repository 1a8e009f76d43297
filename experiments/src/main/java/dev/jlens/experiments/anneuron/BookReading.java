package dev.jlens.experiments.anneuron;

import dev.jlens.analysis.Progress;
import dev.jlens.engine.Backend;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookScope;
import dev.jlens.experiments.organisms.OrganismCorpus;
import dev.jlens.experiments.report.Report;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;

/**
 * Notebook 003's reading of a book: the text is cut into rows of n_ctx − 1 tokens, each after BOS;
 * at every position the neuron's activation is recorded with the margin of the token of interest
 * over the best other token, both read, as the notebook does, from {@code ln_final.hook_normalized}
 * projected on the embedding W_E. The rows' tokens (BOS first) are kept for the report's view.
 */
record BookReading(double[] activations, double[] logitDiffs, int tokenCount, int topPredictions, double correlation, int[] tokens, int rowLength) {
    /** The organism corpus's held-out prose, the book used when none is given. */
    static final int DEFAULT_PARAGRAPHS = 600;

    static String text(String book) {
        if (book == null) return OrganismCorpus.book(DEFAULT_PARAGRAPHS);
        try {
            return Files.readString(Path.of(book));
        } catch (IOException e) {
            throw new JlensException("--book " + book + ": cannot be read (" + JlensException.describe(e) + ").", e);
        }
    }

    static BookReading read(LoadedModel loaded, String book, int layer, int neuron, int token, Report report) {
        HookedTransformer model = loaded.model();
        int[] ids = loaded.tokenizer().encode(text(book));
        int width = model.cfg().nCtx() - 1, rows = ids.length / width;
        if (rows == 0) throw new JlensException("the book is " + ids.length + " tokens, shorter than one row of " + width + ".");
        int d = model.cfg().dModel(), vocab = model.cfg().dVocab();
        Tensor wE = model.parameter("embed.W_E").value();
        Backend ops = Backend.of(wE);
        double[] acts = new double[rows * (width + 1)], diffs = new double[rows * (width + 1)];
        int[] read = new int[rows * (width + 1)];
        int count = 0, top = 0;
        try (Progress.Task bar = report.progress().start("reading the book", rows)) {
            for (int r = 0; r < rows; r++) {
                int[] row = new int[width + 1];
                row[0] = loaded.tokenizer().bosToken();
                System.arraycopy(ids, r * width, row, 1, width);
                System.arraycopy(row, 0, read, r * (width + 1), width + 1);
                for (int t = 1; t <= width; t++) if (row[t] == token) count++;
                Tensor[] post = new Tensor[1], normalized = new Tensor[1];
                try (HookScope scope = model.hookPoints().scope()) {
                    scope.forward("blocks." + layer + ".mlp.hook_post", (act, point) -> { post[0] = act; return null; });
                    scope.forward("ln_final.hook_normalized", (act, point) -> { normalized[0] = act; return null; });
                    model.forward(Tokens.of(row));
                }
                Tensor logitsTensor = ops.empty(width + 1, vocab);
                ops.matmul(Matrix.of(normalized[0], width + 1, d), Matrix.of(wE, vocab, d).t(), null, Matrix.of(logitsTensor, width + 1, vocab));
                float[] logits = logitsTensor.data();
                int dMlp = model.cfg().dMlp();
                // Every position of the row, BOS included, as the notebook flattens its rows.
                for (int p = 0; p <= width; p++) {
                    int i = r * (width + 1) + p;
                    acts[i] = post[0].data()[p * dMlp + neuron];
                    float interest = logits[p * vocab + token], other = Float.NEGATIVE_INFINITY;
                    for (int v = 0; v < vocab; v++) if (v != token) other = Math.max(other, logits[p * vocab + v]);
                    diffs[i] = interest - other;
                    if (diffs[i] > 0) top++;
                }
                bar.step();
            }
        }
        double correlation = acts.length > 2 ? new PearsonsCorrelation().correlation(acts, diffs) : Double.NaN;
        report.block("The book", "Instances of the token of interest in book: " + count + "\nRows of " + width + " tokens after BOS: " + rows);
        return new BookReading(acts, diffs, count, top, correlation, read, width + 1);
    }
}
