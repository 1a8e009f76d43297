package dev.jlens.models;

import dev.jlens.models.components.Activation;
import java.util.LinkedHashMap;
import java.util.Map;

/** Every TransformerLens parameter name a config implies, with its shape, in model order. */
public final class ParameterShapes {
    private ParameterShapes() {}

    public static Map<String, int[]> of(Config c) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        int d = c.dModel(), h = c.nHeads(), dh = c.dHead(), m = c.dMlp();
        shapes.put("embed.W_E", new int[] {c.dVocab(), d});
        if (!c.rotary()) shapes.put("pos_embed.W_pos", new int[] {c.nCtx(), d});
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "blocks." + l + ".";
            shapes.put(p + "ln1.w", new int[] {d});
            shapes.put(p + "ln1.b", new int[] {d});
            for (String w : new String[] {"Q", "K", "V"}) {
                shapes.put(p + "attn.W_" + w, new int[] {h, d, dh});
                shapes.put(p + "attn.b_" + w, new int[] {h, dh});
            }
            shapes.put(p + "attn.W_O", new int[] {h, dh, d});
            shapes.put(p + "attn.b_O", new int[] {d});
            shapes.put(p + "ln2.w", new int[] {d});
            shapes.put(p + "ln2.b", new int[] {d});
            shapes.put(p + "mlp.W_in", new int[] {d, m});
            shapes.put(p + "mlp.b_in", new int[] {m});
            if (c.act() == Activation.SOLU_LN) {
                shapes.put(p + "mlp.ln.w", new int[] {m});
                shapes.put(p + "mlp.ln.b", new int[] {m});
            }
            shapes.put(p + "mlp.W_out", new int[] {m, d});
            shapes.put(p + "mlp.b_out", new int[] {d});
        }
        shapes.put("ln_final.w", new int[] {d});
        shapes.put("ln_final.b", new int[] {d});
        shapes.put("unembed.W_U", new int[] {d, c.dVocab()});
        shapes.put("unembed.b_U", new int[] {c.dVocab()});
        return shapes;
    }

    /** Layer-norm weights and biases, which a model with folded layer norms does not have. */
    public static boolean isLayerNormParameter(String name) {
        return name.matches(".*(ln1|ln2|ln_final|mlp\\.ln)\\.[wb]");
    }
}
