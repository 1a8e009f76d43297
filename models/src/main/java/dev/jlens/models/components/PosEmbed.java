package dev.jlens.models.components;

import dev.jlens.engine.Parameter;
import dev.jlens.engine.Tensor;
import dev.jlens.kernels.Simd;

/** Learned absolute positions: out[b, t] = W_pos[t]. W_pos [n_ctx, d_model]. */
public final class PosEmbed {
    public final Parameter W_pos;
    private final int dModel;

    public PosEmbed(Parameter wPos) {
        this.W_pos = wPos;
        this.dModel = wPos.value().dim(1);
    }

    public Tensor forward(int batch, int pos) {
        float[] table = W_pos.value().data(), out = new float[batch * pos * dModel];
        for (int b = 0; b < batch; b++) System.arraycopy(table, 0, out, b * pos * dModel, pos * dModel);
        return Tensor.of(out, batch, pos, dModel);
    }

    /** dW_pos[t] += Σ_b dOut[b, t]. */
    public void backward(Tensor dOut, int batch, int pos) {
        float[] grad = W_pos.grad().data(), d = dOut.data();
        for (int b = 0; b < batch; b++) Simd.add(d, b * pos * dModel, grad, 0, pos * dModel);
    }
}
