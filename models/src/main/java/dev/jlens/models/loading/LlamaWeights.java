package dev.jlens.models.loading;

import dev.jlens.engine.DataType;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.checkpoint.Checkpoint;
import dev.jlens.models.Config;
import dev.jlens.models.ParameterShapes;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hugging Face Llama-family weights (LlamaForCausalLM, Qwen2, Qwen3, Mistral) to TransformerLens
 * parameters. Every projection is an nn.Linear stored output-major ([out, in]): q_proj's output axis
 * is [heads][d_head], k_proj's and v_proj's [key/value heads][d_head]; gate_proj becomes W_gate,
 * up_proj W_in and down_proj W_out. Biases the checkpoint lacks (Llama's, Mistral's, the MLP's) are
 * zero, as TransformerLens holds them; the unembedding is lm_head, or tied to embed_tokens.
 */
public final class LlamaWeights {
    private LlamaWeights() {}

    public static Map<String, Tensor> read(Checkpoint file, Config c, DataType held) {
        WeightSource src = new WeightSource(file, held, "model.");
        int d = c.dModel(), h = c.nHeads(), g = c.nKeyValueHeads(), dh = c.dHead(), m = c.dMlp();
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("embed.W_E", src.get("embed_tokens.weight", c.dVocab(), d));
        for (int l = 0; l < c.nLayers(); l++) {
            String hf = "layers." + l + ".", tl = "blocks." + l + ".", attn = hf + "self_attn.";
            out.put(tl + "ln1.w", src.get(hf + "input_layernorm.weight", d));
            out.put(tl + "attn.W_Q", src.headsTransposed(attn + "q_proj.weight", h, dh, d));
            out.put(tl + "attn.b_Q", bias(src, attn + "q_proj.bias", h, dh));
            out.put(tl + ParameterShapes.keyValueName(c, "W_K"), src.headsTransposed(attn + "k_proj.weight", g, dh, d));
            out.put(tl + ParameterShapes.keyValueName(c, "b_K"), bias(src, attn + "k_proj.bias", g, dh));
            out.put(tl + ParameterShapes.keyValueName(c, "W_V"), src.headsTransposed(attn + "v_proj.weight", g, dh, d));
            out.put(tl + ParameterShapes.keyValueName(c, "b_V"), bias(src, attn + "v_proj.bias", g, dh));
            if (c.qkNorm()) {
                out.put(tl + "attn.q_norm.w", src.get(attn + "q_norm.weight", dh));
                out.put(tl + "attn.k_norm.w", src.get(attn + "k_norm.weight", dh));
            }
            out.put(tl + "attn.W_O", src.transposed(attn + "o_proj.weight", d, h * dh).reshape(h, dh, d));
            out.put(tl + "attn.b_O", src.has(attn + "o_proj.bias") ? src.get(attn + "o_proj.bias", d) : Tensor.zeros(d));
            out.put(tl + "ln2.w", src.get(hf + "post_attention_layernorm.weight", d));
            out.put(tl + "mlp.W_gate", src.transposed(hf + "mlp.gate_proj.weight", m, d));
            out.put(tl + "mlp.W_in", src.transposed(hf + "mlp.up_proj.weight", m, d));
            out.put(tl + "mlp.b_in", Tensor.zeros(m));
            out.put(tl + "mlp.W_out", src.transposed(hf + "mlp.down_proj.weight", d, m));
            out.put(tl + "mlp.b_out", Tensor.zeros(d));
        }
        out.put("ln_final.w", src.get("norm.weight", d));
        if (src.has("lm_head.weight")) out.put("unembed.W_U", src.transposed("lm_head.weight", c.dVocab(), d));
        out.put("unembed.b_U", Tensor.zeros(c.dVocab()));
        // Older exports keep each layer's rotary inverse frequencies, which jlens computes itself.
        src.requireAllUsed("(model\\.)?layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq", c);
        return out;
    }

    private static Tensor bias(WeightSource src, String name, int heads, int dHead) {
        return src.has(name) ? src.get(name, heads * dHead).reshape(heads, dHead) : Tensor.zeros(heads, dHead);
    }
}
