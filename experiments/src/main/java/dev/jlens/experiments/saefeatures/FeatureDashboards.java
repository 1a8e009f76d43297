package dev.jlens.experiments.saefeatures;

import dev.jlens.analysis.sae.FeatureStatistics;
import dev.jlens.analysis.sae.FeatureStatistics.Example;
import dev.jlens.analysis.sae.FeatureStatistics.Feature;
import dev.jlens.analysis.sae.FeatureStatistics.TokenWeight;
import dev.jlens.analysis.sae.SaeConfig;
import dev.jlens.experiments.report.Html;
import dev.jlens.models.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Feature dashboards as static HTML that needs nothing beside it: {@code index.html} lists the
 * features (firing density, strongest activation, the token most promoted) and the dead ones;
 * {@code feature-N.html} shows one feature's top activating contexts with each token shaded by
 * the feature's activation there (the value on hover), the histogram of its non-zero activations,
 * its firing density, and the tokens its decoder direction promotes and suppresses through W_U.
 */
public final class FeatureDashboards {
    /** Tokens shown before and after an example's strongest position. */
    public static final int BEFORE = 16, AFTER = 4;

    private FeatureDashboards() {}

    /** The file a feature's dashboard is written to. */
    public static String fileName(int feature) {
        return String.format(Locale.ROOT, "feature-%05d.html", feature);
    }

    /** Writes index.html and one page per live feature into {@code dir}. */
    public static void write(Path dir, FeatureStatistics stats, Tokenizer tokenizer, SaeConfig cfg, String modelName) throws IOException {
        List<Feature> live = new ArrayList<>();
        for (int f = 0; f < stats.features(); f++) if (stats.feature(f).fires() > 0) live.add(stats.feature(f));
        for (Feature f : live) Files.writeString(dir.resolve(fileName(f.index())), page(f, stats, tokenizer, cfg, modelName), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve("index.html"), index(live, stats, tokenizer, cfg, modelName), StandardCharsets.UTF_8);
    }

    private static String head(String title) {
        return """
                <!DOCTYPE html>
                <html><head><meta charset="utf-8"><title>%s</title>
                <style>
                body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
                table { border-collapse: collapse; font-size: 0.85em; }
                th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
                td.n { text-align: right; font-variant-numeric: tabular-nums; }
                .ctx { font-family: monospace; white-space: pre-wrap; line-height: 1.7; margin: 0.3em 0; }
                .tok { border-radius: 2px; }
                .peak { outline: 1px solid #b34700; }
                .cols { display: flex; gap: 2em; flex-wrap: wrap; }
                </style></head><body>
                """.formatted(Html.escape(title));
    }

    /** One feature's dashboard page. */
    public static String page(Feature f, FeatureStatistics stats, Tokenizer tokenizer, SaeConfig cfg, String modelName) {
        StringBuilder h = new StringBuilder(head("feature " + f.index()));
        h.append("<p><a href=\"index.html\">all features</a></p>\n<h1>Feature ").append(f.index()).append("</h1>\n");
        h.append("<p>").append(Html.escape(cfg.architecture().saeLensName())).append(" SAE at ").append(Html.escape(cfg.hookName())).append(" of ")
                .append(Html.escape(modelName)).append(": fires at ").append(f.fires()).append(" of ").append(stats.positions())
                .append(" positions (density ").append(String.format(Locale.ROOT, "%.3g", f.density())).append("), strongest activation ")
                .append(String.format(Locale.ROOT, "%.4g", f.max())).append(".</p>\n");
        h.append("<div class=\"cols\"><div><h3>Activation histogram (non-zero)</h3>\n").append(histogram(f)).append("</div>\n");
        h.append("<div><h3>Promoted tokens (W_dec·W_U)</h3>\n").append(weights(f.promoted(), tokenizer)).append("</div>\n");
        h.append("<div><h3>Suppressed tokens</h3>\n").append(weights(f.suppressed(), tokenizer)).append("</div></div>\n");
        h.append("<h3>Top activating contexts</h3>\n");
        for (Example e : f.examples()) h.append(context(e, stats.contexts()[e.context()], f.max(), tokenizer));
        return h.append("</body></html>\n").toString();
    }

    /** The tokens around an example, each shaded by the feature's activation; the value and the token on hover. */
    private static String context(Example e, int[] tokens, float max, Tokenizer tokenizer) {
        StringBuilder h = new StringBuilder("<div class=\"ctx\">");
        int from = Math.max(0, e.position() - BEFORE), to = Math.min(tokens.length, e.position() + AFTER + 1);
        for (int p = from; p < to; p++) {
            float v = e.contextActivations()[p];
            double alpha = max > 0 ? Math.max(0, v) / max : 0;
            h.append("<span class=\"tok").append(p == e.position() ? " peak" : "").append("\" style=\"background: rgba(255,120,0,")
                    .append(String.format(Locale.ROOT, "%.3f", alpha)).append(")\" title=\"")
                    .append(Html.escape(String.format(Locale.ROOT, "%s: %.4g", tokenizer.decode(tokens[p]), v))).append("\" data-value=\"")
                    .append(String.format(Locale.ROOT, "%.6g", v)).append("\">").append(Html.escape(tokenizer.decode(tokens[p]))).append("</span>");
        }
        return h.append("</div>\n").toString();
    }

    private static String histogram(Feature f) {
        int width = 300, height = 120, bins = f.histogram().length, top = 1;
        for (int c : f.histogram()) top = Math.max(top, c);
        StringBuilder svg = new StringBuilder("<svg width=\"" + width + "\" height=\"" + (height + 20) + "\" role=\"img\">");
        double bar = (double) width / bins;
        for (int b = 0; b < bins; b++) {
            double hgt = (double) f.histogram()[b] / top * height;
            svg.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#e07020\"><title>%.3g to %.3g: %d</title></rect>",
                    b * bar, height - hgt, bar - 1, hgt, f.max() * b / bins, f.max() * (b + 1) / bins, f.histogram()[b]));
        }
        svg.append(String.format(Locale.ROOT, "<text x=\"0\" y=\"%d\" font-size=\"11\">0</text><text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.3g</text></svg>",
                height + 15, width, height + 15, f.max()));
        return svg.toString();
    }

    private static String weights(List<TokenWeight> list, Tokenizer tokenizer) {
        if (list.isEmpty()) return "<p>(the SAE does not read the residual stream)</p>";
        StringBuilder h = new StringBuilder("<table><tr><th>token</th><th>logit weight</th></tr>");
        for (TokenWeight w : list) {
            h.append("<tr><td>").append(Html.escape(show(tokenizer.decode(w.token())))).append("</td><td class=\"n\">")
                    .append(String.format(Locale.ROOT, "%+.4f", w.weight())).append("</td></tr>");
        }
        return h.append("</table>").toString();
    }

    private static String index(List<Feature> live, FeatureStatistics stats, Tokenizer tokenizer, SaeConfig cfg, String modelName) {
        StringBuilder h = new StringBuilder(head("SAE features"));
        h.append("<h1>Features of the ").append(Html.escape(cfg.architecture().saeLensName())).append(" SAE at ").append(Html.escape(cfg.hookName()))
                .append("</h1>\n<p>").append(Html.escape(modelName)).append(", ").append(stats.contexts().length).append(" contexts, ")
                .append(stats.positions()).append(" positions. ").append(live.size()).append(" of ").append(stats.features())
                .append(" features fire; the others are listed at the end.</p>\n");
        h.append("<table><tr><th>feature</th><th>density</th><th>strongest</th><th>top context token</th><th>most promoted token</th></tr>\n");
        List<Feature> sorted = new ArrayList<>(live);
        sorted.sort(Comparator.comparingDouble(Feature::density).reversed());
        for (Feature f : sorted) {
            Example top = f.examples().getFirst();
            h.append("<tr><td><a href=\"").append(fileName(f.index())).append("\">").append(f.index()).append("</a></td><td class=\"n\">")
                    .append(String.format(Locale.ROOT, "%.3g", f.density())).append("</td><td class=\"n\">").append(String.format(Locale.ROOT, "%.4g", f.max()))
                    .append("</td><td>").append(Html.escape(show(tokenizer.decode(stats.contexts()[top.context()][top.position()])))).append("</td><td>")
                    .append(f.promoted().isEmpty() ? "" : Html.escape(show(tokenizer.decode(f.promoted().getFirst().token())))).append("</td></tr>\n");
        }
        h.append("</table>\n<h3 id=\"dead\">Dead features (").append(stats.dead().size()).append(")</h3>\n<p>");
        List<String> dead = stats.dead().stream().map(String::valueOf).toList();
        h.append(dead.isEmpty() ? "none" : String.join(", ", dead)).append("</p>\n</body></html>\n");
        return h.toString();
    }

    /** A token as text a reader can see: spaces and newlines made visible. */
    static String show(String token) {
        return token.replace("\n", "\\n").replace(' ', '·');
    }
}
