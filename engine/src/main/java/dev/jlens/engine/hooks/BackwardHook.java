package dev.jlens.engine.hooks;

import dev.jlens.engine.Tensor;

/**
 * Called with the gradient of the loss with respect to a hook point's activation, as backward
 * passes it. Returns null to leave it, or a replacement of the same shape that flows on instead.
 */
@FunctionalInterface
public interface BackwardHook {
    Tensor apply(Tensor gradient, HookPoint point);
}
