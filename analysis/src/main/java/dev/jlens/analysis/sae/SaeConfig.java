package dev.jlens.analysis.sae;

import static dev.jlens.engine.io.JsonFields.bool;
import static dev.jlens.engine.io.JsonFields.integer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.engine.JlensException;

/**
 * An SAE's {@code cfg.json} in SAELens's layout, in either of its forms: SAELens 6's, with the
 * hook and model under a {@code metadata} object, or the older flat one with a top-level
 * {@code hook_name} (or {@code hook_point}) and, for TopK SAEs, {@code activation_fn_str} "topk"
 * with {@code activation_fn_kwargs.k}.
 *
 * @param hookName null where the file names none (a Gemma Scope npz, given a hook by the user)
 * @param k        the TopK SAE's number of active features; 0 for the other architectures
 */
public record SaeConfig(SaeArchitecture architecture, int dIn, int dSae, int k, boolean applyBDecToInput, Normalization normalization,
                        String hookName, String modelName, boolean hookZ) {

    /**
     * SAELens's {@code normalize_activations}. An SAE trained on inputs scaled to an average norm of
     * sqrt(d_in) ({@code expected_average_only_in}) computes as {@code none} once the release's
     * scaling factor is folded into its weights, which is how SAELens runs it.
     */
    public enum Normalization {
        NONE("none"), EXPECTED_AVERAGE_ONLY_IN("expected_average_only_in");

        final String saeLensName;

        Normalization(String saeLensName) {
            this.saeLensName = saeLensName;
        }
    }

    public SaeConfig {
        if (dIn <= 0 || dSae <= 0) throw new IllegalArgumentException("d_in and d_sae must be positive");
        if (architecture == SaeArchitecture.TOPK && (k <= 0 || k > dSae)) throw new IllegalArgumentException("k must be in 1.." + dSae);
    }

    /** The same SAE at another hook (an npz names none; a user may move one). */
    public SaeConfig withHook(String hook) {
        return new SaeConfig(architecture, dIn, dSae, k, applyBDecToInput, normalization, hook, modelName, hook != null && hook.endsWith("hook_z"));
    }

    public SaeConfig withNormalization(Normalization n) {
        return new SaeConfig(architecture, dIn, dSae, k, applyBDecToInput, n, hookName, modelName, hookZ);
    }

    /** Reads either form; {@code source} names the file in errors. */
    public static SaeConfig parse(JsonNode json, Object source) {
        if (json == null || !json.isObject()) throw new JlensException(source + ": is not a JSON object.");
        JsonNode meta = json.has("metadata") ? json.get("metadata") : json.get("meta");
        if (meta != null && !meta.isNull() && !meta.isObject()) throw new JlensException(source + ": 'metadata' is not an object.");
        int dIn = positive(source, json, "d_in"), dSae = positive(source, json, "d_sae");
        String activation = optionalText(source, json, json.has("activation_fn_str") ? "activation_fn_str" : "activation_fn", "relu");
        String architectureName = optionalText(source, json, "architecture", "standard");
        SaeArchitecture architecture = SaeArchitecture.named(architectureName, source);
        // Before SAELens 6, a TopK SAE was a "standard" one whose activation function was "topk".
        if (architecture == SaeArchitecture.STANDARD && activation.equals("topk")) architecture = SaeArchitecture.TOPK;
        else if (!activation.equals("relu") && !activation.equals("topk")) {
            throw new JlensException(source + ": activation_fn '" + activation + "' is not one jlens runs (relu, topk).");
        }
        int k = 0;
        if (architecture == SaeArchitecture.TOPK) {
            JsonNode kwargs = json.get("activation_fn_kwargs");
            k = json.has("k") ? positive(source, json, "k") : kwargs != null && kwargs.isObject() && kwargs.has("k") ? positive(source, kwargs, "k") : -1;
            if (k < 0) throw new JlensException(source + ": a topk SAE needs 'k' (or activation_fn_kwargs.k).");
            if (k > dSae) throw new JlensException(source + ": 'k' is " + k + ", more than d_sae (" + dSae + ").");
        }
        if (bool(source, json, "finetuning_scaling_factor", false)) {
            throw new JlensException(source + ": 'finetuning_scaling_factor' is true; jlens does not run SAEs with a fine-tuning scale.");
        }
        String hook = firstText(source, json, meta, "hook_name", "hook_point");
        JsonNode headIndex = json.has("hook_head_index") ? json.get("hook_head_index") : meta == null ? null : meta.get("hook_head_index");
        if (headIndex != null && !headIndex.isNull()) {
            throw new JlensException(source + ": 'hook_head_index' is " + headIndex + "; jlens splices SAEs over whole hook points, not one head.");
        }
        String reshape = optionalText(source, json, "reshape_activations", hook != null && hook.endsWith("hook_z") ? "hook_z" : "none");
        if (!reshape.equals("none") && !reshape.equals("hook_z")) {
            throw new JlensException(source + ": reshape_activations '" + reshape + "' is not one jlens knows (none, hook_z).");
        }
        return new SaeConfig(architecture, dIn, dSae, k, bool(source, json, "apply_b_dec_to_input", true), normalization(source, json),
                hook, firstText(source, json, meta, "model_name"), reshape.equals("hook_z"));
    }

    /** SAELens 6's form: architecture and sizes at the top, the hook and model under metadata. */
    public ObjectNode toJson() {
        ObjectNode json = JsonNodeFactory.instance.objectNode();
        json.put("architecture", architecture.saeLensName);
        json.put("d_in", dIn);
        json.put("d_sae", dSae);
        if (architecture == SaeArchitecture.TOPK) json.put("k", k);
        json.put("dtype", "float32");
        json.put("device", "cpu");
        json.put("apply_b_dec_to_input", applyBDecToInput);
        json.put("normalize_activations", normalization.saeLensName);
        json.put("reshape_activations", hookZ ? "hook_z" : "none");
        ObjectNode meta = json.putObject("metadata");
        if (modelName != null) meta.put("model_name", modelName);
        if (hookName != null) meta.put("hook_name", hookName);
        meta.putNull("hook_head_index");
        meta.put("prepend_bos", true);
        meta.put("sae_lens_version", "6.0.0");
        meta.put("sae_lens_training_version", "6.0.0");
        return json;
    }

    private static Normalization normalization(Object source, JsonNode json) {
        JsonNode node = json.get("normalize_activations");
        // SAELens's own back-compatibility: a boolean meant the April-update scaling, and null none.
        if (node == null || node.isNull()) return Normalization.NONE;
        if (node.isBoolean()) return node.asBoolean() ? Normalization.EXPECTED_AVERAGE_ONLY_IN : Normalization.NONE;
        for (Normalization n : Normalization.values()) if (node.isTextual() && n.saeLensName.equals(node.asText())) return n;
        throw new JlensException(source + ": normalize_activations " + node + " is not one jlens runs (none, expected_average_only_in).");
    }

    private static int positive(Object source, JsonNode json, String key) {
        int value = integer(source, json, key);
        if (value <= 0) throw new JlensException(source + ": '" + key + "' is " + value + ", not a positive number.");
        return value;
    }

    private static String optionalText(Object source, JsonNode json, String key, String fallback) {
        JsonNode node = json.get(key);
        if (node == null || node.isNull()) return fallback;
        if (!node.isTextual()) throw new JlensException(source + ": '" + key + "' is " + node + ", not a string.");
        return node.asText();
    }

    /** The first of {@code keys} found at the top level, then under metadata; null when none is. */
    private static String firstText(Object source, JsonNode json, JsonNode meta, String... keys) {
        for (JsonNode where : new JsonNode[] {json, meta}) {
            if (where == null || where.isNull()) continue;
            for (String key : keys) {
                String value = optionalText(source, where, key, null);
                if (value != null) return value;
            }
        }
        return null;
    }
}
