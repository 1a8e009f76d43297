package dev.jlens.models.loading;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.safetensors.SafetensorsWriter.Pending;
import dev.jlens.kernels.Rotary;
import dev.jlens.models.Config;
import dev.jlens.models.ModelFamily;
import dev.jlens.models.ParameterShapes;
import dev.jlens.models.components.Activation;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The inverse of {@link LlamaWeights}: TransformerLens parameters as a Llama-family checkpoint
 * (LlamaForCausalLM, Qwen2, Qwen3, Mistral, Gemma 2), and its config.json. Each class holds a fixed
 * set of biases: Llama and Qwen3 have q, k, v and o biases only with {@code attention_bias}, Qwen2
 * always has q, k and v biases and never o's, Mistral and Gemma 2 have none, and none has MLP biases.
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
            boolean noBiases = c.family() == ModelFamily.MISTRAL || c.family() == ModelFamily.GEMMA2;
            if (noBiases && (qkvBias || outBias)) return hfClass + " has no attention biases, which this model has";
            if (c.family() == ModelFamily.QWEN2 && outBias) return hfClass + " has no bias on o_proj, which this model has";
        }
        if (c.qkNorm() != (c.family() == ModelFamily.QWEN3)) return hfClass + (c.qkNorm() ? " has no q and k norms" : " needs q and k norms");
        boolean gemma = c.family() == ModelFamily.GEMMA2;
        if (c.slidingWindow() > 0 && !gemma && (c.family() != ModelFamily.MISTRAL || c.mixedAttention())) {
            return hfClass + " applies no sliding window to some layers only" + (c.family() == ModelFamily.MISTRAL ? "" : ", or to every layer");
        }
        if (!gemma && (c.useNormalizationBeforeAndAfter() || c.attnScoresSoftCap() > 0 || c.outputLogitsSoftCap() > 0 || c.attnScale() != Math.sqrt(c.dHead()))) {
            return hfClass + " has no norms after attention and the MLP, soft caps or attention scale of its own, which this model has";
        }
        if (gemma && !c.useNormalizationBeforeAndAfter()) return hfClass + " needs norms after attention and the MLP";
        if (gemma) return whyNotExactly(c, s);
        return null;
    }

    /**
     * Why Gemma's stored forms (each norm weight less 1, the embedding over √d_model) would not give
     * these weights back bit for bit, or null when they would: w − 1 + 1 is w only for w in [0.5, 2]
     * or so, and W_E / √d_model · √d_model is W_E only where √d_model is a power of two or W_E was
     * made from the stored embedding.
     */
    private static String whyNotExactly(Config c, Map<String, Tensor> s) {
        for (Map.Entry<String, Tensor> e : s.entrySet()) {
            if (!e.getKey().matches(".*(ln1|ln1_post|ln2|ln2_post|ln_final|q_norm|k_norm)\\.w")) continue;
            Tensor w = e.getValue();
            for (int i = 0; i < w.size(); i++) {
                float v = w.valueAt(i);
                if ((v - 1f) + 1f != v) return c.family().huggingFaceClass() + " stores " + e.getKey() + " less 1, which would round it";
            }
        }
        // W_E comes back from the embedding it is still derived from, from W_E / √d_model, or from the
        // unembedding it was made from: checked block by block, the transposed unembedding copied only
        // when the second fails.
        if (storedEmbedding(c, s) != null) return null;
        Tensor wE = s.get("embed.W_E");
        float scale = (float) Math.sqrt(c.dModel());
        if (sameAfterScaling(wE, wE, 1 / scale, scale)) return null;
        Tensor wU = s.get("unembed.W_U");
        boolean copied = isCopy(wU);
        Tensor unembedding = unembeddingRows(wU);
        boolean exact = unembedding.dtype() == wE.dtype() && sameAfterScaling(unembedding, wE, scale);
        if (copied) unembedding.free();
        return exact ? null : c.family().huggingFaceClass() + " stores the embedding over √d_model, which would round W_E";
    }

    /**
     * Whether x times each factor in turn, rounded to x's type after each as {@link Tensor#times}
     * rounds, is {@code target} bit for bit; a block at a time, with no copy of x made.
     */
    private static boolean sameAfterScaling(Tensor x, Tensor target, float... factors) {
        if (!java.util.Arrays.equals(x.shape(), target.shape())) return false;
        int block = (int) Math.min(x.elements(), 1 << 16);
        float[] values = new float[block], expected = new float[block];
        Tensor rounding = Tensor.zeros(x.dtype(), block);
        for (long at = 0; at < x.elements(); at += block) {
            int n = (int) Math.min(block, x.elements() - at);
            x.read(at, values, 0, n);
            for (float factor : factors) {
                for (int i = 0; i < n; i++) values[i] *= factor;
                rounding.write(values, 0, 0, n);
                rounding.read(0, values, 0, n);
            }
            target.read(at, expected, 0, n);
            for (int i = 0; i < n; i++) if (Float.floatToIntBits(values[i]) != Float.floatToIntBits(expected[i])) return false;
        }
        return true;
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
        boolean gemma = c.family() == ModelFamily.GEMMA2;
        Tensor wU = s.get("unembed.W_U");
        boolean ownCopy = isCopy(wU);
        Tensor unembedding = unembeddingRows(wU), embedding = embedding(c, s, unembedding);
        out.put("model.embed_tokens.weight", Pending.of(embedding));
        for (int l = 0; l < c.nLayers(); l++) {
            String hf = "model.layers." + l + ".", tl = "blocks." + l + ".", attn = hf + "self_attn.";
            out.put(hf + "input_layernorm.weight", norm(c, s.get(tl + "ln1.w")));
            out.put(attn + "q_proj.weight", outputMajor(s.get(tl + "attn.W_Q"), h, d, dh));
            out.put(attn + "k_proj.weight", outputMajor(s.get(tl + ParameterShapes.keyValueName(c, "W_K")), g, d, dh));
            out.put(attn + "v_proj.weight", outputMajor(s.get(tl + ParameterShapes.keyValueName(c, "W_V")), g, d, dh));
            if (biases || c.family() == ModelFamily.QWEN2) {
                out.put(attn + "q_proj.bias", Pending.of(s.get(tl + "attn.b_Q").reshape(h * dh)));
                out.put(attn + "k_proj.bias", Pending.of(s.get(tl + ParameterShapes.keyValueName(c, "b_K")).reshape(g * dh)));
                out.put(attn + "v_proj.bias", Pending.of(s.get(tl + ParameterShapes.keyValueName(c, "b_V")).reshape(g * dh)));
            }
            if (c.qkNorm()) {
                out.put(attn + "q_norm.weight", norm(c, s.get(tl + "attn.q_norm.w")));
                out.put(attn + "k_norm.weight", norm(c, s.get(tl + "attn.k_norm.w")));
            }
            out.put(attn + "o_proj.weight", transposed(s.get(tl + "attn.W_O").reshape(h * dh, d)));
            if (biases) out.put(attn + "o_proj.bias", Pending.of(s.get(tl + "attn.b_O")));
            if (gemma) {
                out.put(hf + "post_attention_layernorm.weight", norm(c, s.get(tl + "ln1_post.w")));
                out.put(hf + "pre_feedforward_layernorm.weight", norm(c, s.get(tl + "ln2.w")));
                out.put(hf + "post_feedforward_layernorm.weight", norm(c, s.get(tl + "ln2_post.w")));
            } else {
                out.put(hf + "post_attention_layernorm.weight", norm(c, s.get(tl + "ln2.w")));
            }
            out.put(hf + "mlp.gate_proj.weight", transposed(s.get(tl + "mlp.W_gate")));
            out.put(hf + "mlp.up_proj.weight", transposed(s.get(tl + "mlp.W_in")));
            out.put(hf + "mlp.down_proj.weight", transposed(s.get(tl + "mlp.W_out")));
        }
        out.put("model.norm.weight", norm(c, s.get("ln_final.w")));
        if (unembedding.sameValues(embedding)) {
            if (ownCopy && unembedding != embedding) unembedding.free(); // tied: the one tensor is embed_tokens
        }
        // A copy made here is freed once written; the embedding a derived W_U reads stays the model's.
        else out.put("lm_head.weight", ownCopy ? Pending.later(unembedding.dtype(), unembedding.shape(), () -> unembedding) : Pending.of(unembedding));
        return out;
    }

    /**
     * embed_tokens: W_E, or for Gemma W_E / √d_model. Where the unembedding times √d_model gives W_E
     * exactly, it is the embedding the checkpoint had (W_E was made from it), kept bit for bit.
     */
    private static Tensor embedding(Config c, Map<String, Tensor> s, Tensor unembedding) {
        Tensor wE = s.get("embed.W_E");
        if (!c.family().scalesEmbedding()) return wE;
        Tensor stored = storedEmbedding(c, s);
        if (stored != null) return stored;
        float scale = (float) Math.sqrt(c.dModel());
        if (unembedding.dtype() == wE.dtype() && sameAfterScaling(unembedding, wE, scale)) return unembedding;
        return wE.times(1 / scale);
    }

    /** The embedding W_E is still derived from as √d_model times it (a loaded Gemma's), or null. */
    private static Tensor storedEmbedding(Config c, Map<String, Tensor> s) {
        return s.get("embed.W_E").derivation() instanceof Tensor.Scaled scaled && scaled.factor() == (float) Math.sqrt(c.dModel())
                ? scaled.source() : null;
    }

    /**
     * W_U [d_model, d_vocab] as [d_vocab, d_model] rows: the stored embedding a still-derived W_U
     * reads (the model's: never freed here), else a transposed copy ({@link #isCopy}).
     */
    private static Tensor unembeddingRows(Tensor wU) {
        return wU.derivation() instanceof Tensor.Transposed transposed ? transposed.source() : wU.transposeLastTwo();
    }

    /** Whether {@link #unembeddingRows} of this W_U is a copy made for the export, to be freed once written. */
    private static boolean isCopy(Tensor wU) {
        return !(wU.derivation() instanceof Tensor.Transposed);
    }

    /** A norm's weight as the family stores it (Gemma's less 1). */
    private static Pending norm(Config c, Tensor w) {
        float offset = c.family().storedNormWeightOffset();
        if (offset == 0) return Pending.of(w);
        Tensor stored = Tensor.zeros(w.shape());
        for (int i = 0; i < w.size(); i++) stored.data()[i] = w.valueAt(i) - offset;
        return Pending.of(stored);
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
        j.put(c.family() == ModelFamily.GEMMA2 ? "hidden_activation" : "hidden_act", c.actFn() == Activation.GELU_NEW && c.family() == ModelFamily.GEMMA2
                ? "gelu_pytorch_tanh" : c.actFn().hfName());
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
        if (c.family() == ModelFamily.GEMMA2) {
            j.put("attention_bias", false);
            double scalar = c.attnScale() * c.attnScale();
            // An integer in Hugging Face's configs; kept as one where the scale is the root of one.
            if (scalar == Math.rint(scalar)) j.put("query_pre_attn_scalar", (long) scalar);
            else j.put("query_pre_attn_scalar", scalar);
            putCap(j, "attn_logit_softcapping", c.attnScoresSoftCap());
            putCap(j, "final_logit_softcapping", c.outputLogitsSoftCap());
            j.put("sliding_window", c.slidingWindow() > 0 ? c.slidingWindow() : c.nCtx());
            var types = j.putArray("layer_types");
            for (Config.AttentionType t : c.attnTypes()) types.add(t == Config.AttentionType.LOCAL ? "sliding_attention" : "full_attention");
        }
        j.put("tie_word_embeddings", tied);
        j.put("bos_token_id", c.bosToken());
        return j;
    }

    private static void putCap(ObjectNode j, String field, float cap) {
        if (cap > 0) j.put(field, cap);
        else j.putNull(field);
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
