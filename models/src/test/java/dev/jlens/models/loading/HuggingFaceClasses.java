package dev.jlens.models.loading;

import dev.jlens.models.Config;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The parameters of the Hugging Face classes jlens writes, name to shape, as {@code state_dict()}
 * of the class in {@code transformers} lists them (transcribed from the {@code __init__} methods
 * of {@code modeling_gpt2.py} and {@code modeling_gpt_neox.py}; buffers such as GPT-2's causal
 * mask are not parameters, and a tied {@code lm_head.weight} is not saved). An export in a class's
 * layout must hold exactly these tensors, or {@code transformers} computes another model.
 */
final class HuggingFaceClasses {
    private HuggingFaceClasses() {}

    /** The class's parameters for {@code c}, and the prefix its base model's names carry. */
    record Parameters(String basePrefix, Map<String, List<Integer>> shapes) {
        /**
         * The names a checkpoint may use: as listed, or, when none of its names carry the base
         * prefix, with that prefix removed (the rule of {@code PreTrainedModel.from_pretrained}).
         */
        Map<String, List<Integer>> asCheckpointNames(Iterable<String> checkpointNames) {
            boolean prefixed = false;
            for (String n : checkpointNames) prefixed |= n.startsWith(basePrefix);
            if (prefixed) return shapes;
            return shapes.entrySet().stream().collect(Collectors.toMap(
                    e -> e.getKey().startsWith(basePrefix) ? e.getKey().substring(basePrefix.length()) : e.getKey(),
                    Map.Entry::getValue, (a, b) -> a, TreeMap::new));
        }
    }

    static Parameters of(String huggingFaceClass, Config c, boolean tied) {
        return switch (huggingFaceClass) {
            case "GPT2LMHeadModel" -> gpt2LmHeadModel(c, tied);
            case "GPTNeoXForCausalLM" -> gptNeoxForCausalLM(c, tied);
            case "LlamaForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "MistralForCausalLM", "Gemma2ForCausalLM" -> llamaFamily(huggingFaceClass, c, tied, false);
            default -> throw new IllegalArgumentException(huggingFaceClass);
        };
    }

    /** With {@code attention_bias} (Llama, Qwen3): q, k, v and o biases. */
    static Parameters of(String huggingFaceClass, Config c, boolean tied, boolean attentionBias) {
        return switch (huggingFaceClass) {
            case "LlamaForCausalLM", "Qwen3ForCausalLM" -> llamaFamily(huggingFaceClass, c, tied, attentionBias);
            default -> of(huggingFaceClass, c, tied);
        };
    }

    /** GPT2LMHeadModel: Conv1D weights are [in, out]. */
    private static Parameters gpt2LmHeadModel(Config c, boolean tied) {
        int d = c.dModel(), m = c.dMlp(), v = c.dVocab();
        Map<String, List<Integer>> p = new TreeMap<>();
        p.put("transformer.wte.weight", shape(v, d));
        p.put("transformer.wpe.weight", shape(c.nCtx(), d));
        for (int l = 0; l < c.nLayers(); l++) {
            String h = "transformer.h." + l + ".";
            p.put(h + "ln_1.weight", shape(d));
            p.put(h + "ln_1.bias", shape(d));
            p.put(h + "attn.c_attn.weight", shape(d, 3 * d));
            p.put(h + "attn.c_attn.bias", shape(3 * d));
            p.put(h + "attn.c_proj.weight", shape(d, d));
            p.put(h + "attn.c_proj.bias", shape(d));
            p.put(h + "ln_2.weight", shape(d));
            p.put(h + "ln_2.bias", shape(d));
            p.put(h + "mlp.c_fc.weight", shape(d, m));
            p.put(h + "mlp.c_fc.bias", shape(m));
            p.put(h + "mlp.c_proj.weight", shape(m, d));
            p.put(h + "mlp.c_proj.bias", shape(d));
        }
        p.put("transformer.ln_f.weight", shape(d));
        p.put("transformer.ln_f.bias", shape(d));
        if (!tied) p.put("lm_head.weight", shape(v, d));
        return new Parameters("transformer.", p);
    }

    /** GPTNeoXForCausalLM: nn.Linear weights are [out, in]. */
    private static Parameters gptNeoxForCausalLM(Config c, boolean tied) {
        int d = c.dModel(), m = c.dMlp(), v = c.dVocab();
        Map<String, List<Integer>> p = new TreeMap<>();
        p.put("gpt_neox.embed_in.weight", shape(v, d));
        for (int l = 0; l < c.nLayers(); l++) {
            String h = "gpt_neox.layers." + l + ".";
            p.put(h + "input_layernorm.weight", shape(d));
            p.put(h + "input_layernorm.bias", shape(d));
            p.put(h + "post_attention_layernorm.weight", shape(d));
            p.put(h + "post_attention_layernorm.bias", shape(d));
            p.put(h + "attention.query_key_value.weight", shape(3 * d, d));
            p.put(h + "attention.query_key_value.bias", shape(3 * d));
            p.put(h + "attention.dense.weight", shape(d, d));
            p.put(h + "attention.dense.bias", shape(d));
            p.put(h + "mlp.dense_h_to_4h.weight", shape(m, d));
            p.put(h + "mlp.dense_h_to_4h.bias", shape(m));
            p.put(h + "mlp.dense_4h_to_h.weight", shape(d, m));
            p.put(h + "mlp.dense_4h_to_h.bias", shape(d));
        }
        p.put("gpt_neox.final_layer_norm.weight", shape(d));
        p.put("gpt_neox.final_layer_norm.bias", shape(d));
        if (!tied) p.put("embed_out.weight", shape(v, d));
        return new Parameters("gpt_neox.", p);
    }

    /**
     * LlamaForCausalLM (modeling_llama.py) and the classes built like it: Qwen2 (q, k and v always
     * biased, modeling_qwen2.py), Qwen3 (q_norm and k_norm over head_dim, modeling_qwen3.py),
     * Mistral (no biases, modeling_mistral.py), Gemma 2 (no biases; pre_feedforward_layernorm and
     * post_feedforward_layernorm besides, modeling_gemma2.py). nn.Linear weights are [out, in].
     */
    private static Parameters llamaFamily(String hfClass, Config c, boolean tied, boolean attentionBias) {
        int d = c.dModel(), m = c.dMlp(), v = c.dVocab(), q = c.nHeads() * c.dHead(), kv = c.nKeyValueHeads() * c.dHead();
        boolean qkvBias = attentionBias || hfClass.equals("Qwen2ForCausalLM");
        Map<String, List<Integer>> p = new TreeMap<>();
        p.put("model.embed_tokens.weight", shape(v, d));
        for (int l = 0; l < c.nLayers(); l++) {
            String h = "model.layers." + l + ".";
            p.put(h + "input_layernorm.weight", shape(d));
            p.put(h + "self_attn.q_proj.weight", shape(q, d));
            p.put(h + "self_attn.k_proj.weight", shape(kv, d));
            p.put(h + "self_attn.v_proj.weight", shape(kv, d));
            p.put(h + "self_attn.o_proj.weight", shape(d, q));
            if (qkvBias) {
                p.put(h + "self_attn.q_proj.bias", shape(q));
                p.put(h + "self_attn.k_proj.bias", shape(kv));
                p.put(h + "self_attn.v_proj.bias", shape(kv));
            }
            if (attentionBias) p.put(h + "self_attn.o_proj.bias", shape(d));
            if (hfClass.equals("Qwen3ForCausalLM")) {
                p.put(h + "self_attn.q_norm.weight", shape(c.dHead()));
                p.put(h + "self_attn.k_norm.weight", shape(c.dHead()));
            }
            p.put(h + "post_attention_layernorm.weight", shape(d));
            if (hfClass.equals("Gemma2ForCausalLM")) {
                p.put(h + "pre_feedforward_layernorm.weight", shape(d));
                p.put(h + "post_feedforward_layernorm.weight", shape(d));
            }
            p.put(h + "mlp.gate_proj.weight", shape(m, d));
            p.put(h + "mlp.up_proj.weight", shape(m, d));
            p.put(h + "mlp.down_proj.weight", shape(d, m));
        }
        p.put("model.norm.weight", shape(d));
        if (!tied) p.put("lm_head.weight", shape(v, d));
        return new Parameters("model.", p);
    }

    private static List<Integer> shape(int... dims) {
        return Arrays.stream(dims).boxed().toList();
    }
}
