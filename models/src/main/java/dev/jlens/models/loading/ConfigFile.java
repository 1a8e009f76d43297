package dev.jlens.models.loading;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.jlens.engine.JlensException;
import dev.jlens.models.components.Activation;
import dev.jlens.models.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a model's {@code config.json} into a {@link Config}: Hugging Face's (model_type gpt2 or
 * gpt_neox), or TransformerLens's own ({@code d_model}, {@code act_fn}, ...), as TransformerLens's
 * SoLU and other non-Hugging-Face models have it.
 */
public final class ConfigFile {
    private ConfigFile() {}

    public static Config read(Path file) {
        JsonNode json;
        try {
            json = new ObjectMapper().readTree(Files.readString(file));
        } catch (IOException e) {
            throw new JlensException(file + ": cannot be read as JSON (" + e.getMessage().lines().findFirst().orElse("") + ").", e);
        }
        if (json == null || !json.isObject()) throw new JlensException(file + ": is not a JSON object.");
        if (!json.has("model_type") && json.has("d_model") && json.has("act_fn")) return transformerLens(file, json);
        String type = text(file, json, "model_type");
        return switch (type) {
            case "gpt2" -> gpt2(file, json);
            case "gpt_neox" -> gptNeox(file, json);
            default -> throw new JlensException(file + ": model_type '" + type + "' is not supported (jlens reads gpt2 and gpt_neox).");
        };
    }

    private static Config gpt2(Path file, JsonNode json) {
        int d = integer(file, json, "n_embd"), heads = integer(file, json, "n_head");
        int nCtx = json.has("n_positions") ? integer(file, json, "n_positions") : integer(file, json, "n_ctx");
        JsonNode inner = json.get("n_inner");
        int dMlp = inner == null || inner.isNull() ? 4 * d : inner.asInt();
        return new Config("gpt2", integer(file, json, "n_layer"), d, heads, headDim(file, d, heads), dMlp,
                integer(file, json, "vocab_size"), nCtx, (float) number(file, json, "layer_norm_epsilon", 1e-5),
                Activation.fromName(json.path("activation_function").asText("gelu_new")), 0, 10000, false, false,
                json.path("bos_token_id").asInt(50256), false);
    }

    private static Config gptNeox(Path file, JsonNode json) {
        int d = integer(file, json, "hidden_size"), heads = integer(file, json, "num_attention_heads");
        int dHead = headDim(file, d, heads);
        double rotaryPct = number(file, json, "rotary_pct", 1.0);
        return new Config("gpt_neox", integer(file, json, "num_hidden_layers"), d, heads, dHead,
                integer(file, json, "intermediate_size"), integer(file, json, "vocab_size"),
                integer(file, json, "max_position_embeddings"), (float) number(file, json, "layer_norm_eps", 1e-5),
                Activation.fromName(json.path("hidden_act").asText("gelu")), (int) (dHead * rotaryPct),
                number(file, json, "rotary_emb_base", 10000), json.path("use_parallel_residual").asBoolean(true), false,
                json.path("bos_token_id").asInt(0), false);
    }

    /** TransformerLens's HookedTransformerConfig fields, as Neel Nanda's models' config.json holds them. */
    private static Config transformerLens(Path file, JsonNode json) {
        if (json.path("attn_only").asBoolean(false)) throw new JlensException(file + ": attention-only models are not supported yet.");
        if (json.path("final_rms").asBoolean(false)) throw new JlensException(file + ": models with a final RMS norm are not supported yet.");
        String norm = json.has("normalization") ? json.path("normalization").asText() : json.path("normalization_type").asText("LN");
        if (!norm.equals("LN") && !norm.equals("LNPre")) {
            throw new JlensException(file + ": normalization '" + norm + "' is not supported (jlens knows LN and LNPre).");
        }
        String positions = json.path("shortformer_pos").asBoolean(false) ? "shortformer"
                : json.path("positional_embedding_type").asText("standard");
        if (!positions.equals("standard") && !positions.equals("rotary") && !positions.equals("shortformer")) {
            throw new JlensException(file + ": positional embeddings of type '" + positions
                    + "' are not supported (jlens knows standard, rotary and shortformer).");
        }
        Activation act = Activation.fromName(text(file, json, "act_fn"));
        int dHead = integer(file, json, "d_head");
        int rotaryDim = positions.equals("rotary") ? json.path("rotary_dim").asInt(dHead) : 0;
        return new Config(act == Activation.SOLU_LN ? "solu" : "hooked_transformer", integer(file, json, "n_layers"),
                integer(file, json, "d_model"), integer(file, json, "n_heads"), dHead, integer(file, json, "d_mlp"),
                integer(file, json, "d_vocab"), integer(file, json, "n_ctx"), (float) number(file, json, "eps", 1e-5), act,
                rotaryDim, number(file, json, "rotary_base", 10000), json.path("parallel_attn_mlp").asBoolean(false), false,
                json.path("bos_token_id").asInt(0), positions.equals("shortformer"));
    }

    private static int headDim(Path file, int d, int heads) {
        if (heads <= 0 || d % heads != 0) {
            throw new JlensException(file + ": the model width " + d + " is not divisible by the " + heads + " heads.");
        }
        return d / heads;
    }

    private static int integer(Path file, JsonNode json, String key) {
        JsonNode node = json.get(key);
        if (node == null || !node.canConvertToInt()) throw new JlensException(file + ": has no integer '" + key + "'.");
        return node.asInt();
    }

    private static double number(Path file, JsonNode json, String key, double fallback) {
        JsonNode node = json.get(key);
        if (node == null || node.isNull()) return fallback;
        if (!node.isNumber()) throw new JlensException(file + ": '" + key + "' is not a number.");
        return node.asDouble();
    }

    private static String text(Path file, JsonNode json, String key) {
        JsonNode node = json.get(key);
        if (node == null || !node.isTextual()) throw new JlensException(file + ": has no '" + key + "'.");
        return node.asText();
    }
}
