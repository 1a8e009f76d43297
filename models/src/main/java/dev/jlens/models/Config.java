package dev.jlens.models;

import dev.jlens.engine.JlensException;
import dev.jlens.kernels.Rotary;
import dev.jlens.models.components.Activation;

/**
 * A HookedTransformer's shape and the parts it is built from, in TransformerLens's names
 * (camelCased). Made by {@link #builder()}; the config readers, presets and recipes fill one.
 *
 * @param family            how the checkpoint is read and written; no computation depends on it
 * @param nKeyValueHeads    heads of keys and values; fewer than nHeads for grouped-query attention,
 *                          each shared by nHeads / nKeyValueHeads query heads
 * @param normalization     the norm before attention, before the MLP and before the unembedding
 * @param gatedMlp          the MLP is act(x·W_gate) ⊙ (x·W_in) (Llama family) rather than act(x·W_in)
 * @param positions         how positions enter: learned W_pos added to the residual, rotary on q and k,
 *                          or shortformer (W_pos added to the query and key inputs, never the residual)
 * @param rotaryDim         dimensions of each head that rotary embeddings turn (0 without them)
 * @param rotaryScaling     null, or a rescaling of the rotary frequencies (Llama 3's, or linear)
 * @param qkNorm            Qwen3's RMS norms of each head's q and k (attn.q_norm, attn.k_norm), after
 *                          hook_q/hook_k and before rotary
 * @param slidingWindow     0, or how many positions a query sees, itself included, on the layers
 *                          {@code attnTypes} marks local (Mistral's every layer, Gemma 2's even ones):
 *                          key j is masked for query i when i − j ≥ slidingWindow
 * @param attnTypes         each layer's attention, global or local (TransformerLens's attn_types)
 * @param attnScale         what q·kᵀ is divided by: √d_head, or Gemma 2's √query_pre_attn_scalar
 * @param attnScoresSoftCap 0, or Gemma 2's cap on the attention scores, cap·tanh(scores / cap), before the mask
 * @param outputLogitsSoftCap 0, or Gemma 2's cap on the logits
 * @param useNormalizationBeforeAndAfter Gemma 2's norms of the attention's and the MLP's outputs
 *                          (ln1_post, ln2_post), before each is added to the residual
 * @param parallelAttnMlp   GPT-NeoX's parallel residual: attention and MLP both read resid_pre
 * @param useAttnResult     whether attention materialises {@code hook_result} (per-head outputs)
 * @param bosToken          the token {@code prepend_bos} puts first
 */
public record Config(
        ModelFamily family,
        int nLayers,
        int dModel,
        int nHeads,
        int dHead,
        int nKeyValueHeads,
        int dMlp,
        int dVocab,
        int nCtx,
        Normalization normalization,
        float eps,
        Activation actFn,
        boolean gatedMlp,
        PositionalEmbedding positions,
        int rotaryDim,
        double rotaryBase,
        Rotary.Scaling rotaryScaling,
        boolean qkNorm,
        int slidingWindow,
        java.util.List<AttentionType> attnTypes,
        double attnScale,
        float attnScoresSoftCap,
        float outputLogitsSoftCap,
        boolean useNormalizationBeforeAndAfter,
        boolean parallelAttnMlp,
        boolean useAttnResult,
        int bosToken) {

    /** TransformerLens's normalization_type: LN (LNPre once folded), RMS, or none at all. */
    public enum Normalization { LN, RMS, NONE }

    /** TransformerLens's positional_embedding_type. */
    public enum PositionalEmbedding { STANDARD, ROTARY, SHORTFORMER }

    /** One of TransformerLens's attn_types: a layer that sees every earlier position, or only the sliding window's. */
    public enum AttentionType { GLOBAL, LOCAL }

    public Config {
        if (family == null || normalization == null || actFn == null || positions == null) {
            throw new JlensException("a model config needs a family, a normalization, an activation and a positional embedding type.");
        }
        if (nLayers <= 0 || dModel <= 0 || nHeads <= 0 || dHead <= 0 || dMlp <= 0 || dVocab <= 0 || nCtx <= 0 || nKeyValueHeads <= 0) {
            throw new JlensException("model config has a non-positive size (n_layers " + nLayers + ", d_model " + dModel
                    + ", n_heads " + nHeads + ", n_key_value_heads " + nKeyValueHeads + ", d_head " + dHead + ", d_mlp " + dMlp
                    + ", d_vocab " + dVocab + ", n_ctx " + nCtx + ").");
        }
        if (nHeads % nKeyValueHeads != 0) {
            throw new JlensException("the " + nHeads + " query heads cannot be shared evenly among " + nKeyValueHeads + " key/value heads.");
        }
        if (gatedMlp && actFn == Activation.SOLU_LN) throw new JlensException("a gated MLP cannot use solu_ln.");
        if (slidingWindow < 0) throw new JlensException("the sliding window must be 0 (none) or a number of positions, not " + slidingWindow + ".");
        if (attnTypes == null) attnTypes = java.util.Collections.nCopies(Math.max(nLayers, 0), slidingWindow > 0 ? AttentionType.LOCAL : AttentionType.GLOBAL);
        attnTypes = java.util.List.copyOf(attnTypes);
        if (attnTypes.size() != nLayers) {
            throw new JlensException("the model has " + nLayers + " layers but its attention types name " + attnTypes.size() + ".");
        }
        if (attnTypes.contains(AttentionType.LOCAL) && slidingWindow == 0) {
            throw new JlensException("layers with local attention need a sliding window of at least 1 position.");
        }
        if (!(attnScale > 0) || Double.isInfinite(attnScale)) throw new JlensException("the attention scale must be a positive number, not " + attnScale + ".");
        if (!(attnScoresSoftCap >= 0) || Float.isInfinite(attnScoresSoftCap)) {
            throw new JlensException("the attention scores' soft cap must be 0 (none) or a positive number, not " + attnScoresSoftCap + ".");
        }
        if (!(outputLogitsSoftCap >= 0) || Float.isInfinite(outputLogitsSoftCap)) {
            throw new JlensException("the logits' soft cap must be 0 (none) or a positive number, not " + outputLogitsSoftCap + ".");
        }
        if (useNormalizationBeforeAndAfter && normalization == Normalization.NONE) {
            throw new JlensException("norms after attention and the MLP need a normalization type.");
        }
        if (qkNorm && normalization != Normalization.RMS) throw new JlensException("q and k norms (Qwen3) come with RMS norms only.");
        if (!(eps > 0) || Float.isInfinite(eps)) throw new JlensException("the norms' eps must be a positive number, not " + eps + ".");
        if (positions == PositionalEmbedding.ROTARY && (!(rotaryBase > 1) || Double.isInfinite(rotaryBase))) {
            throw new JlensException("the rotary base must be a number above 1, not " + rotaryBase + ".");
        }
        // Each weight is one Java array: a shape past 2^31 values cannot be held, whatever the memory.
        checkFits("d_vocab x d_model", (long) dVocab * dModel);
        checkFits("n_ctx x d_model", (long) nCtx * dModel);
        checkFits("d_model x d_mlp", (long) dModel * dMlp);
        checkFits("n_heads x d_model x d_head", (long) nHeads * dModel * dHead);
        if (positions == PositionalEmbedding.ROTARY ? rotaryDim <= 0 || rotaryDim > dHead || rotaryDim % 2 != 0 : rotaryDim != 0) {
            throw new JlensException(positions == PositionalEmbedding.ROTARY
                    ? "rotary dimension " + rotaryDim + " must be even, positive and at most d_head " + dHead + "."
                    : "a model without rotary positions has no rotary dimension (got " + rotaryDim + ").");
        }
    }

    private static void checkFits(String what, long values) {
        if (values > Integer.MAX_VALUE - 8) {
            throw new JlensException("the model's " + what + " (" + values + " values) is larger than jlens can hold in one tensor (2^31 values).");
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this config's values, to change a few. */
    public Builder toBuilder() {
        return new Builder().family(family).nLayers(nLayers).dModel(dModel).nHeads(nHeads).dHead(dHead).nKeyValueHeads(nKeyValueHeads)
                .dMlp(dMlp).dVocab(dVocab).nCtx(nCtx).normalization(normalization).eps(eps).actFn(actFn).gatedMlp(gatedMlp).positions(positions)
                .rotaryDim(rotaryDim).rotaryBase(rotaryBase).rotaryScaling(rotaryScaling).qkNorm(qkNorm).slidingWindow(slidingWindow)
                // Derived values stay unset, so that a changed window or d_head derives them anew.
                .attnTypes(mixedAttention() ? attnTypes : null).attnScale(attnScale == Math.sqrt(dHead) ? 0 : attnScale).attnScoresSoftCap(attnScoresSoftCap).outputLogitsSoftCap(outputLogitsSoftCap)
                .useNormalizationBeforeAndAfter(useNormalizationBeforeAndAfter).parallelAttnMlp(parallelAttnMlp).useAttnResult(useAttnResult).bosToken(bosToken);
    }

    public boolean rotary() {
        return positions == PositionalEmbedding.ROTARY;
    }

    public boolean shortformer() {
        return positions == PositionalEmbedding.SHORTFORMER;
    }

    /** The sliding window of layer {@code layer}'s attention: 0 (none) on a global layer. */
    public int windowOf(int layer) {
        return attnTypes.get(layer) == AttentionType.LOCAL ? slidingWindow : 0;
    }

    /** Whether some layers attend through a sliding window and others not (Gemma 2). */
    public boolean mixedAttention() {
        return attnTypes.contains(AttentionType.LOCAL) && attnTypes.contains(AttentionType.GLOBAL);
    }

    /** Whether keys and values have fewer heads than queries (TransformerLens then names them _W_K, _W_V). */
    public boolean groupedQueryAttention() {
        return nKeyValueHeads < nHeads;
    }

    /** Parameters that take part in a matmul (embeddings and unembedding included), for FLOP counts. */
    public long matmulParameters() {
        long attn = 2L * dModel * nHeads * dHead + 2L * dModel * nKeyValueHeads * dHead, mlp = (gatedMlp ? 3L : 2L) * dModel * dMlp;
        return nLayers * (attn + mlp) + (long) dModel * dVocab;
    }

    /**
     * Fills a {@link Config} field by field. Defaults are TransformerLens's: layer norm with eps 1e-5,
     * learned positions, rotary base 10000, sequential residual, keys and values with as many heads
     * as queries, d_head = d_model / n_heads and d_mlp = 4·d_model unless set, BOS 0; scores
     * divided by √d_head and not capped; with a sliding window, every layer local.
     */
    public static final class Builder {
        private ModelFamily family;
        private int nLayers, dModel, nHeads, dHead, nKeyValueHeads, dMlp, dVocab, nCtx, rotaryDim, slidingWindow, bosToken;
        private Normalization normalization = Normalization.LN;
        private float eps = 1e-5f;
        private Activation actFn;
        private PositionalEmbedding positions = PositionalEmbedding.STANDARD;
        private double rotaryBase = 10000;
        private Rotary.Scaling rotaryScaling;
        private java.util.List<AttentionType> attnTypes;
        private double attnScale;
        private float attnScoresSoftCap, outputLogitsSoftCap;
        private boolean gatedMlp, qkNorm, parallelAttnMlp, useAttnResult, useNormalizationBeforeAndAfter;

        private Builder() {}

        public Builder family(ModelFamily v) { family = v; return this; }
        public Builder nLayers(int v) { nLayers = v; return this; }
        public Builder dModel(int v) { dModel = v; return this; }
        public Builder nHeads(int v) { nHeads = v; return this; }
        public Builder dHead(int v) { dHead = v; return this; }
        public Builder nKeyValueHeads(int v) { nKeyValueHeads = v; return this; }
        public Builder dMlp(int v) { dMlp = v; return this; }
        public Builder dVocab(int v) { dVocab = v; return this; }
        public Builder nCtx(int v) { nCtx = v; return this; }
        public Builder normalization(Normalization v) { normalization = v; return this; }
        public Builder eps(float v) { eps = v; return this; }
        public Builder actFn(Activation v) { actFn = v; return this; }
        public Builder gatedMlp(boolean v) { gatedMlp = v; return this; }
        public Builder positions(PositionalEmbedding v) { positions = v; return this; }
        public Builder rotaryDim(int v) { rotaryDim = v; return this; }
        public Builder rotaryBase(double v) { rotaryBase = v; return this; }
        public Builder rotaryScaling(Rotary.Scaling v) { rotaryScaling = v; return this; }
        public Builder qkNorm(boolean v) { qkNorm = v; return this; }
        public Builder slidingWindow(int v) { slidingWindow = v; return this; }
        /** Each layer's attention type; unset, every layer is local with a sliding window and global without. */
        public Builder attnTypes(java.util.List<AttentionType> v) { attnTypes = v; return this; }
        /** What q·kᵀ is divided by; unset, √d_head. */
        public Builder attnScale(double v) { attnScale = v; return this; }
        public Builder attnScoresSoftCap(float v) { attnScoresSoftCap = v; return this; }
        public Builder outputLogitsSoftCap(float v) { outputLogitsSoftCap = v; return this; }
        public Builder useNormalizationBeforeAndAfter(boolean v) { useNormalizationBeforeAndAfter = v; return this; }
        public Builder parallelAttnMlp(boolean v) { parallelAttnMlp = v; return this; }
        public Builder useAttnResult(boolean v) { useAttnResult = v; return this; }
        public Builder bosToken(int v) { bosToken = v; return this; }

        /** Rotary positions on the first {@code dims} dimensions of each head. */
        public Builder rotary(int dims) { positions = PositionalEmbedding.ROTARY; rotaryDim = dims; return this; }

        public Config build() {
            int heads = nHeads, head = dHead != 0 ? dHead : heads > 0 && dModel % heads == 0 ? dModel / heads : 0;
            return new Config(family, nLayers, dModel, heads, head, nKeyValueHeads != 0 ? nKeyValueHeads : heads,
                    dMlp != 0 ? dMlp : 4 * dModel, dVocab, nCtx, normalization, eps, actFn, gatedMlp, positions, rotaryDim, rotaryBase,
                    rotaryScaling, qkNorm, slidingWindow, attnTypes, attnScale != 0 ? attnScale : head > 0 ? Math.sqrt(head) : 1,
                    attnScoresSoftCap, outputLogitsSoftCap, useNormalizationBeforeAndAfter, parallelAttnMlp, useAttnResult, bosToken);
        }
    }
}
