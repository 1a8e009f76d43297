package dev.jlens.experiments.sweeps;

import dev.jlens.analysis.Metric;
import dev.jlens.analysis.Patching;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.engine.io.TextLines;
import dev.jlens.experiments.report.Table;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The notebooks' patching sweeps over a file of many prompt pairs, prompt by prompt, then reduced:
 * notebook 003's sweep of every neuron of one MLP layer (each neuron's clean activation patched into
 * the corrupted run) and notebook 002's patching of each head's output (z) by layer × head. Each
 * pair gives its normalised metric per neuron or head (1: the clean logit difference restored, 0:
 * none of it); the reduction is their mean over pairs, summed in the file's order, so a run that
 * shards the pairs over machines gives the same tables to the last bit.
 */
public final class PromptSweep {
    /**
     * What is swept: every neuron of one layer's MLP; every head's z (layer × head); or notebook
     * 002's residual, attention-output and MLP-output grids (layer × position, for pairs of one length).
     */
    public enum Kind {
        NEURONS("neurons", null), HEADS("heads", null), RESID_PRE("resid_pre", Patching.Site.RESID_PRE), ATTN_OUT("attn_out", Patching.Site.ATTN_OUT),
        MLP_OUT("mlp_out", Patching.Site.MLP_OUT);

        final String flag;
        final Patching.Site site;

        Kind(String flag, Patching.Site site) {
            this.flag = flag;
            this.site = site;
        }
    }

    /** One line of the prompts file: the clean and corrupted prompts, and the answer and the wrong answer (single tokens). */
    public record Pair(String clean, String corrupted, String answer, String wrong) implements Serializable {}

    /** @param layer the swept MLP layer (neurons only) */
    public record Options(Kind kind, int layer, int maxBatch) implements Serializable {}

    private PromptSweep() {}

    /** The options {@code --kind} and {@code --layer} name (the last layer by default), checked against the model. */
    public static Options options(String kind, Integer layer, dev.jlens.models.Config cfg) {
        Kind k = java.util.Arrays.stream(Kind.values()).filter(x -> x.flag.equals(kind)).findFirst().orElseThrow(() ->
                new JlensException("--kind '" + kind + "' is not a sweep jlens runs; it takes neurons, heads, resid_pre, attn_out or mlp_out."));
        int l = layer == null ? cfg.nLayers() - 1 : layer;
        if (l < 0 || l >= cfg.nLayers()) throw new JlensException("--layer " + l + " is outside the model's 0.." + (cfg.nLayers() - 1) + ".");
        return new Options(k, l, 64);
    }

    /** The pairs of a file, one per line, its four fields separated by tabs; a malformed line is one sentence naming it. */
    public static List<Pair> read(Path file) {
        List<String> lines = TextLines.read(file, "--prompts");
        List<Pair> pairs = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) continue;
            String[] f = lines.get(i).split("\t", -1);
            if (f.length != 4) {
                throw new JlensException("--prompts " + file + ": line " + (i + 1) + " has " + f.length + " tab-separated fields, not 4 (clean, corrupted, answer, wrong).");
            }
            pairs.add(new Pair(f[0], f[1], f[2], f[3]));
        }
        if (pairs.isEmpty()) throw new JlensException("--prompts " + file + ": holds no prompt pairs.");
        return pairs;
    }

    /** The values one pair gives: per neuron of the layer, or per (layer, head) flattened. */
    public static double[] perPair(LoadedModel loaded, Pair pair, Options o) {
        HookedTransformer model = loaded.model();
        Tokens clean = loaded.toTokens(pair.clean(), true), corrupted = loaded.toTokens(pair.corrupted(), true);
        if (clean.pos() != corrupted.pos()) {
            throw new JlensException("the prompts '" + pair.clean() + "' and '" + pair.corrupted() + "' are " + clean.pos() + " and " + corrupted.pos()
                    + " tokens; a patching pair needs as many.");
        }
        Metric metric = Metric.logitDifference(new int[] {loaded.tokenizer().toSingleToken(pair.answer())}, new int[] {loaded.tokenizer().toSingleToken(pair.wrong())});
        HookedTransformer.CachedRun cleanRun = model.runWithCache(clean, NameFilter.all()), corruptedRun = model.runWithCache(corrupted, NameFilter.all());
        double cleanValue = metric.value(cleanRun.logits(), clean), corruptedValue = metric.value(corruptedRun.logits(), corrupted);
        Patching patching = new Patching(model, corrupted, cleanRun.cache(), corruptedRun.cache(), metric);
        double[] raw = switch (o.kind()) {
            case NEURONS -> {
                int[] all = new int[model.cfg().dMlp()];
                for (int i = 0; i < all.length; i++) all[i] = i;
                yield patching.neurons(o.layer(), all, o.maxBatch());
            }
            case HEADS -> flat(patching.layerByHead(Patching.HeadSite.Z, o.maxBatch()));
            case RESID_PRE, ATTN_OUT, MLP_OUT -> flat(patching.layerByPosition(o.kind().site, o.maxBatch()));
        };
        double[] out = new double[raw.length];
        for (int i = 0; i < out.length; i++) out[i] = Metric.normalised(raw[i], cleanValue, corruptedValue);
        return out;
    }

    private static double[] flat(Tensor grid) {
        double[] out = new double[grid.size()];
        for (int i = 0; i < out.length; i++) out[i] = grid.data()[i];
        return out;
    }

    /** The mean over pairs, summed in the order given. */
    public static double[] mean(List<double[]> perPair) {
        double[] sum = new double[perPair.getFirst().length];
        for (double[] v : perPair) {
            if (v.length != sum.length) throw new JlensException("the prompt pairs are not all of one length in tokens, which a layer × position grid needs.");
        }
        for (double[] v : perPair) for (int i = 0; i < sum.length; i++) sum[i] += v[i];
        for (int i = 0; i < sum.length; i++) sum[i] /= perPair.size();
        return sum;
    }

    /** The whole sweep in this JVM: every pair in turn. */
    public static double[] run(LoadedModel loaded, List<Pair> pairs, Options o) {
        List<double[]> values = new ArrayList<>();
        for (Pair p : pairs) values.add(perPair(loaded, p, o));
        return mean(values);
    }

    /** The tables the reduction gives: the top 10 as the notebooks' experiments rank them, and every value. */
    public static List<Table> tables(LoadedModel loaded, double[] mean, int pairs, Options o) {
        int heads = loaded.model().cfg().nHeads(), positions = mean.length / loaded.model().cfg().nLayers();
        java.util.function.IntFunction<String> label = i -> switch (o.kind()) {
            case NEURONS -> String.valueOf(i);
            case HEADS -> (i / heads) + "." + (i % heads);
            default -> "layer " + (i / positions) + ", position " + (i % positions);
        };
        String unit = switch (o.kind()) {
            case NEURONS -> "Neuron";
            case HEADS -> "Head";
            default -> "Cell";
        };
        String what = switch (o.kind()) {
            case NEURONS -> "Neurons of layer " + o.layer() + " whose clean activation restores the most";
            case HEADS -> "Heads whose output (z), patched from the clean run, restores the most";
            default -> "Layers and positions whose " + o.kind().flag + ", patched from the clean run, restores the most";
        };
        Table top = new Table("sweep_" + o.kind().flag + "_top", what + ", mean over " + pairs + " prompt pairs (normalised)", unit, "Activation patching");
        Integer[] order = new Integer[mean.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> a.equals(b) ? 0 : Double.compare(mean[b], mean[a]) != 0 ? Double.compare(mean[b], mean[a]) : Integer.compare(a, b));
        for (int r = 0; r < Math.min(10, order.length); r++) top.row(label.apply(order[r]), mean[order[r]]);
        Table all = new Table("sweep_" + o.kind().flag, "Every " + unit.toLowerCase(java.util.Locale.ROOT) + ", mean over " + pairs + " prompt pairs", unit,
                "Mean normalised metric");
        for (int i = 0; i < mean.length; i++) all.row(label.apply(i), mean[i]);
        return List.of(top, all);
    }
}
