package dev.jlens.models;

import dev.jlens.models.components.Activation;
import dev.jlens.engine.JlensException;

/**
 * A HookedTransformer's shape and architecture, in TransformerLens's names (camelCased).
 *
 * @param rotaryDim     dimensions of each head that rotary embeddings turn; 0 for learned
 *                      absolute positions ({@code pos_embed.W_pos})
 * @param parallelAttnMlp GPT-NeoX's parallel residual: attention and MLP both read resid_pre
 * @param useAttnResult whether attention materialises {@code hook_result} (per-head outputs)
 * @param shortformer   TransformerLens's shortformer positions: W_pos is added to the inputs of the
 *                      queries and keys (after ln1), never to the residual stream
 */
public record Config(
        String architecture,
        int nLayers,
        int dModel,
        int nHeads,
        int dHead,
        int dMlp,
        int dVocab,
        int nCtx,
        float eps,
        Activation act,
        int rotaryDim,
        double rotaryBase,
        boolean parallelAttnMlp,
        boolean useAttnResult,
        int bosToken,
        boolean shortformer) {

    public Config {
        if (nLayers <= 0 || dModel <= 0 || nHeads <= 0 || dHead <= 0 || dMlp <= 0 || dVocab <= 0 || nCtx <= 0) {
            throw new JlensException("model config has a non-positive size (n_layers " + nLayers + ", d_model " + dModel
                    + ", n_heads " + nHeads + ", d_head " + dHead + ", d_mlp " + dMlp + ", d_vocab " + dVocab
                    + ", n_ctx " + nCtx + ").");
        }
        if (shortformer && rotaryDim > 0) throw new JlensException("a model cannot have both shortformer and rotary positions.");
        if (rotaryDim < 0 || rotaryDim > dHead || rotaryDim % 2 != 0) {
            throw new JlensException("rotary dimension " + rotaryDim + " must be even and at most d_head " + dHead + ".");
        }
    }

    public boolean rotary() {
        return rotaryDim > 0;
    }

    /** Parameters that take part in a matmul (embeddings and unembedding included), for FLOP counts. */
    public long matmulParameters() {
        long attn = 4L * dModel * nHeads * dHead, mlp = 2L * dModel * dMlp;
        return nLayers * (attn + mlp) + (long) dModel * dVocab;
    }
}
