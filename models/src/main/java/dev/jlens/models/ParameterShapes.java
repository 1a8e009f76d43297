package dev.jlens.models;

import dev.jlens.models.components.Activation;
import java.util.LinkedHashMap;
import java.util.Map;

/** Every TransformerLens parameter name a config implies, with its shape, in model order. */
public final class ParameterShapes {
    private ParameterShapes() {}

    public static Map<String, int[]> of(Config c) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        int d = c.dModel(), h = c.nHeads(), g = c.nKeyValueHeads(), dh = c.dHead(), m = c.dMlp();
        shapes.put("embed.W_E", new int[] {c.dVocab(), d});
        if (!c.rotary()) shapes.put("pos_embed.W_pos", new int[] {c.nCtx(), d});
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "blocks." + l + ".";
            norm(shapes, c, p + "ln1", d);
            shapes.put(p + "attn.W_Q", new int[] {h, d, dh});
            shapes.put(p + "attn.b_Q", new int[] {h, dh});
            for (String kv : new String[] {"K", "V"}) {
                shapes.put(p + keyValueName(c, "W_" + kv), new int[] {g, d, dh});
                shapes.put(p + keyValueName(c, "b_" + kv), new int[] {g, dh});
            }
            if (c.qkNorm()) {
                shapes.put(p + "attn.q_norm.w", new int[] {dh});
                shapes.put(p + "attn.k_norm.w", new int[] {dh});
            }
            shapes.put(p + "attn.W_O", new int[] {h, dh, d});
            shapes.put(p + "attn.b_O", new int[] {d});
            if (c.useNormalizationBeforeAndAfter()) norm(shapes, c, p + "ln1_post", d);
            norm(shapes, c, p + "ln2", d);
            if (c.gatedMlp()) shapes.put(p + "mlp.W_gate", new int[] {d, m});
            shapes.put(p + "mlp.W_in", new int[] {d, m});
            shapes.put(p + "mlp.b_in", new int[] {m});
            if (c.actFn() == Activation.SOLU_LN) norm(shapes, c, p + "mlp.ln", m);
            shapes.put(p + "mlp.W_out", new int[] {m, d});
            shapes.put(p + "mlp.b_out", new int[] {d});
            if (c.useNormalizationBeforeAndAfter()) norm(shapes, c, p + "ln2_post", d);
        }
        norm(shapes, c, "ln_final", d);
        shapes.put("unembed.W_U", new int[] {d, c.dVocab()});
        shapes.put("unembed.b_U", new int[] {c.dVocab()});
        return shapes;
    }

    /**
     * A key or value weight's name inside a block ("W_K", "b_V"): TransformerLens prefixes it with
     * an underscore (attn._W_K) when keys and values have fewer heads than queries.
     */
    public static String keyValueName(Config c, String weight) {
        return (c.groupedQueryAttention() ? "attn._" : "attn.") + weight;
    }

    private static void norm(Map<String, int[]> shapes, Config c, String name, int width) {
        if (c.normalization() == Config.Normalization.NONE) return;
        shapes.put(name + ".w", new int[] {width});
        if (c.normalization() == Config.Normalization.LN) shapes.put(name + ".b", new int[] {width});
    }

    /** A bias by TransformerLens's naming: b_Q, _b_K (grouped-query), b_O, b_in, b_out, b_U, a norm's b. */
    public static boolean isBias(String name) {
        return name.substring(name.lastIndexOf('.') + 1).matches("_?b(_.*)?");
    }

    /** Layer-norm weights and biases, which a model with folded layer norms does not have (Gemma 2's ln1_post and ln2_post it keeps). */
    public static boolean isLayerNormParameter(String name) {
        return name.matches(".*(ln1|ln2|ln_final|mlp\\.ln)\\.[wb]");
    }
}
