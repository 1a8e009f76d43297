package dev.jlens.experiments.gradientattribution;

import dev.jlens.analysis.Progress;
import dev.jlens.experiments.report.Figure;
import dev.jlens.experiments.report.Report;
import dev.jlens.experiments.report.Table;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Notebook 000: which MLP neurons a gradient step would change. The loss of "base + city." is
 * backpropagated for a wrong city and for the right one; the difference of the MLP weight gradients
 * (W_in, W_out) is measured per layer (stacked bars), per neuron and per residual direction (top-N
 * tables), then the singled-out neurons are checked on unrelated sentences and on right and wrong
 * capital sentences (tables and histograms).
 */
public final class GradientAttribution {
    static final String[] MATRICES = {"W_in", "W_out"};
    static final int TOP_N = 20;

    public record Options(List<Neuron> capitalNeurons, Neuron parisNeuron) {
        public static final Options DEFAULTS = new Options(Prompts000.CAPITAL_NEURONS, Prompts000.PARIS_NEURON);
    }

    /**
     * One gradient (or gradient difference) of one matrix of one layer, reduced to norms: per neuron
     * (W_in's columns, W_out's rows), per residual direction (the other axis) and in all.
     */
    public record Row(List<Object> keys, String matrix, int layer, float[] neuronNorms, float[] directionNorms, double norm) {}

    public record Result(List<Row> diffRows, List<Row> verificationRows, List<Row> capitalRows, List<Neuron> capitalNeurons, Neuron parisNeuron) {}

    private GradientAttribution() {}

    public static Result run(LoadedModel loaded, Options o, Report report) {
        HookedTransformer model = loaded.model();
        int nLayers = model.cfg().nLayers();
        List<String> parisBases = new ArrayList<>(Prompts000.EIFFEL_BASES);
        parisBases.addAll(Prompts000.PARIS_BASES);
        int prompts = (parisBases.size() + Prompts000.ROME_BASES.size()) * Prompts000.CITIES.size()
                + Prompts000.VERIFICATION_INPUTS.size() + 2 * Prompts000.CORRECT_CAPITAL_INPUTS.size();
        List<Row> diffs = new ArrayList<>(), verification = new ArrayList<>(), capitals = new ArrayList<>();
        try (Progress.Task bar = report.progress().start("backprop over every prompt", prompts)) {
            for (String base : parisBases) diffs.addAll(differences(loaded, base, "Paris", bar));
            for (String base : Prompts000.ROME_BASES) diffs.addAll(differences(loaded, base, "Rome", bar));
            for (String input : Prompts000.VERIFICATION_INPUTS) {
                verification.addAll(rows(List.of(input), gradients(loaded, input), null, model.cfg().dMlp()));
                bar.step();
            }
            for (String input : Prompts000.CORRECT_CAPITAL_INPUTS) {
                capitals.addAll(rows(List.of(input, true), gradients(loaded, input), null, model.cfg().dMlp()));
                bar.step();
            }
            for (String input : Prompts000.INCORRECT_CAPITAL_INPUTS) {
                capitals.addAll(rows(List.of(input, false), gradients(loaded, input), null, model.cfg().dMlp()));
                bar.step();
            }
        }

        // Layers: stacked bars of the per-layer norm of the difference, one bar segment per wrong city.
        List<String> layers = new ArrayList<>();
        for (int l = 0; l < nLayers; l++) layers.add(String.valueOf(l));
        String[][] barBases = {{Prompts000.EIFFEL_BASES.get(0), "Paris"}, {Prompts000.EIFFEL_BASES.get(1), "Paris"},
            {Prompts000.PARIS_BASES.get(1), "Paris"}, {Prompts000.ROME_BASES.get(0), "Rome"}};
        for (int b = 0; b < barBases.length; b++) {
            for (String matrix : MATRICES) {
                Map<String, double[]> series = new LinkedHashMap<>();
                for (String city : Prompts000.CITIES) {
                    if (city.equals(barBases[b][1])) continue;
                    double[] norms = new double[nLayers];
                    for (Row r : diffs) if (r.keys().get(0).equals(barBases[b][0]) && r.keys().get(1).equals(city) && r.matrix().equals(matrix)) norms[r.layer()] = r.norm();
                    series.put(city, norms);
                }
                report.figure(Figure.stackedBars("layers_" + b + "_" + matrix, barBases[b][0] + " ..., " + matrix, "Layer", "norm of the gradient difference",
                        layers, series));
            }
        }

        String[] diffColumns = {"Base", "Given Answer", "Correct Answer"};
        report.table(topNeurons("top_neurons_paris", "Top " + TOP_N + " neurons with the highest magnitude of change away from Paris",
                diffs, diffColumns, r -> r.keys().get(2).equals("Paris"), null, TOP_N, false));

        List<Neuron> capitalNeurons = o.capitalNeurons();
        Neuron parisNeuron = o.parisNeuron();
        if (!fits(capitalNeurons, model) || !fits(List.of(parisNeuron), model)) {
            capitalNeurons = mostChanged(diffs, r -> true, 3, List.of());
            parisNeuron = mostChanged(diffs, r -> r.keys().get(2).equals("Paris"), 1, capitalNeurons).getFirst();
            report.note("the notebook's neurons (" + Prompts000.PARIS_NEURON + ", " + Prompts000.CAPITAL_NEURONS + ") are not all in this model ("
                    + nLayers + " layers of " + model.cfg().dMlp() + " neurons); studying instead the three neurons that change most over all "
                    + "bases, " + capitalNeurons + ", as the capital neurons, and " + parisNeuron + ", the next most changed away from Paris.");
        }
        List<Neuron> studied = new ArrayList<>();
        studied.add(parisNeuron);
        studied.addAll(capitalNeurons);
        for (Neuron n : studied) {
            report.table(topNeurons("changes_" + n, n + " top changes", diffs, diffColumns, r -> true, List.of(n), TOP_N, false));
        }
        report.table(topNeurons("top_neurons_rome", "Top " + TOP_N + " neurons with the highest magnitude of change away from Rome",
                diffs, diffColumns, r -> r.keys().get(2).equals("Rome"), null, TOP_N, false));

        String[] dirColumns = {"Base", "Given Answer", "Correct Answer", "Matrix", "Layer", "Direction", "Magnitude"};
        report.table(topNeurons("top_directions_paris", "Top " + TOP_N + " residual stream directions with the highest magnitude of change away from Paris",
                diffs, diffColumns, r -> r.keys().get(2).equals("Paris"), null, TOP_N, true));
        report.table(topNeurons("top_directions_rome", "Top " + TOP_N + " residual stream directions with the highest magnitude of change away from Rome",
                diffs, diffColumns, r -> r.keys().get(2).equals("Rome"), null, TOP_N, true));
        for (int i = 0; i < Prompts000.DIRECTION_BASES.size(); i++) {
            String base = Prompts000.DIRECTION_BASES.get(i);
            report.table(topNeurons("top_directions_base_" + i, "Top residual stream directions with the highest magnitude of change about " + base,
                    diffs, diffColumns, r -> r.keys().get(0).equals(base), null, TOP_N, true));
        }

        String[] verificationColumns = {"Input"};
        report.table(topNeurons("verification_top", "Top neurons by gradient magnitude on unrelated inputs", verification, verificationColumns,
                r -> true, null, TOP_N, false));
        report.table(topNeurons("verification_capital_neurons", "Capital neurons " + capitalNeurons + " on unrelated inputs", verification,
                verificationColumns, r -> true, capitalNeurons, 10, false));
        report.table(topNeurons("verification_" + parisNeuron, parisNeuron + " on unrelated inputs", verification, verificationColumns,
                r -> true, List.of(parisNeuron), 10, false));

        String[] capitalColumns = {"Input", "Correct"};
        report.table(topNeurons("capitals_correct", "Updates on correct capital inputs", capitals, capitalColumns,
                r -> r.keys().get(1).equals(true), capitalNeurons, 10, false));
        report.table(topNeurons("capitals_incorrect", "Updates on incorrect capital inputs", capitals, capitalColumns,
                r -> r.keys().get(1).equals(false), capitalNeurons, 10, false));
        report.table(topNeurons("capitals_correct_w_out", "W_out updates on correct capital inputs", capitals, capitalColumns,
                r -> r.keys().get(1).equals(true) && r.matrix().equals("W_out"), capitalNeurons, 10, false));
        report.table(topNeurons("capitals_incorrect_w_out", "W_out updates on incorrect capital inputs", capitals, capitalColumns,
                r -> r.keys().get(1).equals(false) && r.matrix().equals("W_out"), capitalNeurons, 10, false));

        report.figure(Figure.histogram("hist_capital_neurons", "Distribution of gradient magnitudes for capital neurons in the (correct and incorrect) capitals dataset",
                "Magnitude", Map.of("Magnitude", magnitudes(capitals, capitalNeurons, null)), 30, false));
        report.figure(Figure.histogram("hist_capital_neurons_w_in", "Distribution of W_in gradient magnitudes for capital neurons in the (correct and incorrect) capitals dataset",
                "Magnitude", Map.of("Magnitude", magnitudes(capitals, capitalNeurons, "W_in")), 30, false));
        report.figure(Figure.histogram("hist_capital_neurons_w_out", "Distribution of W_out gradient magnitudes for capital neurons in the (correct and incorrect) capitals dataset",
                "Magnitude", Map.of("Magnitude", magnitudes(capitals, capitalNeurons, "W_out")), 30, false));
        report.figure(Figure.histogram("hist_verification", "Distribution of gradient magnitudes for capital neurons in the verification dataset (unrelated to capitals)",
                "Magnitude", Map.of("Magnitude", magnitudes(verification, capitalNeurons, null)), 30, false));

        Table summary = new Table("summary", "How few neurons the top changes concentrate on", "table", "rows", "distinct neurons");
        for (String city : List.of("Paris", "Rome")) {
            Table t = topNeurons("x", "x", diffs, diffColumns, r -> r.keys().get(2).equals(city), null, TOP_N, false);
            Set<String> distinct = new LinkedHashSet<>();
            for (List<Object> row : t.rows()) distinct.add("L" + row.get(4) + "N" + row.get(5));
            summary.row("top " + TOP_N + " away from " + city, t.rows().size(), distinct.size());
        }
        report.table(summary);
        return new Result(diffs, verification, capitals, capitalNeurons, parisNeuron);
    }

    /** The W_in and W_out gradients of every layer for the mean next-token loss of {@code text} (BOS first). */
    public static float[][][] gradients(LoadedModel loaded, String text) {
        HookedTransformer model = loaded.model();
        Tokens tokens = Tokens.of(loaded.tokenizer().toTokens(text, true));
        tokens.check(model.cfg());
        float[][][] out = new float[model.cfg().nLayers()][2][];
        // The notebook reads the MLPs' weight gradients only: no other parameter takes one.
        try (var mlpWeightsOnly = model.requiresGradOnly(name -> name.endsWith(".mlp." + MATRICES[0]) || name.endsWith(".mlp." + MATRICES[1]))) {
            model.zeroGrad();
            model.lossAndBackward(tokens);
            for (int l = 0; l < out.length; l++) {
                for (int m = 0; m < 2; m++) out[l][m] = model.parameter("blocks." + l + ".mlp." + MATRICES[m]).grad().data().clone();
            }
            model.zeroGrad();
        }
        return out;
    }

    private static List<Row> differences(LoadedModel loaded, String base, String correct, Progress.Task bar) {
        float[][][] right = gradients(loaded, base + " " + correct + ".");
        bar.step();
        List<Row> out = new ArrayList<>();
        for (String city : Prompts000.CITIES) {
            if (city.equals(correct)) continue;
            out.addAll(rows(List.of(base, city, correct), gradients(loaded, base + " " + city + "."), right, loaded.model().cfg().dMlp()));
            bar.step();
        }
        return out;
    }

    /** Norms of {@code grads} (minus {@code minus} when given), one row per layer and matrix. */
    private static List<Row> rows(List<Object> keys, float[][][] grads, float[][][] minus, int dMlp) {
        List<Row> out = new ArrayList<>();
        for (int l = 0; l < grads.length; l++) {
            for (int m = 0; m < 2; m++) {
                float[] g = grads[l][m];
                int d = g.length / dMlp;
                float[] neuron = new float[dMlp], direction = new float[d];
                double[] nSq = new double[dMlp], dSq = new double[d];
                double total = 0;
                for (int i = 0; i < g.length; i++) {
                    double v = minus == null ? g[i] : (double) g[i] - minus[l][m][i];
                    double sq = v * v;
                    // W_in is [d_model, d_mlp]; W_out is [d_mlp, d_model].
                    int row = i / (m == 0 ? dMlp : d), col = i % (m == 0 ? dMlp : d);
                    int n = m == 0 ? col : row, r = m == 0 ? row : col;
                    nSq[n] += sq;
                    dSq[r] += sq;
                    total += sq;
                }
                for (int i = 0; i < dMlp; i++) neuron[i] = (float) Math.sqrt(nSq[i]);
                for (int i = 0; i < d; i++) direction[i] = (float) Math.sqrt(dSq[i]);
                out.add(new Row(keys, MATRICES[m], l, neuron, direction, Math.sqrt(total)));
            }
        }
        return out;
    }

    private static boolean fits(List<Neuron> neurons, HookedTransformer model) {
        return neurons.stream().allMatch(n -> n.layer() < model.cfg().nLayers() && n.index() < model.cfg().dMlp());
    }

    /** The {@code k} neurons (not in {@code except}) with the largest single change among the rows kept. */
    private static List<Neuron> mostChanged(List<Row> rows, Predicate<Row> keep, int k, List<Neuron> except) {
        Map<Neuron, Float> best = new HashMap<>();
        for (Row r : rows) {
            if (!keep.test(r)) continue;
            for (int n = 0; n < r.neuronNorms().length; n++) best.merge(new Neuron(r.layer(), n), r.neuronNorms()[n], Math::max);
        }
        return best.entrySet().stream().filter(e -> !except.contains(e.getKey()))
                .sorted(Map.Entry.<Neuron, Float>comparingByValue().reversed().thenComparing(e -> e.getKey().toString()))
                .limit(k).map(Map.Entry::getKey).toList();
    }

    private record Cell(Row row, int index, float magnitude) {}

    /**
     * The {@code k} largest (row, neuron) magnitudes among the rows kept, restricted to {@code neurons}
     * when given; residual directions instead of neurons when {@code directions}. Sorted as pandas's
     * sort_values(ascending=False) would show them.
     */
    static Table topNeurons(String name, String title, List<Row> rows, String[] keyColumns, Predicate<Row> keep, List<Neuron> neurons,
                            int k, boolean directions) {
        PriorityQueue<Cell> heap = new PriorityQueue<>(Comparator.comparingDouble(Cell::magnitude));
        for (Row r : rows) {
            if (!keep.test(r)) continue;
            float[] norms = directions ? r.directionNorms() : r.neuronNorms();
            for (int i = 0; i < norms.length; i++) {
                if (neurons != null && !neurons.contains(new Neuron(r.layer(), i))) continue;
                if (heap.size() < k) heap.add(new Cell(r, i, norms[i]));
                else if (norms[i] > heap.peek().magnitude()) {
                    heap.poll();
                    heap.add(new Cell(r, i, norms[i]));
                }
            }
        }
        List<Cell> cells = new ArrayList<>(heap);
        cells.sort(Comparator.comparingDouble((Cell c) -> -c.magnitude()));
        String[] columns = new String[keyColumns.length + 4];
        System.arraycopy(keyColumns, 0, columns, 0, keyColumns.length);
        columns[keyColumns.length] = "Matrix";
        columns[keyColumns.length + 1] = "Layer";
        columns[keyColumns.length + 2] = directions ? "Direction" : "Neuron";
        columns[keyColumns.length + 3] = "Magnitude";
        Table t = new Table(name, title, columns);
        for (Cell c : cells) {
            List<Object> values = new ArrayList<>(c.row().keys());
            values.add(c.row().matrix());
            values.add(c.row().layer());
            values.add(c.index());
            values.add((double) c.magnitude());
            t.row(values.toArray());
        }
        return t;
    }

    private static double[] magnitudes(List<Row> rows, List<Neuron> neurons, String matrix) {
        List<Double> out = new ArrayList<>();
        for (Row r : rows) {
            if (matrix != null && !r.matrix().equals(matrix)) continue;
            for (Neuron n : neurons) if (n.layer() == r.layer()) out.add((double) r.neuronNorms()[n.index()]);
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
