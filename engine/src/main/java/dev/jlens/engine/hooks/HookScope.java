package dev.jlens.engine.hooks;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Hooks that live for one block of code: everything added through the scope is removed when it
 * closes, so no hook outlives the experiment that added it.
 * <pre>{@code
 * try (HookScope scope = model.hookPoints().scope()) {
 *     scope.forward("blocks.0.hook_resid_pre", (x, point) -> patched);
 *     model.forward(tokens);
 * }
 * }</pre>
 */
public final class HookScope implements AutoCloseable {
    private final HookPoints points;
    private final Deque<HookHandle> handles = new ArrayDeque<>();

    HookScope(HookPoints points) {
        this.points = points;
    }

    public HookScope forward(String name, ForwardHook hook) {
        handles.push(points.get(name).addForward(hook));
        return this;
    }

    public HookScope forward(NameFilter filter, ForwardHook hook) {
        for (HookPoint point : points.select(filter)) handles.push(point.addForward(hook));
        return this;
    }

    public HookScope backward(String name, BackwardHook hook) {
        handles.push(points.get(name).addBackward(hook));
        return this;
    }

    public HookScope backward(NameFilter filter, BackwardHook hook) {
        for (HookPoint point : points.select(filter)) handles.push(point.addBackward(hook));
        return this;
    }

    @Override
    public void close() {
        while (!handles.isEmpty()) handles.pop().close();
    }
}
