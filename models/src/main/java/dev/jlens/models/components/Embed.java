package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;

/**
 * Token embedding: resid[b, t] = W_E[token[b, t]]. W_E [d_vocab, d_model].
 *
 * <p>Gemma's W_E is the stored embedding times √d_model, which a loader leaves {@linkplain
 * Tensor#derived derived} (the stored embedding is also its W_U, transposed): the rows a forward
 * reads are scaled and rounded as the matrix would hold them, and no matrix is made until its
 * values are asked for.
 */
public final class Embed {
    public final Parameter W_E;
    private final int dModel;

    public Embed(Parameter wE) {
        this.W_E = wE;
        this.dModel = wE.value().dim(1);
    }

    /** tokens [B·T] → [B, T, D]. */
    public Tensor forward(int[] tokens, int batch, int pos) {
        Tensor table = W_E.value();
        Backend ops = Backend.of(table);
        Tensor out = ops.empty(batch, pos, dModel);
        if (table.derivation() instanceof Tensor.Scaled scaled) {
            ops.embed(scaled.source(), tokens, out);
            float[] rows = out.data();
            for (int i = 0; i < rows.length; i++) rows[i] = table.dtype().round(rows[i] * scaled.factor());
        } else {
            ops.embed(table, tokens, out);
        }
        return out;
    }

    /** dW_E[token] += dOut at each position of that token. */
    public void backward(Tensor dOut, int[] tokens) {
        if (W_E.requiresGrad()) Backend.of(W_E.value()).embedBackward(dOut, tokens, W_E.grad());
    }
}
