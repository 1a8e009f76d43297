package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Tensor;
import dev.jlens.engine.hooks.HookPoint;

/**
 * How a model knows where each token is, the part a config's positional_embedding_type picks:
 * learned positions added to the residual stream, rotary turns of the queries and keys inside
 * attention, or shortformer positions added to the query and key inputs of every layer (never to
 * the residual). Forward and backward side by side; shapes [B, T, D].
 */
public sealed interface Positions permits Positions.Standard, Positions.Rotary, Positions.Shortformer {
    /** What enters block 0, and what each attention adds to its query and key inputs (null: nothing). */
    record Embedded(Tensor resid, Tensor queryKeyPositions) {}

    /** From the hooked token embedding of the span's positions. */
    Embedded embed(Tensor tokenEmbedding, Span span);

    /** What attention adds to queries and keys when a run starts at a later layer (start_at_layer). */
    Tensor queryKeyPositions(Span span);

    /** The rotary table attention turns q and k by, or null. */
    dev.jlens.kernels.Rotary.Table rotaryTable();

    /**
     * Accumulates the position weights' gradient from dL/d(residual entering block 0) and from
     * dL/d(query and key positions), summed over layers (null when none).
     */
    void backward(Tensor dResid, Tensor dQueryKeyPositions, Span span);

    /** GPT-2's W_pos [n_ctx, d_model], added to the token embedding through hook_pos_embed. */
    record Standard(PosEmbed posEmbed, HookPoint hookPosEmbed) implements Positions {
        @Override
        public Embedded embed(Tensor tokenEmbedding, Span span) {
            return new Embedded(tokenEmbedding.plus(hookPosEmbed.forward(posEmbed.forward(span))), null);
        }

        @Override
        public Tensor queryKeyPositions(Span span) {
            return null;
        }

        @Override
        public dev.jlens.kernels.Rotary.Table rotaryTable() {
            return null;
        }

        @Override
        public void backward(Tensor dResid, Tensor dQueryKeyPositions, Span span) {
            posEmbed.backward(hookPosEmbed.backward(dResid), span);
        }
    }

    /** Rotary embeddings on the first rotary_dim dimensions of each head: no weights, nothing in the residual. */
    record Rotary(dev.jlens.kernels.Rotary.Table table) implements Positions {
        @Override
        public Embedded embed(Tensor tokenEmbedding, Span span) {
            return new Embedded(tokenEmbedding, null);
        }

        @Override
        public Tensor queryKeyPositions(Span span) {
            return null;
        }

        @Override
        public dev.jlens.kernels.Rotary.Table rotaryTable() {
            return table;
        }

        @Override
        public void backward(Tensor dResid, Tensor dQueryKeyPositions, Span span) {}
    }

    /** TransformerLens's shortformer positions: W_pos through hook_pos_embed into every layer's query and key inputs. */
    record Shortformer(PosEmbed posEmbed, HookPoint hookPosEmbed) implements Positions {
        @Override
        public Embedded embed(Tensor tokenEmbedding, Span span) {
            return new Embedded(tokenEmbedding, hookPosEmbed.forward(posEmbed.forward(span)));
        }

        @Override
        public Tensor queryKeyPositions(Span span) {
            return posEmbed.forward(span);
        }

        @Override
        public dev.jlens.kernels.Rotary.Table rotaryTable() {
            return null;
        }

        @Override
        public void backward(Tensor dResid, Tensor dQueryKeyPositions, Span span) {
            Tensor d = dQueryKeyPositions != null ? dQueryKeyPositions : Backend.of(dResid).zeros(dResid.shape());
            posEmbed.backward(hookPosEmbed.backward(d), span);
        }
    }
}
