package dev.jlens.models.loading;

import dev.jlens.engine.DataType;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.checkpoint.Checkpoint;
import dev.jlens.models.Config;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hugging Face GPT-NeoX (Pythia) weights to TransformerLens parameters. NeoX stores nn.Linear
 * weights output-major ([out, in]), so they are transposed once here; query_key_value interleaves
 * per head, its output axis laid out as [heads][q, k, v][d_head]; embed_out is an untied unembedding.
 */
public final class NeoxWeights {
    private NeoxWeights() {}

    public static Map<String, Tensor> read(Checkpoint file, Config c, DataType held) {
        WeightSource src = new WeightSource(file, held, "gpt_neox.");
        int d = c.dModel(), h = c.nHeads(), dh = c.dHead(), m = c.dMlp();
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("embed.W_E", src.get("embed_in.weight", c.dVocab(), d));
        // With rotary_pct = 0 NeoX has no positional information at all: a zero W_pos says exactly that.
        if (!c.rotary()) out.put("pos_embed.W_pos", Tensor.zeros(c.nCtx(), d));
        for (int l = 0; l < c.nLayers(); l++) {
            String hf = "layers." + l + ".", tl = "blocks." + l + ".";
            out.put(tl + "ln1.w", src.get(hf + "input_layernorm.weight", d));
            out.put(tl + "ln1.b", src.get(hf + "input_layernorm.bias", d));
            Tensor qkv = src.transposed(hf + "attention.query_key_value.weight", 3 * h * dh, d);
            Tensor qkvBias = src.get(hf + "attention.query_key_value.bias", 3 * h * dh);
            String[] names = {"Q", "K", "V"};
            for (int j = 0; j < 3; j++) {
                out.put(tl + "attn.W_" + names[j], Layouts.headsFromColumns(qkv, j * dh, 3 * dh, h, dh));
                out.put(tl + "attn.b_" + names[j], Layouts.headsFromVector(qkvBias, j * dh, 3 * dh, h, dh));
            }
            out.put(tl + "attn.W_O", src.transposed(hf + "attention.dense.weight", d, h * dh).reshape(h, dh, d));
            out.put(tl + "attn.b_O", src.get(hf + "attention.dense.bias", d));
            out.put(tl + "ln2.w", src.get(hf + "post_attention_layernorm.weight", d));
            out.put(tl + "ln2.b", src.get(hf + "post_attention_layernorm.bias", d));
            out.put(tl + "mlp.W_in", src.transposed(hf + "mlp.dense_h_to_4h.weight", m, d));
            out.put(tl + "mlp.b_in", src.get(hf + "mlp.dense_h_to_4h.bias", m));
            out.put(tl + "mlp.W_out", src.transposed(hf + "mlp.dense_4h_to_h.weight", d, m));
            out.put(tl + "mlp.b_out", src.get(hf + "mlp.dense_4h_to_h.bias", d));
        }
        out.put("ln_final.w", src.get("final_layer_norm.weight", d));
        out.put("ln_final.b", src.get("final_layer_norm.bias", d));
        // tie_word_embeddings models have no embed_out: the unembedding is then tied to embed_in
        if (src.has("embed_out.weight")) out.put("unembed.W_U", src.transposed("embed_out.weight", c.dVocab(), d));
        out.put("unembed.b_U", src.has("embed_out.bias") ? src.get("embed_out.bias", c.dVocab()) : Tensor.zeros(c.dVocab()));
        src.requireAllUsed("(gpt_neox\\.)?layers\\.\\d+\\.attention\\.((masked_)?bias|rotary_emb\\.inv_freq)", c);
        return out;
    }
}
