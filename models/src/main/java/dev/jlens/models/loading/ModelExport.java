package dev.jlens.models.loading;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.safetensors.SafetensorsWriter;
import dev.jlens.engine.safetensors.SafetensorsWriter.Pending;
import dev.jlens.kernels.Rotary;
import dev.jlens.models.Config;
import dev.jlens.models.HeldTypes;
import dev.jlens.models.ModelFamily;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes TransformerLens-named weights as a model directory ({@code config.json} +
 * {@code model.safetensors}) that {@link ModelLoader} reads back. A GPT-2 or GPT-NeoX model is
 * written in its Hugging Face class's layout (the inverse of {@link Gpt2Weights} and
 * {@link NeoxWeights}) only when that class holds exactly these weights, so that
 * {@code transformers} loads the same model; otherwise, as for any other model, it is written in
 * TransformerLens's own names and config, with the class kept as {@code original_architecture}.
 */
public final class ModelExport {
    /** How a model directory was written, and why not in Hugging Face layout when it was not. */
    public record Layout(String huggingFaceClass, String whyNot) {
        public boolean huggingFace() {
            return whyNot == null;
        }

        /** For messages and model cards: "Hugging Face's GPT2LMHeadModel", or TransformerLens's names and why. */
        public String describe() {
            return huggingFace() ? "Hugging Face's " + huggingFaceClass + " layout"
                    : "TransformerLens's names and config" + (huggingFaceClass == null ? "" : " (" + whyNot + ")");
        }
    }

    private ModelExport() {}

    /** Writes the model to {@code dir} and says in which layout. */
    public static Layout write(Path dir, Config cfg, Map<String, Tensor> state) {
        Layout layout = layout(cfg, state);
        Map<String, Pending> tensors;
        ObjectNode config;
        if (!layout.huggingFace()) {
            tensors = existing(state);
            config = transformerLensConfig(cfg, state.containsKey("ln_final.w"));
            if (layout.huggingFaceClass() != null) config.put("original_architecture", layout.huggingFaceClass());
        } else if (cfg.family() == ModelFamily.GPT2) {
            tensors = existing(gpt2(cfg, state));
            config = gpt2Config(cfg, tensors.containsKey("lm_head.weight"));
        } else if (cfg.family().llamaLayout()) {
            tensors = LlamaExport.tensors(cfg, state);
            config = LlamaExport.config(cfg, state, !tensors.containsKey("lm_head.weight"));
        } else {
            tensors = existing(neox(cfg, state));
            config = neoxConfig(cfg);
        }
        // As Hugging Face's configs say it: the type the weights are stored in.
        config.put("torch_dtype", HeldTypes.of(state).flagName());
        try {
            Files.createDirectories(dir);
            SafetensorsWriter.writePending(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"), true);
            Files.writeString(dir.resolve("config.json"), new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(config));
        } catch (IOException e) {
            throw new JlensException(dir + ": cannot be written (" + JlensException.describe(e) + ").", e);
        }
        return layout;
    }

    /** The family's Hugging Face layout if its class has a place for every weight in {@code state}. */
    public static Layout layout(Config cfg, Map<String, Tensor> state) {
        String hfClass = cfg.family().huggingFaceClass();
        if (hfClass == null) return new Layout(null, "a TransformerLens model");
        if (!state.containsKey("ln_final.w")) return new Layout(hfClass, hfClass + " cannot hold folded layer norms");
        if (!allZero(state.get("unembed.b_U"))) return new Layout(hfClass, hfClass + " has no unembedding bias, which this model has");
        if (cfg.family().llamaLayout()) {
            String whyNot = LlamaExport.whyNot(cfg, state);
            return new Layout(hfClass, whyNot);
        }
        if (cfg.family() == ModelFamily.GPT_NEOX && !cfg.rotary() && !allZero(state.get("pos_embed.W_pos"))) {
            return new Layout(hfClass, hfClass + " has no learned positions, which this model has");
        }
        return new Layout(hfClass, null);
    }

    private static Map<String, Pending> existing(Map<String, Tensor> tensors) {
        Map<String, Pending> out = new LinkedHashMap<>();
        tensors.forEach((name, t) -> out.put(name, Pending.of(t)));
        return out;
    }

    static boolean allZero(Tensor t) {
        return t == null || t.isAllZero();
    }

    private static Map<String, Tensor> gpt2(Config c, Map<String, Tensor> s) {
        int d = c.dModel(), dh = c.dHead();
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("wte.weight", s.get("embed.W_E"));
        out.put("wpe.weight", s.get("pos_embed.W_pos"));
        for (int l = 0; l < c.nLayers(); l++) {
            String hf = "h." + l + ".", tl = "blocks." + l + ".";
            out.put(hf + "ln_1.weight", s.get(tl + "ln1.w"));
            out.put(hf + "ln_1.bias", s.get(tl + "ln1.b"));
            Tensor qkv = Tensor.zeros(s.get(tl + "attn.W_Q").dtype(), d, 3 * d), qkvBias = Tensor.zeros(3 * d);
            String[] names = {"Q", "K", "V"};
            for (int j = 0; j < 3; j++) {
                Layouts.headsToColumns(s.get(tl + "attn.W_" + names[j]), qkv, j * d, dh);
                Layouts.headsToVector(s.get(tl + "attn.b_" + names[j]), qkvBias, j * d, dh);
            }
            out.put(hf + "attn.c_attn.weight", qkv);
            out.put(hf + "attn.c_attn.bias", qkvBias);
            out.put(hf + "attn.c_proj.weight", s.get(tl + "attn.W_O").reshape(d, d));
            out.put(hf + "attn.c_proj.bias", s.get(tl + "attn.b_O"));
            out.put(hf + "ln_2.weight", s.get(tl + "ln2.w"));
            out.put(hf + "ln_2.bias", s.get(tl + "ln2.b"));
            out.put(hf + "mlp.c_fc.weight", s.get(tl + "mlp.W_in"));
            out.put(hf + "mlp.c_fc.bias", s.get(tl + "mlp.b_in"));
            out.put(hf + "mlp.c_proj.weight", s.get(tl + "mlp.W_out"));
            out.put(hf + "mlp.c_proj.bias", s.get(tl + "mlp.b_out"));
        }
        out.put("ln_f.weight", s.get("ln_final.w"));
        out.put("ln_f.bias", s.get("ln_final.b"));
        Tensor unembedding = s.get("unembed.W_U").transposeLastTwo();
        if (!unembedding.sameValues(s.get("embed.W_E"))) out.put("lm_head.weight", unembedding);
        return out;
    }

    private static Map<String, Tensor> neox(Config c, Map<String, Tensor> s) {
        int d = c.dModel(), h = c.nHeads(), dh = c.dHead();
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("gpt_neox.embed_in.weight", s.get("embed.W_E"));
        for (int l = 0; l < c.nLayers(); l++) {
            String hf = "gpt_neox.layers." + l + ".", tl = "blocks." + l + ".";
            out.put(hf + "input_layernorm.weight", s.get(tl + "ln1.w"));
            out.put(hf + "input_layernorm.bias", s.get(tl + "ln1.b"));
            out.put(hf + "post_attention_layernorm.weight", s.get(tl + "ln2.w"));
            out.put(hf + "post_attention_layernorm.bias", s.get(tl + "ln2.b"));
            Tensor qkv = Tensor.zeros(s.get(tl + "attn.W_Q").dtype(), d, 3 * h * dh), qkvBias = Tensor.zeros(3 * h * dh);
            String[] names = {"Q", "K", "V"};
            for (int j = 0; j < 3; j++) {
                Layouts.headsToColumns(s.get(tl + "attn.W_" + names[j]), qkv, j * dh, 3 * dh);
                Layouts.headsToVector(s.get(tl + "attn.b_" + names[j]), qkvBias, j * dh, 3 * dh);
            }
            out.put(hf + "attention.query_key_value.weight", qkv.transposeLastTwo());
            out.put(hf + "attention.query_key_value.bias", qkvBias);
            out.put(hf + "attention.dense.weight", s.get(tl + "attn.W_O").reshape(h * dh, d).transposeLastTwo());
            out.put(hf + "attention.dense.bias", s.get(tl + "attn.b_O"));
            out.put(hf + "mlp.dense_h_to_4h.weight", s.get(tl + "mlp.W_in").transposeLastTwo());
            out.put(hf + "mlp.dense_h_to_4h.bias", s.get(tl + "mlp.b_in"));
            out.put(hf + "mlp.dense_4h_to_h.weight", s.get(tl + "mlp.W_out").transposeLastTwo());
            out.put(hf + "mlp.dense_4h_to_h.bias", s.get(tl + "mlp.b_out"));
        }
        out.put("gpt_neox.final_layer_norm.weight", s.get("ln_final.w"));
        out.put("gpt_neox.final_layer_norm.bias", s.get("ln_final.b"));
        out.put("embed_out.weight", s.get("unembed.W_U").transposeLastTwo());
        return out;
    }

    private static ObjectNode gpt2Config(Config c, boolean untied) {
        ObjectNode j = new ObjectMapper().createObjectNode();
        j.putArray("architectures").add("GPT2LMHeadModel");
        j.put("model_type", "gpt2");
        j.put("vocab_size", c.dVocab());
        j.put("n_positions", c.nCtx());
        j.put("n_ctx", c.nCtx());
        j.put("n_embd", c.dModel());
        j.put("n_layer", c.nLayers());
        j.put("n_head", c.nHeads());
        j.put("n_inner", c.dMlp());
        j.put("activation_function", c.actFn().hfName());
        j.put("layer_norm_epsilon", c.eps());
        j.put("tie_word_embeddings", !untied);
        j.put("bos_token_id", c.bosToken());
        j.put("eos_token_id", c.bosToken());
        return j;
    }

    /** HookedTransformerConfig's fields, as TransformerLens's own models' config.json has them. */
    private static ObjectNode transformerLensConfig(Config c, boolean layerNormWeights) {
        ObjectNode j = new ObjectMapper().createObjectNode();
        j.put("n_layers", c.nLayers());
        j.put("d_model", c.dModel());
        j.put("n_heads", c.nHeads());
        if (c.groupedQueryAttention()) j.put("n_key_value_heads", c.nKeyValueHeads());
        j.put("d_head", c.dHead());
        j.put("d_mlp", c.dMlp());
        j.put("d_vocab", c.dVocab());
        j.put("n_ctx", c.nCtx());
        j.put("act_fn", c.actFn().hfName());
        j.put("gated_mlp", c.gatedMlp());
        j.put("eps", c.eps());
        switch (c.normalization()) {
            case LN -> j.put("normalization_type", layerNormWeights ? "LN" : "LNPre");
            case RMS -> j.put("normalization_type", layerNormWeights ? "RMS" : "RMSPre");
            case NONE -> j.putNull("normalization_type");
        }
        j.put("positional_embedding_type", c.rotary() ? "rotary" : c.shortformer() ? "shortformer" : "standard");
        if (c.rotary()) {
            j.put("rotary_dim", c.rotaryDim());
            j.put("rotary_base", c.rotaryBase());
            switch (c.rotaryScaling()) {
                case null -> { }
                case Rotary.Llama3Scaling s -> {
                    j.put("use_NTK_by_parts_rope", true);
                    j.put("NTK_by_parts_factor", s.factor());
                    j.put("NTK_by_parts_low_freq_factor", s.lowFreqFactor());
                    j.put("NTK_by_parts_high_freq_factor", s.highFreqFactor());
                    j.put("NTK_original_ctx_len", s.originalMaxPositions());
                }
                // TransformerLens's config has no linear scaling: kept in Hugging Face's words, which ConfigFile reads.
                case Rotary.LinearScaling s -> j.putObject("rope_scaling").put("rope_type", "linear").put("factor", s.factor());
            }
        }
        if (c.qkNorm()) j.put("use_qk_norm", true);
        if (c.slidingWindow() > 0) {
            // TransformerLens's local attention: Mistral's on every layer, Gemma 2's on some.
            j.put("window_size", c.slidingWindow());
            var types = j.putArray("attn_types");
            for (Config.AttentionType t : c.attnTypes()) types.add(t == Config.AttentionType.LOCAL ? "local" : "global");
        }
        if (c.attnScale() != Math.sqrt(c.dHead())) j.put("attn_scale", c.attnScale());
        if (c.attnScoresSoftCap() > 0) j.put("attn_scores_soft_cap", c.attnScoresSoftCap());
        if (c.outputLogitsSoftCap() > 0) j.put("output_logits_soft_cap", c.outputLogitsSoftCap());
        if (c.useNormalizationBeforeAndAfter()) j.put("use_normalization_before_and_after", true);
        j.put("parallel_attn_mlp", c.parallelAttnMlp());
        j.put("attn_only", false);
        j.put("bos_token_id", c.bosToken());
        return j;
    }

    private static ObjectNode neoxConfig(Config c) {
        ObjectNode j = new ObjectMapper().createObjectNode();
        j.putArray("architectures").add("GPTNeoXForCausalLM");
        j.put("model_type", "gpt_neox");
        j.put("vocab_size", c.dVocab());
        j.put("hidden_size", c.dModel());
        j.put("num_hidden_layers", c.nLayers());
        j.put("num_attention_heads", c.nHeads());
        j.put("intermediate_size", c.dMlp());
        j.put("hidden_act", c.actFn().hfName());
        j.put("rotary_pct", (double) c.rotaryDim() / c.dHead());
        j.put("rotary_emb_base", c.rotaryBase());
        j.put("max_position_embeddings", c.nCtx());
        j.put("layer_norm_eps", c.eps());
        j.put("use_parallel_residual", c.parallelAttnMlp());
        j.put("tie_word_embeddings", false);
        j.put("bos_token_id", c.bosToken());
        j.put("eos_token_id", c.bosToken());
        return j;
    }
}
