package dev.jlens.models.loading;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.safetensors.SafetensorsWriter.Pending;
import dev.jlens.kernels.Rotary;
import dev.jlens.models.Config;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.ParameterShapes;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The inverse of {@link LlamaWeights}: TransformerLens parameters as a Llama-family checkpoint
 * (LlamaForCausalLM, Qwen2, Qwen3, Mistral), and its config.json. Each class holds a fixed set of
 * biases: Llama and Qwen3 have q, k, v and o biases only with {@code attention_bias}, Qwen2 always
 * has q, k and v biases and never o's, Mistral has none, and none has MLP biases.
 */
final class LlamaExport {
    private LlamaExport() {}

    /** Why the family's class cannot hold these weights exactly, or null when it can. */
    static String whyNot(Config c, Map<String, Tensor> s) {
        String hfClass = c.family().huggingFaceClass();
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "blocks." + l + ".";
            if (!ModelExport.allZero(s.get(p + "mlp.b_in")) || !ModelExport.allZero(s.get(p + "mlp.b_out"))) return hfClass + " has no MLP biases, which this model has";
            boolean qkvBias = !ModelExport.allZero(s.get(p + "attn.b_Q")) || !ModelExport.allZero(s.get(p + ParameterShapes.keyValueName(c, "b_K")))
                    || !ModelExport.allZero(s.get(p + ParameterShapes.keyValueName(c, "b_V")));
            boolean outBias = !ModelExport.allZero(s.get(p + "attn.b_O"));
            if (c.family() == ModelFamily.MISTRAL && (qkvBias || outBias)) return hfClass + " has no attention biases, which this model has";
            if (c.family() == ModelFamily.QWEN2 && outBias) return hfClass + " has no bias on o_proj, which this model has";
        }
        if (c.qkNorm() != (c.family() == ModelFamily.QWEN3)) return hfClass + (c.qkNorm() ? " has no q and k norms" : " needs q and k norms");
        if (c.slidingWindow() > 0 && c.family() != ModelFamily.MISTRAL) return hfClass + " applies no sliding window to every layer";
        return null;
    }

    /**
     * The checkpoint's tensors under Hugging Face's names. Those laid out anew (every projection is
     * output-major in nn.Linear) are made one at a time as the writer reaches them, so an export
     * holds one such matrix beside the model, not a second copy of it.
     */
    static Map<String, Pending> tensors(Config c, Map<String, Tensor> s) {
        int d = c.dModel(), h = c.nHeads(), g = c.nKeyValueHeads(), dh = c.dHead();
        boolean biases = attentionBias(c, s);
        Map<String, Pending> out = new LinkedHashMap<>();
        out.put("model.embed_tokens.weight", Pending.of(s.get("embed.W_E")));
        for (int l = 0; l < c.nLayers(); l++) {
            String hf = "model.layers." + l + ".", tl = "blocks." + l + ".", attn = hf + "self_attn.";
            out.put(hf + "input_layernorm.weight", Pending.of(s.get(tl + "ln1.w")));
            out.put(attn + "q_proj.weight", outputMajor(s.get(tl + "attn.W_Q"), h, d, dh));
            out.put(attn + "k_proj.weight", outputMajor(s.get(tl + ParameterShapes.keyValueName(c, "W_K")), g, d, dh));
            out.put(attn + "v_proj.weight", outputMajor(s.get(tl + ParameterShapes.keyValueName(c, "W_V")), g, d, dh));
            if (biases || c.family() == ModelFamily.QWEN2) {
                out.put(attn + "q_proj.bias", Pending.of(s.get(tl + "attn.b_Q").reshape(h * dh)));
                out.put(attn + "k_proj.bias", Pending.of(s.get(tl + ParameterShapes.keyValueName(c, "b_K")).reshape(g * dh)));
                out.put(attn + "v_proj.bias", Pending.of(s.get(tl + ParameterShapes.keyValueName(c, "b_V")).reshape(g * dh)));
            }
            if (c.qkNorm()) {
                out.put(attn + "q_norm.weight", Pending.of(s.get(tl + "attn.q_norm.w")));
                out.put(attn + "k_norm.weight", Pending.of(s.get(tl + "attn.k_norm.w")));
            }
            out.put(attn + "o_proj.weight", transposed(s.get(tl + "attn.W_O").reshape(h * dh, d)));
            if (biases) out.put(attn + "o_proj.bias", Pending.of(s.get(tl + "attn.b_O")));
            out.put(hf + "post_attention_layernorm.weight", Pending.of(s.get(tl + "ln2.w")));
            out.put(hf + "mlp.gate_proj.weight", transposed(s.get(tl + "mlp.W_gate")));
            out.put(hf + "mlp.up_proj.weight", transposed(s.get(tl + "mlp.W_in")));
            out.put(hf + "mlp.down_proj.weight", transposed(s.get(tl + "mlp.W_out")));
        }
        out.put("model.norm.weight", Pending.of(s.get("ln_final.w")));
        Tensor unembedding = s.get("unembed.W_U").transposeLastTwo();
        if (unembedding.sameValues(s.get("embed.W_E"))) unembedding.free();
        else out.put("lm_head.weight", Pending.later(unembedding.dtype(), unembedding.shape(), () -> unembedding));
        return out;
    }

    static ObjectNode config(Config c, Map<String, Tensor> s, boolean tied) {
        ObjectNode j = new ObjectMapper().createObjectNode();
        j.putArray("architectures").add(c.family().huggingFaceClass());
        j.put("model_type", c.family().modelType());
        j.put("vocab_size", c.dVocab());
        j.put("hidden_size", c.dModel());
        j.put("intermediate_size", c.dMlp());
        j.put("num_hidden_layers", c.nLayers());
        j.put("num_attention_heads", c.nHeads());
        j.put("num_key_value_heads", c.nKeyValueHeads());
        j.put("head_dim", c.dHead());
        j.put("hidden_act", c.actFn().hfName());
        j.put("max_position_embeddings", c.nCtx());
        j.put("rms_norm_eps", c.eps());
        j.put("rope_theta", c.rotaryBase());
        switch (c.rotaryScaling()) {
            case null -> j.putNull("rope_scaling");
            case Rotary.LinearScaling linear -> j.putObject("rope_scaling").put("rope_type", "linear").put("factor", linear.factor());
            case Rotary.Llama3Scaling llama3 -> j.putObject("rope_scaling").put("rope_type", "llama3").put("factor", llama3.factor())
                    .put("low_freq_factor", llama3.lowFreqFactor()).put("high_freq_factor", llama3.highFreqFactor())
                    .put("original_max_position_embeddings", llama3.originalMaxPositions());
        }
        if (c.family() == ModelFamily.LLAMA || c.family() == ModelFamily.QWEN3) j.put("attention_bias", attentionBias(c, s));
        if (c.family() == ModelFamily.LLAMA) j.put("mlp_bias", false);
        if (c.family() == ModelFamily.MISTRAL) {
            if (c.slidingWindow() > 0) j.put("sliding_window", c.slidingWindow());
            else j.putNull("sliding_window");
        }
        if (c.family() == ModelFamily.QWEN2 || c.family() == ModelFamily.QWEN3) j.put("use_sliding_window", false);
        j.put("tie_word_embeddings", tied);
        j.put("bos_token_id", c.bosToken());
        return j;
    }

    /** Whether a Llama or Qwen3 model needs attention_bias: any of its attention biases is not zero. */
    private static boolean attentionBias(Config c, Map<String, Tensor> s) {
        if (c.family() != ModelFamily.LLAMA && c.family() != ModelFamily.QWEN3) return false;
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "blocks." + l + ".";
            for (String name : new String[] {"attn.b_Q", ParameterShapes.keyValueName(c, "b_K"), ParameterShapes.keyValueName(c, "b_V"), "attn.b_O"}) {
                if (!ModelExport.allZero(s.get(p + name))) return true;
            }
        }
        return false;
    }

    /** A [rows, cols] matrix as [cols, rows], made when written. */
    private static Pending transposed(Tensor matrix) {
        return Pending.later(matrix.dtype(), new int[] {matrix.dim(1), matrix.dim(0)}, matrix::transposeLastTwo);
    }

    /** TransformerLens's [heads, d, dHead] as nn.Linear's output-major [heads·dHead, d], made when written. */
    private static Pending outputMajor(Tensor heads, int n, int d, int dHead) {
        return Pending.later(heads.dtype(), new int[] {n * dHead, d}, () -> {
            Tensor columns = Tensor.zeros(heads.dtype(), d, n * dHead);
            Layouts.headsToColumns(heads, columns, 0, dHead);
            Tensor rows = columns.transposeLastTwo();
            columns.free();
            return rows;
        });
    }
}
