package dev.jlens.models.components;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.kernels.Simd;

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
        float[] table = W_E.value().data(), out = new float[tokens.length * dModel];
        for (int i = 0; i < tokens.length; i++) System.arraycopy(table, tokens[i] * dModel, out, i * dModel, dModel);
        return Tensor.of(out, batch, pos, dModel);
    }

    /** dW_E[token] += dOut at each position of that token. */
    public void backward(Tensor dOut, int[] tokens) {
        float[] grad = W_E.grad().data(), d = dOut.data();
        for (int i = 0; i < tokens.length; i++) Simd.add(d, i * dModel, grad, tokens[i] * dModel, dModel);
    }
}
