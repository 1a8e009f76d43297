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
 *
 * <p>Gemma 2 names its norms differently (post_attention_layernorm is ln1_post there, the norm of
 * the attention's output, and pre_feedforward_layernorm is ln2), stores each norm's weight as w − 1
 * and the embedding unscaled: as TransformerLens, jlens holds 1 + w, W_E = √d_model·embed_tokens,
 * and an unscaled W_U = embed_tokensᵀ of its own when the checkpoint ties them (both {@linkplain
 * Tensor#derived derived} from the stored embedding, made only when their values are asked for).
 */
public final class LlamaWeights {
    private LlamaWeights() {}

    public static Map<String, Tensor> read(Checkpoint file, Config c, DataType held) {
        WeightSource src = new WeightSource(file, held, "model.");
        int d = c.dModel(), h = c.nHeads(), g = c.nKeyValueHeads(), dh = c.dHead(), m = c.dMlp();
        Map<String, Tensor> out = new LinkedHashMap<>();
        Tensor embedding = src.get("embed_tokens.weight", c.dVocab(), d), tiedUnembedding = null;
        if (c.family().scalesEmbedding()) {
            // W_E and W_U are two matrices in TransformerLens, both derived from the one stored embedding,
            // which the model holds alone until something asks for either matrix's values.
            out.put("embed.W_E", Tensor.derived(new Tensor.Scaled(embedding, (float) Math.sqrt(d))));
            tiedUnembedding = Tensor.derived(new Tensor.Transposed(embedding));
        } else {
            out.put("embed.W_E", embedding);
        }
        for (int l = 0; l < c.nLayers(); l++) {
            String hf = "layers." + l + ".", tl = "blocks." + l + ".", attn = hf + "self_attn.";
            out.put(tl + "ln1.w", norm(src, c, hf + "input_layernorm.weight", d));
            out.put(tl + "attn.W_Q", src.headsTransposed(attn + "q_proj.weight", h, dh, d));
            out.put(tl + "attn.b_Q", bias(src, attn + "q_proj.bias", h, dh));
            out.put(tl + ParameterShapes.keyValueName(c, "W_K"), src.headsTransposed(attn + "k_proj.weight", g, dh, d));
            out.put(tl + ParameterShapes.keyValueName(c, "b_K"), bias(src, attn + "k_proj.bias", g, dh));
            out.put(tl + ParameterShapes.keyValueName(c, "W_V"), src.headsTransposed(attn + "v_proj.weight", g, dh, d));
            out.put(tl + ParameterShapes.keyValueName(c, "b_V"), bias(src, attn + "v_proj.bias", g, dh));
            if (c.qkNorm()) {
                out.put(tl + "attn.q_norm.w", norm(src, c, attn + "q_norm.weight", dh));
                out.put(tl + "attn.k_norm.w", norm(src, c, attn + "k_norm.weight", dh));
            }
            out.put(tl + "attn.W_O", src.transposed(attn + "o_proj.weight", d, h * dh).reshape(h, dh, d));
            out.put(tl + "attn.b_O", src.has(attn + "o_proj.bias") ? src.get(attn + "o_proj.bias", d) : Tensor.zeros(d));
            if (c.useNormalizationBeforeAndAfter()) {
                out.put(tl + "ln1_post.w", norm(src, c, hf + "post_attention_layernorm.weight", d));
                out.put(tl + "ln2.w", norm(src, c, hf + "pre_feedforward_layernorm.weight", d));
                out.put(tl + "ln2_post.w", norm(src, c, hf + "post_feedforward_layernorm.weight", d));
            } else {
                out.put(tl + "ln2.w", norm(src, c, hf + "post_attention_layernorm.weight", d));
            }
            out.put(tl + "mlp.W_gate", src.transposed(hf + "mlp.gate_proj.weight", m, d));
            out.put(tl + "mlp.W_in", src.transposed(hf + "mlp.up_proj.weight", m, d));
            out.put(tl + "mlp.b_in", Tensor.zeros(m));
            out.put(tl + "mlp.W_out", src.transposed(hf + "mlp.down_proj.weight", d, m));
            out.put(tl + "mlp.b_out", Tensor.zeros(d));
        }
        out.put("ln_final.w", norm(src, c, "norm.weight", d));
        if (src.has("lm_head.weight")) out.put("unembed.W_U", src.transposed("lm_head.weight", c.dVocab(), d));
        else if (tiedUnembedding != null) out.put("unembed.W_U", tiedUnembedding);
        out.put("unembed.b_U", Tensor.zeros(c.dVocab()));
        // Older exports keep each layer's rotary inverse frequencies, which jlens computes itself.
        src.requireAllUsed("(model\\.)?layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq", c);
        return out;
    }

    /** An RMS norm's weight [d_model] or [d_head], as the norm scales by it (Gemma's stored w − 1 plus 1). */
    private static Tensor norm(WeightSource src, Config c, String name, int width) {
        Tensor w = src.get(name, width);
        float offset = c.family().storedNormWeightOffset();
        if (offset == 0) return w;
        Tensor shifted = Tensor.zeros(w.shape());
        for (int i = 0; i < w.size(); i++) shifted.data()[i] = w.valueAt(i) + offset;
        return shifted;
    }

    private static Tensor bias(WeightSource src, String name, int heads, int dHead) {
        return src.has(name) ? src.get(name, heads * dHead).reshape(heads, dHead) : Tensor.zeros(heads, dHead);
    }
}
