package dev.jlens.analysis;

import dev.jlens.engine.JlensException;

/**
 * TransformerLens's {@code utils.get_act_name}: the full hook-point name of an activation from its
 * short name and layer, e.g. ("post", 3) → blocks.3.mlp.hook_post, ("pattern", 0) →
 * blocks.0.attn.hook_pattern, ("scale", 2, "ln2") → blocks.2.ln2.hook_scale, ("embed") → hook_embed.
 */
public final class ActNames {
    private ActNames() {}

    public static String of(String name) {
        return switch (name) {
            case "embed", "pos_embed" -> "hook_" + name;
            case "scale", "normalized" -> "ln_final.hook_" + name;
            default -> throw new JlensException("'" + name + "' needs a layer (only embed, pos_embed and ln_final's scale and normalized do not).");
        };
    }

    public static String of(String name, int layer) {
        return of(name, layer, null);
    }

    /** @param layerType for scale/normalized: ln1, ln2 or ln_final (else ln_final); ignored otherwise */
    public static String of(String name, int layer, String layerType) {
        String block = "blocks." + layer + ".";
        return switch (name) {
            case "resid_pre", "resid_mid", "resid_post", "attn_out", "mlp_out" -> block + "hook_" + name;
            case "q", "k", "v", "z", "rot_q", "rot_k", "pattern", "attn_scores", "result" -> block + "attn.hook_" + name;
            case "attn" -> block + "attn.hook_pattern";
            case "pre", "post", "mid" -> block + "mlp.hook_" + name;
            case "scale", "normalized" -> (layerType == null || layerType.equals("ln_final")) ? "ln_final.hook_" + name
                    : block + layerType + ".hook_" + name;
            case "embed", "pos_embed" -> "hook_" + name;
            default -> throw new JlensException("unknown activation name '" + name + "' (known: resid_pre, resid_mid, resid_post, attn_out, "
                    + "mlp_out, q, k, v, z, rot_q, rot_k, pattern, attn_scores, result, pre, post, mid, scale, normalized, embed, pos_embed).");
        };
    }
}
