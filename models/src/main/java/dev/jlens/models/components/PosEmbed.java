package dev.jlens.models.components;

import dev.jlens.engine.Backend;
import dev.jlens.engine.Matrix;
import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;

/** Learned absolute positions: out[b, t] = W_pos[t]. W_pos [n_ctx, d_model]. */
public final class PosEmbed {
    public final Parameter W_pos;
    private final int dModel;

    public PosEmbed(Parameter wPos) {
        this.W_pos = wPos;
        this.dModel = wPos.value().dim(1);
    }

    public Tensor forward(int batch, int pos) {
        Backend ops = Backend.of(W_pos.value());
        Tensor out = ops.empty(batch, pos, dModel);
        for (int b = 0; b < batch; b++) ops.copyRows(Matrix.of(W_pos.value(), 0, 1, pos * dModel, 0), Matrix.of(out, b * pos * dModel, 1, pos * dModel, 0));
        return out;
    }

    /** dW_pos[t] += Σ_b dOut[b, t]. */
    public void backward(Tensor dOut, int batch, int pos) {
        if (W_pos.requiresGrad()) Backend.of(W_pos.value()).sumRows(Matrix.of(dOut, batch, pos * dModel), W_pos.grad());
    }
}
