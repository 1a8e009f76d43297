package dev.jlens.cli;

import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.ActivationCache;
import dev.jlens.engine.hooks.NameFilter;
import dev.jlens.experiments.report.Report;
import dev.jlens.experiments.report.View;
import dev.jlens.models.HookedTransformer;
import dev.jlens.models.Tokens;
import dev.jlens.models.loading.LoadedModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code jlens view}: one standalone page about one prompt, for reading a model interactively. */
@Command(name = "view", mixinStandardHelpOptions = true,
        description = "Writes one standalone page for a prompt: the attention patterns of every layer and head, the top neurons of each layer "
                + "at each token, and the logit lens (interactive, offline).")
final class ViewCommand implements Callable<Integer> {
    static final int NEURONS_NOTED = 3;

    @Mixin ModelOption modelOption;
    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "the text to look at (BOS prepended)") String prompt;
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "directory for index.html") Path out;

    @Override
    public Integer call() {
        if (prompt.isEmpty()) throw new dev.jlens.engine.JlensException("--prompt is empty; give the text to look at.");
        try (Report report = new Report("jlens view: " + prompt, out, System.out, ConsoleProgress.INSTANCE)) {
            LoadedModel loaded = modelOption.load();
            HookedTransformer model = loaded.model();
            Tokens tokens = loaded.toTokens(prompt, true);
            tokens.check(model.cfg());
            HookedTransformer.CachedRun run = model.runWithCache(tokens, NameFilter.regex(".*(hook_pattern|mlp\\.hook_post|hook_resid_pre|hook_resid_post)"));
            List<String> text = View.tokens(loaded.tokenizer(), tokens, 0);
            report.note(modelOption.name() + ", " + tokens.pos() + " tokens.");
            report.view("Attention patterns: every layer and head", attention(model, run.cache(), text));
            report.view("The most active neuron of each layer at each token (and the next " + (NEURONS_NOTED - 1) + ")", neurons(model, run.cache(), text));
            report.view("Logit lens: the top next token read from the residual stream before each layer (ln_final and the unembedding applied)",
                    logitLens(loaded, run.cache(), text));
            report.finish();
        }
        return 0;
    }

    private static View attention(HookedTransformer model, ActivationCache cache, List<String> text) {
        int layers = model.cfg().nLayers(), heads = model.cfg().nHeads(), n = text.size();
        float[][][][] patterns = new float[layers][heads][n][n];
        for (int l = 0; l < layers; l++) {
            float[] p = cache.get("blocks." + l + ".attn.hook_pattern").data();
            for (int h = 0; h < heads; h++) for (int q = 0; q < n; q++) System.arraycopy(p, (h * n + q) * n, patterns[l][h][q], 0, n);
        }
        return View.attention(null, numbers("layer ", layers), numbers("head ", heads), List.of(new View.AttentionPrompt("prompt", text, patterns)));
    }

    private static View neurons(HookedTransformer model, ActivationCache cache, List<String> text) {
        int layers = model.cfg().nLayers(), n = text.size();
        double[][] values = new double[layers][n];
        String[][] notes = new String[layers][n];
        for (int l = 0; l < layers; l++) {
            Tensor post = cache.get("blocks." + l + ".mlp.hook_post");
            int width = post.dim(2);
            float[] v = post.data();
            for (int p = 0; p < n; p++) {
                int[] top = topIndices(v, p * width, width, NEURONS_NOTED);
                values[l][p] = v[p * width + top[0]];
                StringBuilder note = new StringBuilder("(N" + top[0]);
                for (int k = 1; k < top.length; k++) note.append(String.format(Locale.ROOT, "; N%d %.4g", top[k], v[p * width + top[k]]));
                notes[l][p] = note.append(")").toString();
            }
        }
        return View.heatmap(null, "token", "layer", labels(text), numbers("", layers), values, notes);
    }

    private static View logitLens(LoadedModel loaded, ActivationCache cache, List<String> text) {
        HookedTransformer model = loaded.model();
        int layers = model.cfg().nLayers(), n = text.size();
        double[][] values = new double[layers + 1][n];
        String[][] notes = new String[layers + 1][n];
        List<String> rows = new ArrayList<>();
        for (int l = 0; l <= layers; l++) {
            Tensor resid = l < layers ? cache.get("blocks." + l + ".hook_resid_pre") : cache.get("blocks." + (layers - 1) + ".hook_resid_post");
            rows.add(l < layers ? "resid_pre " + l : "final");
            Tensor logits = model.unembed.forward(model.lnFinal.forward(resid, false), false);
            int vocab = logits.dim(2);
            float[] z = logits.data();
            for (int p = 0; p < n; p++) {
                int best = 0;
                double sum = 0, max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) max = Math.max(max, z[p * vocab + v]);
                for (int v = 0; v < vocab; v++) {
                    sum += Math.exp(z[p * vocab + v] - max);
                    if (z[p * vocab + v] > z[p * vocab + best]) best = v;
                }
                values[l][p] = Math.exp(z[p * vocab + best] - max) / sum;
                notes[l][p] = "(top token '" + loaded.tokenizer().decode(best) + "')";
            }
        }
        return View.heatmap(null, "token", "residual", labels(text), rows, values, notes);
    }

    /** Position-numbered labels, so repeated tokens stay apart. */
    private static List<String> labels(List<String> text) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < text.size(); i++) out.add(i + " " + text.get(i));
        return out;
    }

    private static List<String> numbers(String prefix, int n) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) out.add(prefix + i);
        return out;
    }

    private static int[] topIndices(float[] v, int at, int n, int k) {
        int[] top = new int[Math.min(k, n)];
        boolean[] taken = new boolean[n];
        for (int t = 0; t < top.length; t++) {
            int best = -1;
            for (int j = 0; j < n; j++) if (!taken[j] && (best < 0 || v[at + j] > v[at + best])) best = j;
            taken[best] = true;
            top[t] = best;
        }
        return top;
    }
}
