package dev.jlens.models;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.hooks.HookPoints;
import dev.jlens.kernels.Rotary;
import dev.jlens.models.components.Attention;
import dev.jlens.models.components.FusedQkvBuffer;
import dev.jlens.models.components.GatedMlp;
import dev.jlens.models.components.LayerNorm;
import dev.jlens.models.components.Mlp;
import dev.jlens.models.components.NeuronActivation;
import dev.jlens.models.components.Norm;
import dev.jlens.models.components.PlainMlp;
import dev.jlens.models.components.PosEmbed;
import dev.jlens.models.components.Positions;
import dev.jlens.models.components.RmsNorm;
import dev.jlens.models.components.TransformerBlock;
import java.util.Map;

/**
 * The parts a {@link Config} picks, made from a model's parameters: this is the one place where a
 * config's choices (normalization, positional embedding, activation) become components. Each part
 * registers its hook points as it is made, so parts are made in the order the forward pass
 * reaches them.
 */
final class Architecture {
    private final Config cfg;
    private final Map<String, Parameter> params;
    /** Shared by every layer's attention: layers run one at a time. */
    private final FusedQkvBuffer fusedQkv = new FusedQkvBuffer();
    private final Rotary.Table rotary;

    Architecture(Config cfg, Map<String, Parameter> params) {
        this.cfg = cfg;
        this.params = params;
        this.rotary = cfg.rotary() ? Rotary.Table.of(cfg.rotaryDim(), cfg.nCtx(), cfg.rotaryBase(), cfg.rotaryScaling()) : null;
    }

    Positions positions(HookPoints hooks) {
        return switch (cfg.positions()) {
            case STANDARD -> new Positions.Standard(new PosEmbed(params.get("pos_embed.W_pos")), hooks.register("hook_pos_embed"));
            case SHORTFORMER -> new Positions.Shortformer(new PosEmbed(params.get("pos_embed.W_pos")), hooks.register("hook_pos_embed"));
            case ROTARY -> new Positions.Rotary(rotary);
        };
    }

    /** The norm named {@code name} ("blocks.3.ln1", "ln_final") over {@code width} values. */
    Norm norm(HookPoints hooks, String name, int width) {
        return switch (cfg.normalization()) {
            case LN -> new LayerNorm(hooks, name, params.get(name + ".w"), params.get(name + ".b"), width, cfg.eps());
            case NONE -> Norm.NONE;
            case RMS -> new RmsNorm(hooks, name, params.get(name + ".w"), width, cfg.eps());
        };
    }

    TransformerBlock.Parts block(int layer) {
        String p = "blocks." + layer;
        return new TransformerBlock.Parts() {
            @Override
            public Norm ln1(HookPoints hooks) {
                return norm(hooks, p + ".ln1", cfg.dModel());
            }

            @Override
            public Attention attn(HookPoints hooks) {
                String a = p + ".attn.";
                return new Attention(hooks, p + ".attn",
                        new Parameter[] {params.get(a + "W_Q"), keyValue(p, "W_K"), keyValue(p, "W_V")},
                        new Parameter[] {params.get(a + "b_Q"), keyValue(p, "b_K"), keyValue(p, "b_V")},
                        params.get(a + "W_O"), params.get(a + "b_O"), rotary,
                        cfg.qkNorm() ? new Attention.QkNorm(params.get(a + "q_norm.w"), params.get(a + "k_norm.w"), cfg.eps()) : null,
                        new Attention.Scoring(cfg.attnScale(), cfg.attnScoresSoftCap(), cfg.windowOf(layer)), cfg.useAttnResult(), fusedQkv);
            }

            @Override
            public Norm ln1Post(HookPoints hooks) {
                return cfg.useNormalizationBeforeAndAfter() ? norm(hooks, p + ".ln1_post", cfg.dModel()) : Norm.NONE;
            }

            @Override
            public Norm ln2(HookPoints hooks) {
                return norm(hooks, p + ".ln2", cfg.dModel());
            }

            @Override
            public Norm ln2Post(HookPoints hooks) {
                return cfg.useNormalizationBeforeAndAfter() ? norm(hooks, p + ".ln2_post", cfg.dModel()) : Norm.NONE;
            }

            @Override
            public Mlp mlp(HookPoints hooks) {
                String m = p + ".mlp";
                if (cfg.gatedMlp()) {
                    return new GatedMlp(hooks, m, params.get(m + ".W_gate"), params.get(m + ".W_in"), params.get(m + ".b_in"),
                            params.get(m + ".W_out"), params.get(m + ".b_out"), NeuronActivation.of(cfg.actFn(), hooks, m, null, cfg.dMlp(), cfg.eps()));
                }
                return new PlainMlp(hooks, m, params.get(m + ".W_in"), params.get(m + ".b_in"), params.get(m + ".W_out"),
                        params.get(m + ".b_out"), () -> NeuronActivation.of(cfg.actFn(), hooks, m,
                        new LayerNorm.Weights(params.get(m + ".ln.w"), params.get(m + ".ln.b")), cfg.dMlp(), cfg.eps()));
            }
        };
    }

    /** Block {@code prefix}'s key or value weight, under TransformerLens's name for it. */
    private Parameter keyValue(String prefix, String weight) {
        return params.get(prefix + "." + ParameterShapes.keyValueName(cfg, weight));
    }
}
