package dev.jlens.experiments.report;

import dev.jlens.analysis.Metric;
import dev.jlens.engine.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/** The small reductions the experiments share: averages over prompts, normalised grids, rankings, axis labels. */
public final class Reduce {
    private Reduce() {}

    /** [components, batch, pos] → the mean over batch (and pos) per component, as the notebooks divide by the number of prompts. */
    public static double[] meanOverBatch(Tensor attrs) {
        int n = attrs.dim(0), batch = attrs.dim(1), pos = attrs.dim(2);
        double[] out = new double[n];
        for (int c = 0; c < n; c++) {
            double sum = 0;
            for (int b = 0; b < batch; b++) for (int p = 0; p < pos; p++) sum += attrs.data()[(c * batch + b) * pos + p];
            out[c] = sum / batch;
        }
        return out;
    }

    /** A [rows, ...] grid of raw patching metrics as the normalised metric, row by row. */
    public static double[][] normalised(Tensor raw, double clean, double corrupted) {
        int rows = raw.dim(0), cols = raw.size() / rows;
        double[][] out = new double[rows][cols];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) out[r][c] = Metric.normalised(raw.data()[r * cols + c], clean, corrupted);
        return out;
    }

    /** "0", "1", ..., for layer and head axes. */
    public static List<String> numbers(int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(String.valueOf(i));
        return out;
    }

    public static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    /** The indices of the {@code k} largest values (by absolute value when {@code byMagnitude}), ties to the lower index. */
    public static int[] top(double[] v, int k, boolean byMagnitude) {
        Integer[] order = new Integer[v.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> byMagnitude ? -Math.abs(v[i]) : -v[i]).thenComparingInt(i -> i));
        return Arrays.stream(order).limit(k).mapToInt(Integer::intValue).toArray();
    }

    /** A table of one value per labelled component (logit lens, per-layer attribution). */
    public static Table componentTable(String name, String title, List<String> labels, double[] values) {
        Table t = new Table(name, title, "Component", "Logit Difference");
        for (int i = 0; i < labels.size(); i++) t.row(labels.get(i), values[i]);
        return t;
    }
}
