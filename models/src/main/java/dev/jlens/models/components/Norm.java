package dev.jlens.models.components;

import dev.jlens.engine.Tensor;

/**
 * The normalisation a model applies before attention, before the MLP and before the unembedding
 * (ln1, ln2, ln_final): x [..., C] → [..., C], with backward beside it. Which one is the config's
 * choice: {@link LayerNorm} (weights folded or not), RMS norm, or none.
 */
public interface Norm {
    Tensor forward(Tensor x, boolean keep);

    /** dL/dout → dL/dx; the norm's weights' gradients accumulate. */
    Tensor backward(Tensor dOut);

    /** Drops what forward saved for backward. */
    void release();

    /** TransformerLens's normalization_type None: the identity, with no hook points. */
    Norm NONE = new Norm() {
        @Override
        public Tensor forward(Tensor x, boolean keep) {
            return x;
        }

        @Override
        public Tensor backward(Tensor dOut) {
            return dOut;
        }

        @Override
        public void release() {}
    };
}
