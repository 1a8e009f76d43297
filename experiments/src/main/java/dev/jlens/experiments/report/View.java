package dev.jlens.experiments.report;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.analysis.sae.FeatureStatistics;
import dev.jlens.models.tokenizer.Tokenizer;
import java.util.List;

/**
 * An interactive view of a report: a kind ({@code attention}, {@code token-activations},
 * {@code heatmap}, {@code feature}) and its data as JSON, which index.html embeds and
 * {@code views.js} draws. Values go into the JSON as the float32 numbers jlens computed.
 */
public record View(String kind, ObjectNode data) {
    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /** One prompt's attention patterns: {@code patterns[layer][head][query][key]} under the given labels. */
    public record AttentionPrompt(String label, List<String> tokens, float[][][][] patterns) {}

    /** One row of text, each token with its value. */
    public record TokenRow(String label, List<String> tokens, float[] values) {}

    public static View attention(String title, List<String> layers, List<String> heads, List<AttentionPrompt> prompts) {
        ObjectNode d = JSON.objectNode().put("title", title);
        strings(d.putArray("layers"), layers);
        strings(d.putArray("heads"), heads);
        ArrayNode ps = d.putArray("prompts");
        for (AttentionPrompt p : prompts) {
            ObjectNode o = ps.addObject().put("label", p.label());
            strings(o.putArray("tokens"), p.tokens());
            ArrayNode byLayer = o.putArray("patterns");
            for (float[][][] layer : p.patterns()) {
                ArrayNode byHead = byLayer.addArray();
                for (float[][] head : layer) {
                    ArrayNode rows = byHead.addArray();
                    for (float[] row : head) numbers(rows.addArray(), row);
                }
            }
        }
        return new View("attention", d);
    }

    public static View tokenActivations(String title, List<TokenRow> rows) {
        ObjectNode d = JSON.objectNode().put("title", title);
        ArrayNode rs = d.putArray("rows");
        for (TokenRow r : rows) {
            ObjectNode o = rs.addObject();
            if (r.label() != null) o.put("label", r.label());
            strings(o.putArray("tokens"), r.tokens());
            numbers(o.putArray("values"), r.values());
        }
        return new View("token-activations", d);
    }

    /** {@code values[y][x]}. */
    public static View heatmap(String title, String xLabel, String yLabel, List<String> x, List<String> y, double[][] values) {
        return heatmap(title, xLabel, yLabel, x, y, values, null);
    }

    /** As above, each cell's readout followed by {@code notes[y][x]} (null: none). */
    public static View heatmap(String title, String xLabel, String yLabel, List<String> x, List<String> y, double[][] values, String[][] notes) {
        ObjectNode d = JSON.objectNode().put("title", title).put("xLabel", xLabel).put("yLabel", yLabel);
        strings(d.putArray("x"), x);
        strings(d.putArray("y"), y);
        ArrayNode rows = d.putArray("values");
        for (double[] row : values) {
            ArrayNode r = rows.addArray();
            for (double v : row) r.add(v);
        }
        if (notes != null) {
            ArrayNode ns = d.putArray("notes");
            for (String[] row : notes) strings(ns.addArray(), List.of(row));
        }
        return new View("heatmap", d);
    }

    /** The tokens of row {@code b} of a batch, decoded one by one (padding left out). */
    public static List<String> tokens(Tokenizer tokenizer, dev.jlens.models.Tokens tokens, int b) {
        List<String> out = new java.util.ArrayList<>();
        for (int p = tokens.start(b); p < tokens.end(b); p++) out.add(tokenizer.decode(tokens.get(b, p)));
        return out;
    }

    /** An SAE feature's dashboard: its statistics and top contexts over {@code stats}' corpus. */
    public static View feature(FeatureStatistics stats, FeatureStatistics.Feature f, Tokenizer tokenizer, int before, int after) {
        ObjectNode d = JSON.objectNode().put("index", f.index()).put("fires", f.fires()).put("positions", stats.positions())
                .put("density", f.density()).put("max", f.max());
        ArrayNode h = d.putArray("histogram");
        for (int c : f.histogram()) h.add(c);
        ArrayNode examples = d.putArray("examples");
        for (FeatureStatistics.Example e : f.examples()) {
            int[] tokens = stats.contexts()[e.context()];
            int from = Math.max(0, e.position() - before), to = Math.min(tokens.length, e.position() + after + 1);
            ObjectNode o = examples.addObject().put("peak", e.position() - from);
            ArrayNode ts = o.putArray("tokens"), vs = o.putArray("values");
            for (int p = from; p < to; p++) {
                ts.add(tokenizer.decode(tokens[p]));
                vs.add(e.contextActivations()[p]);
            }
        }
        for (String name : new String[] {"promoted", "suppressed"}) {
            ArrayNode list = d.putArray(name);
            for (FeatureStatistics.TokenWeight w : name.equals("promoted") ? f.promoted() : f.suppressed()) {
                list.addObject().put("token", tokenizer.decode(w.token())).put("weight", w.weight());
            }
        }
        return new View("feature", d);
    }

    /** The view's element for index.html: its data in a script block ({@code </} escaped, so the JSON cannot end the block). */
    public String html() {
        return "<div class=\"jlens-view\" data-kind=\"" + kind + "\"><script type=\"application/json\" class=\"jlens-data\">"
                + data.toString().replace("</", "<\\/") + "</script></div>\n";
    }

    /** The script and style every page with views carries inline (nothing is fetched). */
    public static String assets() {
        return "<style>\n" + resource("views.css") + "</style>\n<script>\n" + resource("views.js") + "</script>\n";
    }

    private static String resource(String name) {
        try (var in = View.class.getResourceAsStream(name)) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException | NullPointerException e) {
            throw new IllegalStateException("the report's " + name + " is missing from the jar", e);
        }
    }

    private static void strings(ArrayNode a, List<String> values) {
        for (String s : values) a.add(s);
    }

    private static void numbers(ArrayNode a, float[] values) {
        for (float v : values) a.add(v);
    }
}
