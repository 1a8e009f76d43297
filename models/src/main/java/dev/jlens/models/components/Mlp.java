package dev.jlens.models.components;

import dev.jlens.engine.Tensor;

/**
 * A block's MLP, x [B, T, D] → out [B, T, D], with backward beside it: {@link PlainMlp}
 * (act(x·W_in + b_in)·W_out + b_out, SoLU included) or a gated one, as the config picks.
 */
public interface Mlp {
    Tensor forward(Tensor x, boolean keep);

    /** dL/dout → dL/dx; the weights' gradients accumulate. */
    Tensor backward(Tensor dOut);

    void release();
}
