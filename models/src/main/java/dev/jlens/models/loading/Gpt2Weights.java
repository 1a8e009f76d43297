package dev.jlens.models.loading;

import dev.jlens.engine.DataType;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.checkpoint.Checkpoint;
import dev.jlens.models.Config;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hugging Face GPT-2 weights to TransformerLens parameters. GPT-2 stores its projections as Conv1D,
 * input-major ([in, out]), so W_in and W_out are taken as stored; c_attn fuses q, k, v along its
 * output axis as [3][heads][d_head]; the unembedding is lm_head if present, else tied to wte (see
 * {@link dev.jlens.models.components.Unembed}); b_U is 0 unless the file has lm_head.bias.
 */
public final class Gpt2Weights {
    private Gpt2Weights() {}

    public static Map<String, Tensor> read(Checkpoint file, Config c, DataType held) {
        WeightSource src = new WeightSource(file, held, "transformer.");
        int d = c.dModel(), h = c.nHeads(), dh = c.dHead(), m = c.dMlp();
        Map<String, Tensor> out = new LinkedHashMap<>();
        // c_attn is only read to be split into q, k and v: one buffer serves every layer.
        float[] fusedScratch = new float[d * 3 * d];
        Tensor wte = src.get("wte.weight", c.dVocab(), d);
        out.put("embed.W_E", wte);
        out.put("pos_embed.W_pos", src.get("wpe.weight", c.nCtx(), d));
        for (int l = 0; l < c.nLayers(); l++) {
            String hf = "h." + l + ".", tl = "blocks." + l + ".";
            out.put(tl + "ln1.w", src.get(hf + "ln_1.weight", d));
            out.put(tl + "ln1.b", src.get(hf + "ln_1.bias", d));
            Tensor qkv = src.floats(hf + "attn.c_attn.weight", fusedScratch, d, 3 * d);
            Tensor qkvBias = src.get(hf + "attn.c_attn.bias", 3 * d);
            String[] names = {"Q", "K", "V"};
            for (int j = 0; j < 3; j++) {
                out.put(tl + "attn.W_" + names[j], Layouts.headsFromColumns(qkv, j * d, dh, h, dh));
                out.put(tl + "attn.b_" + names[j], Layouts.headsFromVector(qkvBias, j * d, dh, h, dh));
            }
            out.put(tl + "attn.W_O", src.get(hf + "attn.c_proj.weight", d, d).reshape(h, dh, d));
            out.put(tl + "attn.b_O", src.get(hf + "attn.c_proj.bias", d));
            out.put(tl + "ln2.w", src.get(hf + "ln_2.weight", d));
            out.put(tl + "ln2.b", src.get(hf + "ln_2.bias", d));
            out.put(tl + "mlp.W_in", src.get(hf + "mlp.c_fc.weight", d, m));
            out.put(tl + "mlp.b_in", src.get(hf + "mlp.c_fc.bias", m));
            out.put(tl + "mlp.W_out", src.get(hf + "mlp.c_proj.weight", m, d));
            out.put(tl + "mlp.b_out", src.get(hf + "mlp.c_proj.bias", d));
        }
        out.put("ln_final.w", src.get("ln_f.weight", d));
        out.put("ln_final.b", src.get("ln_f.bias", d));
        // Without lm_head the unembedding is tied to wte: no W_U, so the model runs on W_Eᵀ without a copy.
        if (file.contains("lm_head.weight")) out.put("unembed.W_U", src.transposed("lm_head.weight", c.dVocab(), d));
        out.put("unembed.b_U", src.has("lm_head.bias") ? src.get("lm_head.bias", c.dVocab()) : Tensor.zeros(c.dVocab()));
        src.requireAllUsed("(transformer\\.)?h\\.\\d+\\.attn\\.(masked_)?bias", c);
        return out;
    }
}
