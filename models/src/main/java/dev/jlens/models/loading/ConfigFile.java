package dev.jlens.models.loading;

import static dev.jlens.engine.io.JsonFields.integer;
import static dev.jlens.engine.io.JsonFields.number;
import static dev.jlens.engine.io.JsonFields.text;

import com.fasterxml.jackson.databind.JsonNode;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.io.Json;
import dev.jlens.kernels.Rotary;
import dev.jlens.models.Config;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.components.Activation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads a model's {@code config.json} into a {@link Config}: Hugging Face's (model_type gpt2 or
 * gpt_neox), or TransformerLens's own ({@code d_model}, {@code act_fn}, ...), as TransformerLens's
 * SoLU and other non-Hugging-Face models have it.
 */
public final class ConfigFile {
    private ConfigFile() {}

    public static Config read(Path file) {
        JsonNode json = Json.read(file);
        if (!json.isObject()) throw new JlensException(file + ": is not a JSON object.");
        if (!json.has("model_type") && json.has("d_model") && json.has("act_fn")) return transformerLens(file, json);
        String type = text(file, json, "model_type");
        ModelFamily family = ModelFamily.ofModelType(type);
        if (family == null) {
            throw new JlensException(file + ": model_type " + JlensException.quote(type)
                    + " is not supported (jlens reads gpt2, gpt_neox, llama, qwen2, qwen3, mistral and gemma2).");
        }
        return switch (family) {
            case GPT2 -> gpt2(file, json);
            case GPT_NEOX -> gptNeox(file, json);
            default -> llamaFamily(file, json, family);
        };
    }

    private static Config gpt2(Path file, JsonNode json) {
        int d = integer(file, json, "n_embd"), heads = integer(file, json, "n_head");
        JsonNode inner = json.get("n_inner");
        return Config.builder().family(ModelFamily.GPT2)
                .nLayers(integer(file, json, "n_layer")).dModel(d).nHeads(heads).dHead(headDim(file, d, heads))
                .dMlp(inner == null || inner.isNull() ? 4 * d : inner.asInt())
                .dVocab(integer(file, json, "vocab_size"))
                .nCtx(json.has("n_positions") ? integer(file, json, "n_positions") : integer(file, json, "n_ctx"))
                .eps((float) number(file, json, "layer_norm_epsilon", 1e-5))
                .actFn(Activation.fromName(json.path("activation_function").asText("gelu_new")))
                .bosToken(json.path("bos_token_id").asInt(50256))
                .build();
    }

    private static Config gptNeox(Path file, JsonNode json) {
        int d = integer(file, json, "hidden_size"), heads = integer(file, json, "num_attention_heads");
        int dHead = headDim(file, d, heads);
        Config.Builder cfg = Config.builder().family(ModelFamily.GPT_NEOX)
                .nLayers(integer(file, json, "num_hidden_layers")).dModel(d).nHeads(heads).dHead(dHead)
                .dMlp(integer(file, json, "intermediate_size"))
                .dVocab(integer(file, json, "vocab_size"))
                .nCtx(integer(file, json, "max_position_embeddings"))
                .eps((float) number(file, json, "layer_norm_eps", 1e-5))
                .actFn(Activation.fromName(json.path("hidden_act").asText("gelu")))
                .rotaryBase(number(file, json, "rotary_emb_base", 10000))
                .parallelAttnMlp(json.path("use_parallel_residual").asBoolean(true))
                .bosToken(json.path("bos_token_id").asInt(0));
        // rotary_pct 0 turns nothing: such a model has no positions at all, read as learned ones of zero.
        int rotaryDim = (int) (dHead * number(file, json, "rotary_pct", 1.0));
        if (rotaryDim > 0) cfg.rotary(rotaryDim);
        return cfg.build();
    }

    /**
     * LlamaForCausalLM and its kin (Qwen2, Qwen3, Mistral, Gemma 2): RMS norms, a gated MLP,
     * grouped-query attention and rotary over the whole head, as Hugging Face's config.json
     * describes them. Gemma 2 adds norms after attention and the MLP, scores divided by
     * √query_pre_attn_scalar, soft caps on scores and logits, and a window on the layers
     * layer_types marks sliding (by default the even ones).
     */
    private static Config llamaFamily(Path file, JsonNode json, ModelFamily family) {
        int d = integer(file, json, "hidden_size"), heads = integer(file, json, "num_attention_heads");
        int kv = json.hasNonNull("num_key_value_heads") ? integer(file, json, "num_key_value_heads") : heads;
        if (kv <= 0 || heads % kv != 0) {
            throw new JlensException(file + ": num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kv + ".");
        }
        int dHead = json.hasNonNull("head_dim") ? integer(file, json, "head_dim") : headDim(file, d, heads);
        if (json.path("mlp_bias").asBoolean(false)) {
            throw new JlensException(file + ": mlp_bias is true, but TransformerLens's gated MLP has no biases on gate_proj and up_proj.");
        }
        if (json.path("use_sliding_window").asBoolean(false)) {
            throw new JlensException(file + ": use_sliding_window is true; jlens applies a sliding window to Mistral only, not Qwen's per-layer one.");
        }
        boolean gemma = family == ModelFamily.GEMMA2;
        int layers = integer(file, json, "num_hidden_layers");
        int window = family == ModelFamily.MISTRAL || gemma ? window(file, json, gemma) : 0;
        String activationField = gemma && json.has("hidden_activation") ? "hidden_activation" : "hidden_act";
        return Config.builder().family(family)
                .nLayers(layers).dModel(d).nHeads(heads).nKeyValueHeads(kv).dHead(dHead)
                .dMlp(integer(file, json, "intermediate_size"))
                .dVocab(integer(file, json, "vocab_size"))
                .nCtx(integer(file, json, "max_position_embeddings"))
                .normalization(Config.Normalization.RMS)
                .eps((float) number(file, json, "rms_norm_eps", 1e-6))
                .actFn(activation(file, json, activationField, gemma ? "gelu_pytorch_tanh" : "silu"))
                .gatedMlp(true)
                .rotary(dHead).rotaryBase(number(file, json, "rope_theta", 10000))
                .rotaryScaling(ropeScaling(file, json.get("rope_scaling")))
                .qkNorm(family == ModelFamily.QWEN3)
                .slidingWindow(window)
                .attnTypes(gemma ? gemmaLayerTypes(file, json, layers) : null)
                .attnScale(gemma ? Math.sqrt(positive(file, json, "query_pre_attn_scalar", dHead)) : 0)
                .attnScoresSoftCap(gemma ? softCap(file, json, "attn_logit_softcapping") : 0)
                .outputLogitsSoftCap(gemma ? softCap(file, json, "final_logit_softcapping") : 0)
                .useNormalizationBeforeAndAfter(gemma)
                .bosToken(json.hasNonNull("bos_token_id") ? integer(file, json, "bos_token_id") : gemma ? 2 : 0)
                .build();
    }

    /** The MLP's activation named by {@code field}, or {@code fallback} when the field is absent. */
    private static Activation activation(Path file, JsonNode json, String field, String fallback) {
        String name = json.hasNonNull(field) ? text(file, json, field) : fallback;
        try {
            return Activation.fromName(name);
        } catch (JlensException e) {
            throw new JlensException(file + ": " + field + " " + JlensException.quote(name) + " is not an activation jlens computes ("
                    + "it knows gelu_pytorch_tanh, gelu_new, gelu_fast, gelu, silu, swish).");
        }
    }

    /** Mistral's or Gemma 2's sliding_window: a number of positions (Mistral's may be null: no window). */
    private static int window(Path file, JsonNode json, boolean required) {
        if (!json.hasNonNull("sliding_window")) {
            if (required) throw new JlensException(file + ": has no sliding_window, which Gemma 2's sliding layers need.");
            return 0;
        }
        int window = integer(file, json, "sliding_window");
        if (window <= 0) throw new JlensException(file + ": sliding_window is " + window + ", but a window must hold at least 1 position.");
        return window;
    }

    /** Gemma 2's layer_types (sliding_attention or full_attention per layer); by default the even layers slide. */
    private static List<Config.AttentionType> gemmaLayerTypes(Path file, JsonNode json, int layers) {
        JsonNode types = json.get("layer_types");
        List<Config.AttentionType> out = new ArrayList<>();
        if (types == null || types.isNull()) {
            for (int l = 0; l < layers; l++) out.add(l % 2 == 0 ? Config.AttentionType.LOCAL : Config.AttentionType.GLOBAL);
            return out;
        }
        if (!types.isArray() || types.size() != layers) {
            throw new JlensException(file + ": layer_types must list one type for each of the " + layers + " layers.");
        }
        for (JsonNode t : types) {
            out.add(switch (t.asText()) {
                case "sliding_attention" -> Config.AttentionType.LOCAL;
                case "full_attention" -> Config.AttentionType.GLOBAL;
                default -> throw new JlensException(file + ": layer_types holds " + JlensException.quote(t.asText())
                        + ", where jlens knows sliding_attention and full_attention.");
            });
        }
        return out;
    }

    /** A soft cap: absent or null is none (0); otherwise a positive number. */
    private static float softCap(Path file, JsonNode json, String field) {
        if (!json.hasNonNull(field)) return 0;
        double cap = number(file, json, field, 0);
        if (!(cap > 0) || Double.isInfinite(cap)) {
            throw new JlensException(file + ": " + field + " is " + json.get(field) + ", but a soft cap must be a positive number (or null for none).");
        }
        return (float) cap;
    }

    /** A positive number, {@code fallback} when absent. */
    private static double positive(Path file, JsonNode json, String field, double fallback) {
        double v = number(file, json, field, fallback);
        if (!(v > 0) || Double.isInfinite(v)) throw new JlensException(file + ": " + field + " is " + json.get(field) + ", but it must be a positive number.");
        return v;
    }

    /** Hugging Face's rope_scaling: none, linear, or Llama 3's; any other kind is refused. */
    private static Rotary.Scaling ropeScaling(Path file, JsonNode node) {
        if (node == null || node.isNull()) return null;
        if (!node.isObject()) throw new JlensException(file + ": rope_scaling is not an object.");
        String type = node.hasNonNull("rope_type") ? node.get("rope_type").asText() : node.path("type").asText("");
        return switch (type) {
            case "default" -> null;
            case "linear" -> new Rotary.LinearScaling(number(file, node, "factor", 1));
            case "llama3" -> new Rotary.Llama3Scaling(number(file, node, "factor", 8), number(file, node, "low_freq_factor", 1),
                    number(file, node, "high_freq_factor", 4), integer(file, node, "original_max_position_embeddings"));
            default -> throw new JlensException(file + ": rope_scaling of type " + JlensException.quote(type)
                    + " is not supported (jlens computes linear and llama3).");
        };
    }

    /** TransformerLens's HookedTransformerConfig fields, as Neel Nanda's models' config.json holds them. */
    private static Config transformerLens(Path file, JsonNode json) {
        if (json.path("attn_only").asBoolean(false)) throw new JlensException(file + ": attention-only models are not supported yet.");
        JsonNode normNode = json.has("normalization") ? json.get("normalization") : json.get("normalization_type");
        Config.Normalization normalization = switch (normNode == null ? "LN" : normNode.isNull() ? "None" : normNode.asText()) {
            case "LN", "LNPre" -> Config.Normalization.LN;
            case "RMS", "RMSPre" -> Config.Normalization.RMS;
            case "None" -> Config.Normalization.NONE;
            default -> throw new JlensException(file + ": normalization " + JlensException.quote(normNode.asText())
                    + " is not supported (jlens knows LN, LNPre, RMS, RMSPre and None).");
        };
        // final_rms makes ln_final an RMS norm, which it is already in an RMS model.
        if (json.path("final_rms").asBoolean(false) && normalization != Config.Normalization.RMS) {
            throw new JlensException(file + ": final_rms with " + normalization + " norms elsewhere is not supported.");
        }
        String positions = json.path("shortformer_pos").asBoolean(false) ? "shortformer"
                : json.path("positional_embedding_type").asText("standard");
        int dHead = integer(file, json, "d_head");
        List<Config.AttentionType> attnTypes = attnTypes(file, json);
        // A Hugging Face model written in TransformerLens's names (ModelExport) keeps its class here.
        ModelFamily family = ModelFamily.ofHuggingFaceClass(json.path("original_architecture").asText(""));
        Config.Builder cfg = Config.builder().family(family == null ? ModelFamily.HOOKED_TRANSFORMER : family)
                .nLayers(integer(file, json, "n_layers")).dModel(integer(file, json, "d_model"))
                .nHeads(integer(file, json, "n_heads")).dHead(dHead)
                .nKeyValueHeads(json.hasNonNull("n_key_value_heads") ? integer(file, json, "n_key_value_heads") : 0)
                .dMlp(integer(file, json, "d_mlp"))
                .dVocab(integer(file, json, "d_vocab"))
                .nCtx(integer(file, json, "n_ctx"))
                .eps((float) number(file, json, "eps", 1e-5))
                .normalization(normalization)
                .actFn(Activation.fromName(text(file, json, "act_fn")))
                .gatedMlp(json.path("gated_mlp").asBoolean(false))
                .qkNorm(json.path("use_qk_norm").asBoolean(false))
                .slidingWindow(attnTypes != null && attnTypes.contains(Config.AttentionType.LOCAL) ? integer(file, json, "window_size") : 0)
                .attnTypes(attnTypes)
                .attnScale(json.path("use_attn_scale").asBoolean(true) ? positive(file, json, "attn_scale", Math.sqrt(dHead)) : 1)
                .attnScoresSoftCap(transformerLensSoftCap(file, json, "attn_scores_soft_cap"))
                .outputLogitsSoftCap(transformerLensSoftCap(file, json, "output_logits_soft_cap"))
                .useNormalizationBeforeAndAfter(json.path("use_normalization_before_and_after").asBoolean(false))
                .rotaryBase(number(file, json, "rotary_base", 10000))
                .parallelAttnMlp(json.path("parallel_attn_mlp").asBoolean(false))
                .bosToken(json.path("bos_token_id").asInt(0));
        switch (positions) {
            case "standard" -> cfg.positions(Config.PositionalEmbedding.STANDARD);
            case "shortformer" -> cfg.positions(Config.PositionalEmbedding.SHORTFORMER);
            case "rotary" -> {
                cfg.rotary(json.path("rotary_dim").asInt(dHead)).rotaryScaling(ropeScaling(file, json.get("rope_scaling")));
                if (json.path("use_NTK_by_parts_rope").asBoolean(false)) {
                    cfg.rotaryScaling(new Rotary.Llama3Scaling(number(file, json, "NTK_by_parts_factor", 8),
                            number(file, json, "NTK_by_parts_low_freq_factor", 1), number(file, json, "NTK_by_parts_high_freq_factor", 4),
                            integer(file, json, "NTK_original_ctx_len")));
                }
            }
            default -> throw new JlensException(file + ": positional embeddings of type " + JlensException.quote(positions)
                    + " are not supported (jlens knows standard, rotary and shortformer).");
        }
        return cfg.build();
    }

    /** TransformerLens's attn_types ("global" or "local" per layer, local ones seeing window_size positions); null when absent. */
    private static List<Config.AttentionType> attnTypes(Path file, JsonNode json) {
        JsonNode types = json.get("attn_types");
        if (types == null || types.isNull()) return null;
        List<Config.AttentionType> out = new ArrayList<>();
        for (JsonNode t : types) {
            out.add(switch (t.asText()) {
                case "global" -> Config.AttentionType.GLOBAL;
                case "local" -> Config.AttentionType.LOCAL;
                default -> throw new JlensException(file + ": attn_types holds " + JlensException.quote(t.asText()) + ", where TransformerLens has global and local.");
            });
        }
        if (out.contains(Config.AttentionType.LOCAL) && integer(file, json, "window_size") <= 0) {
            throw new JlensException(file + ": window_size is " + json.get("window_size") + ", but local attention needs a window of at least 1 position.");
        }
        return out;
    }

    /** TransformerLens's soft caps: −1 (its default) or absent is none. */
    private static float transformerLensSoftCap(Path file, JsonNode json, String field) {
        JsonNode node = json.get(field);
        if (node != null && node.isNumber() && (node.asDouble() == -1 || node.asDouble() == 0)) return 0;
        return softCap(file, json, field);
    }

    private static int headDim(Path file, int d, int heads) {
        if (heads <= 0 || d % heads != 0) {
            throw new JlensException(file + ": the model width " + d + " is not divisible by the " + heads + " heads.");
        }
        return d / heads;
    }
}
