package dev.jlens.analysis.sae;

import dev.jlens.engine.JlensException;
import dev.jlens.models.Config;

/** How many values per position a hook point carries, for the hooks SAEs are trained on, from the model's config. */
final class HookWidths {
    private HookWidths() {}

    /** The width of {@code hook}'s activation per position, or −1 where the config alone does not tell. */
    static int of(Config cfg, String hook) {
        String last = hook.substring(hook.lastIndexOf('.') + 1);
        return switch (last) {
            case "hook_resid_pre", "hook_resid_mid", "hook_resid_post", "hook_attn_out", "hook_mlp_out", "hook_embed", "hook_pos_embed",
                 "hook_normalized" -> hook.contains(".mlp.") ? -1 : cfg.dModel();
            case "hook_pre", "hook_post", "hook_pre_linear", "hook_mid" -> cfg.dMlp();
            case "hook_z", "hook_q", "hook_rot_q" -> cfg.nHeads() * cfg.dHead();
            case "hook_k", "hook_v", "hook_rot_k" -> cfg.nKeyValueHeads() * cfg.dHead();
            default -> -1;
        };
    }

    /** Refuses, in one sentence, an SAE whose d_in is not the hook's width. */
    static void require(Config cfg, String hook, SaeConfig sae) {
        int width = of(cfg, hook);
        if (width > 0 && width != sae.dIn()) {
            throw new JlensException("the SAE's d_in is " + sae.dIn() + ", but " + hook + " carries " + width + " values per position in this model.");
        }
    }
}
