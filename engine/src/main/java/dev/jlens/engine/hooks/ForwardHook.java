package dev.jlens.engine.hooks;

import dev.jlens.engine.Tensor;

/**
 * Called with an activation as it passes a hook point. Returns null to leave it as it is, or a
 * replacement of the same shape. The given tensor must not be modified in place: other hooks and
 * caches may hold it.
 */
@FunctionalInterface
public interface ForwardHook {
    Tensor apply(Tensor activation, HookPoint point);
}
