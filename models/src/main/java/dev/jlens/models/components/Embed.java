package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;

/** Token embedding: resid[b, t] = W_E[token[b, t]]. W_E [d_vocab, d_model]. */
public final class Embed {
    public final Parameter W_E;
    private final int dModel;

    public Embed(Parameter wE) {
        this.W_E = wE;
        this.dModel = wE.value().dim(1);
    }

    /** tokens [B·T] → [B, T, D]. */
    public Tensor forward(int[] tokens, int batch, int pos) {
        Backend ops = Backend.of(W_E.value());
        Tensor out = ops.empty(batch, pos, dModel);
        ops.embed(W_E.value(), tokens, out);
        return out;
    }

    /** dW_E[token] += dOut at each position of that token. */
    public void backward(Tensor dOut, int[] tokens) {
        if (W_E.requiresGrad()) Backend.of(W_E.value()).embedBackward(dOut, tokens, W_E.grad());
    }
}
