package dev.jlens.engine.hooks;

import dev.jlens.engine.Tensor;

/**
 * A module spliced into the model at a hook point, as HookedSAETransformer splices a sparse
 * autoencoder: forward replaces the activation with what the module makes of it, and backward
 * carries the gradient back through the module, not around it. At most one per hook point.
 */
public interface Splice {
    /** What flows on instead of {@code activation}; with {@code keepForBackward}, what {@link #backward} needs is kept. */
    Tensor forward(Tensor activation, boolean keepForBackward);

    /** dL/d(activation) from dL/d(what forward returned), after a forward that kept. */
    Tensor backward(Tensor gradient);
}
