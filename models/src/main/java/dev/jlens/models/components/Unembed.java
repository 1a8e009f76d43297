package dev.jlens.models.components;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;

/** logits = x·W_U + b_U. W_U [d_model, d_vocab], b_U [d_vocab]. */
public final class Unembed {
    public final Parameter W_U, b_U;
    private final int dModel, dVocab;
    private Tensor x;

    public Unembed(Parameter wU, Parameter bU) {
        this.W_U = wU;
        this.b_U = bU;
        this.dModel = wU.value().dim(0);
        this.dVocab = wU.value().dim(1);
    }

    /** x [B, T, D] → logits [B, T, V]. */
    public Tensor forward(Tensor x, boolean keep) {
        int n = x.size() / dModel;
        float[] logits = new float[n * dVocab];
        Linear.forward(x.data(), 0, dModel, W_U.value().data(), 0, dVocab, b_U.value().data(), 0, logits, 0, dVocab, n, dModel, dVocab);
        if (keep) this.x = x;
        return Tensor.of(logits, x.dim(0), x.dim(1), dVocab);
    }

    public Tensor backward(Tensor dLogits) {
        int n = dLogits.size() / dVocab;
        float[] dx = new float[n * dModel];
        Linear.biasGradient(dLogits.data(), 0, dVocab, b_U.grad().data(), 0, n, dVocab);
        Linear.weightGradient(x.data(), 0, dModel, dLogits.data(), 0, dVocab, W_U.grad().data(), 0, dVocab, n, dModel, dVocab);
        Linear.inputGradient(dLogits.data(), 0, dVocab, W_U.value().data(), 0, dVocab, dx, 0, dModel, n, dModel, dVocab, false);
        return Tensor.of(dx, x.shape());
    }

    public void release() {
        x = null;
    }
}
