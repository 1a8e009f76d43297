package dev.jlens.engine.hooks;

import dev.jlens.engine.JlensException;
import dev.jlens.engine.Tensor;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Activations (or gradients) by hook-point name, in the order they were reached. Filled by a hook
 * that stores what passes: {@link #recordActivations} for forward values, {@link #recordGradients}
 * for the gradients backward computes at the same points.
 */
public final class ActivationCache {
    private final Map<String, Tensor> values = new LinkedHashMap<>();

    /** A cache that stores, during the scope, every activation whose hook-point name passes the filter. */
    public static ActivationCache recordActivations(HookScope scope, NameFilter filter) {
        ActivationCache cache = new ActivationCache();
        scope.forward(filter, (activation, point) -> {
            cache.values.put(point.name(), activation);
            return null;
        });
        return cache;
    }

    /** A cache that stores, during the scope, the gradient at every hook point whose name passes the filter. */
    public static ActivationCache recordGradients(HookScope scope, NameFilter filter) {
        ActivationCache cache = new ActivationCache();
        scope.backward(filter, (gradient, point) -> {
            cache.values.put(point.name(), gradient);
            return null;
        });
        return cache;
    }

    public Tensor get(String name) {
        Tensor value = values.get(name);
        if (value == null) {
            throw new JlensException("the cache holds no '" + name + "'" + (values.isEmpty() ? " (it is empty)" : "")
                    + "; run with a name filter that includes it.");
        }
        return value;
    }

    public boolean contains(String name) {
        return values.containsKey(name);
    }

    public List<String> names() {
        return List.copyOf(values.keySet());
    }

    public Map<String, Tensor> asMap() {
        return Collections.unmodifiableMap(values);
    }

    public int size() {
        return values.size();
    }
}
